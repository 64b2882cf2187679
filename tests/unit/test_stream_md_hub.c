/* Market-data subscriptions (stream/md_hub): every status the contract names, the per-stream and
 * per-token limits, repeats and unsubscribes, the interest counts the core thread reads, and
 * GetMySubscriptions' listing. */
#include <string.h>

#include "check.h"
#include "stream/md_hub.h"

#define INSTRUMENTS 4

static md_status one(md_hub *hub, md_subscriber *sub, md_kind kind, int action, md_item item,
                     char id[UUID_TEXT_SIZE]) {
    md_status status;
    char ids[1][UUID_TEXT_SIZE];
    md_hub_change(hub, sub, kind, action, &item, 1, &status, ids, NULL);
    if (id != NULL)
        memcpy(id, ids[0], UUID_TEXT_SIZE);
    return status;
}

static md_item book(uint32_t instrument, int32_t depth, int32_t type) {
    return (md_item){.instrument = instrument, .depth = depth, .book_type = type};
}

static void test_statuses(void) {
    md_hub hub;
    CHECK_EQ_INT(md_hub_init(&hub, INSTRUMENTS, 2, 4, 300), 0);
    md_subscriber sub;
    int sink;
    CHECK(md_hub_add(&hub, &sub, 0, &sink));
    CHECK_EQ_INT(one(&hub, &sub, MD_KIND_ORDER_BOOK, 0, book(0, 10, 0), NULL),
                 MD_STATUS_ACTION_INVALID);
    CHECK_EQ_INT(one(&hub, &sub, MD_KIND_ORDER_BOOK, 7, book(0, 10, 0), NULL),
                 MD_STATUS_ACTION_INVALID);
    CHECK_EQ_INT(one(&hub, &sub, MD_KIND_ORDER_BOOK, MD_ACTION_SUBSCRIBE,
                     book(MD_NO_INSTRUMENT, 10, 0), NULL),
                 MD_STATUS_INSTRUMENT_NOT_FOUND);
    CHECK_EQ_INT(
        one(&hub, &sub, MD_KIND_ORDER_BOOK, MD_ACTION_SUBSCRIBE, book(INSTRUMENTS, 10, 0), NULL),
        MD_STATUS_INSTRUMENT_NOT_FOUND);
    const int32_t bad_depths[] = {0, -1, 2, 5, 11, 49, 51, 100, INT32_MAX, INT32_MIN};
    for (size_t i = 0; i < sizeof bad_depths / sizeof bad_depths[0]; i++)
        CHECK_EQ_INT(one(&hub, &sub, MD_KIND_ORDER_BOOK, MD_ACTION_SUBSCRIBE,
                         book(0, bad_depths[i], 0), NULL),
                     MD_STATUS_DEPTH_INVALID);
    const int32_t good_depths[] = {1, 10, 20, 30, 40, 50};
    for (size_t i = 0; i < 6; i++)
        CHECK_EQ_INT(one(&hub, &sub, MD_KIND_ORDER_BOOK, MD_ACTION_SUBSCRIBE,
                         book(0, good_depths[i], 0), NULL),
                     MD_STATUS_SUCCESS);
    CHECK_EQ_INT(one(&hub, &sub, MD_KIND_ORDER_BOOK, MD_ACTION_SUBSCRIBE, book(0, 10, 4), NULL),
                 MD_STATUS_SOURCE_INVALID);
    CHECK_EQ_INT(one(&hub, &sub, MD_KIND_ORDER_BOOK, MD_ACTION_SUBSCRIBE, book(0, 10, -1), NULL),
                 MD_STATUS_SOURCE_INVALID);
    for (int32_t interval = -1; interval <= 14; interval++)
        CHECK_EQ_INT(one(&hub, &sub, MD_KIND_CANDLES, MD_ACTION_SUBSCRIBE,
                         (md_item){.instrument = 1, .interval = interval}, NULL),
                     interval >= 1 && interval <= 13 ? MD_STATUS_SUCCESS
                                                     : MD_STATUS_INTERVAL_INVALID);
    CHECK_EQ_INT(one(&hub, &sub, MD_KIND_CANDLES, MD_ACTION_SUBSCRIBE,
                     (md_item){.instrument = 1, .interval = 1, .source = 2}, NULL),
                 MD_STATUS_SOURCE_INVALID);
    CHECK_EQ_INT(one(&hub, &sub, MD_KIND_TRADES, MD_ACTION_SUBSCRIBE,
                     (md_item){.instrument = 1, .source = 4}, NULL),
                 MD_STATUS_SOURCE_INVALID);
    CHECK_EQ_INT(
        one(&hub, &sub, MD_KIND_TRADES, MD_ACTION_UNSUBSCRIBE, (md_item){.instrument = 1}, NULL),
        MD_STATUS_NOT_FOUND);
    CHECK_EQ_INT(one(&hub, &sub, MD_KIND_ORDER_BOOK, MD_ACTION_UNSUBSCRIBE, book(0, 10, 1), NULL),
                 MD_STATUS_NOT_FOUND); /* subscribed as ALL, not EXCHANGE */
    /* A stream that is over changes nothing. */
    md_hub_remove(&hub, &sub);
    CHECK_EQ_INT(
        one(&hub, &sub, MD_KIND_INFO, MD_ACTION_SUBSCRIBE, (md_item){.instrument = 0}, NULL),
        MD_STATUS_INTERNAL_ERROR);
    CHECK(sub.subs == NULL);
    md_hub_deinit(&hub);
}

static void test_repeat_unsubscribe_and_interest(void) {
    md_hub hub;
    CHECK_EQ_INT(md_hub_init(&hub, INSTRUMENTS, 1, 4, 300), 0);
    md_subscriber a, b;
    int sink;
    CHECK(md_hub_add(&hub, &a, 0, &sink));
    CHECK(md_hub_add(&hub, &b, 0, &sink));
    char first[UUID_TEXT_SIZE], again[UUID_TEXT_SIZE], gone[UUID_TEXT_SIZE];
    CHECK(!md_hub_wanted(&hub, 2, MD_KIND_ORDER_BOOK));
    CHECK_EQ_INT(one(&hub, &a, MD_KIND_ORDER_BOOK, MD_ACTION_SUBSCRIBE, book(2, 20, 0), first),
                 MD_STATUS_SUCCESS);
    CHECK(md_hub_wanted(&hub, 2, MD_KIND_ORDER_BOOK));
    CHECK(!md_hub_wanted(&hub, 2, MD_KIND_TRADES));
    CHECK(!md_hub_wanted(&hub, 1, MD_KIND_ORDER_BOOK));
    /* Unspecified type is ALL: asking for ALL again is the same subscription. */
    CHECK_EQ_INT(one(&hub, &a, MD_KIND_ORDER_BOOK, MD_ACTION_SUBSCRIBE, book(2, 20, 3), again),
                 MD_STATUS_SUCCESS);
    CHECK(strcmp(first, again) == 0);
    CHECK_EQ_INT(a.limited, 1);
    CHECK_EQ_INT(one(&hub, &b, MD_KIND_ORDER_BOOK, MD_ACTION_SUBSCRIBE, book(2, 20, 0), again),
                 MD_STATUS_SUCCESS);
    CHECK(strcmp(first, again) != 0); /* another stream's subscription */
    CHECK_EQ_INT(one(&hub, &a, MD_KIND_ORDER_BOOK, MD_ACTION_UNSUBSCRIBE, book(2, 20, 0), gone),
                 MD_STATUS_SUCCESS);
    CHECK(strcmp(first, gone) == 0);
    CHECK(md_hub_wanted(&hub, 2, MD_KIND_ORDER_BOOK)); /* b still follows it */
    CHECK_EQ_INT(one(&hub, &a, MD_KIND_ORDER_BOOK, MD_ACTION_UNSUBSCRIBE, book(2, 20, 0), NULL),
                 MD_STATUS_NOT_FOUND);
    md_hub_remove(&hub, &b);
    CHECK(!md_hub_wanted(&hub, 2, MD_KIND_ORDER_BOOK));
    md_hub_remove(&hub, &a);
    md_hub_deinit(&hub);
}

/* Candle interest is kept per SubscriptionInterval: the feed hands over only the pairs followed. */
static void test_candle_interest(void) {
    md_hub hub;
    CHECK_EQ_INT(md_hub_init(&hub, INSTRUMENTS, 1, 4, 300), 0);
    md_subscriber a, b;
    int sink;
    CHECK(md_hub_add(&hub, &a, 0, &sink));
    CHECK(md_hub_add(&hub, &b, 0, &sink));
    for (int32_t k = -1; k <= MD_CANDLE_INTERVALS; k++)
        CHECK(!md_hub_wanted_candles(&hub, 1, k));
    md_item minute = {.instrument = 1, .interval = 1};
    md_item month = {.instrument = 1, .interval = 13, .waiting_close = true};
    CHECK_EQ_INT(one(&hub, &a, MD_KIND_CANDLES, MD_ACTION_SUBSCRIBE, minute, NULL),
                 MD_STATUS_SUCCESS);
    CHECK_EQ_INT(one(&hub, &b, MD_KIND_CANDLES, MD_ACTION_SUBSCRIBE, minute, NULL),
                 MD_STATUS_SUCCESS);
    CHECK_EQ_INT(one(&hub, &a, MD_KIND_CANDLES, MD_ACTION_SUBSCRIBE, month, NULL),
                 MD_STATUS_SUCCESS);
    md_status status;
    char id[1][UUID_TEXT_SIZE];
    bool created = true;
    md_hub_change(&hub, &a, MD_KIND_CANDLES, MD_ACTION_SUBSCRIBE, &minute, 1, &status, id,
                  &created);
    CHECK(status == MD_STATUS_SUCCESS && !created); /* a repeat makes nothing new */
    md_item hour = {.instrument = 1, .interval = 4};
    md_hub_change(&hub, &a, MD_KIND_CANDLES, MD_ACTION_SUBSCRIBE, &hour, 1, &status, id, &created);
    CHECK(status == MD_STATUS_SUCCESS && created);
    md_hub_change(&hub, &a, MD_KIND_CANDLES, MD_ACTION_UNSUBSCRIBE, &hour, 1, &status, id,
                  &created);
    CHECK(status == MD_STATUS_SUCCESS && !created);
    /* A repeat (waiting_close changed) is the same subscription: counted once. */
    month.waiting_close = false;
    CHECK_EQ_INT(one(&hub, &a, MD_KIND_CANDLES, MD_ACTION_SUBSCRIBE, month, NULL),
                 MD_STATUS_SUCCESS);
    CHECK(md_hub_wanted_candles(&hub, 1, 1));
    CHECK(md_hub_wanted_candles(&hub, 1, 13));
    CHECK(!md_hub_wanted_candles(&hub, 1, 2));
    CHECK(!md_hub_wanted_candles(&hub, 0, 1));
    CHECK(!md_hub_wanted_candles(&hub, 1, 0));
    CHECK(!md_hub_wanted_candles(&hub, 1, 14));
    CHECK_EQ_INT(one(&hub, &a, MD_KIND_CANDLES, MD_ACTION_UNSUBSCRIBE, month, NULL),
                 MD_STATUS_SUCCESS);
    CHECK(!md_hub_wanted_candles(&hub, 1, 13));
    CHECK(md_hub_wanted_candles(&hub, 1, 1));
    md_hub_remove(&hub, &a);
    CHECK(md_hub_wanted_candles(&hub, 1, 1)); /* b still follows it */
    md_hub_remove(&hub, &b);
    CHECK(!md_hub_wanted_candles(&hub, 1, 1));
    CHECK(!md_hub_wanted(&hub, 1, MD_KIND_CANDLES));
    md_hub_deinit(&hub);
}

static int visits;
static void count(md_sub *s, void *ctx) {
    visits++;
    CHECK(s->owner == ctx);
}

static void test_limits_and_listing(void) {
    md_hub hub;
    CHECK_EQ_INT(md_hub_init(&hub, INSTRUMENTS, 2, 2, 3), 0);
    md_subscriber a, b, c, d;
    int sink;
    CHECK(md_hub_add(&hub, &a, 0, &sink));
    CHECK(md_hub_add(&hub, &b, 0, &sink));
    CHECK(!md_hub_add(&hub, &c, 0, &sink)); /* two streams per token */
    CHECK_EQ_INT(md_hub_open_count(&hub, 0), 2);
    CHECK(md_hub_add(&hub, &d, 1, &sink)); /* another token */
    /* Three candles, books and trades together; statuses and last prices are not counted. */
    md_item items[5] = {
        book(0, 1, 0), book(0, 10, 0), {.instrument = 1}, {.instrument = 2}, book(3, 50, 0)};
    md_status statuses[5];
    char ids[5][UUID_TEXT_SIZE];
    md_hub_change(&hub, &a, MD_KIND_ORDER_BOOK, MD_ACTION_SUBSCRIBE, items, 2, statuses, ids, NULL);
    CHECK_EQ_INT(statuses[0], MD_STATUS_SUCCESS);
    CHECK_EQ_INT(statuses[1], MD_STATUS_SUCCESS);
    md_hub_change(&hub, &a, MD_KIND_TRADES, MD_ACTION_SUBSCRIBE, items + 2, 2, statuses, ids, NULL);
    CHECK_EQ_INT(statuses[0], MD_STATUS_SUCCESS);
    CHECK_EQ_INT(statuses[1], MD_STATUS_LIMIT_EXCEEDED);
    CHECK(ids[1][0] == '\0');
    CHECK_EQ_INT(one(&hub, &a, MD_KIND_CANDLES, MD_ACTION_SUBSCRIBE,
                     (md_item){.instrument = 0, .interval = 1}, NULL),
                 MD_STATUS_LIMIT_EXCEEDED);
    for (uint32_t i = 0; i < INSTRUMENTS; i++) {
        CHECK_EQ_INT(
            one(&hub, &a, MD_KIND_INFO, MD_ACTION_SUBSCRIBE, (md_item){.instrument = i}, NULL),
            MD_STATUS_SUCCESS);
        CHECK_EQ_INT(one(&hub, &a, MD_KIND_LAST_PRICE, MD_ACTION_SUBSCRIBE,
                         (md_item){.instrument = i}, NULL),
                     MD_STATUS_SUCCESS);
    }
    CHECK_EQ_INT(a.total, 3 + 2 * INSTRUMENTS);
    /* Room again after an unsubscribe. */
    CHECK_EQ_INT(one(&hub, &a, MD_KIND_ORDER_BOOK, MD_ACTION_UNSUBSCRIBE, book(0, 1, 0), NULL),
                 MD_STATUS_SUCCESS);
    CHECK_EQ_INT(
        one(&hub, &a, MD_KIND_TRADES, MD_ACTION_SUBSCRIBE, (md_item){.instrument = 2}, NULL),
        MD_STATUS_SUCCESS);
    md_sub listed[16];
    CHECK_EQ_INT(md_hub_list(&hub, &a, MD_KIND_TRADES, listed, 16), 2);
    CHECK_EQ_INT(listed[0].item.instrument, 1); /* in the order subscribed */
    CHECK_EQ_INT(listed[1].item.instrument, 2);
    CHECK_EQ_INT(listed[0].item.source, 3); /* unspecified source is ALL */
    CHECK_EQ_INT(md_hub_list(&hub, &a, MD_KIND_ORDER_BOOK, listed, 16), 1);
    CHECK_EQ_INT(listed[0].item.depth, 10);
    CHECK_EQ_INT(md_hub_list(&hub, &a, MD_KIND_INFO, listed, 2), 2); /* bounded by `max` */
    CHECK_EQ_INT(md_hub_list(&hub, &b, MD_KIND_INFO, listed, 16), 0);
    /* Tags name subscriptions within a stream: never 0, never twice. */
    CHECK(md_hub_list(&hub, &a, MD_KIND_LAST_PRICE, listed, 16) == INSTRUMENTS);
    for (uint32_t i = 0; i < INSTRUMENTS; i++) {
        CHECK(listed[i].tag != 0);
        for (uint32_t j = 0; j < i; j++)
            CHECK(listed[i].tag != listed[j].tag);
    }
    visits = 0;
    md_hub_each(&hub, MD_KIND_LAST_PRICE, 3, count, &a);
    CHECK_EQ_INT(visits, 1);
    md_hub_remove(&hub, &a);
    visits = 0;
    md_hub_each(&hub, MD_KIND_LAST_PRICE, 3, count, &a);
    CHECK_EQ_INT(visits, 0);
    CHECK(md_hub_add(&hub, &c, 0, &sink)); /* a's place is free */
    md_hub_remove(&hub, &b);
    md_hub_remove(&hub, &c);
    md_hub_remove(&hub, &d);
    CHECK_EQ_INT(md_hub_open_count(&hub, 0), 0);
    for (uint32_t i = 0; i < INSTRUMENTS; i++)
        for (md_kind k = 0; k < MD_KIND_COUNT; k++)
            CHECK(!md_hub_wanted(&hub, i, k));
    md_hub_deinit(&hub);
}

int main(void) {
    test_statuses();
    test_repeat_unsubscribe_and_interest();
    test_candle_interest();
    test_limits_and_listing();
    return check_finish("stream_md_hub");
}
