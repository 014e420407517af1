export { CHANNELS, NOTIFIABLE_EVENT_TYPES, isNotifiable, type Channel, type NotifiableEventType } from './channels';
export { formatFen, formatInstant } from './format';
export { renderAll, type RenderContext, type RenderedMessage } from './templates';
export { createTencentCloudNotifier, type NotificationProvider, type OutgoingNotification, type TencentCloudNotifierSettings } from './provider';
// The sandbox notifier is not re-exported: it is a development tool (modules/notifications/sandbox).
export { createNotificationPreferences, preferencesUpdateSchema, type NotificationPreferences, type PreferencesUpdate } from './preferences';
export { createNotificationConsumer, type NotificationConsumerDeps } from './consumer';
