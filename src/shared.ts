/**
 * Process-wide state, kept on a global symbol so that the ESM and the CommonJS copy
 * of this package, if both are loaded, share one errno slot and one request queue
 * (the dual-package hazard). The key carries the major version: two incompatible
 * majors keep separate state.
 */
const KEY = Symbol.for('posix-aio.v0');

/** The fields every copy of the package shares. */
export interface SharedState {
  /** The errno of the last failing call (C's `errno`). */
  errno: number;
  /** The same failure as an Error whose message names the field and the rule. */
  lastError: Error | null;
  /** The engine, created on first use by engine/queue.ts. */
  engine: unknown;
  /** Control block to the request it last carried (aiocb.ts): a block submitted through one copy is known to the other. */
  registry: WeakMap<object, unknown>;
}

type GlobalWithState = typeof globalThis & { [KEY]?: SharedState };

/** The shared state, created by whichever copy loads first. */
export const shared: SharedState = ((globalThis as GlobalWithState)[KEY] ??= {
  errno: 0,
  lastError: null,
  engine: null,
  registry: new WeakMap(),
});
