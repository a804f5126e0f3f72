import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serializeJob } from '../../shared/contracts/job.js';
import { objectKeyFor } from '../../shared/contracts/object-keys.js';
import { attachmentJob } from '../../shared/discovery/projects-poller.js';
import { createIngestStack } from '../support/ingest-stack.js';
import type { IngestStack } from '../support/ingest-stack.js';
import { artifactFileFactory, randomIdBody, uploadedFileFactory } from '../support/upstream.js';

/**
 * A project's attachments through the ingest worker, on the wire: the sample upstream's documents
 * endpoint (JSON whose `content` is the text), S3 (fauxqs) and DynamoDB (dynalite). Jobs are built
 * as the projects poller builds them (attachmentJob).
 */
let stack: IngestStack;
beforeAll(async () => {
  stack = await createIngestStack({ s3: 'fauxqs' });
});
afterAll(async () => {
  await stack.close();
});

const hex = (algorithm: string, b: Buffer) => createHash(algorithm).update(b).digest('hex');
const project = { projectId: `claude_proj_${randomIdBody()}`, organizationId: 'org_01Local' };

describe('a project document through the ingest worker', () => {
  it(
    'stores the UTF-8 bytes of its text and records our hashes, no ' + 'upstream hash, the request-id and its creator',
    async () => {
      const text = 'Design notes — naïve café ✓ 日本語\n'.repeat(50);
      const doc = {
        id: `claude_proj_doc_${randomIdBody()}`,
        filename: 'design.md',
        content: text,
        userId: 'user_01Doc',
      };
      stack.upstream.listings.projects.set({ id: project.projectId, documents: [doc] });
      const job = attachmentJob(
        { type: 'project_doc', id: doc.id, filename: doc.filename, created_at: '2025-07-01T11:00:00.000000Z' },
        { ...project, creator: { id: 'user_01ProjectOwner', emailAddress: 'owner@example.com' } },
      );

      const { failed } = await stack.deliver([serializeJob(job)]);

      expect(failed).toEqual([]);
      const bytes = Buffer.from(text, 'utf8');
      const stored = await stack.readObject(objectKeyFor('project_document', doc.id));
      expect(stored.body.equals(bytes)).toBe(true);
      expect(stored.contentType).toBe('text/plain; charset=utf-8');
      const requestId = stack.upstream.requests.filter((r) => r.id === doc.id).at(-1)?.requestId;
      expect(await stack.index.get(doc.id)).toMatchObject({
        status: 'archived',
        source: 'project_document',
        filename: 'design.md',
        sizeBytes: bytes.length,
        md5: hex('md5', bytes),
        sha256: hex('sha256', bytes),
        upstreamHash: 'none',
        upstreamRequestId: requestId,
        creator: { id: 'user_01Doc', emailAddress: '01doc@example.com' },
        ...project,
      });
      expect(requestId).toEqual(expect.any(String));
    },
  );

  it(
    'records an attachment whose file is gone as unavailable and ' + 'archives the others of the same delivery',
    async () => {
      const present = uploadedFileFactory({ chatIds: [], content: Buffer.from('attached to the project\n') });
      await stack.upstream.addFile(present);
      const goneId = `claude_file_${randomIdBody()}`;
      const goneDoc = `claude_proj_doc_${randomIdBody()}`;
      const jobs = [
        attachmentJob({ type: 'project_file', id: present.id, filename: present.filename }, project),
        attachmentJob({ type: 'project_file', id: goneId, filename: 'gone.pdf' }, project),
        attachmentJob({ type: 'project_doc', id: goneDoc, filename: 'gone.md' }, project),
      ];

      const { failed } = await stack.deliver(jobs.map((j) => serializeJob(j)));

      expect(failed).toEqual([]);
      expect(await stack.index.get(present.id)).toMatchObject({ status: 'archived', ...project });
      for (const id of [goneId, goneDoc]) {
        expect(await stack.index.get(id)).toMatchObject({ status: 'unavailable', reason: 'not_found', ...project });
      }
    },
  );
});

describe('an artifact version through the ingest worker', () => {
  it('archives its text, verified against the md5 its metadata publishes (no Content-MD5 is documented)', async () => {
    const artifact = artifactFileFactory();
    await stack.upstream.addFile(artifact);

    const { failed } = await stack.deliver([serializeJob({ fileId: artifact.id, chatId: artifact.chatId })]);

    expect(failed).toEqual([]);
    const bytes = artifact.content as Buffer;
    expect((await stack.readObject(objectKeyFor('artifact', artifact.id))).body.equals(bytes)).toBe(true);
    expect(await stack.index.get(artifact.id)).toMatchObject({
      status: 'archived',
      source: 'artifact',
      chatIds: [artifact.chatId],
      filename: 'Launch plan',
      mimeType: 'text/markdown',
      md5: hex('md5', bytes),
      sha256: hex('sha256', bytes),
      sizeBytes: bytes.length,
    });
  });

  it('refuses to archive artifact text that does not match the published md5', async () => {
    const artifact = artifactFileFactory({ publishedMd5: 'f'.repeat(32) });
    await stack.upstream.addFile(artifact);

    await stack.deliver([serializeJob({ fileId: artifact.id, chatId: artifact.chatId })]);

    expect(await stack.index.get(artifact.id)).toMatchObject({ status: 'pending' });
    expect(await stack.objectExists(objectKeyFor('artifact', artifact.id))).toBe(false);
  });
});
