import { issueToken } from '../../api/auth';

/**
 * The chaos run's HTTP client of the engine's API (the stable surface): bearer tokens for buyers, API
 * keys for the warehouse, support and admin. Retries what a restarting process or PostgreSQL outage
 * causes (connection refused, 502/503/504) for a bounded time; every call it retries is one the API
 * makes idempotent (Idempotency-Key, a shipment's or delivery's update id, or a repeat that answers 409 for "already done").
 */
export const CHAOS_API_KEYS = {
  warehouse: 'chaos-warehouse-key',
  carrier: 'chaos-carrier-key',
  support: 'chaos-support-key',
  admin: 'chaos-admin-key',
};
export const CHAOS_API_KEYS_ENV = `${CHAOS_API_KEYS.warehouse}=warehouse:wh_chaos@*,${CHAOS_API_KEYS.carrier}=carrier:carrier_chaos,${CHAOS_API_KEYS.support}=support:agent_chaos,${CHAOS_API_KEYS.admin}=admin:ops_chaos`;
export const CHAOS_JWT_SECRET = 'chaos-run-jwt-secret-0123456789';
export const CHAOS_WEBHOOK_SECRET = 'chaos-run-webhook-secret-0123456789';

export type Caller = { customer: string } | { apiKey: keyof typeof CHAOS_API_KEYS } | 'anonymous';

export interface Answer {
  status: number;
  /** The API's JSON, read field by field by the scenarios. */
  body: any;
}

export class ApiClient {
  readonly stats = { calls: 0, retries: 0, unavailable: 0 };
  /** 500 answers by route (`GET /orders/:id`): each was retried, since every call here is idempotent. */
  readonly internalErrors = new Map<string, number>();
  private readonly tokens = new Map<string, string>();

  constructor(private readonly baseUrl: string) {}

  async call(method: 'GET' | 'POST', path: string, caller: Caller, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const deadline = Date.now() + 240_000;
    for (let attempt = 1; ; attempt += 1) {
      this.stats.calls += 1;
      try {
        const response = await fetch(`${this.baseUrl}${path}`, {
          method,
          headers: { ...this.auth(caller), ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(150_000),
        });
        const text = await response.text();
        const answer = { status: response.status, body: text ? safeJson(text) : undefined };
        if (answer.status === 500) this.internalErrors.set(route(method, path), (this.internalErrors.get(route(method, path)) ?? 0) + 1);
        if (![500, 502, 503, 504].includes(answer.status) || Date.now() > deadline) return answer;
        this.stats.unavailable += 1;
      } catch (error) {
        if (Date.now() > deadline) throw new Error(`${method} ${path}: ${(error as Error).message}`);
      }
      this.stats.retries += 1;
      await sleep(Math.min(500 * attempt, 3_000));
    }
  }

  private auth(caller: Caller): Record<string, string> {
    if (caller === 'anonymous') return {};
    if ('apiKey' in caller) return { 'X-API-Key': CHAOS_API_KEYS[caller.apiKey] };
    let token = this.tokens.get(caller.customer);
    if (!token) {
      token = issueToken({ jwtSecret: CHAOS_JWT_SECRET, apiKeys: new Map() }, { role: 'customer', subject: caller.customer }, 2 * 3600);
      this.tokens.set(caller.customer, token);
    }
    return { Authorization: `Bearer ${token}` };
  }
}

/** `POST /orders/:id/cancel` from `/orders/ord_12/cancel`: ids folded so routes can be counted. */
function route(method: string, path: string): string {
  return `${method} ${path.split('?')[0].replace(/\/(ord_|pi_|evt_)[^/]+/g, '/:id').replace(/\/[^/]*-rf-[^/]+/g, '/:id')}`;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
