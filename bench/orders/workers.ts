import path from 'node:path';
import { supervise, type Supervised } from '../chaos/stack';

/**
 * The engine's worker processes for a bench run: `single` = K processes each serving every task
 * queue (the default deployment); `per-queue` = K processes of each module's own worker entry point.
 */
export type Topology = 'single' | 'per-queue';

const ROOT = path.resolve(__dirname, '..', '..');

export function workerProcesses(topology: Topology, count: number, env: NodeJS.ProcessEnv, logDir: string, log: (line: string) => void): Supervised[] {
  const roles = topology === 'single' ? ['all'] : ['orders', 'finance', 'inventory', 'member'];
  return roles.flatMap((role) =>
    Array.from({ length: count }, (_, i) =>
      supervise(`worker-${role}-${i + 1}`, path.join(ROOT, 'bench', 'chaos', 'worker-process.ts'), { ...env, WORKER_ROLE: role }, /worker polling/, logDir, log),
    ),
  );
}
