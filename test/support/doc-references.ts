import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import GithubSlugger from 'github-slugger';

/**
 * Finds what a Markdown document says exists in the repository, so a test can check it still does:
 * - backticked repository paths: `shared/ingest/failure-decision.ts`, `infra/constructs/`,
 *   `infra/constructs/webhook-*.ts` (a glob: at least one file matches); only spans that start with
 *   one of the repository's top-level folders and contain a `/` count, so `archive/` (an S3 prefix)
 *   or `FILE#<id>` (a key) do not;
 * - relative Markdown links, `[text](deployment.md#alarms)` or `[text](#alarms)`: the file, and the heading
 *   the anchor names.
 * Fenced code blocks are commands and sample output, not references, and are skipped.
 */

/** One place a document names a path. */
export interface DocReference {
  /** The document, relative to the repository root. */
  doc: string;
  line: number;
  kind: 'code' | 'link';
  /** As written. */
  text: string;
  /** The file it names, relative to the repository root. */
  path: string;
  /** The heading anchor of a link, if any. */
  anchor?: string;
}

/** Top-level folders a backticked path may start with: the repository's own, not generated or ignored ones. */
export function repositoryFolders(root: string): string[] {
  const ignored = new Set(ignoredFolders(root));
  return readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.') && !ignored.has(e.name))
    .map((e) => e.name);
}

/** Folders .gitignore names (`bench/results/`, `cdk.out/`): generated, so a doc may name what is not there yet. */
export function ignoredFolders(root: string): string[] {
  const file = join(root, '.gitignore');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l.endsWith('/') && !l.startsWith('#'))
    .map((l) => l.replace(/^\/+|\/+$/g, ''));
}

const LINK = /\[[^\]]*\]\(([^)\s]+)\)/g;
const CODE = /`([^`\n]+)`/g;

/** The references of one document (`docPath` relative to `root`). */
export function referencesIn(markdown: string, docPath: string, folders: readonly string[]): DocReference[] {
  const refs: DocReference[] = [];
  const docDir = dirname(docPath);
  let fenced = false;
  markdown.split('\n').forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return;
    }
    if (fenced) return;
    for (const m of line.matchAll(LINK)) {
      const target = m[1] ?? '';
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      const [file = '', anchor] = target.split('#', 2);
      refs.push({
        doc: docPath,
        line: i + 1,
        kind: 'link',
        text: target,
        // `#heading` alone is a heading of this document.
        path: file ? join(docDir, decodeURI(file)) : docPath,
        ...(anchor ? { anchor } : {}),
      });
    }
    // Links were handled above; their text may be a path in backticks too, checked below like any span.
    for (const m of line.matchAll(CODE)) {
      const span = (m[1] ?? '').trim().replace(/:\d+(-\d+)?$/, '');
      const top = span.split('/')[0] ?? '';
      if (!span.includes('/') || !folders.includes(top)) continue;
      // A placeholder, not a path: `shared/<box>/`, `claude-file-archiver-${env}` (a `*` is a glob, checked).
      if (/[<>{}$ ]/.test(span)) continue;
      refs.push({ doc: docPath, line: i + 1, kind: 'code', text: span, path: span });
    }
  });
  return refs;
}

/** Whether a reference's file exists (a glob: at least one file matches). */
export function pathExists(root: string, path: string): boolean {
  if (!path.includes('*')) return existsSync(resolve(root, path));
  const pattern = new RegExp(
    `^${path
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('[^/]*')}$`,
  );
  return walk(root, '').some((file) => pattern.test(file));
}

function walk(root: string, dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true })) {
    if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
    const rel = dir ? `${dir}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(`${rel}/`, ...walk(root, rel));
    else out.push(rel);
  }
  return out;
}

/** The heading anchors of a Markdown file, as GitHub renders them. */
export function anchorsOf(markdown: string): Set<string> {
  const slugger = new GithubSlugger();
  const anchors = new Set<string>();
  let fenced = false;
  for (const line of markdown.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) fenced = !fenced;
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!fenced && heading) anchors.add(slugger.slug(heading[1] ?? ''));
  }
  return anchors;
}

/** Every reference of these documents that names a missing file or heading, as `doc:line: text (why)`. */
export function brokenReferences(root: string, docs: readonly string[]): string[] {
  const folders = repositoryFolders(root);
  const ignored = ignoredFolders(root);
  const broken: string[] = [];
  for (const doc of docs) {
    for (const ref of referencesIn(readFileSync(join(root, doc), 'utf8'), doc, folders)) {
      const where = `${ref.doc}:${ref.line}: ${ref.text}`;
      if (ignored.some((f) => ref.path === f || ref.path.startsWith(`${f}/`))) continue;
      if (!pathExists(root, ref.path)) {
        broken.push(`${where} (no such file: ${ref.path})`);
        continue;
      }
      if (ref.anchor === undefined) continue;
      const target = resolve(root, ref.path);
      if (!statSync(target).isFile() || !target.endsWith('.md')) continue;
      if (!anchorsOf(readFileSync(target, 'utf8')).has(ref.anchor)) {
        broken.push(`${where} (no heading #${ref.anchor} in ${relative(root, target)})`);
      }
    }
  }
  return broken;
}
