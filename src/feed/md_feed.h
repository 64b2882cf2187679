/* The market-data feed: on the core thread, after each batch, copies what changed for the
 * instruments someone follows into plain records; they leave with the batch once it is durable.
 *
 * DESIGN: the core thread owns the venue, so it is the one that looks, and only at instruments
 * with subscribers (md_hub_wanted, no lock). It copies, never encodes: a book's top levels when
 * the book's change counter moved, every print since the last look (and the last price they
 * leave), a trading status that changed. Encoding and fan-out happen on the thread that releases
 * the batch, once per message for every subscriber (src/api/marketdata_stream.c). Market data is
 * released like every other stream message, after the batch's events are durable: prints are
 * the broker's trades and quotes the market maker's journaled moves, and a client must never
 * see a print that a crash would take back. Nothing here is state: after a restart the feed
 * starts from what the restored exchange shows.
 *
 * Candles: the candle store will say which candles changed; its records join these (a kind of
 * record of their own) and the subscriptions for them are kept and checked already (md_hub). */
#ifndef TINVESTD_FEED_MD_FEED_H
#define TINVESTD_FEED_MD_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include "engine/engine.h"
#include "engine/venue_link.h"
#include "stream/md_hub.h"

/* The most prints one instrument hands over per batch; older ones of a larger burst are not
 * streamed (GetLastTrades still has them). */
#define MD_FEED_MAX_PRINTS_PER_BATCH 256

typedef struct md_book_record {
    uint32_t instrument;
    int64_t time_ns;
    venue_link_book book; /* the top levels (every depth a subscriber may ask for) */
} md_book_record;

typedef struct md_trade_record {
    uint32_t instrument;
    venue_link_trade trade;
} md_trade_record;

typedef struct md_price_record {
    uint32_t instrument;
    int64_t price_nano, time_ns;
} md_price_record;

typedef struct md_status_record {
    uint32_t instrument;
    int32_t trading_status; /* SecurityTradingStatus */
    bool trading;
    int64_t time_ns;
} md_status_record;

/* One batch's market data; freed by md_feed_records_free. */
typedef struct md_records {
    md_book_record *books;
    uint32_t book_count, book_capacity;
    md_trade_record *trades;
    uint32_t trade_count, trade_capacity;
    md_price_record *prices;
    uint32_t price_count, price_capacity;
    md_status_record *statuses;
    uint32_t status_count, status_capacity;
} md_records;

typedef struct md_feed {
    md_hub *hub;
    engine *engine;
    uint32_t instrument_count;
    uint64_t *book_seen;   /* book change counter last looked at */
    uint64_t *prints_seen; /* prints already handed over */
    int32_t *status_seen;  /* 0: not looked at yet */
} md_feed;

int md_feed_init(md_feed *feed, md_hub *hub, engine *e);
void md_feed_deinit(md_feed *feed);

/* What the engine's md_collect does (core thread): adds this batch's records to `pending`
 * (NULL: none yet) and returns them, or NULL when there is nothing. */
void *md_feed_collect(md_feed *feed, void *pending);

/* The current state of one instrument, for a new subscription's first messages (core thread). */
void md_feed_book(engine *e, uint32_t instrument_index, md_book_record *out);
void md_feed_last_price(engine *e, uint32_t instrument_index, md_price_record *out);
void md_feed_status(engine *e, uint32_t instrument_index, md_status_record *out);

void md_feed_records_free(md_records *records);

#endif
