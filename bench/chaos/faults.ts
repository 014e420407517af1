import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { InjectedFault } from '../../workers/interceptors/fault-injection';
import type { Supervised } from './stack';

/**
 * The run's misbehaviour besides the activity fault injector (workers/interceptors): a webhook proxy
 * that duplicates and reorders the payment provider's webhooks, a worker killer, and the counts of
 * the faults the injector wrote to its log file.
 */

/** A seeded PRNG (mulberry32): the run's random choices are reproducible from its seed. */
export function seededRandom(seed: string): () => number {
  let state = 0;
  for (const char of seed) state = (Math.imul(state, 31) + char.charCodeAt(0)) | 0;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

export interface WebhookProxyStats {
  received: number;
  forwarded: number;
  duplicated: number;
  /** Deliveries that overtook an earlier one (the proxy held the earlier one longer). */
  reordered: number;
  forwardErrors: number;
}

export interface WebhookProxy {
  url: string;
  stats: WebhookProxyStats;
  close(): Promise<void>;
}

/**
 * Stands between the sandbox provider and the API's /payments/webhook (PUBLIC_BASE_URL points here):
 * each delivery is held a random 0..maxHoldMs before it is forwarded (so deliveries overtake each
 * other), answered with the API's own status (so the provider retries what the API refused), and
 * with probability `duplicateShare` forwarded a second time 0..maxDuplicateDelayMs later, signed
 * bytes untouched (the same event id, as a provider's at-least-once retry looks).
 */
export async function startWebhookProxy(options: {
  targetBaseUrl: () => string;
  random: () => number;
  maxHoldMs: number;
  duplicateShare: number;
  maxDuplicateDelayMs: number;
}): Promise<WebhookProxy> {
  const stats: WebhookProxyStats = { received: 0, forwarded: 0, duplicated: 0, reordered: 0, forwardErrors: 0 };
  const timers = new Set<NodeJS.Timeout>();
  let arrivals = 0;
  let lastForwardedArrival = 0;

  async function forward(path: string, headers: Record<string, string>, body: Buffer): Promise<{ status: number; body: Buffer }> {
    const response = await fetch(`${options.targetBaseUrl()}${path}`, { method: 'POST', headers, body, signal: AbortSignal.timeout(4_000) });
    return { status: response.status, body: Buffer.from(await response.arrayBuffer()) };
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (typeof value === 'string' && !['host', 'content-length', 'connection'].includes(name)) headers[name] = value;
      }
      const path = req.url ?? '/';
      const isWebhook = req.method === 'POST' && path.startsWith('/payments/webhook');
      const arrival = ++arrivals;
      if (isWebhook) stats.received += 1;
      const hold = isWebhook ? Math.floor(options.random() * options.maxHoldMs) : 0;
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (isWebhook && arrival < lastForwardedArrival) stats.reordered += 1;
        lastForwardedArrival = Math.max(lastForwardedArrival, arrival);
        forward(path, headers, body)
          .then((answer) => {
            stats.forwarded += 1;
            res.writeHead(answer.status, { 'content-type': 'application/json' }).end(answer.body);
            if (isWebhook && options.random() < options.duplicateShare) {
              const again = setTimeout(() => {
                timers.delete(again);
                stats.duplicated += 1;
                forward(path, headers, body).catch(() => (stats.forwardErrors += 1));
              }, Math.floor(options.random() * options.maxDuplicateDelayMs));
              timers.add(again);
            }
          })
          .catch(() => {
            stats.forwardErrors += 1;
            res.writeHead(502).end();
          });
      }, hold);
      timers.add(timer);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stats,
    async close() {
      for (const timer of timers) clearTimeout(timer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * SIGKILLs the worker minMs..maxMs after it became ready (so it always gets to work between kills,
 * however slowly it starts on a loaded machine); its supervisor restarts it. Until stopped.
 */
export function startWorkerKiller(worker: Supervised, random: () => number, minMs: number, maxMs: number) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const done = (async () => {
    while (!stopped) {
      await worker.ready();
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, minMs + Math.floor(random() * Math.max(0, maxMs - minMs)));
      });
      if (!stopped) worker.kill();
    }
  })();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      wake?.();
      await done;
    },
  };
}

export interface FaultCounts {
  total: number;
  before: number;
  after: number;
  byActivity: Record<string, number>;
}

/** What the injector logged (one JSON line per fault; a line cut short by a SIGKILL is skipped). */
export function readFaultLog(file: string): FaultCounts {
  const counts: FaultCounts = { total: 0, before: 0, after: 0, byActivity: {} };
  if (!existsSync(file)) return counts;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let fault: InjectedFault;
    try {
      fault = JSON.parse(line) as InjectedFault;
    } catch {
      continue;
    }
    counts.total += 1;
    counts[fault.phase] += 1;
    counts.byActivity[fault.activityType] = (counts.byActivity[fault.activityType] ?? 0) + 1;
  }
  return counts;
}
