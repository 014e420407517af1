import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

/** CPU time of processes from /proc/<pid>/stat (utime + stime), for CPU per order. */
const TICKS_PER_SECOND = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * The fields of /proc/<pid>/stat after the command (which may hold spaces, in parentheses): index 1
 * is the parent pid, 11 and 12 utime and stime, 13 and 14 the reaped children's cutime and cstime.
 */
function statFields(pid: number | string): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU milliseconds the process has used so far (0 when it is gone or unknown). */
export function cpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const fields = statFields(pid);
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/**
 * CPU milliseconds of a process and its children: its own, its children's that exited (cutime and
 * cstime, once reaped) and its live children's (found by their parent pid). For PostgreSQL, whose
 * postmaster forks a backend per connection.
 */
export function treeCpuMs(pid: number | undefined): number {
  if (!pid) return 0;
  const ticks = (fields: string[]) => Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
  try {
    let total = ticks(statFields(pid));
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const fields = statFields(entry);
        if (Number(fields[1]) === pid) total += ticks(fields);
      } catch {
        // The process exited while the folder was read.
      }
    }
    return (total * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

/** Resident set size of a process in bytes (VmRSS), 0 when unknown. */
export function rssBytes(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** Sums CPU ms over named groups of processes; `since()` gives the use since the snapshot. */
export function cpuSnapshot(groups: Record<string, () => (number | undefined)[]>, trees: Record<string, () => number | undefined> = {}) {
  const read = () => ({
    ...Object.fromEntries(Object.entries(groups).map(([name, pids]) => [name, pids().reduce<number>((sum, pid) => sum + cpuMs(pid), 0)])),
    ...Object.fromEntries(Object.entries(trees).map(([name, pid]) => [name, treeCpuMs(pid())])),
  });
  const start = read();
  return {
    since(): Record<string, number> {
      const now = read();
      return Object.fromEntries(Object.keys(now).map((name) => [name, now[name] - start[name]]));
    },
  };
}
