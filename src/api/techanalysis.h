/* MarketDataService.GetTechAnalysis: the indicators of src/indicators over the candles of the
 * candle store.
 *
 * DESIGN: the handler checks the request without the core (api_request_tech_analysis), then one
 * job reads the candles on the core thread, which owns the candle store: its `run` only copies
 * them (the window and indicators_warmup() candles before it) into the call's memory; its
 * `finish`, after the batch is durable and off the core thread, computes the indicator from that
 * copy and encodes the reply. So the core thread spends a copy of at most
 * INDICATORS_MAX_CANDLES candles on a request, never the computation.
 *
 * The candle store's read is declared here and defined beside the other candle reads
 * (api/marketdata_service.c). */
#ifndef TINVESTD_API_TECHANALYSIS_H
#define TINVESTD_API_TECHANALYSIS_H

#include <stddef.h>
#include <stdint.h>

#include "api/call.h"
#include "engine/engine.h"
#include "indicators/indicators.h"

/* The candle store's read, on the core thread: copies into `out` (room for `max`), in strictly
 * ascending time, the latest `before` candles of instrument `instrument_index` at `interval`
 * (the contract's CandleInterval number, which equals the IndicatorInterval number) that start
 * before `from_ns`, followed by every candle that starts from `from_ns` to `to_ns` (the forming
 * candle included); at most `max` in all. Returns how many it copied. */
size_t api_candles_read(engine *e, uint32_t instrument_index, int32_t interval, int64_t from_ns,
                        int64_t to_ns, size_t before, indicator_candle *out, size_t max);

/* The GetTechAnalysis entry of MarketDataService, for the service tables. */
const api_method *api_techanalysis_methods(size_t *count);

#endif
