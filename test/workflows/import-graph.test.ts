import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * No import circle between workflow files (type-only imports included: a circle of types is still a
 * circle of meaning). Walks workflows/**, resolves relative imports and looks for a cycle.
 */
const root = path.resolve(__dirname, '../../workflows');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

function importsOf(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specifiers = [...source.matchAll(/(?:import|export)\s[^'"]*?from\s+['"](\.[^'"]+)['"]/g)].map((match) => match[1]);
  return specifiers
    .map((specifier) => path.resolve(path.dirname(file), specifier))
    .map((resolved) => (resolved.endsWith('.ts') ? resolved : `${resolved}.ts`))
    .filter((resolved) => resolved.startsWith(root));
}

export function findCycle(graph: Map<string, string[]>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    if (state.get(node) === 'done') return undefined;
    if (state.get(node) === 'open') return [...stack.slice(stack.indexOf(node)), node];
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    stack.pop();
    state.set(node, 'done');
    return undefined;
  };
  for (const node of graph.keys()) {
    const cycle = visit(node);
    if (cycle) return cycle;
  }
  return undefined;
}

test('the checker finds a circle when there is one', () => {
  const graph = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  expect(findCycle(graph)).toEqual(['a', 'b', 'c', 'a']);
  expect(findCycle(new Map([['a', ['b']], ['b', []]]))).toBeUndefined();
});

test('workflow files import each other without a circle', () => {
  const graph = new Map(files(root).map((file) => [file, importsOf(file)]));
  expect(graph.size).toBeGreaterThan(20);
  const cycle = findCycle(graph)?.map((file) => path.relative(root, file));
  expect(cycle).toBeUndefined();
});

test('every workflow file stays short enough to read as its rule', () => {
  const long = files(root)
    .map((file) => ({ file: path.relative(root, file), lines: readFileSync(file, 'utf8').split('\n').length }))
    .filter(({ lines }) => lines > 260);
  expect(long).toEqual([]);
});
