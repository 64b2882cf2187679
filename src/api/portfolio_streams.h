/* OperationsStreamService wiring: the portfolio and positions streams attached to the engine.
 * Their subscribers live in the same stream hub as the order streams (kinds PORTFOLIO and
 * POSITIONS), so order_streams_shutdown() ends them too. */
#ifndef TINVESTD_API_PORTFOLIO_STREAMS_H
#define TINVESTD_API_PORTFOLIO_STREAMS_H

#include "engine/engine.h"
#include "stream/hub.h"

typedef struct portfolio_streams {
    stream_hub *hub;
    engine *engine;
} portfolio_streams;

/* Makes the engine copy, after each batch, the holdings of the accounts it changed that someone
 * follows, and hand the copies to the subscribers in `hub` once the batch is durable. */
void portfolio_streams_attach(portfolio_streams *ps, engine *e, stream_hub *hub);

#endif
