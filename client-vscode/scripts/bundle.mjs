#!/usr/bin/env node
// Bundle src/extension.ts (and vscode-languageclient) into dist/extension.js; `vscode` stays external.
// `--production` (used by `vsce package` via vscode:prepublish) minifies and drops the source map.
import { build } from 'esbuild';

const production = process.argv.includes('--production');

await build({
  entryPoints: ['src/extension.ts'],
  bundle: true,
  outfile: 'dist/extension.js',
  external: ['vscode'],
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  minify: production,
  sourcemap: !production,
  sourcesContent: false,
  logLevel: 'info',
});
