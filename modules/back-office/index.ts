export { orderSearchSchema, searchOrders, type OrderSearch, type OrderSearchRow } from './orders-search';
export { refundSearchSchema, searchRefunds, type RefundSearch } from './refunds-search';
