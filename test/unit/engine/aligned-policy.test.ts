/**
 * The adaptive bounce policy of src/engine/aligned.ts (BouncePolicy), on fake timings:
 * every read's duration is made up from a rate per path, so nothing here depends on
 * the machine's speed.
 */
import {
  BOUNCE_MARGIN,
  BouncePolicy,
  CLEAN,
  MAX_CLASSES,
  MAX_REPROBE_EVERY,
  PHASE_READS,
  PROBE,
  PROBE_SAMPLES,
  REPROBE_EVERY,
  SETTLE_READS,
  VIA_SLOT,
  type BounceClass,
} from '../../../src/engine/aligned';

const MiB = 1 << 20;

/** Rates in bytes per ms for each path; a function so a test can change them midway. */
interface Rates {
  direct: number;
  bounced: number;
}

/**
 * `n` sequential full 1 MiB reads of class `c`, each finished before the next is chosen,
 * taking MiB / rate ms on the path chosen. Returns how many went through a slot.
 */
function drive(policy: BouncePolicy, c: BounceClass, rates: Rates, n: number): number {
  let viaSlot = 0;
  for (let i = 0; i < n; i++) {
    const how = policy.choose(c);
    const bounced = (how & VIA_SLOT) !== 0;
    if (bounced) viaSlot++;
    policy.finish(c, how, MiB, MiB / (bounced ? rates.bounced : rates.direct));
  }
  return viaSlot;
}

/** Reads until `c` has decided (at most `limit`), returning how many it took. */
function untilDecided(policy: BouncePolicy, c: BounceClass, rates: Rates, limit = 1000): number {
  let reads = 0;
  while (!(c.decided && !c.probing) && reads < limit) reads += (drive(policy, c, rates, 1), 1);
  return reads;
}

describe('BouncePolicy: the decision', () => {
  test('picks the slot when bounced reads are faster (the 4K-aliasing case)', () => {
    const policy = new BouncePolicy();
    const c = policy.classOf(new Uint8Array(2 * MiB).subarray(16), 0);
    const took = untilDecided(policy, c, { direct: 4000, bounced: 12000 });
    expect(c.decided).toBe(true);
    expect(c.bounced).toBe(true);
    // Both paths were sampled, in phases: at most a few phases' worth of reads.
    expect(took).toBeGreaterThanOrEqual(2 * PROBE_SAMPLES);
    expect(took).toBeLessThanOrEqual(4 * PHASE_READS + 1);
    // Then every read goes through a slot until the next probe.
    expect(drive(policy, c, { direct: 4000, bounced: 12000 }, REPROBE_EVERY - 1)).toBe(REPROBE_EVERY - 1);
    expect(policy.lastBounced).toBe(true);
  });

  test('picks direct reads when they are faster (a destination that copies fast)', () => {
    const policy = new BouncePolicy();
    const c = policy.classOf(Buffer.alloc(MiB), 0);
    untilDecided(policy, c, { direct: 17000, bounced: 11000 });
    expect(c).toMatchObject({ decided: true, bounced: false });
    expect(drive(policy, c, { direct: 17000, bounced: 11000 }, REPROBE_EVERY - 1)).toBe(0);
    expect(policy.lastBounced).toBe(false);
  });

  test('keeps direct reads unless bouncing beats them by the margin', () => {
    const policy = new BouncePolicy();
    const c = policy.classOf(Buffer.alloc(MiB), 0);
    untilDecided(policy, c, { direct: 10000, bounced: 10000 * BOUNCE_MARGIN * 0.95 });
    expect(c).toMatchObject({ decided: true, bounced: false });
  });

  test('decides on medians: one wild sample of each path does not sway it', () => {
    const policy = new BouncePolicy();
    const c = policy.classOf(Buffer.alloc(MiB), 0);
    let directReads = 0;
    let bouncedReads = 0;
    while (!c.decided) {
      const how = policy.choose(c);
      const bounced = (how & VIA_SLOT) !== 0;
      // The first direct sample is absurdly fast, the first bounced one absurdly slow.
      const rate = bounced ? (bouncedReads++ === 0 ? 10 : 12000) : directReads++ === 0 ? 1e9 : 4000;
      policy.finish(c, how, MiB, MiB / rate);
    }
    expect(c.bounced).toBe(true);
  });

  test('a new class reads once on the path the last decision chose, then probes', () => {
    const policy = new BouncePolicy();
    const first = policy.classOf(Buffer.alloc(MiB), 0);
    untilDecided(policy, first, { direct: 4000, bounced: 12000 });
    const fresh = policy.classOf(Buffer.alloc(MiB), 0);
    expect(fresh.bounced).toBe(true);
    expect(policy.choose(fresh)).toBe(VIA_SLOT); // not a probe
    policy.finish(fresh, VIA_SLOT, MiB, 0.1);
    expect(policy.choose(fresh) & PROBE).toBe(PROBE);
    expect(fresh.probing).toBe(true);
  });

  test('a clock can be injected', () => {
    let t = 5;
    const policy = new BouncePolicy({ now: () => t++ });
    expect([policy.now(), policy.now()]).toEqual([5, 6]);
  });
});

describe('BouncePolicy: what it learns from', () => {
  test('failed and short reads (bytes -1) teach nothing', () => {
    const policy = new BouncePolicy();
    const c = policy.classOf(Buffer.alloc(MiB), 0);
    for (let i = 0; i < 10 * PHASE_READS; i++) policy.finish(c, policy.choose(c), -1, 1);
    expect(c.probing).toBe(true);
    expect(c.decided).toBe(false);
    expect(c.directSamples + c.bouncedSamples).toBe(0);
  });

  test('a probe read issued while a probe read of the other path is in flight is not clean, and does not count', () => {
    const policy = new BouncePolicy();
    const c = policy.classOf(Buffer.alloc(MiB), 0);
    policy.finish(c, policy.choose(c), MiB, 1); // the first read, on the prior
    const held = policy.choose(c); // a probe read left in flight
    expect(held & (PROBE | CLEAN)).toBe(PROBE | CLEAN);
    // Finish reads on the same path until the phase flips; the first on the other path is unclean.
    let how = policy.choose(c);
    while ((how & VIA_SLOT) === (held & VIA_SLOT)) {
      policy.finish(c, how, MiB, 1);
      how = policy.choose(c);
    }
    expect(how & (PROBE | CLEAN)).toBe(PROBE);
    const before = (how & VIA_SLOT) !== 0 ? c.bouncedSamples : c.directSamples;
    policy.finish(c, how, MiB, 1);
    expect((how & VIA_SLOT) !== 0 ? c.bouncedSamples : c.directSamples).toBe(before);
    // Once the held read is done, the other path's reads are clean again.
    policy.finish(c, held, MiB, 1);
    expect(policy.choose(c) & CLEAN).toBe(CLEAN);
  });

  test('late completions of the path not chosen are ignored once decided', () => {
    const policy = new BouncePolicy();
    const c = policy.classOf(Buffer.alloc(MiB), 0);
    untilDecided(policy, c, { direct: 17000, bounced: 11000 });
    const rate = c.recentRate;
    policy.finish(c, VIA_SLOT, MiB, 1000);
    expect(c.recentRate).toBe(rate);
  });
});

describe('BouncePolicy: probing again', () => {
  test('re-probes after REPROBE_EVERY reads, doubling the interval while it confirms, up to the most', () => {
    const policy = new BouncePolicy();
    const c = policy.classOf(Buffer.alloc(MiB), 0);
    const rates = { direct: 4000, bounced: 12000 };
    untilDecided(policy, c, rates);
    const intervals: number[] = [];
    for (let k = 0; k < 7; k++) {
      let reads = 0;
      while (!c.probing) reads += (drive(policy, c, rates, 1), 1);
      intervals.push(reads);
      untilDecided(policy, c, rates);
    }
    expect(intervals).toEqual([64, 128, 256, 512, 1024, 1024, 1024].map((n) => Math.min(n, MAX_REPROBE_EVERY)));
    expect(REPROBE_EVERY).toBe(64);
    expect(c.flips).toBe(0);
    expect(c.bounced).toBe(true);
  });

  test('a wrong early choice is corrected at the next probe, and the interval starts over', () => {
    const policy = new BouncePolicy();
    const c = policy.classOf(Buffer.alloc(MiB), 0);
    untilDecided(policy, c, { direct: 17000, bounced: 11000 });
    expect(c.bounced).toBe(false);
    // The destination turns slow (or the first samples were misleading), at a rate
    // change too small to trip the slow-down check.
    const rates = { direct: 9000, bounced: 20000 };
    let reads = 0;
    while (!c.bounced && reads < 10 * REPROBE_EVERY) reads += (drive(policy, c, rates, 1), 1);
    expect(c.bounced).toBe(true);
    expect(reads).toBeLessThanOrEqual(REPROBE_EVERY + 4 * PHASE_READS);
    expect(c.flips).toBe(1);
    expect(c.every).toBe(REPROBE_EVERY);
  });

  test('re-probes at once when the chosen path slows to under half its settled rate', () => {
    const policy = new BouncePolicy();
    const c = policy.classOf(Buffer.alloc(MiB), 0);
    untilDecided(policy, c, { direct: 17000, bounced: 11000 });
    drive(policy, c, { direct: 17000, bounced: 11000 }, SETTLE_READS + 1);
    expect(c.chosenRate).toBeGreaterThan(0);
    const probes = c.probes;
    let reads = 0;
    while (!c.probing && reads < REPROBE_EVERY) reads += (drive(policy, c, { direct: 3000, bounced: 11000 }, 1), 1);
    expect(c.probes).toBe(probes + 1);
    expect(SETTLE_READS + 1 + reads).toBeLessThan(REPROBE_EVERY);
    untilDecided(policy, c, { direct: 3000, bounced: 11000 });
    expect(c.bounced).toBe(true);
  });
});

describe('BouncePolicy: keys and bounded state', () => {
  test('one class per ArrayBuffer and (byteOffset - position) mod 4096', () => {
    const policy = new BouncePolicy();
    const ab = new ArrayBuffer(4 * MiB);
    const a = policy.classOf(new Uint8Array(ab, 16, MiB), 0);
    expect(a.cls).toBe(16);
    expect(policy.classOf(new Uint8Array(ab, 16 + MiB, MiB), 0)).toBe(a); // same class, same buffer
    expect(policy.classOf(new Uint8Array(ab, 32, MiB), 16)).toBe(a); // 32 - 16
    expect(policy.classOf(new Uint8Array(ab, 16, MiB), 4096 * 7)).toBe(a);
    expect(policy.classOf(new Uint8Array(ab, 0, MiB), 4080)).toBe(a); // -4080 mod 4096
    const b = policy.classOf(new Uint8Array(ab, 0, MiB), 0);
    expect(b).not.toBe(a);
    expect(b.cls).toBe(0);
    expect(policy.classOf(new Uint8Array(new ArrayBuffer(MiB + 16), 16, MiB), 0)).not.toBe(a); // another buffer
    expect(policy.classesOf(ab)).toBe(2);
  });

  test(`remembers at most ${MAX_CLASSES} classes per buffer, forgetting the oldest`, () => {
    const policy = new BouncePolicy();
    const buf = Buffer.alloc(MiB);
    const first = policy.classOf(buf, 0);
    for (let pos = 1; pos < 100; pos++) policy.classOf(buf, pos);
    expect(policy.classesOf(buf.buffer)).toBe(MAX_CLASSES);
    expect(policy.classOf(buf, 0)).not.toBe(first);
    expect(policy.classesOf(buf.buffer)).toBe(MAX_CLASSES);
  });

  test('a buffer detached after its state was made does not break anything', () => {
    const policy = new BouncePolicy();
    const buf = new Uint8Array(new ArrayBuffer(MiB + 16), 16, MiB);
    const c = policy.classOf(buf, 0);
    untilDecided(policy, c, { direct: 4000, bounced: 12000 });
    structuredClone(buf.buffer, { transfer: [buf.buffer as ArrayBuffer] });
    expect(buf.byteLength).toBe(0);
    const again = policy.classOf(buf, 0);
    expect(again.cls).toBe(0);
    expect(() => policy.finish(again, policy.choose(again), -1, 0)).not.toThrow();
  });
});
