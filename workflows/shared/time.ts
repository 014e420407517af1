/** Workflow time (deterministic): the time of the current workflow task, as ISO text. */
export function now(): string {
  return new Date().toISOString();
}

/** The instant `ms` after the current workflow time, as ISO text. */
export function afterMs(ms: number): string {
  return new Date(Date.now() + ms).toISOString();
}

/** Milliseconds from workflow time until `iso` (at least 1, so a timer is always valid). */
export function msUntil(iso: string): number {
  return Math.max(1, Date.parse(iso) - Date.now());
}
