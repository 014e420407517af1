export * from './schemas';
export * from './campaign-schemas';
export * from './pricing';
export type { Coupon, CouponState, CouponTemplate, CouponOrderChange } from './coupons';
export { createMarketingService, type MarketingService, type MarketingServiceDeps, type Promotion, type Quote } from './service';
