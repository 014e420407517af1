#!/usr/bin/env node
// The production build (`npm run build`, the Dockerfile): `tsc -p tsconfig.build.json` into the out
// dir (default dist/), then the development tools are taken out of it. The sandbox payment provider
// and the sandbox notifier are compiled because production code names their types, but it must never ship: it is removed here,
// and the build fails if any other compiled file still requires it (only infra/dev-tools.js may, by a
// computed path that production never takes).
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const outDir = path.resolve(process.argv[2] ?? path.join(root, 'dist'));
const DEV_TOOLS = ['modules/finance/sandbox', 'modules/notifications/sandbox'];

const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json'), '--outDir', outDir], { cwd: root, stdio: 'inherit' });

for (const tool of DEV_TOOLS) rmSync(path.join(outDir, tool), { recursive: true, force: true });

const offenders = [];
for (const file of walk(outDir)) {
  if (!file.endsWith('.js')) continue;
  const text = readFileSync(file, 'utf8');
  for (const tool of DEV_TOOLS) {
    const name = tool.split('/').pop();
    // A static require of the tool, from any depth: require("../finance/sandbox"), require("./sandbox")…
    if (new RegExp(`require\\((["'])[./]*(?:[\\w-]+/)*${name}(?:/[\\w-]+)*\\1\\)`).test(text)) offenders.push(path.relative(outDir, file));
  }
}
if (offenders.length > 0) {
  console.error(`build: development tools are still required by: ${offenders.join(', ')}`);
  process.exit(1);
}
console.log(`build: ${path.relative(root, outDir) || '.'} without ${DEV_TOOLS.join(', ')}`);

function* walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(full);
    else yield full;
  }
}
