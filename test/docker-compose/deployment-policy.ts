import { readFileSync } from 'node:fs';
import type { ComposeFile, ComposeService } from './compose-file';

/**
 * The project's own rules for docker-compose.yml, beyond what the Compose schema can say. Each problem
 * is one line naming the service, so a failing test says what to fix.
 */

/** Secrets the deployment must be given: `${NAME:?message}` everywhere, never a default. */
export const REQUIRED_SECRETS = ['APP_DB_PASSWORD', 'TEMPORAL_DB_PASSWORD', 'JWT_SECRET', 'PAYMENT_WEBHOOK_SECRET', 'API_KEYS'];

/** Ports of a Temporal server (frontend gRPC and HTTP, history, matching, worker, membership). */
const TEMPORAL_PORTS = new Set([7233, 7234, 7235, 7239, 7243, 6933, 6934, 6935, 6939]);
const DEPRECATED_IMAGES = [/^temporalio\/auto-setup(:|@|$)/];
/** An exact version tag (at least major.minor, as `postgres:17.10` or `temporalio/server:1.31.0`) and/or a digest. */
const PINNED_IMAGE = /^[a-z0-9][a-z0-9._/-]*(:v?\d+\.\d+[\w.-]*)?(@sha256:[a-f0-9]{64})?$/;

export function deploymentProblems(config: ComposeFile): string[] {
  return Object.entries(config.services).flatMap(([name, service]) => [
    ...imageProblems(name, service),
    ...healthcheckProblems(name, service),
    ...portProblems(name, service),
  ]);
}

function imageProblems(name: string, service: ComposeService): string[] {
  if (service.build) return []; // built from this repository (its base images are checked in the Dockerfile)
  const image = service.image ?? '';
  if (DEPRECATED_IMAGES.some((pattern) => pattern.test(image))) return [`${name}: image ${image} is deprecated`];
  const pinned = PINNED_IMAGE.test(image) && (/:v?\d+\.\d+/.test(image) || image.includes('@sha256:'));
  return pinned ? [] : [`${name}: image "${image}" is not pinned to an exact version or digest`];
}

/** Every long-running service says when it is healthy; one-shot jobs (restart "no") end instead. */
function healthcheckProblems(name: string, service: ComposeService): string[] {
  if (service.restart === 'no') return [];
  const test = service.healthcheck?.test;
  const disabled = service.healthcheck?.disable === true || (Array.isArray(test) && test[0] === 'NONE');
  return test && !disabled ? [] : [`${name}: long-running service without a healthcheck`];
}

function portProblems(name: string, service: ComposeService): string[] {
  const temporalImage = /^temporalio\/(server|admin-tools|auto-setup)[:@]/.test(service.image ?? '');
  const databaseImage = /^postgres[:@]/.test(service.image ?? '');
  return publishedPorts(service).flatMap(({ hostIp, target }) => {
    if (temporalImage || TEMPORAL_PORTS.has(target)) return [`${name}: publishes Temporal port ${target} (unauthenticated; keep it inside the compose network)`];
    if (databaseImage) return [`${name}: publishes PostgreSQL port ${target}`];
    if (/^temporalio\/ui[:@]/.test(service.image ?? '') && hostIp !== '127.0.0.1') return [`${name}: publishes the Temporal UI beyond loopback`];
    return [];
  });
}

/** Published ports in either of Compose's forms: `[ip:]host:container[/proto]` strings or long mappings. */
export function publishedPorts(service: ComposeService): { hostIp?: string; published?: string; target: number }[] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') return { hostIp: port.host_ip, published: port.published?.toString(), target: Number(port.target) };
    const parts = String(port).split('/')[0].split(':');
    const target = Number(parts.pop());
    const published = parts.pop();
    return { hostIp: parts.pop(), published, target };
  });
}

/** Secrets read from the raw files: each one used, and only as `${NAME:?...}` (compose refuses to start without it). */
export function secretProblems(files: string[]): string[] {
  const text = files.map((file) => readFileSync(file, 'utf8')).join('\n');
  return REQUIRED_SECRETS.flatMap((name) => {
    const uses = [...text.matchAll(new RegExp(`\\$\\{${name}(\\W[^}]*)?\\}`, 'g'))];
    if (uses.length === 0) return [`${name}: never passed to a service`];
    return uses.filter((use) => !use[1]?.startsWith(':?')).map((use) => `${name}: ${use[0]} has a default; require it with \${${name}:?message}`);
  });
}
