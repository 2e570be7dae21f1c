import { formatVerdicts, judge, type TargetLine } from '../../bench/targets';

/** A line with one IOPS figure per pass; ratio is the median of the per-pass ratios to raw's given passes. */
function line(row: string, api: string, iops: number[], extra: Partial<TargetLine> = {}): TargetLine {
  return { row, api, ratio: NaN, probeMs: 0.1, lagP99Ms: 0.3, passes: iops.map((n) => ({ iops: n })), ...extra };
}

describe('bench/targets judge', () => {
  test('judges each target on the judged interface, with the others for the record, in the issue order', () => {
    const lines: TargetLine[] = [
      line('randread 4k qd64', 'raw', [100, 100, 100], { ratio: 1, lagP99Ms: 0.5 }),
      line('randread 4k qd64', 'fspromises', [30, 20, 40]),
      line('randread 4k qd64', 'posix', [95, 85, 99], { ratio: 0.95, probeMs: 0.2, lagP99Ms: 0.4 }),
      line('randread 4k qd64', 'lio', [80, 80, 80], { ratio: 0.8, probeMs: 1.5, lagP99Ms: 0.6 }),
      line('randread 4k qd64', 'promise', [60, 50, 30], { ratio: 0.5 }),
      line('seqread 1m qd4 mapped', 'raw', [10, 10, 10], { ratio: 1 }),
      line('seqread 1m qd4 mapped', 'posix', [24, 26, 20], { ratio: 2.4 }),
    ];
    const v = judge(lines);
    expect(v.map((x) => x.target)).toEqual([
      'randread 4 KiB qd64: aio_read >= 0.9x raw fs.read',
      'randread 4 KiB qd64: the Promise face >= 1.5x fs.promises',
      'seqread 1 MiB qd4 into ordinary (mapped) Buffers: >= 2.5x raw fs.read',
      'fairness, randread 4 KiB qd64: pbkdf2 probe waits < 1 ms (median)',
      'fairness, randread 4 KiB qd64: event-loop delay p99 <= raw fs.read',
    ]);
    const [rr, pr, seq, probe, lag] = v;
    expect(rr).toMatchObject({ api: 'posix', value: 0.95, goal: 0.9, op: '>=', met: true, others: { lio: 0.8, promise: 0.5 } });
    // Per-pass ratios 60/30, 50/20, 30/40 = 2, 2.5, 0.75: median 2 (not 50/30).
    expect(pr).toMatchObject({ api: 'promise', value: 2, goal: 1.5, met: true, others: {} });
    expect(seq).toMatchObject({ api: 'posix', value: 2.4, goal: 2.5, met: false });
    expect(probe).toMatchObject({ api: 'posix', value: 0.2, unit: 'ms', op: '<', goal: 1, met: true, others: { lio: 1.5 } });
    // The bound is raw's own lag in the same run.
    expect(lag).toMatchObject({ api: 'posix', value: 0.4, goal: 0.5, op: '<=', met: true, others: { lio: 0.6 } });
  });

  test('a missing measure (no raw line to compare with) is not met, and a run without the rows judges nothing', () => {
    const v = judge([line('randread 4k qd256', 'posix', [1], { ratio: 1, lagP99Ms: 0.1 }), line('randread 4k qd256', 'promise', [5])]);
    expect(v).toHaveLength(2);
    expect(v[0]).toMatchObject({ api: 'posix', value: 1, met: true });
    expect(v[1]).toMatchObject({ api: 'promise', met: false });
    expect(v[1]?.value).toBeNaN();
    expect(judge([line('write 4k qd16 fsync/64', 'posix', [1])])).toEqual([]);
  });

  test('formats one verdict per target, saying met or NOT met with value and goal', () => {
    const text = formatVerdicts(
      judge([
        line('seqread 4k qd16', 'raw', [10], { ratio: 1 }),
        line('seqread 4k qd16', 'posix', [11], { ratio: 1.1 }),
        line('seqread 4k qd16', 'nng', [12], { ratio: 1.2 }),
      ]),
    );
    expect(text).toEqual([
      '',
      "issue 4's targets in this run (median over passes of each pass's ratio; the first interface named is judged):",
      '  NOT met  seqread 4 KiB qd16: >= 2x raw fs.read (merging)',
      '           posix 1.10x (goal >= 2.00x); nng 1.20x',
    ]);
    expect(formatVerdicts([])).toEqual([]);
  });
});
