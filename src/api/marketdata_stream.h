/* MarketDataStreamService wiring: the market-data feed attached to the engine, and shutdown. */
#ifndef TINVESTD_API_MARKETDATA_STREAM_H
#define TINVESTD_API_MARKETDATA_STREAM_H

#include "engine/engine.h"
#include "feed/md_feed.h"
#include "stream/md_hub.h"

typedef struct marketdata_streams {
    md_hub *hub;
    md_feed feed;
    const refdata *refdata;
} marketdata_streams;

/* Makes the engine copy market data for the subscriptions in `hub` after each batch and hand it
 * to the streams once the batch is durable. Returns 0 or -ENOMEM. */
int marketdata_streams_attach(marketdata_streams *ms, engine *e, md_hub *hub);
void marketdata_streams_detach(marketdata_streams *ms);
/* Ends every open market-data stream with UNAVAILABLE. */
void marketdata_streams_shutdown(md_hub *hub);

#endif
