/* Snapshots: a flipped bit in a snapshot header's counts used to be taken for a configuration
 * change, and recovery refused to start; it is damage, and the previous snapshot serves. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "one_share.h"
#include "core/core.h"
#include "engine/snapshot.h"

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

int main(void) {
    setup_refdata();
    test_damaged_header_counts_fall_back();
    refdata_deinit(&rd);
    return check_finish("engine snapshot");
}
