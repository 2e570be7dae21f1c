/**
 * The numeric flags of the standalone bench scripts (bench/cap.ts, scale.ts,
 * bounce.ts): `--name value`.
 */

/** The number after `--name` on the command line, or `dflt` when the flag is absent. */
export function numberFlag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
}
