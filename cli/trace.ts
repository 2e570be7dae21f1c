/**
 * `--trace FILE`: a Chrome trace-event JSON file (the format chrome://tracing and
 * https://ui.perfetto.dev open) built from the library's `posix-aio:*` diagnostics
 * channels.
 *
 * What the file holds (timestamps `ts` and durations `dur` in microseconds from the
 * start of the recording):
 *
 * - per request of the library (subscribed on `posix-aio:complete`, whose message
 *   carries enqueue, dispatch and completion times): a nestable async slice named
 *   after the op (`ph` "b"/"e", `cat` "request", `id` the request's id) from enqueue
 *   to completion, with two child slices, "queue wait" (enqueue → dispatch to the
 *   thread pool) and "service" (dispatch → completion); the end event's args carry
 *   `queue_wait_us`, `service_us`, `result` and `errno`. A request canceled or failed
 *   before dispatch has only the queue-wait child.
 * - per system call, a complete event (`ph` "X") on a "thread-pool slot N" track:
 *   which of the in-flight slots it occupied, for how long. Requests the engine merged
 *   into one readv/writev make one event ("readv (3 merged)", args.ids). The slots are
 *   assigned greedily in dispatch order, so the picture shows the pool's occupancy.
 * - counter events (`ph` "C") "engine" with `queued` and `inFlight`, sampled every 10 ms.
 * - for the raw baselines (fs.read, fs.promises), which publish nothing, one async
 *   slice per request as the caller saw it (cat "fs").
 *
 * Recording stops after {@link MAX_REQUESTS} requests; `otherData.dropped` says how
 * many were left out.
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Counters } from './lib';

/** Requests recorded at most (about 7 events each). */
export const MAX_REQUESTS = 100_000;

/** The fields of a `posix-aio:complete` message this recorder reads. */
interface TraceMessage {
  id: number;
  op: string;
  face: string;
  fd: number;
  position: number | bigint | null;
  nbytes: number;
  priority: number;
  enqueuedAt: number;
  dispatchedAt?: number;
  completedAt?: number;
  queueWait?: number;
  serviceTime?: number;
  /** Positive errno at completion (0 on success). */
  errno?: number;
  /** The failure: an Error (TracingChannel convention), or a positive errno in older drafts of the API. */
  error?: unknown;
  result?: number;
  merged?: number;
}

interface UserOp {
  op: string;
  start: number;
  end: number;
  result: number;
  error: string | null;
}

type TraceEvent = Record<string, unknown>;

const PID = 1;
const REQUEST_TID = 1;
const SLOT_TID = 100;

export class TraceRecorder {
  readonly #requests: TraceMessage[] = [];
  readonly #userOps: UserOp[] = [];
  readonly #samples: Array<[number, number, number]> = [];
  #dropped = 0;
  #t0 = 0;
  #timer: NodeJS.Timeout | null = null;
  #active = false;
  readonly #onComplete = (message: unknown): void => {
    if (this.#requests.length >= MAX_REQUESTS) {
      this.#dropped++;
      return;
    }
    this.#requests.push(message as TraceMessage);
  };

  /** Number of library requests recorded so far. */
  get requests(): number {
    return this.#requests.length;
  }

  /**
   * Subscribes to the channels (before any request is enqueued: the library builds a
   * request's trace context only when someone listens at that moment).
   *
   * @param sample - returns the engine's counters, for the counter track; null for none.
   */
  start(sample: (() => Counters) | null): void {
    this.#t0 = performance.now();
    subscribe('posix-aio:complete', this.#onComplete);
    this.#active = true;
    if (sample !== null) {
      const take = (): void => {
        const c = sample();
        this.#samples.push([performance.now(), c.queued, c.inFlight]);
      };
      take();
      this.#timer = setInterval(take, 10);
    }
  }

  /** Records one request as the caller saw it (raw baselines). */
  userOp(op: string, start: number, end: number, result: number, error: string | null): void {
    if (this.#userOps.length >= MAX_REQUESTS) {
      this.#dropped++;
      return;
    }
    this.#userOps.push({ op, start, end, result, error });
  }

  /** Unsubscribes and stops sampling. */
  stop(): void {
    if (!this.#active) return;
    this.#active = false;
    unsubscribe('posix-aio:complete', this.#onComplete);
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
  }

  #us(t: number): number {
    return Math.round((t - this.#t0) * 1e6) / 1000;
  }

  /** All the events, in a stable order: metadata, then per request, then counters. */
  *events(label: string): Generator<TraceEvent> {
    yield { name: 'process_name', ph: 'M', pid: PID, args: { name: `posix-aio bench: ${label}` } };
    yield { name: 'thread_name', ph: 'M', pid: PID, tid: REQUEST_TID, args: { name: 'requests' } };
    // Thread-pool slots: one per system call in flight, assigned greedily in dispatch order.
    const calls = this.#calls();
    const slotEnds: number[] = [];
    for (const call of calls) {
      let slot = slotEnds.findIndex((end) => end <= call.start);
      if (slot < 0) {
        slot = slotEnds.length;
        slotEnds.push(0);
      }
      slotEnds[slot] = call.end;
      call.slot = slot;
    }
    for (let i = 0; i < slotEnds.length; i++) {
      yield { name: 'thread_name', ph: 'M', pid: PID, tid: SLOT_TID + i, args: { name: `thread-pool slot ${i}` } };
      yield { name: 'thread_sort_index', ph: 'M', pid: PID, tid: SLOT_TID + i, args: { sort_index: SLOT_TID + i } };
    }
    for (const call of calls) {
      const first = call.members[0] as TraceMessage;
      const n = call.members.length;
      const ts = this.#us(call.start);
      yield {
        name: n > 1 ? `${first.op === 'read' ? 'readv' : 'writev'} (${n} merged)` : first.op,
        cat: 'thread-pool',
        ph: 'X',
        pid: PID,
        tid: SLOT_TID + call.slot,
        ts,
        dur: Math.max(0, this.#us(call.end) - ts),
        args: { ids: call.members.map((m) => m.id), fd: first.fd, nbytes: call.members.reduce((b, m) => b + m.nbytes, 0) },
      };
    }
    for (const r of this.#requests) {
      const enq = this.#us(r.enqueuedAt);
      const done = this.#us(r.completedAt ?? r.dispatchedAt ?? r.enqueuedAt);
      const disp = r.dispatchedAt === undefined ? null : this.#us(r.dispatchedAt);
      const id = String(r.id);
      const common = { cat: 'request', id, pid: PID, tid: REQUEST_TID };
      yield {
        ...common,
        name: r.op,
        ph: 'b',
        ts: enq,
        args: { id: r.id, face: r.face, fd: r.fd, position: r.position === null ? null : String(r.position), nbytes: r.nbytes, priority: r.priority },
      };
      yield { ...common, name: 'queue wait', ph: 'b', ts: enq };
      yield { ...common, name: 'queue wait', ph: 'e', ts: disp ?? done };
      if (disp !== null) {
        yield { ...common, name: 'service', ph: 'b', ts: disp };
        yield { ...common, name: 'service', ph: 'e', ts: done };
      }
      const queueWait = r.queueWait ?? (r.dispatchedAt ?? r.completedAt ?? r.enqueuedAt) - r.enqueuedAt;
      const end: Record<string, unknown> = {
        queue_wait_us: Math.round(queueWait * 1e6) / 1000,
        service_us: r.serviceTime === undefined ? null : Math.round(r.serviceTime * 1e6) / 1000,
        result: r.result ?? null,
        errno: r.errno ?? (typeof r.error === 'number' ? r.error : null),
      };
      if (r.merged !== undefined) end['merged'] = r.merged;
      yield { ...common, name: r.op, ph: 'e', ts: done, args: end };
    }
    let n = 0;
    for (const u of this.#userOps) {
      const id = `fs${n++}`;
      const common = { cat: 'fs', id, pid: PID, tid: REQUEST_TID };
      yield { ...common, name: u.op, ph: 'b', ts: this.#us(u.start) };
      yield { ...common, name: u.op, ph: 'e', ts: this.#us(u.end), args: { latency_us: Math.round((u.end - u.start) * 1e6) / 1000, result: u.result, error: u.error } };
    }
    for (const [t, queued, inFlight] of this.#samples) {
      yield { name: 'engine', ph: 'C', pid: PID, ts: this.#us(t), args: { queued, inFlight } };
    }
  }

  /**
   * The system calls the recorded requests made, in dispatch order. Requests the
   * engine merged into one readv/writev (same descriptor and op, contiguous byte
   * ranges, dispatched one after another, each marked with the group's size in
   * `merged`) form one call. (No time window: a preempted process can take
   * milliseconds between two members' dispatch stamps.)
   */
  #calls(): Array<{ members: TraceMessage[]; start: number; end: number; slot: number }> {
    const dispatched = this.#requests.filter((r) => r.dispatchedAt !== undefined && r.completedAt !== undefined);
    dispatched.sort((a, b) => (a.dispatchedAt as number) - (b.dispatchedAt as number) || Number(a.position ?? 0) - Number(b.position ?? 0));
    const calls: Array<{ members: TraceMessage[]; start: number; end: number; slot: number }> = [];
    let cur: { members: TraceMessage[]; start: number; end: number; slot: number } | null = null;
    for (const r of dispatched) {
      const last = cur?.members[cur.members.length - 1];
      const joins =
        cur !== null &&
        last !== undefined &&
        (last.merged ?? 1) > 1 &&
        cur.members.length < (last.merged ?? 1) &&
        r.merged === last.merged &&
        r.fd === last.fd &&
        r.op === last.op &&
        r.position !== null &&
        last.position !== null &&
        Number(r.position) === Number(last.position) + last.nbytes;
      if (joins && cur !== null) {
        cur.members.push(r);
        cur.end = Math.max(cur.end, r.completedAt as number);
      } else {
        cur = { members: [r], start: r.dispatchedAt as number, end: r.completedAt as number, slot: 0 };
        calls.push(cur);
      }
    }
    return calls;
  }

  /** Writes the trace to `file` (streamed in chunks: traces can be large). */
  write(file: string, label: string, otherData: Record<string, unknown>): void {
    this.stop();
    const fd = fs.openSync(file, 'w');
    try {
      fs.writeSync(fd, '{"displayTimeUnit":"ms","otherData":');
      fs.writeSync(fd, JSON.stringify({ ...otherData, requests: this.#requests.length + this.#userOps.length, dropped: this.#dropped }));
      fs.writeSync(fd, ',\n"traceEvents":[\n');
      let chunk: string[] = [];
      let first = true;
      for (const e of this.events(label)) {
        chunk.push((first ? '' : ',\n') + JSON.stringify(e));
        first = false;
        if (chunk.length >= 4096) {
          fs.writeSync(fd, chunk.join(''));
          chunk = [];
        }
      }
      chunk.push('\n]}\n');
      fs.writeSync(fd, chunk.join(''));
    } finally {
      fs.closeSync(fd);
    }
  }
}
