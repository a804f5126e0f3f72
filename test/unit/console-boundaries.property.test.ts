import type { IncomingMessage, ServerResponse } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyCors } from '../../local/lookup-server.js';
import { parseConsoleConfig } from '../../console/src/config.js';
import { parseRoute } from '../../console/src/router.js';

// What the console takes from outside: the URL's hash (anyone can send a link), config.json (written
// by the deployment, still read defensively), and, on the local lookup server, any Origin header.
const CONSOLE = 'http://127.0.0.1:8789';

function fakeExchange(method: string, headers: Record<string, string>) {
  const set: Record<string, string> = {};
  let status: number | undefined;
  const res = {
    setHeader: (k: string, v: string) => {
      set[k.toLowerCase()] = v;
    },
    writeHead: (s: number, h: Record<string, string> = {}) => {
      status = s;
      for (const [k, v] of Object.entries(h)) set[k.toLowerCase()] = v;
      return res;
    },
    end: () => res,
  };
  return {
    req: { method, headers } as unknown as IncomingMessage,
    res: res as unknown as ServerResponse,
    set,
    status: () => status,
  };
}

// Any code point, lone surrogates included; fast-check's 'binary' unit takes seconds to set up under load.
const anyCodePoint = fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c));

describe('the console at its boundaries', () => {
  it('maps any hash to a screen or to "no such screen", never throwing', () => {
    fc.assert(
      fc.property(fc.string({ unit: anyCodePoint }), (hash) => {
        const route = parseRoute(`#${hash}`);
        expect(typeof route.name).toBe('string');
      }),
    );
    expect(parseRoute('#/files/claude_file_%2Fx')).toEqual({ name: 'file', fileId: 'claude_file_/x' });
    expect(parseRoute('#/files/%E0%A4%A')).toEqual({ name: 'file', fileId: '%E0%A4%A' });
  });

  it('refuses any malformed config.json with an Error naming config.json', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        try {
          parseConsoleConfig(value);
        } catch (err) {
          expect(err).toBeInstanceOf(Error);
          expect((err as Error).message).toMatch(/^config\.json/);
        }
      }),
    );
  });

  it("names the console's origin, and no other, in the local lookup server's CORS answers", () => {
    fc.assert(
      fc.property(fc.string(), fc.constantFrom('GET', 'OPTIONS', 'POST', 'DELETE'), (origin, method) => {
        fc.pre(origin !== CONSOLE);
        const x = fakeExchange(method, { origin, 'access-control-request-method': 'GET' });
        expect(applyCors(x.req, x.res, CONSOLE)).toBe(false);
        expect(x.set['access-control-allow-origin']).toBeUndefined();
      }),
    );
    const preflight = fakeExchange('OPTIONS', { origin: CONSOLE, 'access-control-request-method': 'POST' });
    expect(applyCors(preflight.req, preflight.res, CONSOLE)).toBe(true);
    expect(preflight.status()).toBe(204);
    expect(preflight.set['access-control-allow-origin']).toBe(CONSOLE);
    const get = fakeExchange('GET', { origin: CONSOLE });
    expect(applyCors(get.req, get.res, CONSOLE)).toBe(false);
    expect(get.set['access-control-allow-origin']).toBe(CONSOLE);
  });
});
