import { BLOCKED, DONE, IN_FLIGHT, OP_FDATASYNC, OP_FSYNC, OP_READ, OP_WRITE, READY, Request } from '../../../src/engine/request';
import type { TraceContext } from '../../../src/engine/trace';

const noop = (): void => {};

describe('Request: packed fields', () => {
  test('op, prio, state and face read back what was set, independently of each other and of the booleans', () => {
    for (const op of [OP_READ, OP_WRITE, OP_FSYNC, OP_FDATASYNC] as const) {
      for (const prio of [0, 1, 20, 131071]) {
        const r = new Request(op, 3, 0, null, null, 0, prio, noop, null);
        expect([r.op, r.prio, r.state, r.face]).toEqual([op, prio, BLOCKED, 'posix']);
        r.gated = r.whole = r.retrieved = r.halted = r.indexed = r.mergeable = true;
        for (const state of [READY, IN_FLIGHT, DONE, BLOCKED] as const) {
          for (const face of ['nng', 'promise', 'posix'] as const) {
            r.state = state;
            r.face = face;
            expect([r.op, r.prio, r.state, r.face, r.gated, r.whole, r.retrieved, r.halted, r.indexed, r.mergeable]).toEqual([op, prio, state, face, true, true, true, true, true, true]);
            expect(r.pending).toBe(state !== DONE);
            expect(r.isBarrier).toBe(op >= OP_FSYNC);
          }
        }
        r.gated = false;
        expect([r.op, r.prio, r.state, r.gated, r.whole]).toEqual([op, prio, BLOCKED, false, true]);
      }
    }
  });

  test('a priority outside 0..131071 or fractional is refused, naming the field and the rule', () => {
    for (const prio of [-1, 131072, 1.5, Number.NaN]) {
      expect(() => new Request(OP_READ, 3, 0, null, null, 0, prio, noop, null)).toThrow(/prio must be an integer >= 0 && <= 131071/);
    }
  });

  test('buf and iov share one field: each reads back as given, the other as null; both at once is refused', () => {
    const b = new Uint8Array(4);
    const iov = [new Uint8Array(2), new Uint8Array(3)];
    const single = new Request(OP_READ, 3, 0, b, null, 4, 0, noop, null);
    expect([single.buf, single.iov]).toEqual([b, null]);
    expect(single.buf).toBe(b);
    const vectored = new Request(OP_WRITE, 3, 0, null, iov, 5, 0, noop, null);
    expect(vectored.buf).toBeNull();
    expect(vectored.iov).toBe(iov);
    const none = new Request(OP_FSYNC, 3, 0, null, null, 0, 0, noop, null);
    expect([none.buf, none.iov]).toEqual([null, null]);
    expect(() => new Request(OP_WRITE, 3, 0, b, iov, 4, 0, noop, null)).toThrow(/buf and iov cannot both be given/);
  });

  test('blockers, heap place and result share one number: blockers read 0 unless BLOCKED, error and value 0 until DONE', () => {
    const r = new Request(OP_READ, 3, 0, null, null, 8, 0, noop, null);
    expect([r.blockers, r.error, r.value]).toEqual([0, 0, 0]);
    r.blockers = 3;
    expect([r.blockers, r.error, r.value]).toEqual([3, 0, 0]);
    r.state = READY;
    r.heapIndex = -5;
    expect([r.blockers, r.heapIndex, r.error, r.value]).toEqual([0, -5, 0, 0]);
    r.state = IN_FLIGHT;
    r.heapIndex = -1;
    expect([r.blockers, r.error, r.value]).toEqual([0, 0, 0]);
    r.state = DONE;
    r.settle(0, 8);
    expect([r.blockers, r.error, r.value]).toEqual([0, 0, 8]);
    r.settle(5, -1);
    expect([r.blockers, r.error, r.value]).toEqual([0, 5, -1]);
  });

  test('coveredError reads 0 on a read or write, partial reads 0 on a barrier', () => {
    const w = new Request(OP_WRITE, 3, 0, new Uint8Array(8), null, 8, 0, noop, null);
    w.partial = 5;
    expect([w.partial, w.coveredError]).toEqual([5, 0]);
    const b = new Request(OP_FDATASYNC, 3, 0, null, null, 0, 0, noop, null);
    b.coveredError = 5;
    expect([b.coveredError, b.partial]).toEqual([5, 0]);
  });

  test('partial and coveredError live in the extra record: zero allocates nothing, and they keep a lone waiter, a trace and dependents', () => {
    const w = new Request(OP_WRITE, 3, 0, new Uint8Array(8), null, 8, 0, noop, null);
    w.partial = 0;
    expect(w.extra).toBeNull();
    const wake = (): void => {};
    w.waiters = wake;
    w.partial = 3;
    expect([w.partial, w.waiters, w.trace, w.dependents]).toEqual([3, wake, null, null]);
    const later = new Request(OP_READ, 3, 0, null, null, 0, 0, noop, null);
    w.addDependent(later);
    const ctx = { id: 4 } as unknown as TraceContext;
    w.trace = ctx;
    w.partial = 7;
    w.waiters = null;
    expect([w.partial, w.waiters, w.trace, w.dependents]).toEqual([7, null, ctx, [later]]);
    const b = new Request(OP_FSYNC, 3, 0, null, null, 0, 0, noop, null);
    b.coveredError = 0;
    expect([b.extra, b.coveredError]).toEqual([null, 0]);
    b.waiters = wake;
    b.coveredError = 9;
    expect([b.coveredError, b.partial, b.waiters]).toEqual([9, 0, wake]);
  });

  test('trace and waiters share a record made on first use; setting one keeps the other', () => {
    const r = new Request(OP_READ, 3, 0, null, null, 0, 0, noop, null);
    expect([r.trace, r.waiters, r.extra]).toEqual([null, null, null]);
    r.waiters = null;
    r.trace = null;
    expect(r.extra).toBeNull(); // nulls allocate nothing
    const ctx = { id: 1 } as unknown as TraceContext;
    const wake = (): void => {};
    r.waiters = wake;
    expect(r.waiters).toBe(wake);
    expect(r.extra).toBe(wake); // a lone waiter needs no record
    r.trace = ctx;
    expect(r.trace).toBe(ctx);
    expect(r.waiters).toBe(wake);
    r.waiters = null;
    expect([r.trace, r.waiters]).toEqual([ctx, null]);
  });

  test('several waiters, or waiters and a trace, live in the record; a lone waiter replaced by a list keeps neither lost', () => {
    const r = new Request(OP_READ, 3, 0, null, null, 0, 0, noop, null);
    const a = (): void => {};
    const b = (): void => {};
    r.waiters = a;
    r.waiters = [a, b];
    expect(r.waiters).toEqual([a, b]);
    expect(r.trace).toBeNull();
    r.waiters = null;
    expect([r.trace, r.waiters]).toEqual([null, null]);
    const s = new Request(OP_READ, 3, 0, null, null, 0, 0, noop, null);
    const ctx = { id: 2 } as unknown as TraceContext;
    s.waiters = a;
    s.trace = ctx;
    expect([s.trace, s.waiters]).toEqual([ctx, a]);
    s.trace = null;
    expect([s.trace, s.waiters]).toEqual([null, a]);
  });

  test('dependents live in the same record, made on the first one: a lone waiter, a trace and the dependents keep one another', () => {
    const r = new Request(OP_READ, 3, 0, null, null, 0, 0, noop, null);
    const later = [1, 2, 3].map(() => new Request(OP_WRITE, 3, 0, null, null, 0, 0, noop, null));
    expect(r.dependents).toBeNull();
    r.dependents = null;
    expect(r.extra).toBeNull(); // nulls allocate nothing
    const wake = (): void => {};
    r.waiters = wake;
    r.addDependent(later[0] as Request);
    expect([r.waiters, r.trace, r.dependents]).toEqual([wake, null, [later[0]]]);
    r.addDependent(later[1] as Request);
    const ctx = { id: 3 } as unknown as TraceContext;
    r.trace = ctx;
    r.waiters = null;
    expect([r.waiters, r.trace, r.dependents]).toEqual([null, ctx, [later[0], later[1]]]);
    r.dependents = null;
    expect([r.waiters, r.trace, r.dependents]).toEqual([null, ctx, null]);
    r.addDependent(later[2] as Request);
    expect(r.dependents).toEqual([later[2]]);
    const s = new Request(OP_READ, 3, 0, null, null, 0, 0, noop, null);
    s.dependents = [later[0] as Request];
    expect([s.waiters, s.trace, s.dependents]).toEqual([null, null, [later[0]]]);
  });
});
