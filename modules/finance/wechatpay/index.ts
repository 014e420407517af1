export {
  createWechatpayProvider,
  wechatOutRefundNoFor,
  wechatOutTradeNoFor,
  WECHATPAY_PAID_STATES,
  type WechatpayOptions,
  type WechatpayProvider,
  type WechatpayTransaction,
} from './provider';
