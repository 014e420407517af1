import { defineUpdate } from '@temporalio/workflow';
import type { OrderView, PlaceOrderInput } from './definitions';

/**
 * The presale order's own messages and input (shared by workflow and API; definitions only).
 * The campaign's terms are copied into the workflow's input when the deposit is placed: the order
 * runs on the terms the buyer accepted, and the workflow needs no lookup to stay deterministic.
 */
export interface PresaleTerms {
  campaignId: string;
  skuId: string;
  presalePriceFen: number;
  depositFen: number;
  /** 定金膨胀: what a deposit counts for against the price; equals depositFen without inflation. */
  depositValueFen: number;
  depositRefundable: boolean;
  /** ISO instants. */
  depositStart: string;
  depositEnd: string;
  finalStart: string;
  finalEnd: string;
}

export interface PresaleOrderInput extends PlaceOrderInput {
  presale: PresaleTerms;
}

export interface FinalPaymentRequest {
  /** Coupons apply to the final payment only. */
  couponId?: string;
}

/**
 * Opens the final payment (window open): prices it (presale price − deposit value − coupon), locks
 * the coupon and creates the second payment intent. Repeating it answers the same intent.
 */
export const requestFinalPaymentUpdate = defineUpdate<OrderView, [FinalPaymentRequest]>('requestFinalPayment');
