import { randomBytes } from 'node:crypto';
import { ANTHROPIC_VERSION, FILES_API_BETA } from '../../local/upstream/api-headers.js';
import type {
  ArtifactUpstreamFile,
  FilesApiUpstreamFile,
  GeneratedUpstreamFile,
  UploadedUpstreamFile,
  UpstreamFile,
} from '../../local/upstream/catalogue.js';
import { startUpstreamServer, type UpstreamServer } from '../../local/upstream/server.js';

/** The key the test upstream accepts. */
export const TEST_UPSTREAM_API_KEY = 'sk-ant-api01-local-test-key-0000';

/** Starts the fault-injecting upstream with the test key. Close it in afterAll. */
export function startTestUpstream(files: UpstreamFile[] = []): Promise<UpstreamServer> {
  return startUpstreamServer({ apiKey: TEST_UPSTREAM_API_KEY, files });
}

/** Headers of a well-formed upstream request; `beta` adds the Files API beta header. */
export function upstreamHeaders(opts: { apiKey?: string; beta?: boolean } = {}): Record<string, string> {
  return {
    'x-api-key': opts.apiKey ?? TEST_UPSTREAM_API_KEY,
    'anthropic-version': ANTHROPIC_VERSION,
    ...(opts.beta ? { 'anthropic-beta': FILES_API_BETA } : {}),
  };
}

/** A random id body: letters and digits, as upstream's tagged ids use. */
export function randomIdBody(): string {
  return `01${randomBytes(10).toString('hex')}`;
}

/** A generated file with a fresh id in a fresh chat; small text content unless overridden. */
export function generatedFileFactory(
  overrides: Partial<Omit<GeneratedUpstreamFile, 'source'>> = {},
): GeneratedUpstreamFile {
  return {
    source: 'generated',
    id: `claude_gen_file_${randomIdBody()}`,
    chatId: `claude_chat_${randomIdBody()}`,
    filename: 'report.txt',
    mimeType: 'text/plain',
    createdAt: '2025-06-02T09:30:00.000000Z',
    content: Buffer.from('generated file content\n'),
    ...overrides,
  };
}

/** An uploaded file attached to one fresh chat unless overridden. */
export function uploadedFileFactory(
  overrides: Partial<Omit<UploadedUpstreamFile, 'source'>> = {},
): UploadedUpstreamFile {
  return {
    source: 'uploaded',
    id: `claude_file_${randomIdBody()}`,
    chatIds: [`claude_chat_${randomIdBody()}`],
    filename: 'notes.md',
    mimeType: 'text/markdown',
    createdAt: '2025-06-02T09:00:00.000000Z',
    content: Buffer.from('# uploaded notes\n'),
    ...overrides,
  };
}

/** A version of an artifact written in one fresh chat unless overridden. */
export function artifactFileFactory(
  overrides: Partial<Omit<ArtifactUpstreamFile, 'source'>> = {},
): ArtifactUpstreamFile {
  const body = randomIdBody();
  return {
    source: 'artifact',
    id: `claude_artifact_version_${body}`,
    artifactId: `claude_artifact_${body}`,
    chatId: `claude_chat_${randomIdBody()}`,
    filename: 'Launch plan',
    mimeType: 'text/markdown',
    createdAt: '2025-06-02T09:30:00.000000Z',
    content: Buffer.from('# Launch plan\n\n1. Beta — naïve users ✓\n'),
    ...overrides,
  };
}

/** A downloadable Files API file unless overridden. */
export function filesApiFileFactory(
  overrides: Partial<Omit<FilesApiUpstreamFile, 'source'>> = {},
): FilesApiUpstreamFile {
  return {
    source: 'files_api',
    id: `file_${randomIdBody()}`,
    filename: 'chart.csv',
    mimeType: 'text/csv',
    createdAt: '2025-06-03T10:00:00.000000Z',
    content: Buffer.from('x,y\n1,2\n'),
    downloadable: true,
    ...overrides,
  };
}
