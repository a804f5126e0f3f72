import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { contentDisposition, safeContentType, sanitizeFilename } from '../../shared/archive/content-disposition.js';
import { parseJob, serializeJob } from '../../shared/contracts/job.js';
import { attachmentJob } from '../../shared/discovery/projects-poller.js';
import {
  checkItems,
  ownerProvenance,
  ProjectAttachmentSchema,
  ProjectSchema,
} from '../../shared/upstream/listing-schemas.js';
import { normaliseDocument } from '../../shared/upstream/file-metadata.js';

// Upstream filenames, MIME types and queue bodies are untrusted. These properties hold for any input.
// Any code points, and raw UTF-16 code units (lone surrogates are legal in JSON strings).
const anyText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 600 }),
  fc.string({ unit: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)), maxLength: 600 }),
);

describe('hostile input, property-based', () => {
  it(
    'a sanitised filename has no path separator, control character ' + 'or bidi override, and is 1..255 code points',
    () => {
      fc.assert(
        fc.property(anyText, (name) => {
          const clean = sanitizeFilename(name);
          expect(clean).not.toMatch(/[/\\\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/u);
          expect([...clean].length).toBeGreaterThanOrEqual(1);
          expect([...clean].length).toBeLessThanOrEqual(255);
          expect(clean).not.toMatch(/^\.+$/);
        }),
      );
    },
  );

  it('Content-Disposition is one line of printable ASCII whose filename* decodes to the sanitised name', () => {
    fc.assert(
      fc.property(anyText, (name) => {
        const header = contentDisposition(name);
        expect(header).toMatch(/^[\x20-\x7e]+$/);
        const m = /^attachment; filename="([^"\\]*)"; filename\*=UTF-8''([A-Za-z0-9%!#$&+\-.^_`|~]+)$/.exec(header);
        expect(m).not.toBeNull();
        expect(decodeURIComponent(m?.[2] ?? '')).toBe(sanitizeFilename(name));
      }),
    );
  });

  it('a Content-Type is either a well-formed lowercase type/subtype or application/octet-stream', () => {
    fc.assert(
      fc.property(anyText, (mime) => {
        const type = safeContentType(mime);
        expect(type).toMatch(/^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*$/);
      }),
    );
  });

  it('parseJob never throws, and an accepted job has an id safe for keys and paths', () => {
    const bodies = fc.oneof(
      anyText,
      fc.json(),
      fc
        .record({
          fileId: fc.oneof(
            anyText,
            fc.constantFrom('file_', 'claude_file_', 'claude_gen_file_').chain((p) => fc.string().map((s) => p + s)),
          ),
        })
        .map((o) => JSON.stringify(o)),
    );
    fc.assert(
      fc.property(bodies, (body) => {
        const parsed = parseJob(body);
        if (parsed.ok) expect(parsed.job.fileId).toMatch(/^(claude_gen_file_|claude_file_|file_)[A-Za-z0-9_-]{1,200}$/);
        else expect(parsed.reason.length).toBeGreaterThan(0);
      }),
    );
  });

  it(
    'an upstream project or attachment, however hostile, is either ' +
      'refused alone or yields a job the queue accepts',
    () => {
      // Objects shaped like upstream's, with any value in any field: ids, users, organizations, types.
      const anyValue = fc.oneof(
        anyText,
        fc.constant(null),
        fc.integer(),
        fc.json().map((j) => JSON.parse(j) as unknown),
      );
      // Each field valid most of the time (so the job path is exercised), else a near-miss or junk.
      const mostly = <T>(valid: fc.Arbitrary<T>) =>
        fc.oneof({ arbitrary: valid, weight: 6 }, { arbitrary: anyValue, weight: 1 });
      const idLike = (prefix: string) =>
        fc.oneof(
          { arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/).map((s) => prefix + s), weight: 6 },
          { arbitrary: fc.string().map((s) => prefix + s), weight: 1 },
          { arbitrary: anyValue, weight: 1 },
        );
      const time = fc.constantFrom(null, '2025-07-01T00:00:00Z', '2025-07-01T00:00:00.123456+02:00');
      const user = fc.oneof(anyValue, fc.record({ id: idLike('user_'), email_address: anyValue }));
      const project = fc.record({
        id: idLike('claude_proj_'),
        deleted_at: mostly(time),
        organization_id: idLike('org_'),
        organization_uuid: anyValue,
        user,
      });
      const attachment = fc.record({
        type: fc.oneof(fc.constantFrom('project_file', 'project_doc'), anyText),
        id: fc.oneof(idLike('claude_file_'), idLike('claude_proj_doc_')),
        created_at: mostly(time),
        filename: mostly(fc.string({ maxLength: 40 })),
        md5: mostly(fc.constantFrom(null, 'D41D8CD98F00B204E9800998ECF8427E')),
        mime_type: mostly(fc.constantFrom(null, '', 'text/plain')),
        size_bytes: mostly(fc.nat()),
      });
      let jobsBuilt = 0;
      const items0 = (a: unknown[]) => checkItems(ProjectAttachmentSchema, a).items.length > 0;
      fc.assert(
        fc.property(project, fc.array(attachment, { maxLength: 5 }), (p, attachments) => {
          const projects = checkItems(ProjectSchema, [p]);
          if (projects.items.length > 0 && items0(attachments)) jobsBuilt += 1;
          const items = checkItems(ProjectAttachmentSchema, attachments);
          expect(items.items.length + items.invalid).toBe(attachments.length);
          for (const parsed of projects.items) {
            for (const a of items.items) {
              const body = serializeJob(attachmentJob(a, { ...ownerProvenance(parsed), projectId: parsed.id }));
              const job = parseJob(body);
              expect(job.ok).toBe(true);
              if (job.ok) expect(job.job.provenance?.projectId).toBe(parsed.id);
            }
          }
        }),
      );
      // The property is not vacuous: some runs built and parsed jobs.
      expect(jobsBuilt).toBeGreaterThan(0);
    },
  );

  it('a document answer, however hostile, is normalised or refused with an error, never half-read', () => {
    const answer = fc.oneof(
      anyText,
      fc.json().map((j) => JSON.parse(j) as unknown),
      fc.record({ id: fc.constant('claude_proj_doc_01x'), content: anyText, filename: anyText, user: fc.json() }),
    );
    fc.assert(
      fc.property(answer, (json) => {
        let doc: ReturnType<typeof normaliseDocument> | undefined;
        try {
          doc = normaliseDocument('claude_proj_doc_01x', json);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          return;
        }
        expect(typeof doc.content).toBe('string');
        expect(doc.id).toBe('claude_proj_doc_01x');
        if (doc.creator) expect(doc.creator.id).toMatch(/^user_[A-Za-z0-9_-]{1,200}$/);
      }),
    );
  });
});
