/// <reference lib="dom" />
// Functions passed to page.evaluate run in the browser: the DOM types describe them.
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAMPLE_CHATS } from '../../local/sample-data.js';
import { startLocalStackProcess, type LocalStackProcess } from '../support/local-stack-process.js';

/**
 * The auditor console end to end: the real `npm start` stack (sample upstream, s3rver, dynalite,
 * fauxqs, the lookup server) serving the built console, driven by headless Chromium (the Debian
 * package, no browser download). Each screen is checked with axe-core (no serious or critical
 * violation) and its screenshot saved under docs/console/. The page runs under the console's real
 * Content-Security-Policy: axe is evaluated through the DevTools protocol, which CSP does not govern,
 * and any CSP violation the app itself causes fails the test.
 */
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
// Screenshots go to a scratch folder unless asked for (`npm run screenshots:console` writes docs/console/).
const SHOTS = process.env['CONSOLE_SCREENSHOTS_DIR']
  ? join(repoRoot, process.env['CONSOLE_SCREENSHOTS_DIR'])
  : join(tmpdir(), 'archiver-console-screenshots');
const SAMPLE_FILE = 'claude_gen_file_01SampleQ3Summary';
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const axeSource = readFile(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let dataDir: string;
let stack: LocalStackProcess;
let browser: Browser;
let consoleUrl: string;
let lookupUrl: string;
const cspViolations: string[] = [];

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function getJson(path: string): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${lookupUrl}${path}`);
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function openPage(hash: string, viewport = { width: 1280, height: 800 }): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  await page.goto(`${consoleUrl}/${hash}`);
  return page;
}

/** axe-core on the whole page: the serious and critical violations, by rule and target. */
async function seriousViolations(page: Page): Promise<string[]> {
  await page.evaluate(await axeSource);
  const result = (await page.evaluate(() =>
    (window as unknown as { axe: { run(ctx: Document): Promise<unknown> } }).axe.run(document),
  )) as { violations: { id: string; impact: string | null; nodes: { target: unknown }[] }[] };
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')}`);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** s3rver keeps each object as a plain file named after its key: find it under the data folder. */
async function storedObjectPath(dir: string, key: string): Promise<string> {
  const name = key.split('/').at(-1) ?? key;
  const entries = await readdir(dir, { recursive: true });
  const hit = entries.find((e) => e.endsWith(`${name}._S3rver_object`));
  if (!hit) throw new Error(`no stored object for ${key} under ${dir}`);
  return join(dir, hit);
}

beforeAll(async () => {
  await build({ configFile: join(repoRoot, 'console/vite.config.ts'), logLevel: 'warn' });
  await mkdir(SHOTS, { recursive: true });
  dataDir = await mkdtemp(join(tmpdir(), 'archiver-console-'));
  stack = await startLocalStackProcess({ dataDir, env: { ANTHROPIC_API_KEY: '' }, timeoutMs: 90_000 });
  consoleUrl = stack.info.consoleUrl ?? '';
  lookupUrl = stack.info.lookupUrl;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  await waitFor('the sample file to be archived', async () => {
    const { body } = await getJson(`/files/${SAMPLE_FILE}`);
    return body['status'] === 'archived' ? true : undefined;
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await stack?.stop('SIGTERM');
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe('the auditor console on the local stack', () => {
  it('serves the console at the URL npm start prints, with its Content-Security-Policy', async () => {
    expect(stack.output()).toContain(`auditor console  ${consoleUrl}`);
    expect(consoleUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const res = await fetch(`${consoleUrl}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(res.headers.get('content-security-policy')).toContain(new URL(lookupUrl).origin);
    const config = (await (await fetch(`${consoleUrl}/config.json`)).json()) as Record<string, unknown>;
    expect(config).toMatchObject({ apiUrl: lookupUrl, auth: { kind: 'local' } });
  });

  it("allows the console's origin, and only it, to call the lookup API from a browser", async () => {
    const allowed = await fetch(`${lookupUrl}/files/${SAMPLE_FILE}`, { headers: { origin: consoleUrl } });
    expect(allowed.headers.get('access-control-allow-origin')).toBe(consoleUrl);
    const other = await fetch(`${lookupUrl}/files/${SAMPLE_FILE}`, { headers: { origin: 'http://127.0.0.1:1' } });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${lookupUrl}/holds`, {
      method: 'OPTIONS',
      headers: { origin: consoleUrl, 'access-control-request-method': 'POST' },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-methods')).toContain('POST');
  });

  it("shows a file's evidence: every archived hash, the version, the request id, the deletions", async () => {
    const { body: record } = await getJson(`/files/${SAMPLE_FILE}`);
    const page = await openPage(`#/files/${SAMPLE_FILE}`);
    await page.getByRole('heading', { name: 'Integrity evidence' }).waitFor();
    const hashes = await page.getByTestId('hashes').textContent();
    expect(hashes).toContain(String(record['sha256']));
    expect(hashes).toContain(String(record['md5']));
    expect(hashes).toContain(String(record['crc32']));
    expect(await page.locator('main').textContent()).toContain(String(record['upstreamRequestId']));
    expect(await page.getByTestId('caller').textContent()).toMatch(/^local:/);
    // Every section has loaded (the access trail is the last to answer).
    await page.getByRole('heading', { name: 'Who accessed it' }).waitFor();
    await page.waitForFunction(() => !document.querySelector('main')?.textContent?.includes('Loading'));
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'file-evidence');
    await page.close();
  });

  it('downloads the exact archived version and shows it verified against the archived SHA-256', async () => {
    const page = await openPage(`#/files/${SAMPLE_FILE}`);
    // Keyboard only: focus the button and press Enter.
    const button = page.getByRole('button', { name: 'Download and verify' });
    await button.focus();
    await page.keyboard.press('Enter');
    const verdict = page.locator('[data-verified]');
    await verdict.waitFor();
    expect(await verdict.getAttribute('data-verified')).toBe('true');
    expect(await verdict.textContent()).toContain('Verified');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'download-verified');
    await page.close();
  });

  it('shows NOT verified when the stored bytes were tampered with', async () => {
    const { body: record } = await getJson(`/files/${SAMPLE_FILE}`);
    const path = await storedObjectPath(dataDir, String(record['key']));
    const original = await readFile(path);
    const tampered = Buffer.from(original);
    tampered[0] = (tampered[0] ?? 0) ^ 0xff; // same length, one byte different
    await writeFile(path, tampered);
    try {
      const page = await openPage(`#/files/${SAMPLE_FILE}`);
      await page.getByRole('button', { name: 'Download and verify' }).click();
      const verdict = page.locator('[data-verified]');
      await verdict.waitFor();
      expect(await verdict.getAttribute('data-verified')).toBe('false');
      expect(await verdict.textContent()).toContain('NOT verified');
      expect(await seriousViolations(page)).toEqual([]);
      await shot(page, 'download-not-verified');
      await page.close();
    } finally {
      await writeFile(path, original);
    }
  });

  it("lists a chat's files in upstream order with their status", async () => {
    const { body } = await getJson(`/chats/${SAMPLE_CHATS.quarterlyReview}/files`);
    const ids = (body['files'] as { fileId: string }[]).map((f) => f.fileId);
    const page = await openPage(`#/chats/${SAMPLE_CHATS.quarterlyReview}`);
    await page.locator('table tbody tr').first().waitFor();
    const shown = await page.locator('table tbody tr td:first-child .small').allInnerTexts();
    expect(shown).toEqual(ids);
    // A link to the file is a shareable URL that opens its evidence.
    await page.getByRole('link', { name: 'q3-summary.txt' }).click();
    await page.getByRole('heading', { name: 'File evidence' }).waitFor();
    expect(page.url()).toContain(`#/files/${SAMPLE_FILE}`);
    await page.goBack();
    await page.locator('table tbody tr').first().waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'chat');
    await page.close();
  });

  it('places a legal hold on a chat from the holds screen, shows it on the file, and releases it', async () => {
    const matterId = 'case-e2e-1';
    const page = await openPage('#/holds');
    await page.getByRole('heading', { name: 'Place a hold' }).waitFor();
    await page.getByLabel('Matter id').fill(matterId);
    await page.getByLabel('Reason').fill('Litigation hold for the e2e matter');
    await page.getByLabel('Chat ids').fill(SAMPLE_CHATS.quarterlyReview);
    await page.getByRole('button', { name: 'Place hold' }).click();
    const row = page.locator(`tr[data-matter="${matterId}"]`);
    await row.waitFor();
    // The screen reads the list again until the sweep is done; the API's matter agrees with what it shows.
    await row.locator('td[data-progress="done"]').waitFor({ timeout: 60_000 });
    const { body: matter } = await getJson(`/holds/${matterId}`);
    expect(matter).toMatchObject({ status: 'active', scope: { chats: [SAMPLE_CHATS.quarterlyReview] } });
    expect((matter['progress'] as { matched: number }).matched).toBeGreaterThan(0);
    expect(await row.textContent()).toContain(
      `${(matter['progress'] as { matched: number }).matched} file(s) in scope`,
    );
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'hold-placed');
    // The held file's evidence names the matter.
    const file = await openPage(`#/files/${SAMPLE_FILE}`);
    const held = file.locator('[data-state="held"]');
    await held.waitFor();
    expect(await held.textContent()).toContain(matterId);
    await file.close();
    // Release: the row turns released, and so does the API's matter.
    await page.getByRole('button', { name: `Release ${matterId}` }).click();
    // The release sweep is queued with a delay (HOLD_RELEASE_DELAY_SECONDS, so that an ingest holding
    // the file as it is archived finishes first): the screen shows the matter released, its sweep pending.
    await row
      .locator('td', { hasText: /^released/ })
      .first()
      .waitFor();
    expect(await row.locator('td[data-progress]').textContent()).toMatch(/^releasing: /);
    expect((await getJson(`/holds/${matterId}`)).body).toMatchObject({
      status: 'released',
      progress: { action: 'release' },
    });
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  it('runs a cheap and a deep fixity check from the file evidence screen and keeps them in its history', async () => {
    const page = await openPage(`#/files/${SAMPLE_FILE}`);
    const before =
      ((await getJson(`/files/${SAMPLE_FILE}`)).body['fixityEvents'] as unknown[] | undefined)?.length ?? 0;
    const history = page.locator('[data-state="fixity"] li');
    await page.getByRole('button', { name: 'Verify now (cheap)' }).click();
    await history.nth(before).waitFor();
    await page.getByRole('button', { name: 'Verify now (deep)' }).click();
    await history.nth(before + 1).waitFor();
    // Newest first: the deep check, then the cheap one; both passed on the untouched copy.
    expect(await history.nth(0).textContent()).toMatch(/deep · passed/);
    expect(await history.nth(1).textContent()).toMatch(/cheap · passed/);
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'file-fixity');
    await page.close();
    // The checks are on the record: a fresh page shows them from the record alone.
    const again = await openPage(`#/files/${SAMPLE_FILE}`);
    await again
      .locator('[data-state="fixity"] li')
      .nth(before + 1)
      .waitFor();
    await again.close();
  });

  it('starts an export of a chat, follows it to completion, and offers the package with its SHA-256', async () => {
    const page = await openPage('#/exports');
    await page.getByRole('heading', { name: 'Start an export' }).waitFor();
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'exports');
    await page.getByLabel('Description').fill('Quarterly review for counsel');
    await page.getByLabel('Chat ids').fill(SAMPLE_CHATS.quarterlyReview);
    await page.getByRole('button', { name: 'Start export' }).click();
    await page.waitForURL(/#\/exports\/exp_[0-9a-f]{32}$/);
    const ready = page.locator('[data-state="ready"]');
    await ready.waitFor({ timeout: 120_000 });
    expect(await page.locator('dd[data-status]').getAttribute('data-status')).toBe('completed');
    const link = page.getByRole('link', { name: 'Download the export package' });
    const url = await link.getAttribute('href');
    const zip = Buffer.from(await (await fetch(String(url))).arrayBuffer());
    expect(zip.subarray(0, 2).toString()).toBe('PK');
    const shown = await page.locator('[data-label="package SHA-256"]').textContent();
    expect(shown?.replace(/\s/g, '')).toBe(createHash('sha256').update(zip).digest('hex'));
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'export');
    await page.close();
  });

  it("draws each poller's coverage from the ledger as a chart", async () => {
    // Every poller runs at start; the Files API poller's first run ends within a second, the chat
    // poller's (303 sample chats) can take minutes: the chart shows whatever the ledger holds.
    await waitFor('a ledger run', async () => {
      const { body } = await getJson('/discovery/files_api/runs');
      return (body['runs'] as unknown[]).length > 0 ? true : undefined;
    });
    const runsOf: Record<string, number> = {};
    for (const s of ['chats', 'activities', 'files_api'])
      runsOf[s] = ((await getJson(`/discovery/${s}/runs`)).body['runs'] as unknown[]).length;
    const page = await openPage('#/coverage');
    const chart = page.getByTestId('coverage-chart');
    await chart.waitFor();
    for (const [s, runs] of Object.entries(runsOf)) {
      const row = chart.locator(`g[data-source="${s}"]`);
      if (runs > 0) expect(await row.locator('rect.covered').count()).toBeGreaterThan(0);
      else expect(await row.innerHTML()).toContain('no run recorded');
    }
    expect(await page.getByRole('img', { name: 'Discovery coverage by poller' }).count()).toBe(1);
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'coverage');
    await page.close();
  });

  it('lists the chats a run could not read, with the error and upstream request id', async () => {
    // The sample upstream refuses no chat, so the page's answer for the files_api ledger is the real
    // one with a unit failure added to its newest run (a fault this stack does not produce on its own).
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.route('**/discovery/files_api/runs*', async (route) => {
      const res = await route.fetch();
      const body = (await res.json()) as { runs: Record<string, unknown>[] };
      const newest = body.runs.at(-1);
      if (newest) {
        newest['unitFailures'] = [
          { id: 'claude_chat_01Refused', error: 'upstream 403 permission_error', requestId: 'req_01e2e' },
        ];
        newest['unitFailureCount'] = 1;
      }
      await route.fulfill({ response: res, json: body });
    });
    await page.goto(`${consoleUrl}/#/coverage`);
    const table = page.locator('[data-state="unit-failures"]');
    await table.waitFor();
    const text = await table.textContent();
    expect(text).toContain('claude_chat_01Refused');
    expect(text).toContain('upstream 403 permission_error');
    expect(text).toContain('req_01e2e');
    expect(await table.getByRole('link', { name: 'claude_chat_01Refused' }).getAttribute('href')).toBe(
      '#/chats/claude_chat_01Refused',
    );
    expect(await seriousViolations(page)).toEqual([]);
    await page.close();
  });

  // The workbench screens: until the lookup API serves their routes they must say so in words; once
  // it does, they must render without an error.
  for (const [name, hash, probe] of [
    ['search', '#/search?creator=user_01Sample&from=2025-01-01', '/search/files?creator=user_01Sample&from=2025-01-01'],
    ['holds', '#/holds', '/holds'],
    ['audit', `#/audit?fileId=${SAMPLE_FILE}`, `/audit?fileId=${SAMPLE_FILE}`],
  ] as const) {
    it(`shows the ${name} screen, or says the route is not available on this API`, async () => {
      const served = (await fetch(`${lookupUrl}${probe}`)).status !== 404;
      const page = await openPage(hash);
      await page.locator('main h1').waitFor();
      const state = page.locator('[data-state]').first();
      await state.waitFor();
      if (served) expect(await state.getAttribute('data-state')).not.toBe('error');
      else {
        expect(await state.getAttribute('data-state')).toBe('unavailable');
        expect(await state.textContent()).toContain('Not available on this API');
      }
      expect(await seriousViolations(page)).toEqual([]);
      await shot(page, name);
      await page.close();
    });
  }

  it('is usable at a phone width and from the keyboard', async () => {
    const page = await openPage(`#/files/${SAMPLE_FILE}`, { width: 390, height: 844 });
    await page.getByRole('heading', { name: 'Integrity evidence' }).waitFor();
    // Nothing wider than the screen: the hashes wrap instead of pushing the page sideways.
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    // A new screen puts the keyboard focus on its heading. Backwards from there, the keyboard passes the
    // five screen links and reaches the skip button, the first control of the page, which moves focus
    // to the content.
    expect(await page.evaluate(() => document.activeElement?.tagName)).toBe('H1');
    const visited: string[] = [];
    for (let i = 0; i < 10 && visited.at(-1) !== 'Skip to content'; i++) {
      await page.keyboard.press('Shift+Tab');
      visited.push(await page.evaluate(() => document.activeElement?.textContent?.trim() ?? ''));
    }
    expect(visited).toEqual(['Access trail', 'Coverage', 'Exports', 'Legal holds', 'Search', 'Skip to content']);
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => document.activeElement?.id)).toBe('main');
    expect(await seriousViolations(page)).toEqual([]);
    await shot(page, 'file-evidence-phone');
    await page.close();
  });

  it('ran every page without a Content-Security-Policy violation', () => {
    expect(cspViolations).toEqual([]);
  });
});
