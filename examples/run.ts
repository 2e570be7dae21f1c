/**
 * Runs one example, or all of them, from the command line:
 *
 *     npx tsx examples/run.ts aio_read
 *     npx tsx examples/run.ts all
 *     npx tsx examples/run.ts          (lists the examples)
 *
 * Each example exports `main(opts?)`; this file only finds it and calls it. It is
 * separate because a module cannot portably ask "was I run directly?": tsx runs
 * the examples as ES modules (where `import.meta.url` answers it) but the test
 * suite compiles them to CommonJS, where `import.meta` is a syntax error.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';

type Main = (opts?: { dir?: string; log?: (line: string) => void }) => Promise<unknown>;

/** This file's directory: tsx keeps the script's path in argv[1]. */
const here = path.dirname(path.resolve(process.argv[1] ?? 'examples/run.ts'));

/** Every example beside this file (name without `.ts`), in a stable order. */
function examples(): string[] {
  return fs
    .readdirSync(here)
    .filter((f) => f.endsWith('.ts') && f !== 'run.ts' && !f.endsWith('.d.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
}

async function run(name: string): Promise<void> {
  const mod = (await import(pathToFileURL(path.join(here, `${name}.ts`)).href)) as { main?: Main };
  if (typeof mod.main !== 'function') throw new Error(`examples/${name}.ts exports no main()`);
  const result = await mod.main();
  console.log(`-> ${name} returned`, result);
}

async function cli(args: string[]): Promise<void> {
  const known = examples();
  const wanted = args.length === 1 && args[0] === 'all' ? known : args;
  if (wanted.length === 0) {
    console.log(`usage: npx tsx examples/run.ts <name>... | all\nexamples: ${known.join(', ')}`);
    return;
  }
  for (const name of wanted) {
    if (!known.includes(name)) throw new Error(`no example named ${JSON.stringify(name)}; known: ${known.join(', ')}`);
  }
  for (const name of wanted) {
    if (wanted.length > 1) console.log(`\n=== ${name} ===`);
    await run(name);
  }
}

cli(process.argv.slice(2)).catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
