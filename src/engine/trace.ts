/**
 * Tracing through Node's `diagnostics_channel`, published only when someone listens.
 *
 * Plain channels, one event per stage of a request's life:
 * `posix-aio:enqueue` (accepted), `posix-aio:dispatch` (handed to the thread pool),
 * `posix-aio:cancel` (canceled while queued), `posix-aio:complete` (status final,
 * whether it succeeded, failed or was canceled). Each event's message is the
 * request's {@link TraceContext}: one object per request, the same at every stage, so
 * a subscriber can correlate stages by identity or by `id`.
 *
 * One `TracingChannel` per operation (`posix-aio:read`, `posix-aio:write`,
 * `posix-aio:fsync`, `posix-aio:fdatasync`), following undici's model: `start` and
 * `end` bracket the enqueueing, `error` (failures only), `asyncStart` and `asyncEnd`
 * bracket the completion's report to the face.
 *
 * A request gets a context only if someone subscribed to one of these channels before
 * it was enqueued; otherwise tracing costs one check per request and nothing more.
 * Times are `performance.now()` milliseconds.
 *
 * `NODE_DEBUG=posix-aio` logs the same stages to stderr, one line each, through
 * `util.debuglog` (read once, at load, as Node does).
 */
import { channel, tracingChannel } from 'node:diagnostics_channel';
import { debuglog } from 'node:util';
import { AioError } from '../errors';
import { type Face, OP_NAMES, OP_WRITE, type Request } from './request';

/** What a subscriber receives: one request's story so far. */
export interface TraceContext {
  /** The request's submission number (unique in the process). */
  readonly id: number;
  /** The operation: 'read', 'write' (also for readv and writev), 'fsync' or 'fdatasync'. */
  readonly op: (typeof OP_NAMES)[number];
  /** The face that submitted it: 'posix', 'nng' or 'promise'. */
  readonly face: Face;
  /** The file descriptor. */
  readonly fd: number;
  /** The position as submitted: null for the current file position (Promise face) and for fsync. */
  readonly position: number | bigint | null;
  /** Bytes requested (0 for fsync). */
  readonly nbytes: number;
  /** 0 is the most urgent. */
  readonly priority: number;
  /** When it was accepted. */
  readonly enqueuedAt: number;
  /** When it was handed to the thread pool (absent if it never was). */
  dispatchedAt?: number;
  /** When its status became final. */
  completedAt?: number;
  /** dispatchedAt - enqueuedAt. */
  queueWait?: number;
  /** completedAt - dispatchedAt. */
  serviceTime?: number;
  /** Positive errno, 0 on success; set at completion. */
  errno?: number;
  /** Bytes transferred, or -1 on failure; set at completion. */
  result?: number;
  /** On failure only: the error, as TracingChannel's `error` event expects. */
  error?: Error;
  /** How many requests (this one included) shared its system call, when it was merged. */
  merged?: number;
}

/** The plain channels, by stage. */
export const channels = Object.freeze({
  enqueue: channel('posix-aio:enqueue'),
  dispatch: channel('posix-aio:dispatch'),
  cancel: channel('posix-aio:cancel'),
  complete: channel('posix-aio:complete'),
});

/** The tracing channels, indexed by op code. */
const opChannels = OP_NAMES.map((name) => tracingChannel<unknown, TraceContext>(`posix-aio:${name}`));

const debug = debuglog('posix-aio');
/** Fixed at load: whether NODE_DEBUG names this package. */
const debugging = debug.enabled;

function log(stage: string, ctx: TraceContext): void {
  const pos = ctx.position === null ? '' : ` at ${String(ctx.position)}`;
  let tail = '';
  if (ctx.queueWait !== undefined && stage === 'dispatch') tail = ` after ${ctx.queueWait.toFixed(3)} ms queued`;
  if (stage === 'complete') {
    tail = ` -> ${ctx.errno === 0 ? `${String(ctx.result)} bytes` : (ctx.error?.message ?? String(ctx.errno))}`;
    if (ctx.serviceTime !== undefined) tail += ` in ${ctx.serviceTime.toFixed(3)} ms`;
  }
  debug('%s #%d %s fd %d%s, %d bytes, prio %d (%s)%s', stage, ctx.id, ctx.op, ctx.fd, pos, ctx.nbytes, ctx.priority, ctx.face, tail);
}

/** Whether anyone listens to any of the channels (or NODE_DEBUG asks for the log). */
export function tracing(): boolean {
  if (
    debugging ||
    channels.enqueue.hasSubscribers ||
    channels.dispatch.hasSubscribers ||
    channels.cancel.hasSubscribers ||
    channels.complete.hasSubscribers
  ) {
    return true;
  }
  for (const tc of opChannels) if ((tc as unknown as { hasSubscribers: boolean }).hasSubscribers) return true;
  return false;
}

/** Starts `req`'s trace if anyone listens: called once, when the engine accepts it. */
export function traceEnqueue(req: Request): void {
  if (!tracing()) return;
  const ctx: TraceContext = {
    id: req.seq,
    op: OP_NAMES[req.op],
    face: req.face,
    fd: req.fd,
    position: req.op <= OP_WRITE ? req.pos : null,
    nbytes: req.len,
    priority: req.prio,
    enqueuedAt: performance.now(),
  };
  req.trace = ctx;
  const tc = opChannels[req.op];
  if (debugging) log('enqueue', ctx);
  channels.enqueue.publish(ctx);
  tc?.start.publish(ctx);
  tc?.end.publish(ctx);
}

/** Records that `req` was handed to the thread pool. */
export function traceDispatch(ctx: TraceContext): void {
  ctx.dispatchedAt = performance.now();
  ctx.queueWait = ctx.dispatchedAt - ctx.enqueuedAt;
  if (debugging) log('dispatch', ctx);
  channels.dispatch.publish(ctx);
}

/** Records that `req` was canceled while queued (its completion follows). */
export function traceCancel(ctx: TraceContext): void {
  if (debugging) log('cancel', ctx);
  channels.cancel.publish(ctx);
}

/** Records `req`'s final status, then runs `report` (the face's done hook) inside asyncStart/asyncEnd. */
export function traceComplete(req: Request, ctx: TraceContext, report: (req: Request) => void): void {
  ctx.completedAt = performance.now();
  if (ctx.dispatchedAt !== undefined) ctx.serviceTime = ctx.completedAt - ctx.dispatchedAt;
  ctx.errno = req.error;
  ctx.result = req.value;
  const tc = opChannels[req.op];
  if (req.error !== 0) {
    ctx.error = new AioError(req.error, ctx.op);
    tc?.error.publish(ctx);
  }
  if (debugging) log('complete', ctx);
  channels.complete.publish(ctx);
  tc?.asyncStart.publish(ctx);
  try {
    report(req);
  } finally {
    tc?.asyncEnd.publish(ctx);
  }
}
