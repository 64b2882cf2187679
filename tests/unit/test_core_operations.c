/* The operations the core derives from its events (core/operations.h): what each kind says, that
 * their payments add up to the cash balance, CurrencyTransfer's checks and idempotency, the
 * retention and the ring's bound, and that replay and a snapshot rebuild exactly the same
 * operations. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "one_share.h"
#include "core/core.h"
#include "engine/snapshot.h"
#include "util/crc32c.h"

#define NANO 1000000000LL
#define MAX_EVENTS 4096

static refdata rd;
static core_event events[MAX_EVENTS];
static size_t event_count;

static void record(void *ctx, const core_event *ev) {
    if (event_count < MAX_EVENTS)
        events[event_count++] = *ev;
}

static void open_market(void *ctx, uint32_t instrument_index, core_market *out) {
    out->trading = true;
    out->last_price_nano = 100 * NANO;
    out->limit_up_nano = 150 * NANO;
    out->limit_down_nano = 50 * NANO;
}

/* A1 (1000 rub), A2 (no cash) and the sandbox account S1; one token with full access to all. */
static void accounts(void) {
    one_share_refdata(&rd, 1000);
    rd.account_count = 3;
    rd.accounts[1] = (account){.index = 1, .id = "A2", .name = "", .status = 2};
    rd.accounts[2] = (account){.index = 2, .id = "S1", .name = "", .status = 2, .sandbox = true};
    rd.accounts[0].status = 2;
    rd.accounts[0].opened_date_s = 86400;
    rd.tokens[0].access[1] = ACCESS_FULL;
    rd.tokens[0].access[2] = ACCESS_FULL;
}

static core_config config(uint32_t max_operations) {
    return (core_config){.refdata = &rd,
                         .commission_bp = 30,
                         .max_orders = 64,
                         .max_trades = 128,
                         .order_retention_ns = 3600 * NANO,
                         .max_orders_per_account = 64,
                         .max_trades_per_order = 8,
                         .id_seed = 7,
                         .max_operations = max_operations};
}

static void start(core *c, uint32_t max_operations) {
    core_config cfg = config(max_operations);
    CHECK(core_init(c, &cfg) == 0);
    c->exchange = (core_exchange){.market = open_market};
    c->sink = (core_event_sink){.append = record};
}

static void drain(core *c) {
    core_request sent;
    while (core_next_request(c, &sent))
        ;
}

static uint32_t buy(core *c, const char *key, int64_t lots, int64_t price, int64_t now_ns) {
    core_order_request req = {.token = &rd.tokens[0],
                              .account_id = "A1",
                              .instrument_id = "FIGI0",
                              .key = key,
                              .quantity = lots,
                              .has_price = true,
                              .price_nano = price * NANO,
                              .direction = DIRECTION_BUY,
                              .type = ORDER_TYPE_LIMIT,
                              .source = ORDER_SOURCE_SYNC,
                              .now_ns = now_ns};
    core_result placed = core_place_order(c, &req);
    CHECK_EQ_INT(placed.error, CORE_OK);
    drain(c);
    uint32_t slot = placed.order.index;
    core_exchange_report ack = {.kind = REPORT_ACK,
                                .client_ref = core_client_ref(&c->orders[slot]),
                                .exchange_order_id = 10000000000ULL + slot,
                                .time_ns = now_ns};
    core_on_exchange_report(c, &ack);
    return slot;
}

static void fill(core *c, uint32_t slot, int64_t lots, int64_t price_nano, uint64_t trade_id,
                 int64_t now_ns) {
    core_exchange_report t = {.kind = REPORT_TRADE,
                              .client_ref = core_client_ref(&c->orders[slot]),
                              .trade_id = trade_id,
                              .lots = lots,
                              .price_nano = price_nano,
                              .time_ns = now_ns};
    core_on_exchange_report(c, &t);
}

static uint32_t list(const core *c, uint32_t account_index, core_operation *out, uint32_t max) {
    uint64_t more;
    return core_list_operations(c, account_index, UINT64_MAX, NULL, NULL, out, max, &more);
}

/* The payments of the operations that were not cancelled, per account, in roubles. */
static int64_t payments(const core *c, uint32_t account_index) {
    core_operation ops[256];
    uint32_t n = list(c, account_index, ops, 256);
    int64_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        if (ops[i].state != CORE_OP_STATE_CANCELED)
            sum += ops[i].payment_nano;
    return sum;
}

static int64_t balance(const core *c, uint32_t account_index) {
    const ledger_cash *cash = ledger_cash_find(&c->ledger, account_index, "rub");
    return cash != NULL ? cash->balance_nano : 0;
}

static const char *TX1 = "0b7e3c1a-52d4-4f6e-9a8b-1c2d3e4f5a6b";
static const char *TX2 = "1c8f4d2b-63e5-4a7f-8b9c-2d3e4f5a6b7c";

static void test_trades_fees_and_cancels(void) {
    core c;
    event_count = 0;
    start(&c, 0);
    core_operation ops[32];
    /* The opening balance, dated the account's opening day. */
    CHECK_EQ_INT(list(&c, 0, ops, 32), 1);
    CHECK_EQ_INT(ops[0].number, 1);
    CHECK_EQ_INT(ops[0].type, CORE_OP_INPUT);
    CHECK_EQ_INT(ops[0].payment_nano, 1000 * NANO);
    CHECK_EQ_INT(ops[0].time_ns, 86400 * NANO);

    uint32_t o = buy(&c, "k1", 3, 100, 10 * NANO);
    CHECK_EQ_INT(list(&c, 0, ops, 32), 1); /* no operation before a fill */
    fill(&c, o, 2, 99 * NANO, 1, 11 * NANO);
    CHECK_EQ_INT(list(&c, 0, ops, 32), 3);
    CHECK_EQ_INT(ops[0].type, CORE_OP_BROKER_FEE);
    CHECK_EQ_INT(ops[1].type, CORE_OP_BUY);
    CHECK_EQ_INT(ops[1].state, CORE_OP_STATE_PROGRESS);
    CHECK_EQ_INT(ops[1].quantity, 3);
    CHECK_EQ_INT(ops[1].quantity_done, 2);
    CHECK_EQ_INT(ops[1].exchange_order_id, 10000000000ULL + o);
    CHECK_EQ_INT(ops[0].parent, ops[1].number);
    fill(&c, o, 1, 100 * NANO, 2, 12 * NANO);
    CHECK_EQ_INT(list(&c, 0, ops, 32), 3);
    CHECK_EQ_INT(ops[1].state, CORE_OP_STATE_EXECUTED);
    CHECK_EQ_INT(ops[1].quantity_done, 3);
    CHECK_EQ_INT(ops[1].payment_nano, -(2 * 99 + 100) * NANO);
    CHECK_EQ_INT(ops[1].price_nano, (2 * 99 + 100) * NANO / 3);
    CHECK_EQ_INT(ops[0].payment_nano, -c.orders[o].executed_commission_nano);
    CHECK(c.orders[o].executed_commission_nano > 0);
    /* The fills pay the order's commission exactly. */
    core_fill fills[8];
    CHECK_EQ_INT(core_operation_fill_count(&c, &ops[1]), 2);
    uint32_t nf = core_operation_fills(&c, &ops[1], fills, 8);
    CHECK_EQ_INT(nf, 2);
    CHECK_EQ_INT(fills[0].commission_nano + fills[1].commission_nano,
                 c.orders[o].executed_commission_nano);
    CHECK_EQ_INT(fills[0].value_nano, 2 * 99 * NANO);
    CHECK_EQ_INT(payments(&c, 0), balance(&c, 0));

    /* An order cancelled without a fill: CANCELED, paying nothing. */
    uint32_t rest = buy(&c, "k2", 1, 60, 20 * NANO);
    core_result cancel =
        core_cancel_order(&c, &rd.tokens[0], "A1", c.orders[rest].intent_id, false, 21 * NANO);
    CHECK_EQ_INT(cancel.error, CORE_OK);
    drain(&c);
    core_exchange_report cancelled = {.kind = REPORT_CANCELLED,
                                      .client_ref = core_client_ref(&c.orders[rest]),
                                      .lots = 1,
                                      .cause = ORDER_CAUSE_CANCELLED_BY_CLIENT,
                                      .time_ns = 22 * NANO};
    core_on_exchange_report(&c, &cancelled);
    CHECK_EQ_INT(list(&c, 0, ops, 32), 4);
    CHECK_EQ_INT(ops[0].type, CORE_OP_BUY);
    CHECK_EQ_INT(ops[0].state, CORE_OP_STATE_CANCELED);
    CHECK_EQ_INT(ops[0].payment_nano, 0);
    /* A rejected one shows nothing. */
    uint32_t rejected = buy(&c, "k3", 1, 60, 30 * NANO);
    core_exchange_report reject = {.kind = REPORT_REJECTED,
                                   .client_ref = core_client_ref(&c.orders[rejected]),
                                   .cause = ORDER_CAUSE_REJECTED_BY_EXCHANGE,
                                   .reject_reason = CORE_ERR_EXCHANGE_REJECTED,
                                   .time_ns = 31 * NANO};
    core_on_exchange_report(&c, &reject);
    CHECK_EQ_INT(list(&c, 0, ops, 32), 4);
    CHECK_EQ_INT(payments(&c, 0), balance(&c, 0));

    /* Paging: numbers below a cursor, and where the next page starts. */
    uint64_t more;
    CHECK_EQ_INT(core_list_operations(&c, 0, UINT64_MAX, NULL, NULL, ops, 2, &more), 2);
    CHECK_EQ_INT(more, ops[1].number - 1);
    uint32_t rest_count = core_list_operations(&c, 0, more + 1, NULL, NULL, ops, 8, &more);
    CHECK_EQ_INT(rest_count, 2);
    CHECK_EQ_INT(more, 0);
    CHECK_EQ_INT(ops[1].number, 1);
    core_check_invariants(&c);
    core_deinit(&c);
}

static void test_transfer(void) {
    core c;
    event_count = 0;
    start(&c, 0);
    bool dup;
    const token *tok = &rd.tokens[0];
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "", "A2", "rub", NANO, TX1, NANO, &dup),
                 CORE_ERR_TRANSFER_FROM_MISSING);
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "A1", "", "rub", NANO, TX1, NANO, &dup),
                 CORE_ERR_TRANSFER_TO_MISSING);
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "A1", "A2", "rub", NANO, "", NANO, &dup),
                 CORE_ERR_TRANSFER_ID_MISSING);
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "A1", "A2", "rub", NANO, "x", NANO, &dup),
                 CORE_ERR_TRANSFER_ID_INVALID);
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "A1", "A2", "rub", 0, TX1, NANO, &dup),
                 CORE_ERR_PAY_IN_AMOUNT_INVALID);
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "A1", "A1", "rub", NANO, TX1, NANO, &dup),
                 CORE_ERR_TRANSFER_SAME_ACCOUNT);
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "S1", "A2", "rub", NANO, TX1, NANO, &dup),
                 CORE_ERR_TRANSFER_FROM_INVALID);
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "A1", "S1", "rub", NANO, TX1, NANO, &dup),
                 CORE_ERR_TRANSFER_TO_INVALID);
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "A1", "ZZ", "rub", NANO, TX1, NANO, &dup),
                 CORE_ERR_TRANSFER_TO_INVALID);
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "ZZ", "A2", "rub", NANO, TX1, NANO, &dup),
                 CORE_ERR_ACCOUNT_NOT_FOUND);
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "A1", "A2", "usd", NANO, TX1, NANO, &dup),
                 CORE_ERR_TRANSFER_CURRENCY);
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "A1", "A2", "rub", 1001 * NANO, TX1, NANO, &dup),
                 CORE_ERR_TRANSFER_NOT_ENOUGH);
    CHECK_EQ_INT(event_count, 0); /* nothing refused was journaled */

    /* Money blocked by an order is not free to leave. */
    buy(&c, "k1", 5, 100, 2 * NANO);
    CHECK_EQ_INT(
        core_currency_transfer(&c, tok, "A1", "A2", "rub", 600 * NANO, TX1, 3 * NANO, &dup),
        CORE_ERR_TRANSFER_NOT_ENOUGH);
    size_t before = event_count;
    CHECK_EQ_INT(
        core_currency_transfer(&c, tok, "A1", "A2", "rub", 250 * NANO, TX1, 4 * NANO, &dup),
        CORE_OK);
    CHECK(!dup);
    CHECK_EQ_INT(event_count, before + 1);
    CHECK_EQ_INT(events[event_count - 1].type, CORE_EVENT_CURRENCY_TRANSFER);
    CHECK_EQ_INT(balance(&c, 0), 750 * NANO);
    CHECK_EQ_INT(balance(&c, 1), 250 * NANO);
    /* The same id (in upper case) with the same terms: the same transfer, nothing moves. */
    char upper[37];
    for (size_t i = 0; i <= strlen(TX1); i++)
        upper[i] = (char)(TX1[i] >= 'a' && TX1[i] <= 'f' ? TX1[i] - 32 : TX1[i]);
    CHECK_EQ_INT(
        core_currency_transfer(&c, tok, "A1", "A2", "rub", 250 * NANO, upper, 5 * NANO, &dup),
        CORE_OK);
    CHECK(dup);
    CHECK_EQ_INT(event_count, before + 1);
    CHECK_EQ_INT(
        core_currency_transfer(&c, tok, "A1", "A2", "rub", 251 * NANO, TX1, 5 * NANO, &dup),
        CORE_ERR_TRANSFER_ID_REUSED);
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "A2", "A1", "rub", 50 * NANO, TX2, 6 * NANO, &dup),
                 CORE_OK);
    core_operation ops[16];
    CHECK_EQ_INT(list(&c, 1, ops, 16), 2);
    CHECK_EQ_INT(ops[0].type, CORE_OP_OUT_MULTI);
    CHECK_EQ_INT(ops[0].payment_nano, -50 * NANO);
    CHECK_EQ_INT(ops[1].type, CORE_OP_INP_MULTI);
    CHECK_EQ_INT(ops[1].counterpart, 0);
    CHECK(strcmp(ops[1].transaction_id, TX1) == 0);
    CHECK_EQ_INT(payments(&c, 0), balance(&c, 0));
    CHECK_EQ_INT(payments(&c, 1), balance(&c, 1));
    core_check_invariants(&c);
    core_deinit(&c);
}

/* Replay of the recorded events, and a snapshot, give the same operations. */
static void test_replay_and_snapshot(void) {
    core live;
    event_count = 0;
    start(&live, 0);
    uint32_t o = buy(&live, "k1", 4, 100, 10 * NANO);
    fill(&live, o, 1, 100 * NANO, 1, 11 * NANO);
    bool dup;
    CHECK_EQ_INT(core_currency_transfer(&live, &rd.tokens[0], "A1", "A2", "rub", 10 * NANO, TX1,
                                        12 * NANO, &dup),
                 CORE_OK);
    int64_t balance_after;
    CHECK_EQ_INT(
        core_pay_in(&live, &rd.tokens[0], "S1", "rub", 7 * NANO, 13 * NANO, &balance_after),
        CORE_OK);
    fill(&live, o, 3, 99 * NANO, 2, 14 * NANO);

    core replayed;
    core_config cfg = config(0);
    CHECK(core_init(&replayed, &cfg) == 0);
    for (size_t i = 0; i < event_count; i++) {
        CHECK(core_event_applicable(&replayed, &events[i]));
        core_apply(&replayed, &events[i]);
    }
    CHECK(core_operations_hash(&replayed) == core_operations_hash(&live));
    CHECK(core_state_hash(&replayed) == core_state_hash(&live));
    CHECK_EQ_INT(payments(&replayed, 2), 7 * NANO);

    char dir[512];
    snprintf(dir, sizeof dir, "%s/tinvestd-ops-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ_INT(snapshot_write(&live, dir), 0);
    core loaded;
    CHECK(core_init(&loaded, &cfg) == 0);
    char error[256];
    CHECK(snapshot_load(&loaded, dir, error, sizeof error) > 0);
    CHECK(core_operations_hash(&loaded) == core_operations_hash(&live));
    core_operation a[16], b[16];
    uint32_t na = list(&live, 0, a, 16), nb = list(&loaded, 0, b, 16);
    CHECK_EQ_INT(na, nb);
    CHECK(na == nb && memcmp(a, b, na * sizeof a[0]) == 0);
    /* What follows a snapshot updates the operations it holds: a cancel of the rest settles
     * nothing new here, a new fill of a new order adds to the loaded ring. */
    loaded.exchange = (core_exchange){.market = open_market};
    uint32_t o2 = buy(&loaded, "k2", 1, 100, 20 * NANO);
    fill(&loaded, o2, 1, 100 * NANO, 3, 21 * NANO);
    CHECK_EQ_INT(payments(&loaded, 0), balance(&loaded, 0));
    core_check_invariants(&loaded);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    core_deinit(&loaded);
    core_deinit(&replayed);
    core_deinit(&live);
}

/* A format-7 snapshot (stop orders, no operations) still loads: the same state, and the
 * operations start again from the opening balances. It is made from a format-8 one by taking its
 * operations section (the last before the CRC) out. */
static void test_snapshot_without_operations(void) {
    core live;
    event_count = 0;
    start(&live, 0);
    uint32_t o = buy(&live, "k1", 2, 100, 10 * NANO);
    fill(&live, o, 2, 100 * NANO, 1, 11 * NANO);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tinvestd-ops7-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ_INT(snapshot_write(&live, dir), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/snapshot-%020llu.snap", dir,
             (unsigned long long)(live.next_seq - 1));
    static uint8_t bytes[1 << 20];
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    size_t size = f != NULL ? fread(bytes, 1, sizeof bytes, f) : 0;
    if (f != NULL)
        fclose(f);
    /* The operations section: a 32-byte header and the records held; then the favorites' (format
     * 9), none here: its 16-byte header alone; then the market's print position (format 10, 16
     * bytes); then the halts (format 11: an 8-byte header and a byte per instrument); then the
     * margin state (format 12). */
    CHECK_EQ_INT(favorites_group_total(&live) + favorites_item_total(&live), 0);
    size_t ops = 32 +
                 (size_t)(live.operations.next - live.operations.first) * sizeof(core_operation) +
                 16 + 16 + 8 + live.refdata->instrument_count +
                 snapshot_margin_bytes(&live, live.refdata->instrument_count);
    CHECK(size > ops + 16 && size < sizeof bytes);
    uint32_t version;
    memcpy(&version, bytes + 8, sizeof version);
    CHECK_EQ_INT(version, SNAPSHOT_FORMAT_VERSION);
    if (size > ops + 16 && size < sizeof bytes) {
        size -= ops + sizeof(uint32_t);
        version = SNAPSHOT_FORMAT_VERSION_NO_OPERATIONS;
        memcpy(bytes + 8, &version, sizeof version);
        uint32_t crc = crc32c_update(0, bytes, size);
        memcpy(bytes + size, &crc, sizeof crc);
        size += sizeof crc;
        f = fopen(path, "wb");
        CHECK(f != NULL && fwrite(bytes, 1, size, f) == size);
        if (f != NULL)
            fclose(f);
    }
    core_config cfg = config(0);
    core loaded;
    CHECK(core_init(&loaded, &cfg) == 0);
    char error[256];
    CHECK(snapshot_load(&loaded, dir, error, sizeof error) > 0);
    CHECK(core_state_hash(&loaded) == core_state_hash(&live));
    core_operation a[16];
    CHECK(list(&live, 0, a, 16) > 1);
    CHECK_EQ_INT(list(&loaded, 0, a, 16), 1); /* the opening balance alone */
    CHECK_EQ_INT(a[0].type, CORE_OP_INPUT);
    core_check_invariants(&loaded);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK_EQ_INT(system(cmd), 0);
    core_deinit(&loaded);
    core_deinit(&live);
}

/* Operations leave after the retention (the opening balances never); a full ring lets its
 * oldest go for a new one. */
static void test_retention_and_bound(void) {
    core c;
    event_count = 0;
    start(&c, 16);
    int64_t b;
    for (int i = 0; i < 40; i++)
        CHECK_EQ_INT(core_pay_in(&c, &rd.tokens[0], "S1", "rub", NANO, (i + 1) * NANO, &b),
                     CORE_OK);
    core_operation ops[64];
    CHECK_EQ_INT(list(&c, 2, ops, 64), 16);
    CHECK_EQ_INT(c.operations.evicted, 24);
    CHECK_EQ_INT(ops[0].number, c.operations.next - 1);
    /* An hour after the last pay-in they are all gone; A1's opening balance stays. */
    CHECK_EQ_INT(core_pay_in(&c, &rd.tokens[0], "S1", "rub", NANO, 3630 * NANO, &b), CORE_OK);
    CHECK_EQ_INT(list(&c, 2, ops, 64), 11); /* those of 30 s and before left */
    CHECK_EQ_INT(core_pay_in(&c, &rd.tokens[0], "S1", "rub", NANO, 3700 * NANO, &b), CORE_OK);
    CHECK_EQ_INT(list(&c, 2, ops, 64), 2);
    CHECK_EQ_INT(ops[1].time_ns, 3630 * NANO);
    CHECK_EQ_INT(list(&c, 0, ops, 64), 1);
    CHECK_EQ_INT(ops[0].type, CORE_OP_INPUT);
    core_deinit(&c);
}

int main(void) {
    accounts();
    test_trades_fees_and_cancels();
    test_transfer();
    test_replay_and_snapshot();
    test_snapshot_without_operations();
    test_retention_and_bound();
    return check_finish("test_core_operations");
}
