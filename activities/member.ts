import type { ActivityDeps } from './deps';

/** Activities of the member module: thin wrappers over its service (see modules/README.md). */
export function createMemberActivities(_deps: ActivityDeps) {
  return {};
}

export type MemberActivities = ReturnType<typeof createMemberActivities>;
