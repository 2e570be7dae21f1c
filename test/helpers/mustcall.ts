/**
 * Exactly-once assertions (Node's common.mustCall): wrap a callback, and every
 * wrapper made during a test is checked after it (see jest.setup.ts): called exactly
 * the expected number of times, no more, no less.
 */
const registry: Array<{ name: string; expected: number; calls: () => number; stack: string }> = [];

export type Counted<A extends unknown[]> = ((...args: A) => void) & { readonly calls: number; readonly args: A[] };

/** Wraps `fn` so that the test fails unless it is called exactly `expected` times. */
export function mustCall<A extends unknown[]>(fn: (...args: A) => void = () => {}, expected = 1): Counted<A> {
  let calls = 0;
  const args: A[] = [];
  const wrapper = ((...a: A) => {
    calls++;
    args.push(a);
    fn(...a);
  }) as Counted<A>;
  Object.defineProperty(wrapper, 'calls', { get: () => calls });
  Object.defineProperty(wrapper, 'args', { get: () => args });
  registry.push({ name: fn.name || 'callback', expected, calls: () => calls, stack: new Error().stack ?? '' });
  return wrapper;
}

/** A callback that must never run. */
export function mustNotCall<A extends unknown[]>(why = 'must not be called'): Counted<A> {
  return mustCall<A>(() => {
    throw new Error(why);
  }, 0);
}

/** Checks every wrapper made since the last check, then forgets them. */
export function verifyMustCalls(): void {
  const bad = registry.filter((r) => r.calls() !== r.expected);
  const report = bad.map((r) => `${r.name}: expected ${r.expected} call(s), got ${r.calls()}\n${r.stack.split('\n').slice(2, 4).join('\n')}`);
  registry.length = 0;
  if (report.length > 0) throw new Error(`mustCall mismatch:\n${report.join('\n')}`);
}

/** Resolves after deferred notifications have run (the engine defers with setImmediate). */
export function flush(turns = 3): Promise<void> {
  return new Promise((resolve) => {
    const step = (n: number): void => {
      if (n === 0) resolve();
      else setImmediate(() => step(n - 1));
    };
    step(turns);
  });
}

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The reason `p` rejects with; fails the test if it fulfils. Exactly once. */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
  let reason: unknown;
  await p.then(
    mustNotCall('expected a rejection'),
    mustCall((e: unknown) => {
      reason = e;
    }),
  );
  return reason;
}

/** The value `p` fulfils with; fails the test if it rejects. Exactly once. */
export async function fulfilment<T>(p: Promise<T>): Promise<T> {
  let value: T | undefined;
  await p.then(
    mustCall((v: T) => {
      value = v;
    }),
    (e: unknown) => {
      throw e;
    },
  );
  return value as T;
}
