/* Snapshots: a flipped bit in a snapshot header's counts used to be taken for a configuration
 * change, and recovery refused to start; it is damage, and the previous snapshot serves. So is a
 * snapshot whose checksum holds but whose records do not fit together: the snapshot fuzz target
 * found such records loaded and then followed out of bounds, round a loop, or into an assertion. */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "one_share.h"
#include "core/core.h"
#include "engine/snapshot.h"
#include "util/crc32c.h"

#define NANO 1000000000LL

static refdata rd;

static void setup_refdata(void) {
    one_share_refdata(&rd, 100000);
}

static core_config config(void) {
    return (core_config){.refdata = &rd,
                         .max_orders = 64,
                         .max_trades = 128,
                         .order_retention_ns = 3600 * NANO,
                         .max_orders_per_account = 64,
                         .max_trades_per_order = 4,
                         .id_seed = 3};
}

static void open_market(void *ctx, uint32_t instrument_index, core_market *out) {
    out->trading = true;
    out->last_price_nano = 100 * NANO;
    out->limit_up_nano = 120 * NANO;
    out->limit_down_nano = 80 * NANO;
}

static void place(core *c, int i) {
    char key[40];
    snprintf(key, sizeof key, "k%d", i);
    core_order_request req = {.token = &rd.tokens[0],
                              .account_id = "A1",
                              .instrument_id = "FIGI0",
                              .key = key,
                              .quantity = 1,
                              .has_price = true,
                              .price_nano = 90 * NANO,
                              .direction = DIRECTION_BUY,
                              .type = ORDER_TYPE_LIMIT,
                              .source = ORDER_SOURCE_SYNC,
                              .now_ns = 1000 + i};
    CHECK_EQ_INT(core_place_order(c, &req).error, CORE_OK);
    core_request sent;
    while (core_next_request(c, &sent))
        ;
}

static void test_damaged_header_counts_fall_back(void) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/tinvestd-snapshot-XXXXXX", P_tmpdir);
    CHECK(mkdtemp(dir) != NULL);
    core_config cfg = config();
    core live;
    CHECK(core_init(&live, &cfg) == 0);
    live.exchange = (core_exchange){.market = open_market};
    place(&live, 0);
    place(&live, 1);
    CHECK_EQ_INT(snapshot_write(&live, dir), 0);
    uint64_t first_seq = live.next_seq - 1;
    uint64_t first_hash = core_state_hash(&live);
    place(&live, 2);
    CHECK_EQ_INT(snapshot_write(&live, dir), 0);
    char path[320];
    snprintf(path, sizeof path, "%s/snapshot-%020llu.snap", dir,
             (unsigned long long)(live.next_seq - 1));
    /* The order high-water mark sits right after magic, version and the four record sizes. */
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    uint32_t order_high = 0;
    CHECK(pread(fd, &order_high, sizeof order_high, 8 + 4 + 4 * 4) == sizeof order_high);
    order_high ^= 1u << 20; /* far beyond max_orders: "does not fit the configuration" */
    CHECK(pwrite(fd, &order_high, sizeof order_high, 8 + 4 + 4 * 4) == sizeof order_high);
    close(fd);
    core restored;
    CHECK(core_init(&restored, &cfg) == 0);
    char error[256];
    int64_t seq = snapshot_load(&restored, dir, error, sizeof error);
    CHECK_EQ_INT(seq, (int64_t)first_seq);
    CHECK(core_state_hash(&restored) == first_hash);
    core_deinit(&restored);
    core_deinit(&live);
    char command[300];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    CHECK(system(command) == 0);
}

/* sizeof(snapshot_header) in engine/snapshot.c: the orders follow it. */
#define SNAPSHOT_HEADER_BYTES 64

/* Overwrites `size` bytes of the order in `slot` at `offset` within it, then recomputes the
 * file's checksum, as a writer's bug would have written it. */
static void rewrite_order(const char *path, uint32_t slot, size_t offset, const void *bytes,
                          size_t size) {
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    off_t at = SNAPSHOT_HEADER_BYTES + (off_t)slot * (off_t)sizeof(core_order) + (off_t)offset;
    CHECK(pwrite(fd, bytes, size, at) == (ssize_t)size);
    off_t length = lseek(fd, 0, SEEK_END);
    uint8_t *data = malloc((size_t)length);
    CHECK(pread(fd, data, (size_t)length, 0) == length);
    uint32_t crc = crc32c_update(0, data, (size_t)length - sizeof crc);
    CHECK(pwrite(fd, &crc, sizeof crc, length - (off_t)sizeof crc) == sizeof crc);
    free(data);
    close(fd);
}

/* Two snapshots; the newer one's first order is rewritten by `damage`, its checksum holding. The
 * older one is loaded instead. */
static void check_damaged_records_fall_back(void (*damage)(const char *path)) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/tinvestd-snapshot-XXXXXX", P_tmpdir);
    CHECK(mkdtemp(dir) != NULL);
    core_config cfg = config();
    core live;
    CHECK(core_init(&live, &cfg) == 0);
    live.exchange = (core_exchange){.market = open_market};
    place(&live, 0);
    CHECK_EQ_INT(snapshot_write(&live, dir), 0);
    uint64_t first_seq = live.next_seq - 1;
    uint64_t first_hash = core_state_hash(&live);
    place(&live, 1);
    CHECK_EQ_INT(snapshot_write(&live, dir), 0);
    char path[320];
    snprintf(path, sizeof path, "%s/snapshot-%020llu.snap", dir,
             (unsigned long long)(live.next_seq - 1));
    damage(path);
    core restored;
    CHECK(core_init(&restored, &cfg) == 0);
    char error[256];
    int64_t seq = snapshot_load(&restored, dir, error, sizeof error);
    CHECK_EQ_INT(seq, (int64_t)first_seq);
    if (seq == (int64_t)first_seq) {
        CHECK(core_state_hash(&restored) == first_hash);
        core_check_invariants(&restored);
    }
    core_deinit(&restored);
    core_deinit(&live);
    char command[300];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    CHECK(system(command) == 0);
}

/* An account index past the accounts: the order's lists and cash were read outside the pools. */
static void account_out_of_range(const char *path) {
    uint32_t account_index = 200;
    rewrite_order(path, 0, offsetof(core_order, account), &account_index, sizeof account_index);
}

/* An instrument index past the instruments (UndefinedBehaviorSanitizer: index out of bounds). */
static void instrument_out_of_range(const char *path) {
    uint32_t instrument_index = 8192;
    rewrite_order(path, 0, offsetof(core_order, instrument), &instrument_index,
                  sizeof instrument_index);
}

/* The account's list of orders round in a loop: every walk of it never ended. */
static void list_in_a_loop(const char *path) {
    uint32_t next = 0;
    rewrite_order(path, 0, offsetof(core_order, account_next), &next, sizeof next);
}

/* More cash held by the order than the account blocks. */
static void reservation_not_blocked(const char *path) {
    int64_t cash = 1;
    rewrite_order(path, 0, offsetof(core_order, reserved_cash_nano), &cash, sizeof cash);
}

/* A bool that is neither 0 nor 1 (UndefinedBehaviorSanitizer: not a valid value for _Bool). */
static void bool_byte(const char *path) {
    uint8_t byte = 232;
    rewrite_order(path, 0, offsetof(core_order, awaiting_replaced), &byte, sizeof byte);
}

/* Two orders of the account under one key: the index found one of them only. */
static void key_held_twice(const char *path) {
    rewrite_order(path, 1, offsetof(core_order, key), "k0", sizeof "k0");
}

/* A key without its terminating NUL: its length was read past the record. */
static void key_unterminated(const char *path) {
    char key[ORDER_KEY_SIZE];
    memset(key, 'k', sizeof key);
    rewrite_order(path, 0, offsetof(core_order, key), key, sizeof key);
}

int main(void) {
    setup_refdata();
    test_damaged_header_counts_fall_back();
    check_damaged_records_fall_back(account_out_of_range);
    check_damaged_records_fall_back(reservation_not_blocked);
    check_damaged_records_fall_back(instrument_out_of_range);
    check_damaged_records_fall_back(list_in_a_loop);
    check_damaged_records_fall_back(bool_byte);
    check_damaged_records_fall_back(key_held_twice);
    check_damaged_records_fall_back(key_unterminated);
    refdata_deinit(&rd);
    return check_finish("engine snapshot");
}
