import { defineConfig } from 'tsup';

export default defineConfig([
  {
    entry: ['src/index.ts'],
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'node20',
    platform: 'node',
  },
  {
    // The `posix-aio` command (package.json "bin"): ESM only, with a shebang. It bundles
    // its own copy of the library; the two copies share state through the global
    // symbol in src/shared.ts. clean is off so it cannot race the library build's clean.
    entry: { cli: 'cli/main.ts' },
    format: ['esm'],
    dts: false,
    sourcemap: true,
    clean: false,
    target: 'node20',
    platform: 'node',
    banner: { js: '#!/usr/bin/env node' },
  },
]);
