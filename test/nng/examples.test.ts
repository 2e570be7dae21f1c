/**
 * The nng examples run as tests (examples/nng-copy.ts, examples/nng-provider.ts).
 */
import { main as copyMain } from '../../examples/nng-copy';
import { main as providerMain } from '../../examples/nng-provider';
import { cleanup, tmpDir } from '../helpers/files';

afterAll(cleanup);

describe('examples/nng-copy.ts', () => {
  test('copies a file with nng callbacks and a timeout per step', async () => {
    const lines: string[] = [];
    const r = await copyMain({ dir: tmpDir(), log: (l) => lines.push(l) });
    expect(r.result).toBe(0);
    expect(r.bytes).toBe(200_000);
    expect(r.equal).toBe(true);
    // 4 chunks of 64 KiB: read+write each, the read at EOF, the fsync.
    expect(r.steps).toBe(4 * 2 + 2);
    expect(lines[lines.length - 1]).toBe('synced');
  });
});

describe('examples/nng-provider.ts', () => {
  test('a delayed echo provider completes, cancels, times out and fails synchronously through the callback', async () => {
    const lines: string[] = [];
    const r = await providerMain({ log: (l) => lines.push(l) });
    expect(r).toEqual({
      echoed: 'hello, nng',
      count: 10,
      canceled: 'Operation canceled',
      timedOut: 'Timed out',
      invalid: 'Invalid argument',
      callbacks: 4,
    });
    expect(lines).toHaveLength(4);
  });
});
