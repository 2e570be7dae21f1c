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
