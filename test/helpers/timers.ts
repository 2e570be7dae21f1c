/**
 * The timers code under test leaves armed. `process.getActiveResourcesInfo()` counts
 * every Timeout of the process, and jest's own come and go while a test runs (a loop
 * doing nothing saw the count move between 2 and 5), so comparing it before and after
 * is flaky. This wraps the global setTimeout/clearTimeout instead (the library looks
 * them up at call time): `armed()` is the number of timers made since `watchTimers()`
 * that have neither fired nor been cleared.
 */
export interface TimerWatch {
  armed(): number;
  restore(): void;
}

export function watchTimers(): TimerWatch {
  const g = globalThis as { setTimeout: typeof setTimeout; clearTimeout: typeof clearTimeout };
  const realSet = g.setTimeout;
  const realClear = g.clearTimeout;
  const live = new Set<unknown>();
  g.setTimeout = ((fn: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const t = realSet(
      (...a: unknown[]) => {
        live.delete(t);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.add(t);
    return t;
  }) as typeof setTimeout;
  g.clearTimeout = ((t: Parameters<typeof clearTimeout>[0]) => {
    live.delete(t);
    realClear(t);
  }) as typeof clearTimeout;
  return {
    armed: () => live.size,
    restore: () => {
      g.setTimeout = realSet;
      g.clearTimeout = realClear;
    },
  };
}

/**
 * Watches timers around every test of the calling file (beforeEach/afterEach).
 *
 * @returns a function giving the number of timers the current test made that are
 * still armed.
 */
export function trackTimers(): () => number {
  let watch: TimerWatch | null = null;
  beforeEach(() => {
    watch = watchTimers();
  });
  afterEach(() => {
    watch?.restore();
    watch = null;
  });
  return () => (watch as TimerWatch).armed();
}
