#include "feed/md_feed.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/refdata.h"

#define STATUS_NORMAL_TRADING 5
#define STATUS_NOT_AVAILABLE 1
/* The operator's halt (AdminService/HaltTrading): the exchange's break in trading. */
#define STATUS_BREAK_IN_TRADING 4
#define NS_PER_MS 1000000LL
/* Changes taken from the candle store at a time. */
#define CANDLE_CHANGES_CHUNK 64
/* Candles handed over closed at once for one (instrument, interval): those a batch's trades
 * passed over (a clock jump); older ones than this many are not streamed (GetCandles has them). */
#define CANDLES_CLOSED_PER_BATCH 16

/* SubscriptionInterval 1..13 -> the candle store's interval (CandleInterval - 1). */
static const candle_interval store_interval[MD_CANDLE_INTERVALS] = {
    [1] = CANDLE_1_MIN,  [2] = CANDLE_5_MIN,   [3] = CANDLE_15_MIN,  [4] = CANDLE_HOUR,
    [5] = CANDLE_DAY,    [6] = CANDLE_2_MIN,   [7] = CANDLE_3_MIN,   [8] = CANDLE_10_MIN,
    [9] = CANDLE_30_MIN, [10] = CANDLE_2_HOUR, [11] = CANDLE_4_HOUR, [12] = CANDLE_WEEK,
    [13] = CANDLE_MONTH,
};

int md_feed_store_interval(int32_t subscription_interval) {
    if (subscription_interval <= 0 || subscription_interval >= MD_CANDLE_INTERVALS)
        return -1;
    return (int)store_interval[subscription_interval];
}

/* The SubscriptionInterval of a store interval; 0 for those the stream does not offer. */
static int32_t subscription_interval_of(candle_interval interval) {
    for (int32_t k = 1; k < MD_CANDLE_INTERVALS; k++)
        if (store_interval[k] == interval)
            return k;
    return 0;
}

static const candle_store *store_of(engine *e) {
    return core_candles(engine_core(e));
}

static int64_t candle_end_ns(engine *e, int32_t interval, int64_t time_ns) {
    return candles_interval_end_ns(store_interval[interval], time_ns,
                                   store_of(e)->config.utc_offset_s);
}

/* The time of the candle's last trade as the exchange knows it: its last print when that falls
 * in the candle, else the candle's opening (a candle the exchange has printed past). */
static int64_t last_trade_in(engine *e, uint32_t ins, int32_t interval, const candle *c) {
    int64_t last_ns = venue_link_last_price_ns(engine_venue(e), ins);
    if (last_ns >= c->time_ns && last_ns < candle_end_ns(e, interval, c->time_ns))
        return last_ns;
    return c->time_ns;
}

int md_feed_init(md_feed *feed, md_hub *hub, engine *e) {
    memset(feed, 0, sizeof *feed);
    feed->hub = hub;
    feed->engine = e;
    feed->instrument_count = engine_core(e)->refdata->instrument_count;
    size_t n = feed->instrument_count ? feed->instrument_count : 1;
    feed->book_seen = calloc(n, sizeof *feed->book_seen);
    feed->prints_seen = calloc(n, sizeof *feed->prints_seen);
    feed->status_seen = calloc(n, sizeof *feed->status_seen);
    feed->book_sent_ns = calloc(n, sizeof *feed->book_sent_ns);
    feed->book_held = calloc(n, sizeof *feed->book_held);
    feed->candles = calloc(n * MD_CANDLE_INTERVALS, sizeof *feed->candles);
    if (feed->book_seen == NULL || feed->prints_seen == NULL || feed->status_seen == NULL ||
        feed->book_sent_ns == NULL || feed->book_held == NULL || feed->candles == NULL) {
        md_feed_deinit(feed);
        return -ENOMEM;
    }
    for (uint32_t i = 0; i < n; i++)
        feed->book_sent_ns[i] = INT64_MIN;
    /* The candles recovery rebuilt are history: their changes are dropped, and each pair's
     * newest candle is the forming one the stream goes on from (closed if its time is over). */
    candles_change drop[CANDLE_CHANGES_CHUNK];
    while (core_take_candle_changes(engine_core(e), drop, CANDLE_CHANGES_CHUNK) > 0)
        ;
    int64_t now = engine_now_ns(e);
    for (uint32_t i = 0; i < feed->instrument_count; i++) {
        for (int32_t k = 1; k < MD_CANDLE_INTERVALS; k++) {
            md_candle_state *st = &feed->candles[(size_t)i * MD_CANDLE_INTERVALS + (size_t)k];
            st->sent_ns = INT64_MIN;
            if (!candles_newest(store_of(e), i, store_interval[k], &st->forming))
                continue;
            st->known = true;
            st->closed = now >= candle_end_ns(e, k, st->forming.time_ns);
            st->last_trade_ns = engine_venue(e) != NULL ? last_trade_in(e, i, k, &st->forming)
                                                        : st->forming.time_ns;
        }
    }
    /* What the exchange printed before the feed started (restored prints) is history. */
    venue_link_trade ignored[1];
    for (uint32_t i = 0; i < feed->instrument_count; i++)
        venue_link_trades_after(engine_venue(e), i, 0, ignored, 0, &feed->prints_seen[i]);
    return 0;
}

void md_feed_deinit(md_feed *feed) {
    free(feed->book_seen);
    free(feed->prints_seen);
    free(feed->status_seen);
    free(feed->book_sent_ns);
    free(feed->book_held);
    free(feed->candles);
    feed->book_seen = NULL;
    feed->prints_seen = NULL;
    feed->status_seen = NULL;
    feed->book_sent_ns = NULL;
    feed->book_held = NULL;
    feed->candles = NULL;
}

void md_feed_records_free(md_records *records) {
    if (records == NULL)
        return;
    free(records->books);
    free(records->trades);
    free(records->prices);
    free(records->statuses);
    free(records->candles);
    free(records);
}

/* Room for one more element in a growing array; aborts when memory is gone (the core thread
 * cannot go on without it, as for every allocation of a batch). */
static void *grow(void *array, uint32_t count, uint32_t *capacity, size_t size) {
    if (count < *capacity)
        return array;
    uint32_t wanted = *capacity ? *capacity * 2 : 8;
    void *bigger = realloc(array, (size_t)wanted * size);
    if (bigger == NULL)
        abort();
    *capacity = wanted;
    return bigger;
}

void md_feed_book(engine *e, uint32_t instrument_index, md_book_record *out) {
    out->instrument = instrument_index;
    out->time_ns = engine_now_ns(e);
    venue_link_order_book(engine_venue(e), instrument_index, VENUE_LINK_MAX_DEPTH, &out->book);
}

void md_feed_last_price(engine *e, uint32_t instrument_index, md_price_record *out) {
    venue_link_book book;
    venue_link_order_book(engine_venue(e), instrument_index, 0, &book);
    *out = (md_price_record){.instrument = instrument_index,
                             .price_nano = book.last_price_nano,
                             .time_ns = book.last_price_ns};
}

void md_feed_status(engine *e, uint32_t instrument_index, md_status_record *out) {
    const instrument *ins = &engine_core(e)->refdata->instruments[instrument_index];
    bool trading = ins->trading_status == STATUS_NORMAL_TRADING &&
                   venue_link_trading(engine_venue(e), instrument_index);
    int32_t status = trading                                        ? STATUS_NORMAL_TRADING
                     : ins->trading_status != STATUS_NORMAL_TRADING ? ins->trading_status
                     : core_instrument_halted(engine_core(e), instrument_index)
                         ? STATUS_BREAK_IN_TRADING
                         : STATUS_NOT_AVAILABLE;
    *out = (md_status_record){.instrument = instrument_index,
                              .trading_status = status,
                              .trading = trading,
                              .time_ns = engine_now_ns(e)};
}

static md_records *records_of(md_records *r) {
    if (r != NULL)
        return r;
    r = calloc(1, sizeof *r);
    if (r == NULL)
        abort();
    return r;
}

/* The earliest time the feed wants the core thread to look again. */
static void due_at(md_feed *feed, int64_t when_ns) {
    if (when_ns < feed->engine->md_due_ns)
        feed->engine->md_due_ns = when_ns;
}

static md_records *collect_book(md_feed *feed, uint32_t i, md_records *r) {
    uint64_t version = venue_link_book_version(engine_venue(feed->engine), i);
    bool changed = version != feed->book_seen[i];
    feed->book_seen[i] = version;
    if (!md_hub_wanted(feed->hub, i, MD_KIND_ORDER_BOOK)) {
        feed->book_held[i] = false; /* a new subscription gets the book with its answer */
        return r;
    }
    if (!changed && !feed->book_held[i])
        return r;
    int64_t now = engine_now_ns(feed->engine);
    int64_t next = feed->book_sent_ns[i] == INT64_MIN
                       ? now
                       : feed->book_sent_ns[i] + MD_FEED_BOOK_INTERVAL_MS * NS_PER_MS;
    if (now < next) {
        feed->book_held[i] = true; /* the newest state leaves once the interval is over */
        due_at(feed, next);
        return r;
    }
    feed->book_held[i] = false;
    feed->book_sent_ns[i] = now;
    r = records_of(r);
    r->books = grow(r->books, r->book_count, &r->book_capacity, sizeof *r->books);
    md_feed_book(feed->engine, i, &r->books[r->book_count++]);
    return r;
}

static md_records *collect_prints(md_feed *feed, uint32_t i, md_records *r) {
    bool trades = md_hub_wanted(feed->hub, i, MD_KIND_TRADES);
    bool prices = md_hub_wanted(feed->hub, i, MD_KIND_LAST_PRICE);
    venue_link_trade prints[MD_FEED_MAX_PRINTS_PER_BATCH];
    uint64_t printed;
    uint32_t n =
        venue_link_trades_after(engine_venue(feed->engine), i, feed->prints_seen[i], prints,
                                trades ? MD_FEED_MAX_PRINTS_PER_BATCH : 1, &printed);
    bool fresh = printed != feed->prints_seen[i];
    feed->prints_seen[i] = printed;
    if (!fresh || n == 0 || (!trades && !prices))
        return r;
    r = records_of(r);
    for (uint32_t k = 0; trades && k < n; k++) {
        r->trades = grow(r->trades, r->trade_count, &r->trade_capacity, sizeof *r->trades);
        r->trades[r->trade_count++] = (md_trade_record){.instrument = i, .trade = prints[k]};
    }
    if (prices) {
        const venue_link_trade *last = &prints[n - 1];
        r->prices = grow(r->prices, r->price_count, &r->price_capacity, sizeof *r->prices);
        r->prices[r->price_count++] = (md_price_record){
            .instrument = i, .price_nano = last->price_nano, .time_ns = last->time_ns};
    }
    return r;
}

static md_records *collect_status(md_feed *feed, uint32_t i, md_records *r) {
    if (!md_hub_wanted(feed->hub, i, MD_KIND_INFO))
        return r;
    md_status_record status;
    md_feed_status(feed->engine, i, &status);
    int32_t seen = feed->status_seen[i];
    feed->status_seen[i] = status.trading_status;
    if (seen == 0 || seen == status.trading_status)
        return r; /* a new subscription got the status with its answer */
    r = records_of(r);
    r->statuses = grow(r->statuses, r->status_count, &r->status_capacity, sizeof *r->statuses);
    r->statuses[r->status_count++] = status;
    return r;
}

static md_records *add_candle(md_records *r, uint32_t ins, int32_t interval, uint32_t audience,
                              const candle *c, int64_t last_trade_ns) {
    r = records_of(r);
    r->candles = grow(r->candles, r->candle_count, &r->candle_capacity, sizeof *r->candles);
    r->candles[r->candle_count++] = (md_candle_record){.instrument = ins,
                                                       .interval = interval,
                                                       .audience = audience,
                                                       .candle = *c,
                                                       .last_trade_ns = last_trade_ns};
    return r;
}

static md_candle_state *candle_state(md_feed *feed, uint32_t ins, int32_t interval) {
    assert(ins < feed->instrument_count && interval > 0 && interval < MD_CANDLE_INTERVALS);
    return &feed->candles[(size_t)ins * MD_CANDLE_INTERVALS + (size_t)interval];
}

/* A trade opened a candle after the forming one: the forming candle and any the trades passed
 * over are closed. */
static md_records *close_passed(md_feed *feed, uint32_t i, int32_t k, md_candle_state *st,
                                int64_t opened_ns, md_records *r) {
    if (!st->closed) {
        candle final;
        /* The store's copy of the forming candle holds the trades of this batch too. */
        uint32_t n = candles_read(store_of(feed->engine), i, store_interval[k], st->forming.time_ns,
                                  st->forming.time_ns + 1, false, &final, 1);
        if (n == 1)
            st->forming = final;
        r = add_candle(r, i, k, MD_CANDLE_FOR_CLOSED | (st->dirty ? MD_CANDLE_FOR_LIVE : 0),
                       &st->forming, st->last_trade_ns);
    }
    candle passed[CANDLES_CLOSED_PER_BATCH];
    uint32_t n = candles_read(store_of(feed->engine), i, store_interval[k], st->forming.time_ns + 1,
                              opened_ns, true, passed, CANDLES_CLOSED_PER_BATCH);
    for (uint32_t m = 0; m < n; m++)
        r = add_candle(r, i, k, MD_CANDLE_FOR_CLOSED | MD_CANDLE_FOR_LIVE, &passed[m],
                       passed[m].time_ns);
    return r;
}

/* One change the store reported: the pair's forming candle moves on. */
static md_records *candle_changed(md_feed *feed, const candles_change *change, md_records *r) {
    int32_t k = subscription_interval_of(change->interval);
    if (k == 0)
        return r; /* an interval the stream does not offer (seconds) */
    uint32_t i = change->instrument;
    md_candle_state *st = candle_state(feed, i, k);
    bool wanted = md_hub_wanted_candles(feed->hub, i, k);
    if (st->known && change->candle.time_ns < st->forming.time_ns) {
        /* Not the forming candle (the exchange prints in time order, so this does not happen):
         * a correction of a candle already closed, sent to every subscription. */
        if (wanted)
            r = add_candle(r, i, k, MD_CANDLE_FOR_CLOSED | MD_CANDLE_FOR_LIVE, &change->candle,
                           change->candle.time_ns);
        return r;
    }
    if (st->known && change->candle.time_ns > st->forming.time_ns) {
        if (wanted)
            r = close_passed(feed, i, k, st, change->candle.time_ns, r);
        st->closed = false;
    }
    st->known = true;
    st->forming = change->candle;
    st->last_trade_ns = last_trade_in(feed->engine, i, k, &change->candle);
    st->dirty = true;
    return r;
}

/* Every pair followed: its forming candle's newest state once its interval allows, and its
 * close once the core's clock passes its end. */
static md_records *candles_due(md_feed *feed, uint32_t i, md_records *r) {
    bool any = md_hub_wanted(feed->hub, i, MD_KIND_CANDLES);
    int64_t now = engine_now_ns(feed->engine);
    for (int32_t k = 1; k < MD_CANDLE_INTERVALS; k++) {
        md_candle_state *st = candle_state(feed, i, k);
        if (!any || !md_hub_wanted_candles(feed->hub, i, k)) {
            st->dirty = false; /* a new subscription gets the forming candle with its answer */
            continue;
        }
        if (!st->known || st->closed)
            continue;
        int64_t end = candle_end_ns(feed->engine, k, st->forming.time_ns);
        if (now >= end) {
            r = add_candle(r, i, k, MD_CANDLE_FOR_CLOSED | (st->dirty ? MD_CANDLE_FOR_LIVE : 0),
                           &st->forming, st->last_trade_ns);
            st->closed = true;
            st->dirty = false;
            st->sent_ns = now;
            continue;
        }
        due_at(feed, end);
        if (!st->dirty)
            continue;
        int64_t next =
            st->sent_ns == INT64_MIN ? now : st->sent_ns + MD_FEED_CANDLE_INTERVAL_MS * NS_PER_MS;
        if (now < next) {
            due_at(feed, next);
            continue;
        }
        r = add_candle(r, i, k, MD_CANDLE_FOR_LIVE, &st->forming, st->last_trade_ns);
        st->dirty = false;
        st->sent_ns = now;
    }
    return r;
}

static md_records *collect_candles(md_feed *feed, md_records *r) {
    candles_change changes[CANDLE_CHANGES_CHUNK];
    uint32_t n;
    /* Every change is taken, followed or not, so the store's list never holds old ones. */
    while ((n = core_take_candle_changes(engine_core(feed->engine), changes,
                                         CANDLE_CHANGES_CHUNK)) > 0)
        for (uint32_t m = 0; m < n; m++)
            r = candle_changed(feed, &changes[m], r);
    for (uint32_t i = 0; i < feed->instrument_count; i++)
        r = candles_due(feed, i, r);
    return r;
}

bool md_feed_forming_candle(engine *e, uint32_t instrument_index, int32_t interval,
                            md_candle_record *out) {
    if (md_feed_store_interval(interval) < 0)
        return false;
    candle c;
    if (!candles_newest(store_of(e), instrument_index, store_interval[interval], &c))
        return false;
    if (engine_now_ns(e) >= candle_end_ns(e, interval, c.time_ns))
        return false; /* closed: nothing is forming */
    *out = (md_candle_record){
        .instrument = instrument_index,
        .interval = interval,
        .audience = MD_CANDLE_FOR_LIVE,
        .candle = c,
        .last_trade_ns =
            engine_venue(e) != NULL ? last_trade_in(e, instrument_index, interval, &c) : c.time_ns};
    return true;
}

void *md_feed_collect(md_feed *feed, void *pending) {
    md_records *r = pending;
    if (engine_venue(feed->engine) == NULL)
        return r;
    feed->engine->md_due_ns = INT64_MAX;
    for (uint32_t i = 0; i < feed->instrument_count; i++) {
        r = collect_book(feed, i, r);
        r = collect_prints(feed, i, r);
        r = collect_status(feed, i, r);
    }
    return collect_candles(feed, r);
}
