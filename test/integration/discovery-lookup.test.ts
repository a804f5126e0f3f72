import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLookupClients, createLookupRuntime, type LookupClients } from '../../lambdas/lookup/runtime.js';
import { startLookupServer } from '../../local/lookup-server.js';
import { LookupConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import { runChatPoller } from '../../shared/discovery/chat-poller.js';
import { runProjectsPoller } from '../../shared/discovery/projects-poller.js';
import { provenanceOf } from '../../shared/ingest/provenance.js';
import { createDiscoveryStack } from '../support/discovery-stack.js';
import type { DiscoveryStack } from '../support/discovery-stack.js';
import { recordCallsOf } from '../support/permissions/aws-call-recorder.js';
import { generatedFileFactory, randomIdBody } from '../support/upstream.js';

let stack: DiscoveryStack;
let server: { url: string; close(): Promise<void> };
let lookupClients: LookupClients;
const chatId = `claude_chat_${randomIdBody()}`;
const file = generatedFileFactory({ chatId });
const projectId = `claude_proj_${randomIdBody()}`;
const documentId = `claude_proj_doc_${randomIdBody()}`;

async function get(path: string) {
  const res = await request(`${server.url}${path}`);
  return { status: res.statusCode, json: (await res.body.json()) as Record<string, unknown> };
}

beforeAll(async () => {
  stack = await createDiscoveryStack();
  await stack.addFiles(file);
  stack.upstream.listings.setChat(chatId, { deletedAt: '2025-06-09T00:00:00.000000Z' });
  for (let i = 0; i < 3; i++)
    await runChatPoller(
      { ...stack.deps('chats'), deletions: stack.poller('chats').deletions, messagePageSize: 100 },
      stack.runOptions(),
    );
  // The worker's record of the file, as ingest writes it.
  await stack.files.claim(file.id, 'generated', 'test', Date.now(), 60_000);
  await stack.files.markUnavailable(
    {
      status: 'unavailable',
      fileId: file.id,
      source: 'generated',
      chatIds: [chatId],
      filename: 'report.txt',
      mimeType: 'text/plain',
      sizeBytes: null,
      createdAt: null,
      upstreamRequestId: null,
      reason: 'expired',
      detail: 'x',
      recordedAt: new Date().toISOString(),
    },
    'test',
  );
  // A project deleted in the app, read by the projects poller, and its document as ingest records it.
  stack.upstream.listings.projects.set({
    id: projectId,
    deletedAt: '2025-06-10T00:00:00.000000Z',
    userId: 'user_01Owner',
    documents: [{ id: documentId, filename: 'plan.md', content: '# plan\n' }],
  });
  const side = stack.poller('projects');
  await runProjectsPoller(
    { ...stack.deps('projects'), deletions: side.deletions, archived: side.archived },
    stack.runOptions(),
  );
  const job = (await stack.drainJobs()).find((j) => j.fileId === documentId);
  await stack.files.claim(documentId, 'project_document', 'test', Date.now(), 60_000);
  await stack.files.markUnavailable(
    {
      status: 'unavailable',
      fileId: documentId,
      source: 'project_document',
      chatIds: [],
      filename: 'plan.md',
      mimeType: 'text/plain',
      sizeBytes: null,
      createdAt: null,
      upstreamRequestId: null,
      reason: 'not_found',
      detail: 'x',
      recordedAt: new Date().toISOString(),
      ...(job ? provenanceOf(job) : {}),
    },
    'test',
  );
  const config = loadConfig(LookupConfigSchema, {
    ARCHIVE_BUCKET: 'unused',
    INDEX_TABLE: stack.table,
    HOLD_WORK_QUEUE_URL: stack.queueUrl,
    LOCAL_S3_ENDPOINT: stack.aws.s3Endpoint,
    LOCAL_DYNAMODB_ENDPOINT: stack.aws.dynamodbEndpoint,
    LOCAL_SQS_ENDPOINT: stack.aws.sqsEndpoint,
  });
  // The lookup function's calls (the ledger's Query, the deletions' BatchGetItem) are checked against its deployed
  // role.
  lookupClients = createLookupClients(config, {
    onClient: (client) => recordCallsOf(client, 'lookup', stack.bindings),
  });
  const lookup = createLookupRuntime(config, { debug() {}, info() {}, warn() {}, error() {} }, lookupClients);
  server = await startLookupServer(lookup);
});
afterAll(async () => {
  await server.close();
  lookupClients.destroy();
  await stack.close();
});

describe('the discovery ledger and upstream deletions through the lookup API', () => {
  it('lists a poller’s runs newest first, paged with an opaque cursor', async () => {
    const first = await get('/discovery/chats/runs?limit=2');
    expect(first.status).toBe(200);
    const runs = first.json['runs'] as Record<string, unknown>[];
    expect(runs).toHaveLength(2);
    expect(String(runs[0]?.['startedAt']) >= String(runs[1]?.['startedAt'])).toBe(true);
    expect(runs[0]).toMatchObject({
      source: 'chats',
      ending: 'completed',
      pages: 1,
      records: 0,
      jobsEnqueued: 0,
      lastRequestId: expect.stringMatching(/^req_/),
    });

    const second = await get(`/discovery/chats/runs?limit=2&cursor=${String(first.json['nextCursor'])}`);
    expect(second.json['runs']).toEqual([expect.objectContaining({ cursorStart: null, jobsEnqueued: 1, records: 2 })]);
    expect(second.json['nextCursor']).toBeUndefined();
  });

  it('refuses an unknown source and a forged cursor with 400', async () => {
    expect((await get('/discovery/everything/runs')).status).toBe(400);
    expect((await get(`/discovery/chats/runs?cursor=${Buffer.from('FILE#x').toString('base64url')}`)).status).toBe(400);
  });

  it('shows a chat’s deletion upstream on its listing and on its files’ records', async () => {
    const listing = await get(`/chats/${chatId}/files`);
    expect(listing.json['chatDeletion']).toMatchObject({
      id: chatId,
      kind: 'chat',
      via: 'chat_soft_delete',
      deletedAt: '2025-06-09T00:00:00.000000Z',
    });
    const record = await get(`/files/${file.id}`);
    expect(record.json).toMatchObject({
      fileId: file.id,
      upstreamDeletions: [expect.objectContaining({ id: chatId, kind: 'chat' })],
    });
  });

  it(
    'shows who and where on a record: creator, organization, project, ' + "and the project's deletion upstream",
    async () => {
      const record = await get(`/files/${documentId}`);
      expect(record.status).toBe(200);
      expect(record.json).toMatchObject({
        fileId: documentId,
        source: 'project_document',
        creator: { id: 'user_01Owner', emailAddress: '01owner@example.com' },
        organizationId: 'org_01Local',
        projectId,
        upstreamDeletions: [expect.objectContaining({ id: projectId, kind: 'project', via: 'project_soft_delete' })],
      });
    },
  );
});
