/**
 * The built-in sample upstream for `npm start` (no ANTHROPIC_API_KEY): three chats with generated
 * files (text, CSV, a PNG drawn here, a 5 MiB binary), uploaded files (one attached to two chats),
 * and two Files API files, one downloadable and one not; two projects with an attached file and
 * documents (one project deleted in the app), the quarterly review chat belonging to the first; an
 * artifact Claude wrote in the offsite chat.
 * Discovery finds them (and the backlog of sample-backlog.ts) by polling; nothing is enqueued by hand.
 */
import { crc32, deflateSync } from 'node:zlib';
import { SAMPLE_API_KEY } from '../shared/platform/local-account.js';
import type { UpstreamFile } from './upstream/catalogue.js';
import type { SampleContent } from './upstream/content.js';
import type { ListingChatFacts } from './upstream/listings.js';
import type { SampleProject } from './upstream/projects.js';

/** The API key the sample upstream accepts (defined with the local identity, which the CLI reads too). */
export { SAMPLE_API_KEY };

export const SAMPLE_CHATS = {
  quarterlyReview: 'claude_chat_01SampleQuarterlyReview',
  dataAnalysis: 'claude_chat_01SampleDataAnalysis',
  teamOffsite: 'claude_chat_01SampleTeamOffsite',
} as const;

const SUMMARY_TEXT = Buffer.from(
  [
    'Q3 summary',
    '',
    'Revenue grew 12% quarter on quarter, led by the enterprise segment.',
    'Churn fell to 1.8%. Two regions missed plan; see q3-revenue.csv.',
    '',
  ].join('\n'),
);

const REVENUE_CSV = Buffer.from(
  [
    'region,q2_revenue_usd,q3_revenue_usd',
    'north,1200000,1350000',
    'south,980000,1010000',
    'east,760000,742000',
    'west,1100000,1290000',
    '',
  ].join('\n'),
);

const AGENDA_MD = Buffer.from('# Offsite agenda\n\n1. Retrospective\n2. Roadmap\n3. Dinner (7 pm)\n');
const BOARD_NOTES_MD = Buffer.from(
  '# Board deck notes\n\n- Lead with the enterprise numbers.\n- Keep the appendix short.\n',
);
const RAW_DATA_CSV = Buffer.from('day,active_users\n1,1520\n2,1588\n3,1603\n4,1710\n');
const SKILL_OUTPUT_JSON = Buffer.from(
  `${JSON.stringify({ chart: 'growth', points: [1520, 1588, 1603, 1710] }, null, 2)}\n`,
);
const USER_UPLOAD_PDF = Buffer.from('%PDF-1.4\n% sample placeholder, not downloadable through the Files API\n%%EOF\n');

const PROJECT_BRIEF_MD = Buffer.from(
  '# Q3 planning brief\n\nScope: the enterprise push and the two regions behind plan.\n',
);

export const SAMPLE_PROJECTS = {
  q3Planning: 'claude_proj_01SampleQ3Planning',
  retiredPilot: 'claude_proj_01SampleRetiredPilot',
} as const;

/**
 * The sample projects: Q3 planning (created by the sample user) with an uploaded brief attached and
 * two documents, one of them written by someone who has since left (its `user` is null); and a pilot
 * project deleted in the app, still listed with `deleted_at`, with one document.
 */
export function sampleProjects(): SampleProject[] {
  return [
    {
      id: SAMPLE_PROJECTS.q3Planning,
      name: 'Q3 planning',
      createdAt: '2025-05-30T08:00:00.000000Z',
      userId: 'user_01LocalSampleUser',
      fileIds: ['claude_file_01SampleProjectBrief'],
      documents: [
        {
          id: 'claude_proj_doc_01SampleGoals',
          filename: 'goals.md',
          content:
            '# Goals\n\n- Enterprise revenue +10%\n- Churn under 2%\n- Café-level service: naïve questions welcome ✓\n',
          createdAt: '2025-05-30T08:10:00.000000Z',
        },
        {
          id: 'claude_proj_doc_01SampleGlossary',
          filename: 'glossary.txt',
          content: 'ARR: annual recurring revenue\nNRR: net revenue retention\n',
          createdAt: '2025-05-30T08:20:00.000000Z',
          userId: null,
        },
      ],
    },
    {
      id: SAMPLE_PROJECTS.retiredPilot,
      name: 'Retired pilot',
      createdAt: '2025-04-01T08:00:00.000000Z',
      deletedAt: '2025-05-15T17:00:00.000000Z',
      userId: 'user_01LocalPilotLead',
      documents: [
        {
          id: 'claude_proj_doc_01SamplePilotNotes',
          filename: 'pilot-notes.md',
          content: '# Pilot notes\n\nWound down in May.\n',
          createdAt: '2025-04-02T08:00:00.000000Z',
          userId: 'user_01LocalPilotLead',
        },
      ],
    },
  ];
}

/** Chat facts of the sample chats: the quarterly review belongs to the Q3 planning project. */
export function sampleChatFacts(): [string, ListingChatFacts][] {
  return [[SAMPLE_CHATS.quarterlyReview, { projectId: SAMPLE_PROJECTS.q3Planning }]];
}

/** A 5 MiB generated file: big enough for a multipart upload at the smallest part size. */
const SIMULATION_OUTPUT: SampleContent = { size: 5 * 1024 * 1024 + 123, seed: 20250601 };

/** Every sample file, as the sample upstream serves them. */
export function sampleFiles(): UpstreamFile[] {
  return [
    {
      source: 'generated',
      id: 'claude_gen_file_01SampleQ3Summary',
      chatId: SAMPLE_CHATS.quarterlyReview,
      filename: 'q3-summary.txt',
      mimeType: 'text/plain',
      createdAt: '2025-06-02T09:15:00.000000Z',
      content: SUMMARY_TEXT,
    },
    {
      source: 'generated',
      id: 'claude_gen_file_01SampleQ3RevenueCsv',
      chatId: SAMPLE_CHATS.quarterlyReview,
      filename: 'q3-revenue.csv',
      mimeType: 'text/csv',
      createdAt: '2025-06-02T09:16:30.000000Z',
      content: REVENUE_CSV,
    },
    {
      source: 'generated',
      id: 'claude_gen_file_01SampleGrowthChartPng',
      chatId: SAMPLE_CHATS.dataAnalysis,
      filename: 'growth-chart.png',
      mimeType: 'image/png',
      createdAt: '2025-06-03T14:02:00.000000Z',
      content: drawSamplePng(32, 24),
    },
    {
      source: 'generated',
      id: 'claude_gen_file_01SampleSimulationOutput',
      chatId: SAMPLE_CHATS.dataAnalysis,
      filename: 'simulation-output.bin',
      mimeType: 'application/octet-stream',
      createdAt: '2025-06-03T14:10:00.000000Z',
      content: SIMULATION_OUTPUT,
    },
    {
      source: 'generated',
      id: 'claude_gen_file_01SampleOffsiteAgenda',
      chatId: SAMPLE_CHATS.teamOffsite,
      filename: 'offsite-agenda.md',
      mimeType: 'text/markdown',
      createdAt: '2025-06-04T08:00:00.000000Z',
      content: AGENDA_MD,
    },
    {
      source: 'uploaded',
      id: 'claude_file_01SampleBoardDeckNotes',
      // Attached to two chats: archived once, listed under both.
      chatIds: [SAMPLE_CHATS.quarterlyReview, SAMPLE_CHATS.dataAnalysis],
      messageIds: ['claude_chat_msg_01SampleQrNotesUpload', 'claude_chat_msg_01SampleDaNotesUpload'],
      filename: 'board deck notes (draft).md',
      mimeType: 'text/markdown',
      createdAt: '2025-06-02T09:00:00.000000Z',
      content: BOARD_NOTES_MD,
    },
    {
      source: 'uploaded',
      id: 'claude_file_01SampleRawDataCsv',
      chatIds: [SAMPLE_CHATS.dataAnalysis],
      messageIds: ['claude_chat_msg_01SampleRawDataUpload'],
      filename: 'raw-data.csv',
      mimeType: 'text/csv',
      createdAt: '2025-06-03T14:00:00.000000Z',
      content: RAW_DATA_CSV,
    },
    {
      source: 'artifact',
      id: 'claude_artifact_version_01SampleOffsitePlanV1',
      artifactId: 'claude_artifact_01SampleOffsitePlan',
      chatId: SAMPLE_CHATS.teamOffsite,
      filename: 'Offsite plan',
      mimeType: 'text/markdown',
      createdAt: '2025-06-04T08:05:00.000000Z',
      content: Buffer.from('# Offsite plan\n\n- Morning: retrospective\n- Afternoon: roadmap\n'),
    },
    {
      source: 'uploaded',
      id: 'claude_file_01SampleProjectBrief',
      // Attached to the Q3 planning project, in no chat: only the projects poller finds it.
      chatIds: [],
      filename: 'q3-brief.md',
      mimeType: 'text/markdown',
      createdAt: '2025-05-30T08:05:00.000000Z',
      content: PROJECT_BRIEF_MD,
    },
    {
      source: 'files_api',
      id: 'file_01SampleSkillOutputJson',
      filename: 'growth-points.json',
      mimeType: 'application/json',
      createdAt: '2025-06-03T14:05:00.000000Z',
      content: SKILL_OUTPUT_JSON,
      downloadable: true,
      scope: { id: 'sesn_01SampleAnalysisSession', type: 'session' },
    },
    {
      source: 'files_api',
      id: 'file_01SampleUserUploadPdf',
      filename: 'contract.pdf',
      mimeType: 'application/pdf',
      createdAt: '2025-06-03T13:55:00.000000Z',
      content: USER_UPLOAD_PDF,
      downloadable: false,
    },
  ];
}

/** A valid RGB PNG of a colour gradient, built without an image library. */
export function drawSamplePng(width: number, height: number): Buffer {
  const rowBytes = 1 + width * 3;
  const raw = Buffer.alloc(rowBytes * height);
  for (let y = 0; y < height; y++) {
    raw[y * rowBytes] = 0; // filter type None
    for (let x = 0; x < width; x++) {
      const at = y * rowBytes + 1 + x * 3;
      raw[at] = Math.round((x / Math.max(1, width - 1)) * 255);
      raw[at + 1] = Math.round((y / Math.max(1, height - 1)) * 255);
      raw[at + 2] = 160;
    }
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type RGB
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(raw)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, crc]);
}
