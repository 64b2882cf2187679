import { TinkoffInvestApi } from 'tinkoff-invest-api';
import { SubscriptionInterval } from 'tinkoff-invest-api/dist/generated/marketdata.js';
const api = new TinkoffInvestApi({ token: 't.demo.full', endpoint: 'localhost:50999', appName: 'x' });
const t0 = Date.now();
const p = api.stream.market.candles({ instruments: [{ figi: '', instrumentId: 'e6123145-9665-43e0-8413-cd61b8aa9b13', interval: SubscriptionInterval.SUBSCRIPTION_INTERVAL_ONE_MINUTE }], waitingClose: false }, (c) => console.log('candle', c.time));
const r = await Promise.race([p.then(() => 'subscribed'), new Promise((res) => setTimeout(() => res('timeout'), 5000))]);
console.log(r, Date.now() - t0);
process.exit(0);
