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
 * Candles: after each batch the feed takes every candle the store says changed (and forgets the
 * changes of pairs nobody follows, so nothing piles up), and remembers per (instrument,
 * interval) the forming candle: its newest values, its last trade's time, when it was last sent
 * and whether it is closed. A forming candle is handed over at most once per
 * MD_FEED_CANDLE_INTERVAL_MS (its newest state); a candle closes when a trade opens a later one
 * or when the core's clock passes its end, and is then handed over once more, marked closed
 * (what waiting_close subscriptions get).
 *
 * Order books: one instrument's book is handed over at most once per MD_FEED_BOOK_INTERVAL_MS,
 * its newest state; a change held back leaves at the first batch after the interval, and the
 * feed asks the engine for such a batch (engine.md_due_ns), so it leaves even when nothing else
 * happens. */
#ifndef TINVESTD_FEED_MD_FEED_H
#define TINVESTD_FEED_MD_FEED_H

#include <stdbool.h>
#include <stdint.h>

#include "candles/candles.h"
#include "engine/engine.h"
#include "engine/venue_link.h"
#include "stream/md_hub.h"

/* The most prints one instrument hands over per batch; older ones of a larger burst are not
 * streamed (GetLastTrades still has them). */
#define MD_FEED_MAX_PRINTS_PER_BATCH 256
/* The least time between two order books of one instrument, as the real service sends them. */
#define MD_FEED_BOOK_INTERVAL_MS 100
/* The least time between two states of one forming candle (its close is sent at once). */
#define MD_FEED_CANDLE_INTERVAL_MS 300

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

/* Who a candle record is for. */
#define MD_CANDLE_FOR_LIVE 1u   /* subscriptions without waiting_close: every state */
#define MD_CANDLE_FOR_CLOSED 2u /* subscriptions with waiting_close: closed candles only */

typedef struct md_candle_record {
    uint32_t instrument;
    int32_t interval;  /* SubscriptionInterval */
    uint32_t audience; /* MD_CANDLE_FOR_* */
    candle candle;
    int64_t last_trade_ns;
} md_candle_record;

/* What the feed remembers of one (instrument, interval)'s newest candle. */
typedef struct md_candle_state {
    candle forming;
    int64_t last_trade_ns;
    int64_t sent_ns; /* when a state of it was last handed over */
    bool known;      /* `forming` holds a candle */
    bool dirty;      /* a change not handed over yet */
    bool closed;     /* its close was handed over (by the clock) */
} md_candle_state;

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
    md_candle_record *candles;
    uint32_t candle_count, candle_capacity;
} md_records;

typedef struct md_feed {
    md_hub *hub;
    engine *engine;
    uint32_t instrument_count;
    uint64_t *book_seen;      /* book change counter last looked at */
    uint64_t *prints_seen;    /* prints already handed over */
    int32_t *status_seen;     /* 0: not looked at yet */
    int64_t *book_sent_ns;    /* when the instrument's book was last handed over */
    bool *book_held;          /* a change of the book waits for its interval */
    md_candle_state *candles; /* instrument_count x MD_CANDLE_INTERVALS (index 0 unused) */
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
/* The instrument's forming candle of a SubscriptionInterval (the newest, if the core's clock has
 * not passed its end); false when there is none. */
bool md_feed_forming_candle(engine *e, uint32_t instrument_index, int32_t interval,
                            md_candle_record *out);
/* The candle store's interval of a SubscriptionInterval (1..13); -1 for any other value. */
int md_feed_store_interval(int32_t subscription_interval);

void md_feed_records_free(md_records *records);

#endif
