import { Agent } from 'undici';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDeploymentConfig } from '../../infra/deployment-config.js';
import { chooseUpstream } from '../../local/upstream-settings.js';
import { IngestConfigSchema, loadConfig } from '../../shared/contracts/lambda-environment.js';
import { isLoopbackHost, upstreamBaseUrlProblem } from '../../shared/contracts/upstream-base-url.js';
import { ConfigurationError } from '../../shared/platform/errors.js';
import { createUpstreamClient } from '../../shared/upstream/upstream-client.js';

/** Every request carries the API key in `x-api-key`: it may cross a network only inside TLS. */

const ACCEPTED = [
  'https://api.anthropic.com',
  'https://upstream.example.com:8443/prefix',
  'http://127.0.0.1:8080',
  'http://127.255.3.4',
  'http://127.1:9000', // WHATWG shorthand for 127.0.0.1
  'http://localhost:4010',
  'http://LOCALHOST',
  'http://[::1]:8080',
  'http://[0:0:0:0:0:0:0:1]/', // normalised to [::1]
];

const REFUSED = [
  'http://api.anthropic.com',
  'http://10.0.0.5:8080',
  'http://128.0.0.1',
  'http://localhost.example.com', // not loopback: any DNS name but "localhost" itself
  'http://127.0.0.1.example.com',
  'http://[::2]',
  'http://[::ffff:127.0.0.1]', // IPv4-mapped: not on the list, so refused rather than guessed at
  'ftp://api.anthropic.com',
  'ws://127.0.0.1',
  'api.anthropic.com',
  '',
];

describe('the upstream base URL rule', () => {
  it.each(ACCEPTED)('accepts %s', (url) => {
    expect(upstreamBaseUrlProblem(url)).toBeUndefined();
  });

  it.each(REFUSED)('refuses %j', (url) => {
    expect(upstreamBaseUrlProblem(url)).toMatch(/https|URL/);
  });

  it('knows loopback hosts by their normalised form only', () => {
    expect(isLoopbackHost('127.0.0.1')).toBe(true);
    expect(isLoopbackHost('127.0.0.256')).toBe(false);
    expect(isLoopbackHost('[::1]')).toBe(true);
    expect(isLoopbackHost('::1x')).toBe(false);
  });
});

describe('the ingest Lambda configuration', () => {
  const base = {
    ARCHIVE_BUCKET: 'bucket',
    INDEX_TABLE: 'table',
    INGEST_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/q',
    DEAD_LETTER_QUEUE_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/dlq',
    MAX_RECEIVE_COUNT: '5',
    ANTHROPIC_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:k',
  };

  it('fails the cold start on a plain-http upstream that is not loopback, naming the variable', () => {
    expect(() => loadConfig(IngestConfigSchema, { ...base, ANTHROPIC_BASE_URL: 'http://api.anthropic.com' })).toThrow(
      /ANTHROPIC_BASE_URL: must be an https:\/\/ URL/,
    );
  });

  it('accepts https and a loopback test upstream, and defaults to the real API', () => {
    expect(loadConfig(IngestConfigSchema, base).ANTHROPIC_BASE_URL).toBe('https://api.anthropic.com');
    expect(
      loadConfig(IngestConfigSchema, { ...base, ANTHROPIC_BASE_URL: 'http://127.0.0.1:4010' }).ANTHROPIC_BASE_URL,
    ).toBe('http://127.0.0.1:4010');
  });
});

describe('the deployment configuration', () => {
  it.each(['http://api.anthropic.com', 'http://127.0.0.1:8080', 'http://localhost'])(
    'refuses archiver:upstreamBaseUrl=%s (a deployed function has no loopback upstream)',
    (url) => {
      expect(() => parseDeploymentConfig({ 'archiver:upstreamBaseUrl': url })).toThrow(
        /archiver:upstreamBaseUrl: must be an https:\/\/ URL/,
      );
    },
  );
});

describe('the local stack (npm start)', () => {
  it('refuses a real key with a plain-http upstream before starting anything', () => {
    const env = { ANTHROPIC_API_KEY: 'sk-ant-real', ANTHROPIC_BASE_URL: 'http://proxy.internal:8080' };
    expect(() => chooseUpstream(env)).toThrow(ConfigurationError);
    expect(() => chooseUpstream(env)).toThrow(/ANTHROPIC_BASE_URL must be an https:\/\/ URL/);
  });

  it('uses the real API over https, a loopback upstream as given, and the sample upstream without a key', () => {
    expect(chooseUpstream({ ANTHROPIC_API_KEY: 'k' })).toEqual({
      kind: 'real',
      baseUrl: 'https://api.anthropic.com',
      apiKey: 'k',
    });
    expect(chooseUpstream({ ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: 'http://localhost:4010' })).toMatchObject({
      baseUrl: 'http://localhost:4010',
    });
    expect(chooseUpstream({ ANTHROPIC_BASE_URL: 'http://anything' })).toEqual({ kind: 'sample' });
  });
});

describe('the upstream client', () => {
  const agent = new Agent();
  afterAll(() => agent.close());

  it('cannot be built for a plain-http upstream that is not loopback, whoever configured it', () => {
    expect(() => createUpstreamClient({ baseUrl: 'http://api.anthropic.com', apiKey: 'k', dispatcher: agent })).toThrow(
      ConfigurationError,
    );
    expect(() =>
      createUpstreamClient({ baseUrl: 'http://127.0.0.1:4010', apiKey: 'k', dispatcher: agent }),
    ).not.toThrow();
  });
});
