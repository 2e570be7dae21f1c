/**
 * Issue 4's performance targets, judged on one run of bench/run.ts: each target
 * names a row, the interface measured, what it is measured against, and the bound.
 * Every value is a median over the run's passes of a ratio taken within one pass
 * (the machine's speed swings between passes; ratios in one pass do not).
 *
 * Targets whose rows the run did not measure (`--only`) are left out. Scale and
 * memory are measured by bench/scale.ts, not here.
 */

/** What a target reads of a bench line (bench/run.ts's Line). */
export interface TargetLine {
  readonly row: string;
  readonly api: string;
  /** Median ratio of IOPS to raw fs.read/fs.write, same row and pass. */
  readonly ratio: number;
  readonly probeMs: number;
  readonly lagP99Ms: number;
  readonly passes: ReadonlyArray<{ readonly iops: number }>;
}

/** One target's verdict. */
export interface Verdict {
  /** The target as the issue states it. */
  readonly target: string;
  readonly row: string;
  /** The interface judged. */
  readonly api: string;
  readonly value: number;
  /** 'x' for a ratio, 'ms' for a wait. */
  readonly unit: 'x' | 'ms';
  /** The bound and its direction: value >= goal ('>='), or value < goal ('<'), or value <= goal ('<='). */
  readonly op: '>=' | '<' | '<=';
  readonly goal: number;
  readonly met: boolean;
  /** The other library interfaces' values for the same measure, for the record. */
  readonly others: Readonly<Record<string, number>>;
}

/** The library's interfaces, in the bench's order; the first is the one judged. */
const LIBRARY = ['posix', 'lio', 'nng', 'promise'] as const;

interface Spec {
  readonly target: string;
  readonly row: string;
  readonly apis: readonly string[];
  readonly unit: 'x' | 'ms';
  readonly op: '>=' | '<' | '<=';
  /** The bound; for the lag target, taken from raw's line of the same row. */
  readonly goal: number | ((lines: ReadonlyMap<string, TargetLine>) => number);
  readonly measure: (line: TargetLine, lines: ReadonlyMap<string, TargetLine>) => number;
}

/** Median over passes of this line's IOPS divided by `base`'s in the same pass. */
function ratioTo(base: string): Spec['measure'] {
  return (line, lines) => {
    const b = lines.get(base);
    if (b === undefined) return NaN;
    const r: number[] = [];
    line.passes.forEach((p, i) => {
      const q = b.passes[i];
      if (q !== undefined && q.iops > 0) r.push(p.iops / q.iops);
    });
    return median(r);
  };
}

const toRaw: Spec['measure'] = (line) => line.ratio;

const SPECS: readonly Spec[] = [
  ...[64, 256].flatMap((d): Spec[] => [
    { target: `randread 4 KiB qd${d}: aio_read >= 0.9x raw fs.read`, row: `randread 4k qd${d}`, apis: LIBRARY, unit: 'x', op: '>=', goal: 0.9, measure: toRaw },
    {
      target: `randread 4 KiB qd${d}: the Promise face >= 1.5x fs.promises`,
      row: `randread 4k qd${d}`,
      apis: ['promise'],
      unit: 'x',
      op: '>=',
      goal: 1.5,
      measure: ratioTo('fspromises'),
    },
  ]),
  { target: 'seqread 4 KiB qd16: >= 2x raw fs.read (merging)', row: 'seqread 4k qd16', apis: LIBRARY, unit: 'x', op: '>=', goal: 2, measure: toRaw },
  {
    target: 'seqread 1 MiB qd4 into ordinary (mapped) Buffers: >= 2.5x raw fs.read',
    row: 'seqread 1m qd4 mapped',
    apis: LIBRARY,
    unit: 'x',
    op: '>=',
    goal: 2.5,
    measure: toRaw,
  },
  {
    target: 'fairness, randread 4 KiB qd64: pbkdf2 probe waits < 1 ms (median)',
    row: 'randread 4k qd64',
    apis: LIBRARY,
    unit: 'ms',
    op: '<',
    goal: 1,
    measure: (line) => line.probeMs,
  },
  {
    target: 'fairness, randread 4 KiB qd64: event-loop delay p99 <= raw fs.read',
    row: 'randread 4k qd64',
    apis: LIBRARY,
    unit: 'ms',
    op: '<=',
    goal: (lines) => lines.get('raw')?.lagP99Ms ?? NaN,
    measure: (line) => line.lagP99Ms,
  },
];

function median(xs: readonly number[]): number {
  const s = xs.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 === 1 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
}

function holds(value: number, op: Spec['op'], goal: number): boolean {
  if (!Number.isFinite(value) || !Number.isFinite(goal)) return false;
  return op === '>=' ? value >= goal : op === '<' ? value < goal : value <= goal;
}

/**
 * Judges issue 4's targets on a run's lines.
 *
 * @returns one verdict per target whose row and interface the run measured, in the
 * issue's order.
 */
export function judge(lines: readonly TargetLine[]): Verdict[] {
  const out: Verdict[] = [];
  for (const spec of SPECS) {
    const byApi = new Map(lines.filter((l) => l.row === spec.row).map((l) => [l.api, l] as const));
    const judged = spec.apis[0] as string;
    const line = byApi.get(judged);
    if (line === undefined) continue;
    const goal = typeof spec.goal === 'number' ? spec.goal : spec.goal(byApi);
    const value = spec.measure(line, byApi);
    const others: Record<string, number> = {};
    for (const api of spec.apis.slice(1)) {
      const l = byApi.get(api);
      if (l !== undefined) others[api] = spec.measure(l, byApi);
    }
    out.push({ target: spec.target, row: spec.row, api: judged, value, unit: spec.unit, op: spec.op, goal, met: holds(value, spec.op, goal), others });
  }
  return out;
}

/** The verdicts as the text report's closing section. */
export function formatVerdicts(verdicts: readonly Verdict[]): string[] {
  if (verdicts.length === 0) return [];
  const num = (v: number, unit: Verdict['unit']): string => (Number.isFinite(v) ? (unit === 'x' ? `${v.toFixed(2)}x` : `${v.toFixed(3)} ms`) : '-');
  const out = ['', "issue 4's targets in this run (median over passes of each pass's ratio; the first interface named is judged):"];
  for (const v of verdicts) {
    const others = Object.entries(v.others)
      .map(([api, x]) => `${api} ${num(x, v.unit)}`)
      .join(', ');
    out.push(
      `  ${v.met ? 'met    ' : 'NOT met'}  ${v.target}`,
      `           ${v.api} ${num(v.value, v.unit)} (goal ${v.op} ${num(v.goal, v.unit)})${others === '' ? '' : `; ${others}`}`,
    );
  }
  return out;
}
