export * from './schemas';
export * from './campaign-schemas';
export * from './pricing';
export type { Coupon, CouponState, CouponTemplate, CouponOrderChange } from './coupons';
export { ACTIVE_PROMOTIONS_JSON, createMarketingService, promotionsFromJson, type MarketingService, type MarketingServiceDeps, type Promotion, type Quote } from './service';
