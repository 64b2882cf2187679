/* OrdersStreamService wiring: the stream fan-out attached to the engine, and shutdown. */
#ifndef TINVESTD_API_ORDER_STREAMS_H
#define TINVESTD_API_ORDER_STREAMS_H

#include "core/refdata.h"
#include "engine/engine.h"
#include "stream/hub.h"

typedef struct order_streams {
    stream_hub *hub;
    const refdata *refdata;
} order_streams;

/* Makes the engine hand committed order changes to the subscribers in `hub`. */
void order_streams_attach(order_streams *os, engine *e, stream_hub *hub);
/* Ends every open stream with UNAVAILABLE. */
void order_streams_shutdown(stream_hub *hub);

#endif
