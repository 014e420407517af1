import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * A pg Pool without an 'error' listener dies with PostgreSQL (issue 9, case 10). Engine code makes its
 * pools with infra/database.ts's createPool, which adds one; this fails on any other `new Pool(`.
 */
const ROOT = path.resolve(__dirname, '..', '..');
const ENGINE_FOLDERS = ['activities', 'api', 'bench', 'infra', 'modules', 'scripts', 'workers', 'workflows'];

function typeScriptFiles(folder: string): string[] {
  return readdirSync(folder, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(folder, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : typeScriptFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

test('engine code makes pg pools only through createPool', () => {
  const offenders = ENGINE_FOLDERS.flatMap((folder) => typeScriptFiles(path.join(ROOT, folder)))
    .filter((file) => /\bnew (pg\.)?Pool\(/.test(readFileSync(file, 'utf8')))
    .map((file) => path.relative(ROOT, file));
  expect(offenders).toEqual(['infra/database.ts']);
});
