export { createAlipayProvider, outRequestNoFor, outTradeNoFor, PAID_TRADE_STATES, type AlipayOptions, type AlipayProvider } from './provider';
export { BILL_COLUMNS, parseTradeBill } from './bill';
export { parseAlipayNotification, type AlipayNotification } from './notification';
