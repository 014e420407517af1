export { createSandboxProvider, type SandboxIntent, type SandboxOptions, type SandboxProvider, type PayOutcome } from './provider';
export { createSandboxRouter, type SandboxRouterOptions } from './router';
export { SIGNATURE_HEADER, signWebhook, verifyWebhookSignature } from '../webhook-signature';
export type { WebhookEvent, WebhookEventType, WebhookTarget } from './webhooks';
export type { BehaviourInput } from './behaviours';
