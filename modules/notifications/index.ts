export { CHANNELS, NOTIFIABLE_EVENT_TYPES, isNotifiable, type Channel, type NotifiableEventType } from './channels';
export { formatFen, formatInstant } from './format';
export { renderAll, type RenderContext, type RenderedMessage } from './templates';
export {
  createSandboxNotifier,
  createTencentCloudNotifier,
  type NotificationProvider,
  type OutgoingNotification,
  type SandboxNotifier,
  type TencentCloudNotifierSettings,
} from './provider';
export { createNotificationPreferences, preferencesUpdateSchema, type NotificationPreferences, type PreferencesUpdate } from './preferences';
export { createNotificationConsumer, type NotificationConsumerDeps } from './consumer';
