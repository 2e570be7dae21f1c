/**
 * A lane is the engine's per-descriptor state while the descriptor has outstanding
 * requests: its classification, and the list of those requests in submission order.
 * A lane exists from the first accepted request on a descriptor until the last one
 * completes; the next burst classifies the descriptor afresh, so a closed and reused
 * descriptor number is never judged by the previous file's facts.
 */
import type { FdFacts } from './fdinfo';
import { OP_WRITE, type Request } from './request';

export class Lane {
  readonly fd: number;
  readonly dev: number;
  readonly ino: number;
  /** False for pipes, sockets, terminals and other character devices: positions are ignored and all I/O is ordered. */
  readonly seekable: boolean;
  /** Whether writes land at the end whatever their position (O_APPEND, or flags unknown). Read lazily on the first write. */
  appends: boolean | undefined = undefined;

  /** Oldest outstanding request. */
  head: Request | null = null;
  /** Newest outstanding request. */
  tail: Request | null = null;
  /** Outstanding requests (queued or in flight). */
  count = 0;
  /** Outstanding writes: reads need not look for hazards when there are none. */
  writes = 0;
  /** Outstanding requests in the thread pool. */
  inFlight = 0;
  /** Outstanding barriers (fsync, fdatasync), oldest first. */
  readonly barriers: Request[] = [];
  /**
   * Ready positional requests by op (read 0, write 1), indexed by first byte and by
   * the byte after their last, so that dispatch finds adjacent ones in O(1) to merge.
   * Created on first use. When two ready requests start (or end) at the same byte,
   * only the first is indexed: the other simply is not merged.
   */
  byStart: [Map<number, Request>, Map<number, Request>] | null = null;
  byEnd: [Map<number, Request>, Map<number, Request>] | null = null;
  /** Engine epoch at which the descriptor's identity was last confirmed. */
  verifiedEpoch = -1;
  /** Set by aio_close: new requests on this descriptor fail as on a closed one. */
  closing = false;
  /** Set by aio_close while it waits for in-flight requests: called when the lane empties. */
  onDrain: (() => void) | null = null;

  constructor(fd: number, facts: FdFacts) {
    this.fd = fd;
    this.dev = facts.dev;
    this.ino = facts.ino;
    this.seekable = facts.seekable;
  }

  /**
   * Whether the descriptor still names the file this lane was classified for, given
   * a fresh fstat (or the errno it failed with): false once the number was closed,
   * or closed and reused for another file.
   */
  names(facts: FdFacts | number): boolean {
    return typeof facts !== 'number' && facts.dev === this.dev && facts.ino === this.ino;
  }

  /** Appends `req` to the outstanding list. */
  add(req: Request): void {
    req.lane = this;
    req.lanePrev = this.tail;
    req.laneNext = null;
    if (this.tail === null) this.head = req;
    else this.tail.laneNext = req;
    this.tail = req;
    this.count++;
    if (req.op === OP_WRITE) this.writes++;
    if (req.isBarrier) this.barriers.push(req);
  }

  /** Lists a ready mergeable request in the merge index. */
  index(req: Request): void {
    const start = req.pos as number;
    const op = req.op as 0 | 1;
    const byStart = (this.byStart ??= [new Map(), new Map()])[op];
    const byEnd = (this.byEnd ??= [new Map(), new Map()])[op];
    if (byStart.has(start) || byEnd.has(start + req.len)) return;
    byStart.set(start, req);
    byEnd.set(start + req.len, req);
    req.indexed = true;
  }

  /** Takes `req` out of the merge index (it is being dispatched or canceled). */
  unindex(req: Request): void {
    req.indexed = false;
    const start = req.pos as number;
    const op = req.op as 0 | 1;
    (this.byStart as [Map<number, Request>, Map<number, Request>])[op].delete(start);
    (this.byEnd as [Map<number, Request>, Map<number, Request>])[op].delete(start + req.len);
  }

  /** The indexed ready request of `op` that starts at `at`, if any. */
  startingAt(op: number, at: number): Request | undefined {
    return this.byStart?.[op as 0 | 1].get(at);
  }

  /** The indexed ready request of `op` that ends just before `at`, if any. */
  endingAt(op: number, at: number): Request | undefined {
    return this.byEnd?.[op as 0 | 1].get(at);
  }

  /** Removes `req` from the outstanding list. */
  remove(req: Request): void {
    const { lanePrev: prev, laneNext: next } = req;
    if (prev === null) this.head = next;
    else prev.laneNext = next;
    if (next === null) this.tail = prev;
    else next.lanePrev = prev;
    req.lanePrev = req.laneNext = null;
    req.lane = null;
    this.count--;
    if (req.op === OP_WRITE) this.writes--;
    if (req.isBarrier) this.barriers.splice(this.barriers.indexOf(req), 1);
  }
}
