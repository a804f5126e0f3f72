import { describe, expect, it } from 'vitest';
import { createApiKeyProvider } from '../../shared/upstream/api-key.js';

describe('API key provider', () => {
  it('reads through the cache normally and bypasses it once after a refusal', async () => {
    const reads: boolean[] = [];
    const provider = createApiKeyProvider(async (force) => {
      reads.push(force);
      return ' sk-ant-key \n';
    });
    expect(await provider.current()).toBe('sk-ant-key');
    provider.refresh();
    await provider.current();
    await provider.current();
    expect(reads).toEqual([false, true, false]);
  });

  it('spaces forced reads so a burst of 401s costs one secret read per interval', async () => {
    let clock = 0;
    const reads: boolean[] = [];
    const provider = createApiKeyProvider(
      async (force) => {
        reads.push(force);
        return 'k';
      },
      { minRefreshIntervalMs: 30_000, now: () => clock },
    );
    provider.refresh();
    await provider.current();
    provider.refresh();
    await provider.current(); // within the interval: served from the cache
    clock += 30_000;
    await provider.current(); // the pending refresh happens once the interval has passed
    expect(reads).toEqual([true, false, true]);
  });

  it('refuses an empty secret with a message that says what to do', async () => {
    const provider = createApiKeyProvider(async () => '  ');
    await expect(provider.current()).rejects.toThrow(/secret is empty/);
  });
});
