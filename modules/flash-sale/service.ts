import { createHash } from 'node:crypto';
import type { Pool } from 'pg';
import { systemClock, withTransaction, type Clock } from '../shared/db';
import { DomainError } from '../shared/errors';
import {
  admitSchema,
  confirmAdmissionSchema,
  openCampaignSchema,
  releaseAdmissionSchema,
  type AdmitInput,
  type ConfirmAdmissionInput,
  type OpenCampaignInput,
  type ReleaseAdmissionInput,
} from './schemas';

/*
 * Flash-sale (秒杀) admission. The hot path is one PostgreSQL statement (`flash_sale.admit`, see
 * db/migrations/0070_flash_sale.sql): the buyer's limit and one campaign unit are taken together, or
 * nothing is, and the admission record is written in the same transaction. Several API processes may
 * admit at once: PostgreSQL's row locks make the counter exact, never this process's memory.
 *
 * What this process keeps in memory only makes refusals cheap, it never admits anyone:
 * - the campaign's terms (window, price, limit), which do not change once the sale is open, so an
 *   attempt outside the window is refused without a query;
 * - a sold-out mark per campaign, set when PostgreSQL answered "sold out, 0 left". While it is fresh
 *   (`soldOutTtlMs`, 1 s by default) attempts are refused without any query. A unit given back (an
 *   unpaid order timing out, a cancel) re-opens the sale: when the mark is stale, one lock-free read of
 *   the counter (shared by every attempt arriving meanwhile) either renews it or lifts it, so a returned
 *   unit is on sale again within about `soldOutTtlMs`.
 *
 * Refusals are the expected outcome of a flash sale (thousands of losers per unit), so `admit` returns
 * them as values rather than throwing; the API turns them into 409 problems.
 */

export type RefusalReason = 'SOLD_OUT' | 'LIMIT_REACHED' | 'OUTSIDE_WINDOW' | 'NOT_OPEN';

export interface FlashCampaignTerms {
  campaignId: string;
  skuId: string;
  flashPriceFen: number;
  cap: number;
  perUserLimit: number;
  limitUnit: 'UNITS' | 'ORDERS';
  startsAt: Date;
  endsAt: Date;
}

export interface FlashCampaignState extends FlashCampaignTerms {
  taken: number;
  remaining: number;
}

export interface Admission {
  admissionId: string;
  orderId: string;
  campaignId: string;
  customerId: string;
  requestId: string;
  skuId: string;
  quantity: number;
  unitPriceFen: number;
  status: 'ADMITTED' | 'RELEASED';
  admittedAt: string;
  workflowStartedAt: string | null;
  releasedAt: string | null;
  releaseReason: string | null;
}

export type AdmissionResult =
  | { admitted: true; admission: Admission; /** the same request was admitted before */ repeated: boolean }
  | {
      admitted: false;
      reason: RefusalReason;
      message: string;
      /** answered from this process's memory, without a query */
      fast: boolean;
      remaining?: number;
      window?: { startsAt: string; endsAt: string };
      perUserLimit?: number;
      limitUnit?: 'UNITS' | 'ORDERS';
    };

export interface ReleaseOutcome {
  /** 'undone': given back now; 'already': released before; 'nothing': no such admission. */
  outcome: 'undone' | 'already' | 'nothing';
  admission?: Admission;
}

export interface FlashSaleServiceDeps {
  pool: Pool;
  clock?: Clock;
  /** How long a "sold out" answer from PostgreSQL is trusted before a cheap re-check (ms). */
  soldOutTtlMs?: number;
}

/** Admission and order ids come from the campaign, the buyer and the request: a retry finds the same ones. */
export function admissionIdsFor(campaignId: string, customerId: string, requestId: string): { admissionId: string; orderId: string } {
  const digest = createHash('sha256').update(`${campaignId}\n${customerId}\n${requestId}`).digest('hex').slice(0, 24);
  return { admissionId: `fsa_${digest}`, orderId: `ord_fs_${digest}` };
}

const ADMISSION_COLUMNS = `admission_id, order_id, campaign_id, customer_id, request_id, sku_id, quantity, unit_price_fen, status,
  admitted_at, workflow_started_at, released_at, release_reason`;

interface AdmissionRow {
  admission_id: string;
  order_id: string;
  campaign_id: string;
  customer_id: string;
  request_id: string;
  sku_id: string;
  quantity: number;
  unit_price_fen: string | number;
  status: 'ADMITTED' | 'RELEASED';
  admitted_at: Date;
  workflow_started_at: Date | null;
  released_at: Date | null;
  release_reason: string | null;
}

function toAdmission(row: AdmissionRow): Admission {
  return {
    admissionId: row.admission_id,
    orderId: row.order_id,
    campaignId: row.campaign_id,
    customerId: row.customer_id,
    requestId: row.request_id,
    skuId: row.sku_id,
    quantity: row.quantity,
    unitPriceFen: Number(row.unit_price_fen),
    status: row.status,
    admittedAt: row.admitted_at.toISOString(),
    workflowStartedAt: row.workflow_started_at?.toISOString() ?? null,
    releasedAt: row.released_at?.toISOString() ?? null,
    releaseReason: row.release_reason,
  };
}

interface CampaignRow {
  campaign_id: string;
  sku_id: string;
  flash_price_fen: string | number;
  cap: number;
  taken: number;
  per_user_limit: number;
  limit_unit: 'UNITS' | 'ORDERS';
  starts_at: Date;
  ends_at: Date;
}

function toState(row: CampaignRow): FlashCampaignState {
  return {
    campaignId: row.campaign_id,
    skuId: row.sku_id,
    flashPriceFen: Number(row.flash_price_fen),
    cap: row.cap,
    taken: row.taken,
    remaining: row.cap - row.taken,
    perUserLimit: row.per_user_limit,
    limitUnit: row.limit_unit,
    startsAt: row.starts_at,
    endsAt: row.ends_at,
  };
}

const CAMPAIGN_COLUMNS = 'campaign_id, sku_id, flash_price_fen, cap, taken, per_user_limit, limit_unit, starts_at, ends_at';

/** At most this many attempts in one admission transaction. */
const MAX_BATCH = 200;

interface BatchEntry {
  attempt: { admissionId: string; orderId: string; campaignId: string; customerId: string; requestId: string; quantity: number; now: string };
  resolve: (row: { outcome: string; remaining: number | null }) => void;
  reject: (error: unknown) => void;
}

export function createFlashSaleService(deps: FlashSaleServiceDeps) {
  const { pool } = deps;
  const clock = deps.clock ?? systemClock;
  const soldOutTtlMs = deps.soldOutTtlMs ?? 1_000;
  /** Terms of opened campaigns (immutable once open). */
  const terms = new Map<string, FlashCampaignTerms>();
  /** campaignId → until when (performance.now()) "sold out" is answered from memory. */
  const soldOutUntil = new Map<string, number>();
  /** One re-check of a stale sold-out mark at a time per campaign; later attempts share it. */
  const rechecks = new Map<string, Promise<number | undefined>>();

  async function getCampaignState(campaignId: string): Promise<FlashCampaignState | undefined> {
    const found = await pool.query<CampaignRow>(`SELECT ${CAMPAIGN_COLUMNS} FROM flash_sale.campaigns WHERE campaign_id = $1`, [campaignId]);
    return found.rows[0] ? toState(found.rows[0]) : undefined;
  }

  async function termsOf(campaignId: string): Promise<FlashCampaignTerms | undefined> {
    const known = terms.get(campaignId);
    if (known) return known;
    const state = await getCampaignState(campaignId);
    if (!state) return undefined;
    const { taken: _taken, remaining: _remaining, ...campaignTerms } = state;
    terms.set(campaignId, campaignTerms);
    return campaignTerms;
  }

  function markSoldOut(campaignId: string): void {
    soldOutUntil.set(campaignId, performance.now() + soldOutTtlMs);
  }

  /** Units left, by a lock-free read of the counter; renews or lifts the sold-out mark. */
  function recheck(campaignId: string): Promise<number | undefined> {
    let pending = rechecks.get(campaignId);
    if (!pending) {
      pending = pool
        .query<{ remaining: number }>('SELECT cap - taken AS remaining FROM flash_sale.campaigns WHERE campaign_id = $1', [campaignId])
        .then((found) => {
          const remaining = found.rows[0]?.remaining;
          if (remaining === 0) markSoldOut(campaignId);
          else soldOutUntil.delete(campaignId);
          return remaining;
        })
        .finally(() => rechecks.delete(campaignId));
      rechecks.set(campaignId, pending);
    }
    return pending;
  }

  function soldOut(campaignId: string, remaining: number, fast: boolean): AdmissionResult {
    return { admitted: false, reason: 'SOLD_OUT', message: `flash sale ${campaignId} is sold out`, fast, remaining };
  }

  /**
   * Request merging: per campaign, one call to PostgreSQL at a time from this process; attempts that
   * arrive meanwhile wait for it and then go together, in arrival order, through
   * `flash_sale.admit_many` (one transaction, one commit). An attempt alone goes at once.
   */
  const waiting = new Map<string, BatchEntry[]>();
  const flushing = new Set<string>();

  function admitInBatch(attempt: BatchEntry['attempt']): Promise<{ outcome: string; remaining: number | null }> {
    return new Promise((resolve, reject) => {
      const queue = waiting.get(attempt.campaignId) ?? [];
      waiting.set(attempt.campaignId, queue);
      queue.push({ attempt, resolve, reject });
      if (!flushing.has(attempt.campaignId)) void flush(attempt.campaignId);
    });
  }

  async function flush(campaignId: string): Promise<void> {
    flushing.add(campaignId);
    try {
      for (let queue = waiting.get(campaignId); queue && queue.length > 0; queue = waiting.get(campaignId)) {
        const batch = queue.splice(0, MAX_BATCH);
        try {
          const result = await pool.query<{ idx: number; outcome: string; remaining: number | null }>(
            'SELECT idx, outcome, remaining FROM flash_sale.admit_many($1::jsonb) ORDER BY idx',
            [JSON.stringify(batch.map((entry) => entry.attempt))],
          );
          batch.forEach((entry, index) => entry.resolve(result.rows[index]));
        } catch (error) {
          for (const entry of batch) entry.reject(error);
        }
      }
    } finally {
      flushing.delete(campaignId);
      waiting.delete(campaignId);
    }
  }

  async function findAdmission(admissionId: string): Promise<Admission | undefined> {
    const found = await pool.query<AdmissionRow>(`SELECT ${ADMISSION_COLUMNS} FROM flash_sale.admissions WHERE admission_id = $1`, [admissionId]);
    return found.rows[0] ? toAdmission(found.rows[0]) : undefined;
  }

  return {
    getCampaignState,
    findAdmission,

    /**
     * Sold out by this process's in-memory mark: answerable with no I/O at all (the hot path). A mark
     * past its time is re-checked in the background (one lock-free read, shared); until that read
     * lifts it, attempts are still refused, so no attempt ever waits for the re-check.
     */
    isKnownSoldOut(campaignId: string): boolean {
      const until = soldOutUntil.get(campaignId);
      if (until === undefined) return false;
      if (performance.now() >= until) void recheck(campaignId).catch(() => undefined);
      return true;
    },
    /** The terms of an opened campaign (cached in this process: they do not change once open). */
    getTerms: termsOf,

    /** Opens a campaign's admission with its terms (idempotent: the first terms win). */
    async openCampaign(input: OpenCampaignInput): Promise<FlashCampaignState> {
      const campaign = openCampaignSchema.parse(input);
      await pool.query(
        `INSERT INTO flash_sale.campaigns (campaign_id, sku_id, flash_price_fen, cap, per_user_limit, limit_unit, starts_at, ends_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (campaign_id) DO NOTHING`,
        [campaign.campaignId, campaign.skuId, campaign.flashPriceFen, campaign.cap, campaign.perUserLimit, campaign.limitUnit, campaign.startsAt, campaign.endsAt],
      );
      return (await getCampaignState(campaign.campaignId))!;
    },

    /**
     * Takes `quantity` units of the campaign and as much of the buyer's limit, atomically, and records
     * the admission (status ADMITTED, with the order id the order workflow will run under).
     */
    async admit(input: AdmitInput): Promise<AdmissionResult> {
      const { campaignId, customerId, quantity, requestId } = admitSchema.parse(input);
      const campaign = await termsOf(campaignId);
      if (!campaign) return { admitted: false, reason: 'NOT_OPEN', message: `flash sale ${campaignId} is not open`, fast: false };
      const now = clock();
      if (now < campaign.startsAt || now >= campaign.endsAt) {
        return {
          admitted: false,
          reason: 'OUTSIDE_WINDOW',
          message: `flash sale ${campaignId} runs from ${campaign.startsAt.toISOString()} to ${campaign.endsAt.toISOString()}`,
          fast: true,
          window: { startsAt: campaign.startsAt.toISOString(), endsAt: campaign.endsAt.toISOString() },
        };
      }
      const until = soldOutUntil.get(campaignId);
      if (until !== undefined) {
        if (performance.now() < until) return soldOut(campaignId, 0, true);
        if ((await recheck(campaignId)) === 0) return soldOut(campaignId, 0, true);
      }

      const { admissionId, orderId } = admissionIdsFor(campaignId, customerId, requestId);
      const { outcome, remaining } = await admitInBatch({ admissionId, orderId, campaignId, customerId, requestId, quantity, now: now.toISOString() });
      switch (outcome) {
        case 'ADMITTED':
          if (remaining === 0) markSoldOut(campaignId);
          return {
            admitted: true,
            repeated: false,
            admission: {
              admissionId,
              orderId,
              campaignId,
              customerId,
              requestId,
              skuId: campaign.skuId,
              quantity,
              unitPriceFen: campaign.flashPriceFen,
              status: 'ADMITTED',
              admittedAt: now.toISOString(),
              workflowStartedAt: null,
              releasedAt: null,
              releaseReason: null,
            },
          };
        case 'EXISTING': {
          const admission = await findAdmission(admissionId);
          if (!admission) throw new Error(`admission ${admissionId} reported as existing but not found`);
          return { admitted: true, repeated: true, admission };
        }
        case 'SOLD_OUT':
          if ((remaining ?? 0) <= 0) markSoldOut(campaignId);
          return soldOut(campaignId, remaining ?? 0, false);
        case 'LIMIT_REACHED':
          return {
            admitted: false,
            reason: 'LIMIT_REACHED',
            message: `at most ${campaign.perUserLimit} ${campaign.limitUnit === 'UNITS' ? 'units' : 'orders'} per buyer in flash sale ${campaignId}`,
            fast: false,
            perUserLimit: campaign.perUserLimit,
            limitUnit: campaign.limitUnit,
          };
        case 'OUTSIDE_WINDOW':
          return {
            admitted: false,
            reason: 'OUTSIDE_WINDOW',
            message: `flash sale ${campaignId} runs from ${campaign.startsAt.toISOString()} to ${campaign.endsAt.toISOString()}`,
            fast: false,
            window: { startsAt: campaign.startsAt.toISOString(), endsAt: campaign.endsAt.toISOString() },
          };
        default:
          return { admitted: false, reason: 'NOT_OPEN', message: `flash sale ${campaignId} is not open`, fast: false };
      }
    },

    /**
     * The order workflow's first step: its admission exists and still holds its units. An order never
     * runs without an admission; a released admission cannot be revived.
     */
    async confirmAdmission(input: ConfirmAdmissionInput): Promise<Admission> {
      const { admissionId, orderId } = confirmAdmissionSchema.parse(input);
      const admission = await findAdmission(admissionId);
      if (!admission || admission.orderId !== orderId) {
        throw new DomainError('ADMISSION_NOT_FOUND', `order ${orderId} has no flash-sale admission ${admissionId}`, { admissionId, orderId });
      }
      if (admission.status !== 'ADMITTED') {
        throw new DomainError('ADMISSION_RELEASED', `admission ${admissionId} was released (${admission.releaseReason ?? 'no reason'})`, {
          admissionId,
          orderId,
        });
      }
      return admission;
    },

    /**
     * Compensation of an admission (key: the admission id): the units go back to the campaign and to
     * the buyer's limit, once. The admission's status is the idempotency record: ADMITTED → RELEASED
     * happens once, a repeat is 'already', an unknown admission is 'nothing', and a released admission
     * is never admitted again (new attempts get new admissions). Locks are taken in admit's order
     * (buyer, then campaign) so the two never deadlock.
     */
    async releaseAdmission(input: ReleaseAdmissionInput): Promise<ReleaseOutcome> {
      const { idempotencyKey, reason } = releaseAdmissionSchema.parse(input);
      const outcome = await withTransaction(pool, async (client): Promise<ReleaseOutcome> => {
        const released = await client.query<AdmissionRow>(
          `UPDATE flash_sale.admissions SET status = 'RELEASED', released_at = $2, release_reason = $3
            WHERE admission_id = $1 AND status = 'ADMITTED' RETURNING ${ADMISSION_COLUMNS}`,
          [idempotencyKey, clock(), reason ?? 'order not completed'],
        );
        if (released.rowCount === 0) {
          const existing = await client.query<AdmissionRow>(`SELECT ${ADMISSION_COLUMNS} FROM flash_sale.admissions WHERE admission_id = $1`, [
            idempotencyKey,
          ]);
          return existing.rows[0] ? { outcome: 'already', admission: toAdmission(existing.rows[0]) } : { outcome: 'nothing' };
        }
        const admission = toAdmission(released.rows[0]);
        await client.query(
          `UPDATE flash_sale.buyers SET units = units - $3, orders = orders - 1 WHERE campaign_id = $1 AND customer_id = $2`,
          [admission.campaignId, admission.customerId, admission.quantity],
        );
        await client.query(`UPDATE flash_sale.campaigns SET taken = taken - $2 WHERE campaign_id = $1`, [admission.campaignId, admission.quantity]);
        return { outcome: 'undone', admission };
      });
      if (outcome.outcome === 'undone') soldOutUntil.delete(outcome.admission!.campaignId);
      return outcome;
    },

    /** What a buyer holds in a campaign now (admitted, not released). */
    async buyerHolding(campaignId: string, customerId: string): Promise<{ units: number; orders: number }> {
      const found = await pool.query<{ units: number; orders: number }>(
        'SELECT units, orders FROM flash_sale.buyers WHERE campaign_id = $1 AND customer_id = $2',
        [campaignId, customerId],
      );
      return found.rows[0] ?? { units: 0, orders: 0 };
    },

    /** Admitted buyers whose order workflow was not started (yet), admitted at least `minAgeMs` ago. */
    async admissionsWithoutWorkflow(options: { minAgeMs: number; limit?: number }): Promise<Admission[]> {
      const found = await pool.query<AdmissionRow>(
        `SELECT ${ADMISSION_COLUMNS} FROM flash_sale.admissions
          WHERE status = 'ADMITTED' AND workflow_started_at IS NULL AND admitted_at <= $1
          ORDER BY admitted_at LIMIT $2`,
        [new Date(clock().getTime() - options.minAgeMs), options.limit ?? 100],
      );
      return found.rows.map(toAdmission);
    },

    /** Records that the admission's order workflow exists. */
    async markWorkflowStarted(admissionId: string): Promise<void> {
      await pool.query(
        'UPDATE flash_sale.admissions SET workflow_started_at = $2 WHERE admission_id = $1 AND workflow_started_at IS NULL',
        [admissionId, clock()],
      );
    },

    async listAdmissions(campaignId: string): Promise<Admission[]> {
      const found = await pool.query<AdmissionRow>(
        `SELECT ${ADMISSION_COLUMNS} FROM flash_sale.admissions WHERE campaign_id = $1 ORDER BY admitted_at, admission_id`,
        [campaignId],
      );
      return found.rows.map(toAdmission);
    },
  };
}

export type FlashSaleService = ReturnType<typeof createFlashSaleService>;
