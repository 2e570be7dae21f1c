/**
 * What the POSIX calls share: the done hook that turns a completion into its
 * notification, the list-I/O group, and the submission of one read or write.
 */
import { attach, inProgress, type MutableRwSnapshot, offsetRule, readRw } from '../aiocb';
import { EAGAIN, EINVAL } from '../constants';
import { fail } from '../errors';
import type { Lane } from '../engine/lane';
import { engine } from '../engine/queue';
import { type Op, Request } from '../engine/request';
import { deliver, type Notifier } from '../sigevent';

/** What a POSIX request remembers besides its operation. */
export interface PosixOwner {
  readonly sig: Notifier | null;
  readonly group: ListGroup | null;
}

const SILENT: PosixOwner = Object.freeze({ sig: null, group: null });

/** A lio_listio call waiting for its entries. */
export class ListGroup {
  /** Entries not yet complete, plus one held by lio_listio until it has submitted them all. */
  remaining = 1;
  /** Entries that failed or were canceled. */
  failed = 0;
  readonly #onAll: (failed: number) => void;
  /** Whether the completion settles a Promise (LIO_WAIT): see Engine.defer. */
  readonly #settles: boolean;

  constructor(onAll: (failed: number) => void, settles = false) {
    this.#onAll = onAll;
    this.#settles = settles;
  }

  /** Counts one entry done; the last one schedules the group's completion after the entry's own notification. */
  entryDone(error: number): void {
    if (error !== 0) this.failed++;
    if (--this.remaining === 0) engine().defer(() => this.#onAll(this.failed), this.#settles);
  }
}

/** The done hook of every POSIX request: deliver its notification (never inside a library call), then count it in its list. */
export function posixDone(req: Request): void {
  const owner = req.owner as PosixOwner;
  const sig = owner.sig;
  if (sig !== null) engine().notify(() => deliver(sig));
  owner.group?.entryDone(req.error);
}

/** The owner record for a request: a shared empty one when there is nothing to remember. */
export function ownerFor(sig: Notifier | null, group: ListGroup | null): PosixOwner {
  return sig === null && group === null ? SILENT : { sig, group };
}

/** Where submitRw reads a control block: one object for every submission instead of one each (it is not kept). */
const SNAP: MutableRwSnapshot = { fd: -1, pos: 0, buf: null, len: 0, prio: 0, sig: null, invalid: null };

/**
 * Submits a read or write described by control block `cb`, as aio_read, aio_write
 * and lio_listio do.
 *
 * @returns 0 when the block was accepted (its request may still fail later, e.g.
 * with EBADF), -1 with errno set otherwise. Throws for wrong JS types.
 */
export function submitRw(cb: unknown, op: Op, syscall: string, name: string, group: ListGroup | null = null): number {
  // Copied out of SNAP at once: user code (a getter, a proxy trap) may call aio_read
  // again later in this function, and that call fills SNAP anew.
  const { fd, pos, buf, len, prio, sig, invalid } = readRw(cb, name, SNAP);
  SNAP.buf = SNAP.sig = null;
  const block = cb as object;
  if (invalid !== null) return fail(EINVAL, syscall, invalid);
  if (inProgress(block)) return fail(EINVAL, syscall, `"${name}" is still in progress: a control block carries one operation at a time`);
  const eng = engine();
  const lane: Lane | number = eng.laneFor(fd);
  if (typeof lane !== 'number') {
    const rule = offsetRule(pos, name, lane.seekable);
    if (rule !== null) return fail(EINVAL, syscall, rule);
  }
  if (!eng.hasRoom()) return fail(EAGAIN, syscall, `the outstanding-request limit (AIO_MAX = ${eng.maxOutstanding}) is reached; raise it with aio_init({ aio_max })`);
  const req = new Request(op, fd, pos, buf, null, len, prio, posixDone, ownerFor(sig, group));
  attach(block, req);
  if (group !== null) group.remaining++;
  // A descriptor that is not open is reported later, through aio_error (deferred EBADF, as glibc and LTP expect).
  if (typeof lane === 'number') eng.submitFailed(req, lane);
  else eng.submit(req, lane);
  return 0;
}
