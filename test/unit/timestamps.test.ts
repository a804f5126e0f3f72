import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CANONICAL_TIMESTAMP, canonicalTimestamp } from '../../shared/contracts/timestamps.js';
import { chatListingSortKey, listingSortTime } from '../../shared/contracts/table-keys.js';

describe('canonicalTimestamp', () => {
  it.each([
    ['2025-06-02T09:15:00.000000Z', '2025-06-02T09:15:00.000Z'],
    ['2025-06-02T09:15:00Z', '2025-06-02T09:15:00.000Z'],
    ['2025-06-02t09:15:00.5z', '2025-06-02T09:15:00.500Z'],
    ['2025-06-02 09:15:00.123456+02:00', '2025-06-02T07:15:00.123Z'],
    ['2025-06-02T09:15:00.999999999-05:30', '2025-06-02T14:45:00.999Z'], // truncated, never rounded up
    ['2025-06-02T00:15:00+01:00', '2025-06-01T23:15:00.000Z'], // across midnight
    ['2025-06-02T09:15Z', '2025-06-02T09:15:00.000Z'],
    ['2025-06-02T09:15:00,25+0000', '2025-06-02T09:15:00.250Z'],
    ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
    ['0050-01-01T00:00:00Z', '0050-01-01T00:00:00.000Z'], // not read as 1950
    ['2016-12-31T23:59:60Z', '2017-01-01T00:00:00.000Z'], // a leap second
    [`2025-06-02T09:15:00.${'1'.repeat(60)}+00:00`, '2025-06-02T09:15:00.111Z'], // 86 characters
  ])('%s → %s', (raw, canonical) => {
    expect(canonicalTimestamp(raw)).toBe(canonical);
  });

  it.each([
    'yesterday',
    '2025-06-02',
    '2025-06-02T09:15:00', // no offset: the instant is unknown
    '2025-13-01T00:00:00Z',
    '2025-02-29T00:00:00Z',
    '2025-06-31T00:00:00Z',
    '2025-06-02T24:00:00Z',
    '2025-06-02T09:60:00Z',
    '2025-06-02T09:15:00+24:00',
    '2025-06-02T09:15:00Z#F#x',
    '0000-01-01T00:30:00+01:00', // before year 0 in UTC
    '1749000000',
    '',
    `2025-06-02T09:15:00.${'1'.repeat(300)}Z`,
  ])('refuses %j', (raw) => {
    expect(canonicalTimestamp(raw)).toBeNull();
  });

  it('maps every RFC 3339 rendering of an instant to one 24-character string that sorts by instant', () => {
    const instant = fc.integer({ min: Date.UTC(1970, 0, 1), max: Date.UTC(2100, 0, 1) });
    const rendering = fc.record({
      ms: instant,
      offsetMinutes: fc.integer({ min: -(23 * 60 + 59), max: 23 * 60 + 59 }),
      extraDigits: fc.string({ unit: fc.constantFrom(...'0123456789'), maxLength: 70 }),
    });
    fc.assert(
      fc.property(rendering, rendering, (a, b) => {
        const [ra, rb] = [render(a), render(b)];
        const [ca, cb] = [canonicalTimestamp(ra), canonicalTimestamp(rb)];
        expect(ca).toBe(new Date(a.ms).toISOString());
        expect(cb).toMatch(CANONICAL_TIMESTAMP);
        expect(Math.sign(compare(ca ?? '', cb ?? ''))).toBe(Math.sign(a.ms - b.ms));
      }),
    );
  });
});

describe('the listing sort key', () => {
  it('sorts by upstream created_at when it parses, else by the time the archive recorded the file', () => {
    expect(listingSortTime('2025-06-02T11:15:00.123456+02:00', '2026-01-01T00:00:00.000Z')).toBe(
      '2025-06-02T09:15:00.123Z',
    );
    expect(listingSortTime('next tuesday', '2026-01-01T00:00:00.000Z')).toBe('2026-01-01T00:00:00.000Z');
    expect(listingSortTime(null, '2026-01-01T00:00:00.000Z')).toBe('2026-01-01T00:00:00.000Z');
    expect(chatListingSortKey(listingSortTime(`2025-06-02T09:15:00.${'9'.repeat(60)}Z`, ''), 'claude_gen_file_a')).toBe(
      'F#2025-06-02T09:15:00.999Z#claude_gen_file_a',
    );
  });
});

/** An RFC 3339 string for `ms` at a UTC offset, with extra fraction digits past the milliseconds. */
function render(r: { ms: number; offsetMinutes: number; extraDigits: string }): string {
  const local = new Date(r.ms + r.offsetMinutes * 60_000).toISOString().slice(0, 23);
  const sign = r.offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(r.offsetMinutes);
  const offset = `${sign}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  return `${local}${r.extraDigits}${offset}`;
}

/** Code-unit order, as DynamoDB orders string sort keys (UTF-8 bytes; the same for ASCII). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
