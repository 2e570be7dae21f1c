/**
 * The package as a user gets it. The test builds it (this suite also runs on a fresh
 * clone where nothing has been built), packs it with `npm pack`, installs the tarball
 * offline into a temporary project outside the repository, and then uses it from
 * there: as ESM, as CommonJS, from TypeScript (NodeNext and Bundler resolution), and
 * as both copies at once in one process (the dual-package hazard).
 *
 * The build goes into a staging folder in the temporary directory, not into dist/,
 * so that it cannot race with anything else reading dist/ while the suite runs. It
 * is the repository's own tsup config with only the output folder moved; the staged
 * package.json is the repository's, so `files`, `exports` and `bin` are the real ones.
 */
import { spawnSync } from 'node:child_process';
import { isBuiltin } from 'node:module';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CJS_WRITE_READ, DUAL, ESM_READ, TS_BAD, TS_CJS, TS_ESM } from './consumer';

const ROOT = path.resolve(__dirname, '..', '..');
const BIN = path.join(ROOT, 'node_modules', '.bin');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

jest.setTimeout(120_000);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to completion (at most 90 s) and returns its exit status and output. */
function run(cmd: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): Run {
  const r = spawnSync(cmd, args, {
    cwd,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', npm_config_update_notifier: 'false', ...env },
    encoding: 'utf8',
    timeout: 90_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error !== undefined) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Like {@link run}, but a non-zero exit throws with the whole output in the message. */
function runOk(cmd: string, args: readonly string[], cwd: string, env?: NodeJS.ProcessEnv): string {
  const r = run(cmd, args, cwd, env);
  if (r.status !== 0) {
    throw new Error(`${cmd} ${args.join(' ')} (in ${cwd}) exited ${String(r.status)}\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

/** The last line of a program's output, parsed as JSON. */
function lastJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1] ?? 'null') as Record<string, unknown>;
}

interface PackedFile {
  path: string;
  mode: number;
}

let work = '';
let stage = '';
let project = '';
let tarball = '';
let packed: PackedFile[] = [];
let manifest: { exports?: unknown; bin?: string | Record<string, string>; files?: string[] } = {};

beforeAll(() => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'posix-aio-pack-'));
  stage = path.join(work, 'stage');
  project = path.join(work, 'project');
  fs.mkdirSync(stage);
  fs.mkdirSync(project);

  // 1. Build: `npm run build` is `tsup`; the same config, output moved to the stage.
  runOk(path.join(BIN, 'tsup'), ['--out-dir', path.join(stage, 'dist')], ROOT);

  // 2. Stage what npm would pack from the repository root: package.json, the files
  //    npm always includes (README, LICENSE, ...) and the `files` entries besides dist.
  manifest = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as typeof manifest;
  fs.copyFileSync(path.join(ROOT, 'package.json'), path.join(stage, 'package.json'));
  for (const name of fs.readdirSync(ROOT)) {
    if (/^(readme|licen[cs]e|copying|changelog)(\.|$)/i.test(name)) fs.copyFileSync(path.join(ROOT, name), path.join(stage, name));
  }
  for (const entry of manifest.files ?? []) {
    const from = path.join(ROOT, entry);
    if (entry.replace(/^\.\//, '').replace(/\/$/, '') !== 'dist' && fs.existsSync(from)) {
      fs.cpSync(from, path.join(stage, entry), { recursive: true });
    }
  }

  // 3. Pack. Scripts are not run: the build above already did what a prepack would.
  const report = JSON.parse(runOk('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', work], stage)) as {
    filename: string;
    files: PackedFile[];
  }[];
  const first = report[0];
  if (first === undefined) throw new Error('npm pack reported nothing');
  tarball = path.join(work, first.filename);
  packed = first.files;

  // 4. Install the tarball into a fresh project, offline (the package has no dependencies).
  fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, version: '1.0.0' }));
  runOk('npm', ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--no-package-lock', tarball], project);
});

afterAll(() => {
  if (work !== '') fs.rmSync(work, { recursive: true, force: true });
});

/** A data file in the temporary project with the given content; returns its path. */
function dataFile(name: string, content: string): string {
  const p = path.join(project, name);
  fs.writeFileSync(p, content);
  return p;
}

describe('npm pack', () => {
  test('the tarball holds only dist/, package.json, the README and license-like files', () => {
    const paths = packed.map((f) => f.path);
    const stray = paths.filter((p) => !/^(dist\/|package\.json$|(readme|licen[cs]e|copying|changelog)(\.[a-z]+)?$)/i.test(p));
    expect(stray).toEqual([]);
    expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.cjs', 'dist/index.d.ts', 'dist/index.d.cts']));
    expect(paths.filter((p) => /^(src|test|bench|examples|cli|docs)\//.test(p) || p.endsWith('.ts') && !p.endsWith('.d.ts') && !p.endsWith('.d.cts'))).toEqual([]);
  });

  test('every file the exports map points to is in the tarball', () => {
    const targets: string[] = [];
    const walk = (v: unknown): void => {
      if (typeof v === 'string') targets.push(v.replace(/^\.\//, ''));
      else if (typeof v === 'object' && v !== null) Object.values(v).forEach(walk);
    };
    walk(manifest.exports);
    expect(targets.length).toBeGreaterThanOrEqual(5);
    const paths = new Set(packed.map((f) => f.path));
    expect(targets.filter((t) => !paths.has(t))).toEqual([]);
  });

  test('every bin entry is in the tarball, starts with a #! line and is linked by npm install', () => {
    const bins: Record<string, string> =
      typeof manifest.bin === 'string' ? { 'posix-aio': manifest.bin } : (manifest.bin ?? {});
    const entries = Object.entries(bins);
    const paths = new Set(packed.map((f) => f.path));
    for (const [name, file] of entries) {
      const rel = path.posix.normalize(file);
      expect({ name, inTarball: paths.has(rel) }).toEqual({ name, inTarball: true });
      const installed = path.join(project, 'node_modules', 'posix-aio', rel);
      expect(fs.readFileSync(installed, 'utf8').startsWith('#!')).toBe(true);
      expect(fs.existsSync(path.join(project, 'node_modules', '.bin', name))).toBe(true);
    }
    // Without any bin entry this test checks nothing; package.json declares one.
    expect(entries.length).toBeGreaterThan(0);
  });
});

describe('zero runtime dependencies', () => {
  test('package.json declares no dependencies of any kind', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as Record<string, unknown>;
    const kinds = ['dependencies', 'peerDependencies', 'optionalDependencies', 'bundleDependencies', 'bundledDependencies'];
    expect(kinds.filter((k) => pkg[k] !== undefined && Object.keys(pkg[k] as object).length > 0)).toEqual([]);
  });

  test('the built files import nothing but Node\'s built-in modules', () => {
    const installed = path.join(project, 'node_modules', 'posix-aio', 'dist');
    const files = fs.readdirSync(installed).filter((f) => /\.(c?js)$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['index.js', 'index.cjs']));
    const specifiers = new Set<string>();
    for (const f of files) {
      const text = fs.readFileSync(path.join(installed, f), 'utf8');
      for (const m of text.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)(["'])([^"']+)\1/g)) specifiers.add(m[2] as string);
    }
    expect(specifiers.size).toBeGreaterThan(0);
    expect([...specifiers].filter((s) => !isBuiltin(s))).toEqual([]);
  });
});

describe('import (ESM)', () => {
  test('import { aio_read, AioControlBlock, nng_aio_alloc } from "posix-aio" reads a real file', () => {
    const DATA = dataFile('esm.txt', 'HELLO world from the tarball\n');
    const out = lastJson(runOk(process.execPath, ['--input-type=module', '-e', ESM_READ], project, { DATA }));
    const want = 'world from the tarball\n';
    expect(out).toEqual({
      resolved: expect.stringMatching(/\/project\/node_modules\/posix-aio\/dist\/index\.js$/),
      submitted: 0,
      inProgress: true,
      suspended: 0,
      error: 0,
      n: want.length,
      text: want,
      errno: 0,
      nng: { result: 0, count: 5, text: 'HELLO' },
    });
  });
});

describe('require (CommonJS)', () => {
  test('require("posix-aio") loads the CommonJS build, which writes, reads and reports errno', () => {
    const DATA = dataFile('cjs.txt', 'HELLO world\n');
    const out = lastJson(runOk(process.execPath, ['-e', CJS_WRITE_READ], project, { DATA }));
    expect(out).toEqual({
      resolved: expect.stringMatching(/\/project\/node_modules\/posix-aio\/dist\/index\.cjs$/),
      submitted: 0,
      suspended: 0,
      written: 5,
      listio: 0,
      read: 11,
      text: 'HELLO WORLD',
      bad: -1,
      ebadf: true,
      isAioError: true,
    });
  });
});

describe('TypeScript', () => {
  /** Writes a tsconfig for `files` in a subfolder of the project and runs tsc on it. */
  function tsc(dir: string, options: Record<string, unknown>, files: Record<string, string>): Run {
    const at = path.join(project, dir);
    fs.mkdirSync(at, { recursive: true });
    for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(at, name), text);
    const tsconfig = {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022'],
        strict: true,
        exactOptionalPropertyTypes: true,
        noUncheckedIndexedAccess: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
        typeRoots: [path.join(ROOT, 'node_modules', '@types')],
        ...options,
      },
      files: Object.keys(files),
    };
    fs.writeFileSync(path.join(at, 'tsconfig.json'), JSON.stringify(tsconfig, null, 2));
    return run(process.execPath, [TSC, '-p', path.join(at, 'tsconfig.json'), '--listFiles', '--pretty', 'false'], at);
  }

  test('module NodeNext: an .mts file gets index.d.ts and a .cts file gets index.d.cts, both clean', () => {
    // skipLibCheck off here: the package's own declaration files are checked too, as a
    // strict user would (it costs a check of @types/node, so only this case does it).
    const r = tsc('ts-nodenext', { module: 'NodeNext', moduleResolution: 'NodeNext', skipLibCheck: false }, { 'esm.mts': TS_ESM, 'cjs.cts': TS_CJS });
    expect(r.stdout.split('\n').filter((l) => l.includes('error TS'))).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(path.join('node_modules', 'posix-aio', 'dist', 'index.d.ts'));
    expect(r.stdout).toContain(path.join('node_modules', 'posix-aio', 'dist', 'index.d.cts'));
  });

  test('module ESNext with moduleResolution Bundler: clean, through index.d.ts', () => {
    const r = tsc('ts-bundler', { module: 'ESNext', moduleResolution: 'Bundler' }, { 'index.ts': TS_ESM });
    expect(r.stdout.split('\n').filter((l) => l.includes('error TS'))).toEqual([]);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain(path.join('node_modules', 'posix-aio', 'dist', 'index.d.ts'));
  });

  test('a deliberate type error fails the check (the types are really checked)', () => {
    const r = tsc('ts-bad', { module: 'NodeNext', moduleResolution: 'NodeNext' }, { 'bad.mts': TS_BAD });
    expect(r.status).not.toBe(0);
    const errors = r.stdout.split('\n').filter((l) => l.includes('error TS'));
    expect(errors).toEqual([expect.stringMatching(/^bad\.mts\(4,7\): error TS2322: Type 'number' is not assignable to type 'string'\./)]);
  });
});

describe('dual-package hazard (ESM and CommonJS copies in one process)', () => {
  let out: Record<string, { value?: Record<string, unknown>; threw?: string }> = {};

  beforeAll(() => {
    const DATA = dataFile('dual.txt', 'HELLO dual\n');
    const script = path.join(project, 'dual.mjs');
    fs.writeFileSync(script, DUAL);
    out = lastJson(runOk(process.execPath, [script], project, { DATA })) as typeof out;
  });

  test('import and require load two different copies, dist/index.js and dist/index.cjs', () => {
    expect(out['copies']).toEqual({
      value: {
        esm: expect.stringMatching(/\/node_modules\/posix-aio\/dist\/index\.js$/),
        cjs: expect.stringMatching(/\/node_modules\/posix-aio\/dist\/index\.cjs$/),
        distinctFunctions: true,
      },
    });
  });

  test('both copies export the same names', () => {
    expect(out['names']).toEqual({ value: { onlyEsm: [], onlyCjs: [], count: expect.any(Number) } });
    expect(out['names']?.value?.['count']).toBeGreaterThan(100);
  });

  test('a block submitted with the CommonJS aio_read is seen by the ESM aio_error, aio_suspend and aio_return', () => {
    expect(out['aiocb']).toEqual({
      value: {
        submitted: 0,
        inProgress: true,
        suspended: 0,
        error: 0,
        n: 'HELLO dual\n'.length,
        text: 'HELLO dual\n',
        secondReturnIsEinval: true,
      },
    });
  });

  test('errno and lastError() are shared: a failure in one copy is read through the other', () => {
    expect(out['errno']).toEqual({
      value: { rc: -1, esmErrnoIsEinval: true, sameLastError: true, instanceofEsm: true, instanceofCjs: true },
    });
  });

  test('an AioError made by either copy is instanceof the other copy\'s AioError', () => {
    expect(out['aioError']).toEqual({ value: { esmInCjs: true, cjsInEsm: true, stillError: true, notOther: true } });
  });

  test('the engine is shared: aio_init through one copy changes sysconf in the other', () => {
    expect(out['engine']).toEqual({ value: { shared: true } });
  });

  test('the Promise face is the same in both copies, and their errors and handles cross over', () => {
    expect(out['promises']).toEqual({
      value: {
        same: true,
        esmOnly: [],
        read: { n: 5, text: 'HELLO', sameBuffer: true },
        handle: { esmClass: true, n: 5, text: 'HELLO' },
        closed: { code: 'EBADF', errno: -9, syscall: 'read', inEsm: true, inCjs: true },
        aborted: { name: 'AbortError', code: 'ABORT_ERR', cause: true },
        bad: { name: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' },
      },
    });
  });

  test('an nng handle allocated by one copy is accepted by the other copy\'s calls', () => {
    expect(out['nng']).toEqual({ value: { result: 0, count: 5, text: 'HELLO' } });
  });
});
