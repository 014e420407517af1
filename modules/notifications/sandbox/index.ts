import type { NotificationProvider } from '../provider';

/**
 * The sandbox sends nothing: what would be sent is the notifications.sent row the consumer writes
 * with provider `sandbox` (recipient, template, parameters, text). Like the sandbox payment provider
 * it refuses to exist in production and is a development tool: production code reaches it only
 * through the computed path in infra/event-consumers.ts, so the production build can leave this
 * folder out (add it to DEV_TOOLS in scripts/build.mjs). `failNext(n)` makes the next n sends fail,
 * for tests of retries.
 */
export interface SandboxNotifier extends NotificationProvider {
  failNext(count: number): void;
}

export function createSandboxNotifier(options: { production: boolean }): SandboxNotifier {
  if (options.production) throw new Error('The sandbox notifier is never used in production: set NOTIFICATIONS_PROVIDER to a real provider or to disabled');
  let failures = 0;
  return {
    name: 'sandbox',
    failNext(count) {
      failures = count;
    },
    async send(notification) {
      if (failures > 0) {
        failures -= 1;
        throw new Error(`sandbox notifier: scripted failure for ${notification.key}`);
      }
      return { messageId: `sandbox:${notification.key}` };
    },
  };
}
