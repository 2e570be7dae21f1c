import { attach, inProgress, offsetRule, readBlockSigevent, readRw, type Aiocb } from '../aiocb';
import { EAGAIN, EINVAL, EIO, LIO_NOP, LIO_NOWAIT, LIO_READ, LIO_WAIT, LIO_WRITE } from '../constants';
import { fail, failLater, invalidArgType, rangeRule } from '../errors';
import { engine } from '../engine/queue';
import { OP_READ, OP_WRITE, Request } from '../engine/request';
import type { SigEvent } from '../aiocb';
import { deliver, type Notifier, readSigevent } from '../sigevent';
import { readElement, readField } from '../validate';
import { ListGroup, ownerFor, posixDone } from './submit';

interface Entry {
  readonly block: object;
  readonly index: number;
  /** null for LIO_NOP entries (skipped). */
  readonly op: typeof OP_READ | typeof OP_WRITE | null;
  readonly snap: ReturnType<typeof readRw> | null;
  /** The entry's own notification. */
  readonly sig: Notifier | null;
  /** The EINVAL rule the entry breaks, decided before anything is queued. */
  readonly invalid: string | null;
}

/**
 * lio_listio(3): submits a list of reads and writes in one call.
 *
 * With `LIO_WAIT` it returns a Promise that resolves when every submitted entry has
 * completed (and its own notification has run): 0 when all succeeded, -1 with errno
 * otherwise. With `LIO_NOWAIT` it returns a number at once and notifies through
 * `sig` after the last entry's own notification.
 *
 * @returns LIO_NOWAIT: 0 when every entry was queued; -1 with errno otherwise (some
 * entries may have been queued: check each with aio_error). LIO_WAIT: a Promise of 0
 * or -1. An invalid `mode` returns the number -1 (EINVAL).
 *
 * Errors:
 * - `EINVAL`: `mode` is neither LIO_WAIT nor LIO_NOWAIT; `nent` is negative, larger
 *   than the list or than AIO_LISTIO_MAX; `sig` is invalid (LIO_NOWAIT). Nothing is
 *   queued.
 * - `EAGAIN`: entries beyond the outstanding limit were not queued (their aio_error is
 *   EAGAIN); the entries that fit were. With LIO_WAIT, reported once the rest complete.
 * - `EIO`: LIO_NOWAIT: an entry broke a field rule (bad aio_lio_opcode, aio_reqprio,
 *   offset or sigevent) and failed on its own with aio_error EINVAL, while the rest
 *   were queued. LIO_WAIT: an entry failed, was canceled or was refused.
 *
 * Throws TypeError (in both modes, before anything is queued) when `list` is not an
 * array or an entry has a field of the wrong JS type.
 *
 * Notes: array order is submission order. null and LIO_NOP entries are skipped.
 * Every submitted entry gets its own notification, in both modes (glibc since 2.4).
 * `sig` is ignored with LIO_WAIT. An empty LIO_NOWAIT list notifies on the next turn.
 * An entry whose descriptor is not open is accepted and fails with EBADF through
 * aio_error (LTP lio_listio/14-1). An entry whose block is already in progress (or
 * listed twice) is refused without touching that block, and counts as failed.
 *
 * @example
 * const list = [readCb, writeCb];
 * if ((await lio_listio(LIO_WAIT, list, list.length)) === -1) console.error(lastError());
 */
export function lio_listio(mode: typeof LIO_WAIT, list: ReadonlyArray<Aiocb | null | undefined>, nent: number, sig?: SigEvent | null): Promise<number>;
export function lio_listio(mode: typeof LIO_NOWAIT, list: ReadonlyArray<Aiocb | null | undefined>, nent: number, sig?: SigEvent | null): number;
export function lio_listio(mode: number, list: ReadonlyArray<Aiocb | null | undefined>, nent: number, sig?: SigEvent | null): number | Promise<number>;
export function lio_listio(mode: number, list: ReadonlyArray<Aiocb | null | undefined>, nent: number, sig?: SigEvent | null): number | Promise<number> {
  if (typeof mode !== 'number') throw invalidArgType('mode', 'of type number', mode);
  if (mode !== LIO_WAIT && mode !== LIO_NOWAIT) return fail(EINVAL, 'lio_listio', rangeRule('mode', `LIO_WAIT (${LIO_WAIT}) or LIO_NOWAIT (${LIO_NOWAIT})`, mode));
  const wait = mode === LIO_WAIT;
  const early = (code: number, why: string): number | Promise<number> => (wait ? failLater(code, 'lio_listio', why) : fail(code, 'lio_listio', why));
  if (!Array.isArray(list)) throw invalidArgType('list', 'an instance of Array', list);
  if (typeof nent !== 'number') throw invalidArgType('nent', 'of type number', nent);
  const eng = engine();
  if (!Number.isInteger(nent) || nent < 0 || nent > list.length) return early(EINVAL, rangeRule('nent', `an integer >= 0 && <= ${list.length} (the length of list)`, nent));
  if (nent > eng.listioMax) return early(EINVAL, rangeRule('nent', `<= AIO_LISTIO_MAX (${eng.listioMax})`, nent));

  // Read every entry first: a wrong JS type anywhere throws before anything is queued.
  const entries: Entry[] = [];
  for (let i = 0; i < nent; i++) {
    const block: unknown = readElement(list, i, 'list');
    if (block === null || block === undefined) continue;
    const name = `list[${i}]`;
    if (typeof block !== 'object') throw invalidArgType(name, 'an aiocb object or null', block);
    const opcode = readField(block as Record<string, unknown>, 'aio_lio_opcode', name);
    if (opcode !== undefined && typeof opcode !== 'number') throw invalidArgType(`${name}.aio_lio_opcode`, 'of type number', opcode);
    if (opcode === LIO_NOP || opcode === undefined) continue;
    if (opcode !== LIO_READ && opcode !== LIO_WRITE) {
      // It fails on its own, and is notified like any other entry.
      const sev = readBlockSigevent(block as Record<string, unknown>, name);
      entries.push({
        block,
        index: i,
        op: null,
        snap: null,
        sig: typeof sev === 'string' ? null : sev,
        invalid: rangeRule(`${name}.aio_lio_opcode`, 'LIO_READ, LIO_WRITE or LIO_NOP', opcode),
      });
      continue;
    }
    const snap = readRw(block, name);
    entries.push({ block, index: i, op: opcode === LIO_READ ? OP_READ : OP_WRITE, snap, sig: snap.sig, invalid: snap.invalid });
  }
  let listSig: Notifier | null = null;
  if (!wait) {
    const s = readSigevent(sig, 'sig');
    if (typeof s === 'string') return early(EINVAL, s);
    listSig = s;
  }

  let refused = 0;
  let invalid = 0;
  let overLimit = 0;
  let resolveWait: ((failed: number) => void) | null = null;
  const done = wait
    ? new Promise<number>((resolve) => {
        resolveWait = (failed) => {
          if (overLimit > 0) resolve(fail(EAGAIN, 'lio_listio', `${overLimit} entries were not queued: the outstanding-request limit (AIO_MAX = ${eng.maxOutstanding}) was reached`));
          else if (failed + refused > 0) resolve(fail(EIO, 'lio_listio', `${failed + refused} of the listed operations failed or were canceled; check each with aio_error`));
          else resolve(0);
        };
      })
    : null;
  const group = new ListGroup((failed) => {
    if (resolveWait !== null) resolveWait(failed);
    else if (listSig !== null) deliver(listSig);
  }, wait);

  const seen = new Set<object>();
  for (const e of entries) {
    const name = `list[${e.index}]`;
    if (seen.has(e.block) || inProgress(e.block)) {
      refused++;
      continue;
    }
    seen.add(e.block);
    const op = e.op ?? OP_READ;
    const snap = e.snap;
    const sigOf = e.sig;
    const make = (): Request =>
      new Request(op, snap?.fd ?? -1, snap?.pos ?? 0, snap?.buf ?? null, null, snap?.len ?? 0, snap?.prio ?? 0, posixDone, ownerFor(sigOf, group));
    let rule = e.invalid;
    const lane = snap === null || rule !== null ? null : eng.laneFor(snap.fd);
    if (rule === null && snap !== null && lane !== null && typeof lane !== 'number') rule = offsetRule(snap.pos, name, lane.seekable);
    const req = make();
    attach(e.block, req);
    group.remaining++;
    if (rule !== null) {
      invalid++;
      eng.submitFailed(req, EINVAL);
    } else if (!eng.hasRoom()) {
      overLimit++;
      eng.submitFailed(req, EAGAIN);
    } else if (typeof lane === 'number' || lane === null) {
      eng.submitFailed(req, typeof lane === 'number' ? lane : EINVAL);
    } else {
      eng.submit(req, lane);
    }
  }
  // Release the hold: when every entry is already done (or there were none), the
  // group completes on a later turn, after the entries' own notifications.
  group.entryDone(0);

  if (done !== null) return done;
  if (overLimit > 0) return fail(EAGAIN, 'lio_listio', `${overLimit} entries were not queued: the outstanding-request limit (AIO_MAX = ${eng.maxOutstanding}) was reached; their aio_error is EAGAIN`);
  if (invalid + refused > 0) return fail(EIO, 'lio_listio', `${invalid + refused} entries were refused (their aio_error is EINVAL, or their block was already in progress); the others were queued`);
  return 0;
}
