#include "feed/md_feed.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/refdata.h"

#define STATUS_NORMAL_TRADING 5
#define STATUS_NOT_AVAILABLE 1

int md_feed_init(md_feed *feed, md_hub *hub, engine *e) {
    memset(feed, 0, sizeof *feed);
    feed->hub = hub;
    feed->engine = e;
    feed->instrument_count = engine_core(e)->refdata->instrument_count;
    size_t n = feed->instrument_count ? feed->instrument_count : 1;
    feed->book_seen = calloc(n, sizeof *feed->book_seen);
    feed->prints_seen = calloc(n, sizeof *feed->prints_seen);
    feed->status_seen = calloc(n, sizeof *feed->status_seen);
    if (feed->book_seen == NULL || feed->prints_seen == NULL || feed->status_seen == NULL) {
        md_feed_deinit(feed);
        return -ENOMEM;
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
    feed->book_seen = NULL;
    feed->prints_seen = NULL;
    feed->status_seen = NULL;
}

void md_feed_records_free(md_records *records) {
    if (records == NULL)
        return;
    free(records->books);
    free(records->trades);
    free(records->prices);
    free(records->statuses);
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
    int32_t status = trading
                         ? STATUS_NORMAL_TRADING
                         : (ins->trading_status != STATUS_NORMAL_TRADING ? ins->trading_status
                                                                         : STATUS_NOT_AVAILABLE);
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

static md_records *collect_book(md_feed *feed, uint32_t i, md_records *r) {
    uint64_t version = venue_link_book_version(engine_venue(feed->engine), i);
    if (version == feed->book_seen[i] || !md_hub_wanted(feed->hub, i, MD_KIND_ORDER_BOOK)) {
        feed->book_seen[i] = version;
        return r;
    }
    feed->book_seen[i] = version;
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

void *md_feed_collect(md_feed *feed, void *pending) {
    md_records *r = pending;
    if (engine_venue(feed->engine) == NULL)
        return r;
    for (uint32_t i = 0; i < feed->instrument_count; i++) {
        r = collect_book(feed, i, r);
        r = collect_prints(feed, i, r);
        r = collect_status(feed, i, r);
    }
    return r;
}
