export { createAlipayProvider, outRequestNoFor, outTradeNoFor, PAID_TRADE_STATES, type AlipayOptions, type AlipayProvider } from './provider';
export { fenToYuan, yuanToFen } from './amount';
export { BILL_COLUMNS, fromBeijingTime, parseTradeBill, toBeijingTime } from './bill';
export { parseAlipayNotification, type AlipayNotification } from './notification';
