/* MarketDataStreamService: MarketDataStream (bidirectional) and MarketDataServerSideStream.
 *
 * DESIGN: a stream's requests are read one at a time on the transport thread; each subscription
 * request becomes a job for the core thread, which changes the stream's subscriptions in the hub
 * (so that they take effect between two batches) and copies the current state of what was
 * subscribed (order book, last price, trading status) for the first messages. The job is
 * answered once its batch is released: the subscription response, then those first messages;
 * then the next request is read. Market data itself comes from the feed (src/feed): each
 * batch's records are encoded here on the releasing thread, once per message (an order book
 * once per depth and book type that someone follows), and the same bytes are queued to every
 * subscriber (gRPC slices are reference counted). Order books and last prices are conflated in a
 * subscriber's queue: a newer one replaces the one of the same subscription that has not left
 * yet. A subscriber whose queue still fills up is cut off (api/stream_call.c). */
#include "api/marketdata_stream.h"

#include <grpc/byte_buffer_reader.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/pb.h"
#include "api/request.h"
#include "api/server.h"
#include "api/services.h"
#include "api/stream_call.h"
#include "util/clock.h"
#include "util/money.h"

#define DEFAULT_PING_MS 120000
#define TRADE_SOURCE_EXCHANGE 1
#define TRADE_SOURCE_DEALER 2
#define LAST_PRICE_EXCHANGE 1
#define CANDLE_SOURCE_EXCHANGE 1
#define CANDLE_SOURCE_INCLUDE_WEEKEND 3

typedef struct md_stream {
    md_subscriber sub; /* must stay first: the hub hands it back to the fan-out */
    api_server *server;
    md_hub *hub;
    api_stream *stream;
    const token *token;
    pthread_mutex_t lock;
    int refs; /* the stream's close, a request being read, each job in flight */
    grpc_byte_buffer *payload;
    api_tag recv_tag;
} md_stream;

typedef struct md_entry {
    md_item item;
    const char *asked; /* the id as the client sent it */
    md_status status;
    char id[UUID_TEXT_SIZE];
    bool first; /* a first message was copied for it */
} md_entry;

typedef struct md_job {
    engine_job base;
    md_stream *md;
    md_kind kind;
    bool list; /* GetMySubscriptions */
    int action;
    int32_t trade_source;
    bool waiting_close, with_open_interest, has_candle_source;
    int32_t candle_source;
    bool read_next;
    uint32_t n;
    md_entry *entries;
    md_book_record *books;     /* per entry, order book subscriptions */
    md_price_record *prices;   /* per entry, last price subscriptions */
    md_status_record *infos;   /* per entry, trading status subscriptions */
    md_candle_record *candles; /* per entry, candle subscriptions */
    md_sub *listed;
    uint32_t listed_count;
    char tracking_id[UUID_TEXT_SIZE];
} md_job;

static const refdata *refdata_of(const md_stream *md) {
    return &md->server->config->refdata;
}

static grpc_slice pack(const ProtobufCMessage *msg) {
    size_t size = protobuf_c_message_get_packed_size(msg);
    grpc_slice slice = grpc_slice_malloc(size);
    protobuf_c_message_pack(msg, GRPC_SLICE_START_PTR(slice));
    return slice;
}

static void set_time(Google__Protobuf__Timestamp *t, int64_t time_ns) {
    t->seconds = time_ns / 1000000000;
    t->nanos = (int32_t)(time_ns % 1000000000);
    if (t->nanos < 0) {
        t->nanos += 1000000000;
        t->seconds--;
    }
}

static void set_quotation(PB(Quotation) * q, int64_t value_nano) {
    int64_t units;
    int32_t nano;
    money_to_units_nano(value_nano, &units, &nano);
    q->units = units;
    q->nano = nano;
}

/* ---- Lifetime ------------------------------------------------------------------------------- */

static void md_ref(md_stream *md) {
    pthread_mutex_lock(&md->lock);
    md->refs++;
    pthread_mutex_unlock(&md->lock);
}

static void md_unref(md_stream *md) {
    pthread_mutex_lock(&md->lock);
    bool last = --md->refs == 0;
    pthread_mutex_unlock(&md->lock);
    if (!last)
        return;
    if (md->payload != NULL)
        grpc_byte_buffer_destroy(md->payload);
    api_stream_release(md->stream);
    pthread_mutex_destroy(&md->lock);
    free(md);
}

static void on_stream_closed(api_stream *stream) {
    md_stream *md = stream->owner;
    md_hub_remove(md->hub, &md->sub);
    md_unref(md);
}

/* ---- Messages ------------------------------------------------------------------------------- */

static grpc_slice encode_ping(api_stream *stream, int64_t now_ns,
                              const Google__Protobuf__Timestamp *asked) {
    Google__Protobuf__Timestamp time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    set_time(&time, now_ns);
    PB(Ping) ping = PB_INIT(PING);
    ping.time = &time;
    ping.stream_id = stream->stream_id;
    ping.ping_request_time = (Google__Protobuf__Timestamp *)asked;
    PB(MarketDataResponse) msg = PB_INIT(MARKET_DATA_RESPONSE);
    msg.payload_case = PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_PING);
    msg.ping = &ping;
    return pack(&msg.base);
}

static grpc_slice md_ping(api_stream *stream, int64_t now_ns) {
    return encode_ping(stream, now_ns, NULL);
}

static grpc_slice encode_book(const instrument *ins, const md_book_record *r, int32_t depth,
                              int32_t book_type) {
    PB(Order) bid_orders[VENUE_LINK_MAX_DEPTH], ask_orders[VENUE_LINK_MAX_DEPTH];
    PB(Order) * bids[VENUE_LINK_MAX_DEPTH], *asks[VENUE_LINK_MAX_DEPTH];
    PB(Quotation) bid_prices[VENUE_LINK_MAX_DEPTH], ask_prices[VENUE_LINK_MAX_DEPTH];
    PB(OrderBook) book = PB_INIT(ORDER_BOOK);
    uint32_t want = (uint32_t)depth;
    for (uint32_t i = 0; i < want && i < r->book.bid_count; i++) {
        bid_orders[i] = (PB(Order))PB_INIT(ORDER);
        bid_prices[i] = (PB(Quotation))PB_INIT(QUOTATION);
        set_quotation(&bid_prices[i], r->book.bids[i].price_nano);
        bid_orders[i].price = &bid_prices[i];
        bid_orders[i].quantity = r->book.bids[i].qty_lots;
        bids[book.n_bids++] = &bid_orders[i];
    }
    for (uint32_t i = 0; i < want && i < r->book.ask_count; i++) {
        ask_orders[i] = (PB(Order))PB_INIT(ORDER);
        ask_prices[i] = (PB(Quotation))PB_INIT(QUOTATION);
        set_quotation(&ask_prices[i], r->book.asks[i].price_nano);
        ask_orders[i].price = &ask_prices[i];
        ask_orders[i].quantity = r->book.asks[i].qty_lots;
        asks[book.n_asks++] = &ask_orders[i];
    }
    Google__Protobuf__Timestamp time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    PB(Quotation) up = PB_INIT(QUOTATION), down = PB_INIT(QUOTATION);
    set_time(&time, r->time_ns);
    set_quotation(&up, r->book.limit_up_nano);
    set_quotation(&down, r->book.limit_down_nano);
    book.figi = (char *)ins->figi;
    book.depth = depth;
    book.is_consistent = true; /* the exchange is in the process: every order is in the book */
    book.bids = bids;
    book.asks = asks;
    book.time = &time;
    book.limit_up = &up;
    book.limit_down = &down;
    book.instrument_uid = (char *)ins->uid;
    book.order_book_type = book_type;
    book.ticker = (char *)ins->ticker;
    book.class_code = (char *)ins->class_code;
    PB(MarketDataResponse) msg = PB_INIT(MARKET_DATA_RESPONSE);
    msg.payload_case = PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_ORDERBOOK);
    msg.orderbook = &book;
    return pack(&msg.base);
}

static grpc_slice encode_trade(const instrument *ins, const venue_link_trade *t) {
    Google__Protobuf__Timestamp time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    PB(Quotation) price = PB_INIT(QUOTATION);
    set_time(&time, t->time_ns);
    set_quotation(&price, t->price_nano);
    PB(Trade) trade = PB_INIT(TRADE);
    trade.figi = (char *)ins->figi;
    trade.direction = t->direction;
    trade.price = &price;
    trade.quantity = t->qty_lots;
    trade.time = &time;
    trade.instrument_uid = (char *)ins->uid;
    trade.trade_source = TRADE_SOURCE_EXCHANGE;
    trade.ticker = (char *)ins->ticker;
    trade.class_code = (char *)ins->class_code;
    PB(MarketDataResponse) msg = PB_INIT(MARKET_DATA_RESPONSE);
    msg.payload_case = PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_TRADE);
    msg.trade = &trade;
    return pack(&msg.base);
}

static grpc_slice encode_last_price(const instrument *ins, const md_price_record *r) {
    Google__Protobuf__Timestamp time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    PB(Quotation) price = PB_INIT(QUOTATION);
    set_time(&time, r->time_ns);
    set_quotation(&price, r->price_nano);
    PB(LastPrice) last = PB_INIT(LAST_PRICE);
    last.figi = (char *)ins->figi;
    last.price = &price;
    last.time = &time;
    last.ticker = (char *)ins->ticker;
    last.class_code = (char *)ins->class_code;
    last.instrument_uid = (char *)ins->uid;
    last.last_price_type = LAST_PRICE_EXCHANGE;
    PB(MarketDataResponse) msg = PB_INIT(MARKET_DATA_RESPONSE);
    msg.payload_case = PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_LAST_PRICE);
    msg.last_price = &last;
    return pack(&msg.base);
}

static grpc_slice encode_status(const instrument *ins, const md_status_record *r) {
    Google__Protobuf__Timestamp time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    set_time(&time, r->time_ns);
    PB(TradingStatus) status = PB_INIT(TRADING_STATUS);
    status.figi = (char *)ins->figi;
    status.trading_status = r->trading_status;
    status.time = &time;
    status.limit_order_available_flag = r->trading;
    status.market_order_available_flag = r->trading;
    status.instrument_uid = (char *)ins->uid;
    status.ticker = (char *)ins->ticker;
    status.class_code = (char *)ins->class_code;
    PB(MarketDataResponse) msg = PB_INIT(MARKET_DATA_RESPONSE);
    msg.payload_case = PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_TRADING_STATUS);
    msg.trading_status = &status;
    return pack(&msg.base);
}

/* A candle as the stream sends it; `source` is the subscription's CandleSource (0: exchange). */
static grpc_slice encode_candle(const instrument *ins, const md_candle_record *r, int32_t source) {
    Google__Protobuf__Timestamp time = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    Google__Protobuf__Timestamp last_trade = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    PB(Quotation)
    open = PB_INIT(QUOTATION), high = PB_INIT(QUOTATION), low = PB_INIT(QUOTATION),
    close = PB_INIT(QUOTATION);
    set_time(&time, r->candle.time_ns);
    set_time(&last_trade, r->last_trade_ns);
    set_quotation(&open, r->candle.open_nano);
    set_quotation(&high, r->candle.high_nano);
    set_quotation(&low, r->candle.low_nano);
    set_quotation(&close, r->candle.close_nano);
    PB(Candle) c = PB_INIT(CANDLE);
    c.figi = (char *)ins->figi;
    c.interval = r->interval;
    c.open = &open;
    c.high = &high;
    c.low = &low;
    c.close = &close;
    c.volume = r->candle.volume_lots;
    c.time = &time;
    c.last_trade_ts = &last_trade;
    c.instrument_uid = (char *)ins->uid;
    c.ticker = (char *)ins->ticker;
    c.class_code = (char *)ins->class_code;
    c.volume_buy = r->candle.volume_buy_lots;
    c.volume_sell = r->candle.volume_sell_lots;
    c.candle_source_type = source != 0 ? source : CANDLE_SOURCE_EXCHANGE;
    PB(MarketDataResponse) msg = PB_INIT(MARKET_DATA_RESPONSE);
    msg.payload_case = PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_CANDLE);
    msg.candle = &c;
    return pack(&msg.base);
}

/* ---- Subscription responses ----------------------------------------------------------------- */

/* What a subscription entry reports about its instrument: the instrument's own ids when found,
 * else the id the client sent back as the figi (so the client can match the answer). */
typedef struct entry_ids {
    char *figi, *uid, *ticker, *class_code;
} entry_ids;

static entry_ids ids_of(const refdata *rd, const md_entry *e) {
    if (e->item.instrument == MD_NO_INSTRUMENT || e->item.instrument >= rd->instrument_count)
        return (entry_ids){(char *)e->asked, "", "", ""};
    const instrument *ins = &rd->instruments[e->item.instrument];
    return (entry_ids){(char *)ins->figi, (char *)ins->uid, (char *)ins->ticker,
                       (char *)ins->class_code};
}

/* The fields every kind's subscription message shares, under the same names. */
#define FILL_SUBSCRIPTION(sub, ids, entry, stream_id_, action_)                                    \
    do {                                                                                           \
        (sub).figi = (ids).figi;                                                                   \
        (sub).instrument_uid = (ids).uid;                                                          \
        (sub).ticker = (ids).ticker;                                                               \
        (sub).class_code = (ids).class_code;                                                       \
        (sub).subscription_status = (int)(entry).status;                                           \
        (sub).stream_id = (stream_id_);                                                            \
        (sub).subscription_id = (char *)(entry).id;                                                \
        (sub).subscription_action = (action_);                                                     \
    } while (0)

/* One response per request: each entry's status, in the kind's own message. `entries` may also
 * be the stream's subscriptions (GetMySubscriptions), with `action` SUBSCRIBE. */
static grpc_slice encode_response(const md_stream *md, md_kind kind, const md_entry *entries,
                                  uint32_t n, int action, const md_job *job,
                                  const char *tracking_id) {
    const refdata *rd = refdata_of(md);
    char *stream_id = (char *)md->stream->stream_id;
    PB(MarketDataResponse) msg = PB_INIT(MARKET_DATA_RESPONSE);
    void **items = calloc(n ? n : 1, sizeof(void *));
    void *storage = NULL;
    if (items == NULL)
        abort();
    grpc_slice out;
    switch (kind) {
    case MD_KIND_CANDLES: {
        PB(CandleSubscription) *subs = storage = calloc(n ? n : 1, sizeof *subs);
        if (subs == NULL)
            abort();
        for (uint32_t i = 0; i < n; i++) {
            entry_ids ids = ids_of(rd, &entries[i]);
            subs[i] = (PB(CandleSubscription))PB_INIT(CANDLE_SUBSCRIPTION);
            FILL_SUBSCRIPTION(subs[i], ids, entries[i], stream_id, action);
            subs[i].interval = entries[i].item.interval;
            subs[i].waiting_close = entries[i].item.waiting_close;
            if (entries[i].item.source != 0) {
                subs[i]._candle_source_type_case =
                    PB_ENUM(CANDLE_SUBSCRIPTION___CANDLE_SOURCE_TYPE_CANDLE_SOURCE_TYPE);
                subs[i].candle_source_type = entries[i].item.source;
            }
            items[i] = &subs[i];
        }
        PB(SubscribeCandlesResponse) r = PB_INIT(SUBSCRIBE_CANDLES_RESPONSE);
        r.tracking_id = (char *)tracking_id;
        r.candles_subscriptions = (PB(CandleSubscription) **)items;
        r.n_candles_subscriptions = n;
        msg.payload_case = PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_SUBSCRIBE_CANDLES_RESPONSE);
        msg.subscribe_candles_response = &r;
        out = pack(&msg.base);
        break;
    }
    case MD_KIND_ORDER_BOOK: {
        PB(OrderBookSubscription) *subs = storage = calloc(n ? n : 1, sizeof *subs);
        if (subs == NULL)
            abort();
        for (uint32_t i = 0; i < n; i++) {
            entry_ids ids = ids_of(rd, &entries[i]);
            subs[i] = (PB(OrderBookSubscription))PB_INIT(ORDER_BOOK_SUBSCRIPTION);
            FILL_SUBSCRIPTION(subs[i], ids, entries[i], stream_id, action);
            subs[i].depth = entries[i].item.depth;
            subs[i].order_book_type = entries[i].item.book_type;
            items[i] = &subs[i];
        }
        PB(SubscribeOrderBookResponse) r = PB_INIT(SUBSCRIBE_ORDER_BOOK_RESPONSE);
        r.tracking_id = (char *)tracking_id;
        r.order_book_subscriptions = (PB(OrderBookSubscription) **)items;
        r.n_order_book_subscriptions = n;
        msg.payload_case = PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_SUBSCRIBE_ORDER_BOOK_RESPONSE);
        msg.subscribe_order_book_response = &r;
        out = pack(&msg.base);
        break;
    }
    case MD_KIND_TRADES: {
        PB(TradeSubscription) *subs = storage = calloc(n ? n : 1, sizeof *subs);
        if (subs == NULL)
            abort();
        for (uint32_t i = 0; i < n; i++) {
            entry_ids ids = ids_of(rd, &entries[i]);
            subs[i] = (PB(TradeSubscription))PB_INIT(TRADE_SUBSCRIPTION);
            FILL_SUBSCRIPTION(subs[i], ids, entries[i], stream_id, action);
            subs[i].with_open_interest = entries[i].item.with_open_interest;
            items[i] = &subs[i];
        }
        PB(SubscribeTradesResponse) r = PB_INIT(SUBSCRIBE_TRADES_RESPONSE);
        r.tracking_id = (char *)tracking_id;
        r.trade_subscriptions = (PB(TradeSubscription) **)items;
        r.n_trade_subscriptions = n;
        r.trade_source = job != NULL ? job->trade_source : (n ? entries[0].item.source : 0);
        msg.payload_case = PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_SUBSCRIBE_TRADES_RESPONSE);
        msg.subscribe_trades_response = &r;
        out = pack(&msg.base);
        break;
    }
    case MD_KIND_INFO: {
        PB(InfoSubscription) *subs = storage = calloc(n ? n : 1, sizeof *subs);
        if (subs == NULL)
            abort();
        for (uint32_t i = 0; i < n; i++) {
            entry_ids ids = ids_of(rd, &entries[i]);
            subs[i] = (PB(InfoSubscription))PB_INIT(INFO_SUBSCRIPTION);
            FILL_SUBSCRIPTION(subs[i], ids, entries[i], stream_id, action);
            items[i] = &subs[i];
        }
        PB(SubscribeInfoResponse) r = PB_INIT(SUBSCRIBE_INFO_RESPONSE);
        r.tracking_id = (char *)tracking_id;
        r.info_subscriptions = (PB(InfoSubscription) **)items;
        r.n_info_subscriptions = n;
        msg.payload_case = PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_SUBSCRIBE_INFO_RESPONSE);
        msg.subscribe_info_response = &r;
        out = pack(&msg.base);
        break;
    }
    case MD_KIND_LAST_PRICE:
    default: {
        PB(LastPriceSubscription) *subs = storage = calloc(n ? n : 1, sizeof *subs);
        if (subs == NULL)
            abort();
        for (uint32_t i = 0; i < n; i++) {
            entry_ids ids = ids_of(rd, &entries[i]);
            subs[i] = (PB(LastPriceSubscription))PB_INIT(LAST_PRICE_SUBSCRIPTION);
            FILL_SUBSCRIPTION(subs[i], ids, entries[i], stream_id, action);
            items[i] = &subs[i];
        }
        PB(SubscribeLastPriceResponse) r = PB_INIT(SUBSCRIBE_LAST_PRICE_RESPONSE);
        r.tracking_id = (char *)tracking_id;
        r.last_price_subscriptions = (PB(LastPriceSubscription) **)items;
        r.n_last_price_subscriptions = n;
        msg.payload_case = PB_ENUM(MARKET_DATA_RESPONSE__PAYLOAD_SUBSCRIBE_LAST_PRICE_RESPONSE);
        msg.subscribe_last_price_response = &r;
        out = pack(&msg.base);
        break;
    }
    }
    free(storage);
    free(items);
    return out;
}

/* ---- Jobs: a request's subscriptions change on the core thread ------------------------------ */

static void job_free(md_job *job) {
    if (job == NULL)
        return;
    if (job->entries != NULL)
        for (uint32_t i = 0; i < job->n; i++)
            free((char *)job->entries[i].asked);
    free(job->entries);
    free(job->books);
    free(job->prices);
    free(job->infos);
    free(job->candles);
    free(job->listed);
    free(job);
}

static void run_job(engine *e, engine_job *base) {
    md_job *job = (md_job *)base;
    md_stream *md = job->md;
    if (job->list) {
        uint32_t room = (uint32_t)md->hub->max_per_stream + 2 * md->hub->instrument_count;
        job->listed = calloc(room ? room : 1, sizeof *job->listed);
        if (job->listed == NULL)
            abort();
        for (md_kind k = 0; k < MD_KIND_COUNT; k++)
            job->listed_count += md_hub_list(md->hub, &md->sub, k, job->listed + job->listed_count,
                                             room - job->listed_count);
        engine_finish_after_commit(e, base);
        return;
    }
    md_item *items = calloc(job->n ? job->n : 1, sizeof *items);
    md_status *statuses = calloc(job->n ? job->n : 1, sizeof *statuses);
    char(*ids)[UUID_TEXT_SIZE] = calloc(job->n ? job->n : 1, UUID_TEXT_SIZE);
    if (items == NULL || statuses == NULL || ids == NULL)
        abort();
    for (uint32_t i = 0; i < job->n; i++)
        items[i] = job->entries[i].item;
    bool *created = calloc(job->n ? job->n : 1, sizeof *created);
    if (created == NULL)
        abort();
    md_hub_change(md->hub, &md->sub, job->kind, job->action, items, job->n, statuses, ids, created);
    for (uint32_t i = 0; i < job->n; i++) {
        md_entry *entry = &job->entries[i];
        entry->status = statuses[i];
        memcpy(entry->id, ids[i], UUID_TEXT_SIZE);
        if (statuses[i] != MD_STATUS_SUCCESS || job->action != MD_ACTION_SUBSCRIBE)
            continue;
        /* The entry as the hub keeps it (the contract's defaults filled in) is what is echoed. */
        if (job->kind == MD_KIND_ORDER_BOOK && entry->item.book_type == 0)
            entry->item.book_type = 3; /* ORDERBOOK_TYPE_ALL */
        if (!created[i])
            continue; /* a repeat: the stream has had the first message */
        uint32_t ins = entry->item.instrument;
        entry->first = true;
        if (job->kind == MD_KIND_ORDER_BOOK)
            md_feed_book(e, ins, &job->books[i]);
        else if (job->kind == MD_KIND_LAST_PRICE)
            md_feed_last_price(e, ins, &job->prices[i]);
        else if (job->kind == MD_KIND_INFO)
            md_feed_status(e, ins, &job->infos[i]);
        else if (job->kind == MD_KIND_CANDLES && !entry->item.waiting_close)
            entry->first = md_feed_forming_candle(e, ins, entry->item.interval, &job->candles[i]);
        else
            entry->first = false;
    }
    free(items);
    free(statuses);
    free(ids);
    free(created);
    engine_finish_after_commit(e, base);
}

static void read_next(md_stream *md);

static void send_first_messages(md_job *job) {
    md_stream *md = job->md;
    const refdata *rd = refdata_of(md);
    for (uint32_t i = 0; i < job->n; i++) {
        const md_entry *entry = &job->entries[i];
        if (!entry->first)
            continue;
        const instrument *ins = &rd->instruments[entry->item.instrument];
        grpc_slice msg;
        if (job->kind == MD_KIND_ORDER_BOOK)
            msg = encode_book(ins, &job->books[i], entry->item.depth, entry->item.book_type);
        else if (job->kind == MD_KIND_LAST_PRICE)
            msg = encode_last_price(ins, &job->prices[i]);
        else if (job->kind == MD_KIND_CANDLES)
            msg = encode_candle(ins, &job->candles[i], entry->item.source);
        else
            msg = encode_status(ins, &job->infos[i]);
        api_stream_write(md->stream, msg);
        grpc_slice_unref(msg);
    }
}

static void send_listed(md_job *job) {
    md_stream *md = job->md;
    md_entry *entries = calloc(job->listed_count ? job->listed_count : 1, sizeof *entries);
    if (entries == NULL)
        abort();
    for (md_kind k = 0; k < MD_KIND_COUNT; k++) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < job->listed_count; i++) {
            if (job->listed[i].kind != k)
                continue;
            entries[n] = (md_entry){.item = job->listed[i].item, .status = MD_STATUS_SUCCESS};
            memcpy(entries[n].id, job->listed[i].subscription_id, UUID_TEXT_SIZE);
            n++;
        }
        /* With no subscription at all, one empty response of every kind: the real service
         * answers only kinds it has, and a client waiting for an answer would wait forever. */
        if (n == 0 && job->listed_count != 0)
            continue;
        grpc_slice msg =
            encode_response(md, k, entries, n, MD_ACTION_SUBSCRIBE, NULL, job->tracking_id);
        api_stream_write(md->stream, msg);
        grpc_slice_unref(msg);
    }
    free(entries);
}

/* After the batch is durable (or at once, refused: the journal cannot write and nothing is
 * answered from the state meanwhile). */
static void finish_job(engine *e, engine_job *base) {
    md_job *job = (md_job *)base;
    md_stream *md = job->md;
    if (base->refused) {
        for (uint32_t i = 0; i < job->n; i++) {
            job->entries[i].status = MD_STATUS_INTERNAL_ERROR;
            job->entries[i].first = false;
        }
    }
    if (job->list && !base->refused) {
        send_listed(job);
    } else if (!job->list) {
        grpc_slice msg = encode_response(md, job->kind, job->entries, job->n, job->action, job,
                                         job->tracking_id);
        api_stream_write(md->stream, msg);
        grpc_slice_unref(msg);
        send_first_messages(job);
    }
    if (job->read_next)
        read_next(md);
    job_free(job);
    md_unref(md);
}

/* Copies the entries of a subscription request of `kind`. */
typedef struct asked_entry {
    const char *figi, *instrument_id;
    md_item item;
} asked_entry;

static md_job *job_new(md_stream *md, md_kind kind, int action, uint32_t n) {
    md_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        abort();
    job->md = md;
    job->kind = kind;
    job->action = action;
    job->n = n;
    job->entries = calloc(n ? n : 1, sizeof *job->entries);
    if (job->entries == NULL)
        abort();
    if (kind == MD_KIND_ORDER_BOOK)
        job->books = calloc(n ? n : 1, sizeof *job->books);
    else if (kind == MD_KIND_LAST_PRICE)
        job->prices = calloc(n ? n : 1, sizeof *job->prices);
    else if (kind == MD_KIND_INFO)
        job->infos = calloc(n ? n : 1, sizeof *job->infos);
    if ((kind == MD_KIND_ORDER_BOOK && job->books == NULL) ||
        (kind == MD_KIND_LAST_PRICE && job->prices == NULL) ||
        (kind == MD_KIND_INFO && job->infos == NULL))
        abort();
    if (kind == MD_KIND_CANDLES && (job->candles = calloc(n ? n : 1, sizeof *job->candles)) == NULL)
        abort();
    uuid_generate_v4(job->tracking_id);
    return job;
}

static char *copy_text(const char *text) {
    char *copy = strdup(text != NULL ? text : "");
    if (copy == NULL)
        abort();
    return copy;
}

/* The instrument an entry names: `instrument_id` when given, else the deprecated `figi`. */
static void set_entry(md_job *job, uint32_t i, const refdata *rd, const char *figi,
                      const char *instrument_id, md_item item) {
    const char *asked = instrument_id != NULL && instrument_id[0] != '\0' ? instrument_id : figi;
    const instrument *ins =
        asked != NULL && asked[0] != '\0' ? refdata_find_instrument_id(rd, asked) : NULL;
    item.instrument = ins != NULL ? ins->index : MD_NO_INSTRUMENT;
    job->entries[i].item = item;
    job->entries[i].asked = copy_text(asked);
}

/* Answers the request's entries without the core (its inbox is full, or the request names more
 * entries than are acted on). */
static void answer_now(md_job *job, md_status status) {
    for (uint32_t i = 0; i < job->n; i++)
        job->entries[i].status = status;
    grpc_slice msg = encode_response(job->md, job->kind, job->entries, job->n, job->action, job,
                                     job->tracking_id);
    api_stream_write(job->md->stream, msg);
    grpc_slice_unref(msg);
}

/* Hands the job to the core thread; when its inbox is full the request is answered
 * TOO_MANY_REQUESTS at once. Returns whether the job went to the core (it then reads on). */
static bool submit(md_job *job, bool read_next_after) {
    md_stream *md = job->md;
    job->read_next = read_next_after;
    job->base.run = run_job;
    job->base.finish = finish_job;
    job->base.received_ns = clock_broker_ns();
    md_ref(md);
    if (engine_submit(md->server->app->engine, &job->base))
        return true;
    md_unref(md);
    if (!job->list)
        answer_now(job, MD_STATUS_TOO_MANY_REQUESTS);
    job_free(job);
    return false;
}

/* Older bots name instruments by the deprecated `figi` of each entry instead of `instrument_id`;
 * both are read. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"

static md_job *candles_job(md_stream *md, const PB(SubscribeCandlesRequest) * in) {
    uint32_t n = in->n_instruments;
    md_job *job = job_new(md, MD_KIND_CANDLES, in->subscription_action, n);
    job->waiting_close = in->waiting_close;
    job->has_candle_source = in->_candle_source_type_case != 0;
    job->candle_source = in->candle_source_type;
    for (uint32_t i = 0; i < n; i++) {
        const PB(CandleInstrument) *x = in->instruments[i];
        set_entry(job, i, refdata_of(md), x->figi, x->instrument_id,
                  (md_item){.interval = x->interval,
                            .waiting_close = in->waiting_close,
                            .source = job->has_candle_source ? in->candle_source_type : 0});
    }
    return job;
}

static md_job *book_job(md_stream *md, const PB(SubscribeOrderBookRequest) * in) {
    uint32_t n = in->n_instruments;
    md_job *job = job_new(md, MD_KIND_ORDER_BOOK, in->subscription_action, n);
    for (uint32_t i = 0; i < n; i++) {
        const PB(OrderBookInstrument) *x = in->instruments[i];
        set_entry(job, i, refdata_of(md), x->figi, x->instrument_id,
                  (md_item){.depth = x->depth, .book_type = x->order_book_type});
    }
    return job;
}

static md_job *trades_job(md_stream *md, const PB(SubscribeTradesRequest) * in) {
    uint32_t n = in->n_instruments;
    md_job *job = job_new(md, MD_KIND_TRADES, in->subscription_action, n);
    job->trade_source = in->trade_source;
    job->with_open_interest = in->with_open_interest;
    for (uint32_t i = 0; i < n; i++) {
        const PB(TradeInstrument) *x = in->instruments[i];
        set_entry(
            job, i, refdata_of(md), x->figi, x->instrument_id,
            (md_item){.source = in->trade_source, .with_open_interest = in->with_open_interest});
    }
    return job;
}

static md_job *info_job(md_stream *md, const PB(SubscribeInfoRequest) * in) {
    uint32_t n = in->n_instruments;
    md_job *job = job_new(md, MD_KIND_INFO, in->subscription_action, n);
    for (uint32_t i = 0; i < n; i++)
        set_entry(job, i, refdata_of(md), in->instruments[i]->figi,
                  in->instruments[i]->instrument_id, (md_item){0});
    return job;
}

static md_job *last_price_job(md_stream *md, const PB(SubscribeLastPriceRequest) * in) {
    uint32_t n = in->n_instruments;
    md_job *job = job_new(md, MD_KIND_LAST_PRICE, in->subscription_action, n);
    for (uint32_t i = 0; i < n; i++)
        set_entry(job, i, refdata_of(md), in->instruments[i]->figi,
                  in->instruments[i]->instrument_id, (md_item){0});
    return job;
}

#pragma GCC diagnostic pop

/* The request's own checks (api/request.c: the ping period, at most API_MARKET_DATA_MAX_ENTRIES
 * instruments in one subscription request, whose answer would otherwise not fit a client's
 * message limit); a refused request ends the stream with INVALID_ARGUMENT. */
static bool request_refused(md_stream *md, const ProtobufCMessage *request) {
    const api_request_type *type = api_request_type_of(request->descriptor);
    api_request_context ctx = {.refdata = refdata_of(md), .token = md->token};
    api_request_values values;
    memset(&values, 0, sizeof values);
    int code = type != NULL ? type->check(request, &ctx, &values) : 0;
    if (code == 0)
        return false;
    api_stream_finish(md->stream, GRPC_STATUS_INVALID_ARGUMENT, code, values.message, false);
    return true;
}

/* The ping period the request sets (checked by request_refused). */
static void apply_ping_settings(md_stream *md, const PB(PingDelaySettings) * settings) {
    api_stream_ping ping = api_request_market_data_ping(settings);
    if (ping.has_ping)
        api_stream_set_ping_interval(md->stream, (int64_t)ping.ping_ms * 1000000);
}

/* One MarketDataStream request. Returns whether the next request is read by a job's finish (the
 * job went to the core) rather than by the caller. */
static bool handle_request(md_stream *md, const PB(MarketDataRequest) * in) {
    if (request_refused(md, &in->base))
        return true; /* the stream is over: nothing more is read */
    md_job *job = NULL;
    switch (in->payload_case) {
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_CANDLES_REQUEST):
        job = candles_job(md, in->subscribe_candles_request);
        break;
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_ORDER_BOOK_REQUEST):
        job = book_job(md, in->subscribe_order_book_request);
        break;
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_TRADES_REQUEST):
        job = trades_job(md, in->subscribe_trades_request);
        break;
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_INFO_REQUEST):
        job = info_job(md, in->subscribe_info_request);
        break;
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_SUBSCRIBE_LAST_PRICE_REQUEST):
        job = last_price_job(md, in->subscribe_last_price_request);
        break;
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_GET_MY_SUBSCRIPTIONS):
        job = job_new(md, MD_KIND_INFO, MD_ACTION_SUBSCRIBE, 0);
        job->list = true;
        break;
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_PING): {
        grpc_slice ping = encode_ping(md->stream, clock_broker_ns(), in->ping->time);
        api_stream_write(md->stream, ping);
        grpc_slice_unref(ping);
        return false;
    }
    case PB_ENUM(MARKET_DATA_REQUEST__PAYLOAD_PING_SETTINGS):
        apply_ping_settings(md, in->ping_settings);
        return false;
    default:
        return false; /* an empty request asks for nothing */
    }
    return submit(job, true);
}

/* ---- Reading a bidirectional stream's requests --------------------------------------------- */

static void on_request(api_tag *tag, bool ok) {
    md_stream *md = (md_stream *)((char *)tag - offsetof(md_stream, recv_tag));
    grpc_byte_buffer *payload = md->payload;
    md->payload = NULL;
    if (!ok || payload == NULL) {
        /* The client has sent its last request (or is gone): the stream ends with OK after what
         * is queued, as the official SDK's stream helpers expect when they close their side. */
        if (payload != NULL)
            grpc_byte_buffer_destroy(payload);
        if (ok)
            api_stream_finish(md->stream, GRPC_STATUS_OK, 0, "", false);
        md_unref(md);
        return;
    }
    grpc_byte_buffer_reader reader;
    api_validate_error invalid = {.code = 30102};
    ProtobufCMessage *request = NULL;
    if (grpc_byte_buffer_reader_init(&reader, payload)) {
        grpc_slice bytes = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        request = api_request_decode(&PB_DESC(market_data_request), GRPC_SLICE_START_PTR(bytes),
                                     GRPC_SLICE_LENGTH(bytes), &invalid);
        grpc_slice_unref(bytes);
    } else {
        snprintf(invalid.message, sizeof invalid.message,
                 "Malformed request: the message could not be decoded");
    }
    grpc_byte_buffer_destroy(payload);
    if (request == NULL) {
        api_stream_finish(md->stream, GRPC_STATUS_INVALID_ARGUMENT, invalid.code, invalid.message,
                          false);
        md_unref(md);
        return;
    }
    bool handed_over = handle_request(md, (const PB(MarketDataRequest) *)request);
    protobuf_c_message_free_unpacked(request, NULL);
    if (!handed_over)
        read_next(md);
    md_unref(md); /* this read's reference */
}

static void read_next(md_stream *md) {
    md_ref(md);
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &md->payload;
    if (grpc_call_start_batch(md->stream->call->call, &op, 1, &md->recv_tag, NULL) != GRPC_CALL_OK)
        md_unref(md); /* the call is over */
}

/* ---- Opening a stream ------------------------------------------------------------------------ */

static md_stream *open_stream(api_call *call) {
    md_stream *md = calloc(1, sizeof *md);
    if (md == NULL)
        abort();
    md->server = call->server;
    md->hub = call->server->app->md_hub;
    md->token = call->token;
    md->recv_tag.on_complete = on_request;
    pthread_mutex_init(&md->lock, NULL);
    uint32_t token_index = call->token_index;
    if (!md_hub_add(md->hub, &md->sub, token_index, md)) {
        pthread_mutex_destroy(&md->lock);
        free(md);
        api_reply_error(call, 80001);
        return NULL;
    }
    md->refs = 1; /* released when the stream closes */
    md->stream =
        api_stream_start(call, (uint32_t)call->server->config->md_backlog_messages,
                         (int64_t)DEFAULT_PING_MS * 1000000, md_ping, on_stream_closed, md);
    return md;
}

static void market_data_stream(api_call *call, const ProtobufCMessage *request) {
    md_stream *md = open_stream(call);
    if (md == NULL)
        return;
    md_ref(md);                   /* the first request's handling, as for a read */
    api_stream_ready(md->stream); /* md->stream is set and held by that reference */
    bool handed_over = handle_request(md, (const PB(MarketDataRequest) *)request);
    if (!handed_over)
        read_next(md);
    md_unref(md);
}

static void market_data_server_side_stream(api_call *call, const ProtobufCMessage *request) {
    const PB(MarketDataServerSideStreamRequest) *in =
        (const PB(MarketDataServerSideStreamRequest) *)request;
    md_stream *md = open_stream(call);
    if (md == NULL)
        return;
    md_ref(md); /* this function's, while it uses md */
    api_stream_ready(md->stream);
    if (request_refused(md, request)) {
        md_unref(md);
        return;
    }
    apply_ping_settings(md, in->ping_settings);
    /* The request's subscriptions in the order of the bidirectional stream's payloads; each is
     * answered as there. */
    if (in->subscribe_candles_request != NULL)
        submit(candles_job(md, in->subscribe_candles_request), false);
    if (in->subscribe_order_book_request != NULL)
        submit(book_job(md, in->subscribe_order_book_request), false);
    if (in->subscribe_trades_request != NULL)
        submit(trades_job(md, in->subscribe_trades_request), false);
    if (in->subscribe_info_request != NULL)
        submit(info_job(md, in->subscribe_info_request), false);
    if (in->subscribe_last_price_request != NULL)
        submit(last_price_job(md, in->subscribe_last_price_request), false);
    md_unref(md);
}

/* ---- Fan-out of each batch's market data (the releasing thread) ---------------------------- */

typedef struct book_fanout {
    const instrument *ins;
    const md_book_record *record;
    grpc_slice encoded[MD_DEPTH_COUNT][MD_BOOK_TYPE_COUNT];
    bool made[MD_DEPTH_COUNT][MD_BOOK_TYPE_COUNT];
} book_fanout;

static void send_book(md_sub *s, void *ctx) {
    book_fanout *f = ctx;
    int d = md_depth_index(s->item.depth);
    int t = s->item.book_type;
    if (d < 0 || t < 0 || t >= MD_BOOK_TYPE_COUNT)
        return;
    if (!f->made[d][t]) {
        f->encoded[d][t] = encode_book(f->ins, f->record, s->item.depth, t);
        f->made[d][t] = true;
    }
    md_stream *md = s->owner->sink;
    api_stream_write_conflated(md->stream, f->encoded[d][t], s->tag, &s->queued_at);
}

typedef struct slice_fanout {
    grpc_slice message;
} slice_fanout;

static void send_trade(md_sub *s, void *ctx) {
    if (s->item.source == TRADE_SOURCE_DEALER)
        return; /* every print here is the exchange's */
    md_stream *md = s->owner->sink;
    api_stream_write(md->stream, ((slice_fanout *)ctx)->message);
}

static void send_conflated(md_sub *s, void *ctx) {
    md_stream *md = s->owner->sink;
    api_stream_write_conflated(md->stream, ((slice_fanout *)ctx)->message, s->tag, &s->queued_at);
}

static void send_plain(md_sub *s, void *ctx) {
    md_stream *md = s->owner->sink;
    api_stream_write(md->stream, ((slice_fanout *)ctx)->message);
}

/* One candle record to the subscriptions of its interval that want it, encoded once per candle
 * source asked for. A newer state of the candle a subscription's queue still holds takes its
 * place; another candle (the next one) queues behind it. */
typedef struct candle_fanout {
    const instrument *ins;
    const md_candle_record *record;
    grpc_slice encoded[2]; /* exchange, exchange with weekends */
    bool made[2];
} candle_fanout;

static void send_candle(md_sub *s, void *ctx) {
    candle_fanout *f = ctx;
    const md_candle_record *r = f->record;
    if (s->item.interval != r->interval)
        return;
    uint32_t wants = s->item.waiting_close ? MD_CANDLE_FOR_CLOSED : MD_CANDLE_FOR_LIVE;
    if ((r->audience & wants) == 0)
        return;
    int v = s->item.source == CANDLE_SOURCE_INCLUDE_WEEKEND ? 1 : 0;
    if (!f->made[v]) {
        f->encoded[v] = encode_candle(f->ins, r, s->item.source);
        f->made[v] = true;
    }
    md_stream *md = s->owner->sink;
    if (s->queued_candle_ns == r->candle.time_ns)
        api_stream_write_conflated(md->stream, f->encoded[v], s->tag, &s->queued_at);
    else
        api_stream_write_tagged(md->stream, f->encoded[v], s->tag, &s->queued_at);
    s->queued_candle_ns = r->candle.time_ns;
}

static void release_records(void *ctx, void *records) {
    marketdata_streams *ms = ctx;
    md_records *r = records;
    const refdata *rd = ms->refdata;
    for (uint32_t i = 0; i < r->book_count; i++) {
        book_fanout f = {.ins = &rd->instruments[r->books[i].instrument], .record = &r->books[i]};
        md_hub_each(ms->hub, MD_KIND_ORDER_BOOK, r->books[i].instrument, send_book, &f);
        for (int d = 0; d < MD_DEPTH_COUNT; d++)
            for (int t = 0; t < MD_BOOK_TYPE_COUNT; t++)
                if (f.made[d][t])
                    grpc_slice_unref(f.encoded[d][t]);
    }
    for (uint32_t i = 0; i < r->trade_count; i++) {
        const instrument *ins = &rd->instruments[r->trades[i].instrument];
        slice_fanout f = {.message = encode_trade(ins, &r->trades[i].trade)};
        md_hub_each(ms->hub, MD_KIND_TRADES, r->trades[i].instrument, send_trade, &f);
        grpc_slice_unref(f.message);
    }
    for (uint32_t i = 0; i < r->price_count; i++) {
        const instrument *ins = &rd->instruments[r->prices[i].instrument];
        slice_fanout f = {.message = encode_last_price(ins, &r->prices[i])};
        md_hub_each(ms->hub, MD_KIND_LAST_PRICE, r->prices[i].instrument, send_conflated, &f);
        grpc_slice_unref(f.message);
    }
    for (uint32_t i = 0; i < r->status_count; i++) {
        const instrument *ins = &rd->instruments[r->statuses[i].instrument];
        slice_fanout f = {.message = encode_status(ins, &r->statuses[i])};
        md_hub_each(ms->hub, MD_KIND_INFO, r->statuses[i].instrument, send_plain, &f);
        grpc_slice_unref(f.message);
    }
    for (uint32_t i = 0; i < r->candle_count; i++) {
        candle_fanout f = {.ins = &rd->instruments[r->candles[i].instrument],
                           .record = &r->candles[i]};
        md_hub_each(ms->hub, MD_KIND_CANDLES, r->candles[i].instrument, send_candle, &f);
        for (int v = 0; v < 2; v++)
            if (f.made[v])
                grpc_slice_unref(f.encoded[v]);
    }
    md_feed_records_free(r);
}

static void *collect(void *ctx, void *pending) {
    marketdata_streams *ms = ctx;
    return md_feed_collect(&ms->feed, pending);
}

int marketdata_streams_attach(marketdata_streams *ms, engine *e, md_hub *hub) {
    ms->hub = hub;
    ms->refdata = engine_core(e)->refdata;
    int rc = md_feed_init(&ms->feed, hub, e);
    if (rc != 0)
        return rc;
    e->md_collect = collect;
    e->md_release = release_records;
    e->md_ctx = ms;
    return 0;
}

void marketdata_streams_detach(marketdata_streams *ms) {
    md_feed_deinit(&ms->feed);
}

static void end_for_shutdown(md_subscriber *sub, void *ctx) {
    md_stream *md = sub->sink;
    if (md->stream != NULL)
        api_stream_finish(md->stream, GRPC_STATUS_UNAVAILABLE, 70003, "The server is shutting down",
                          true);
}

void marketdata_streams_shutdown(md_hub *hub) {
    md_hub_each_stream(hub, end_for_shutdown, NULL);
}

#define MD_STREAMS(method, type, fn, bidi)                                                         \
    {                                                                                              \
        .service = "MarketDataStreamService", .name = method, .request_type = &PB_DESC(type),      \
        .handle = fn, .server_streaming = true, .client_streaming = bidi                           \
    }
static api_method md_stream_methods[] = {
    MD_STREAMS("MarketDataStream", market_data_request, market_data_stream, true),
    MD_STREAMS("MarketDataServerSideStream", market_data_server_side_stream_request,
               market_data_server_side_stream, false),
};

const api_method *api_marketdata_stream_methods(size_t *count) {
    *count = sizeof md_stream_methods / sizeof md_stream_methods[0];
    return md_stream_methods;
}
