/* Fuzz target: the configuration loader and the start-up that builds on it.
 *
 * Feeds: the whole input as the configuration file (JSON, docs/CONFIG.md), written into an empty
 * directory and read with config_load(). A configuration it accepts is started the way
 * src/main.c starts one, with the pools capped so that each input stays cheap: the exchange link
 * and the core from its settings, the exchange's market maker quoting every instrument around
 * its reference price (venue_link_restore), a limit and a market buy of one lot in each of the
 * first instruments, then ten seconds of the market maker's random walk.
 *
 * Asserts, besides no crash, leak or sanitizer report: a refused file comes with a reason; an
 * accepted one starts a core that passes core_check_invariants(), also after the walk, and every
 * rate-limit rule it holds is the one its own method or service finds. */
#include <assert.h>
#include <stdint.h>
#include <string.h>

#include "config/config.h"
#include "engine/venue_link.h"
#include "fixture.h"
#include "settings/settings.h"
#include "util/log.h"

#define MAX_ORDERS_CAP 256

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    log_set_level(LOG_LEVEL_ERROR);
    fixture_dir();
    return 0;
}

static uint32_t capped(uint32_t value) {
    return value < MAX_ORDERS_CAP ? value : MAX_ORDERS_CAP;
}

/* A limit buy at the reference price and a market buy of one lot in each of the first
 * instruments, by the first token on the first account it may trade on: the configuration's
 * prices, lots and limits go through the core's checks and the exchange. */
static void probe_orders(const tinvestd_config *config, core *c, engine_venue_link *link) {
    const refdata *rd = &config->refdata;
    if (rd->token_count == 0)
        return;
    const account *acc = NULL;
    for (uint32_t a = 0; a < rd->account_count && acc == NULL; a++)
        if (refdata_access(&rd->tokens[0], &rd->accounts[a]) == ACCESS_FULL)
            acc = &rd->accounts[a];
    for (uint32_t i = 0; acc != NULL && i < rd->instrument_count && i < 4; i++) {
        for (int market = 0; market < 2; market++) {
            char key[16];
            snprintf(key, sizeof key, "probe-%u-%d", i, market);
            core_order_request req = {.token = &rd->tokens[0],
                                      .account_id = acc->id,
                                      .instrument_id = rd->instruments[i].figi,
                                      .key = key,
                                      .quantity = 1,
                                      .has_price = !market,
                                      .price_nano = rd->instruments[i].reference_price_nano,
                                      .direction = DIRECTION_BUY,
                                      .type = market ? ORDER_TYPE_MARKET : ORDER_TYPE_LIMIT,
                                      .source = ORDER_SOURCE_SYNC,
                                      .now_ns = FIXTURE_START_NS + FIXTURE_NANO};
            core_place_order(c, &req);
            venue_link_pump(link);
        }
    }
}

static void start(tinvestd_config *config) {
    for (uint32_t i = 0; i < config->rate_limit_count; i++) {
        rate_limit_scope scope;
        int32_t limit = config_rate_limit_for(config, config->rate_limits[i].method, &scope);
        assert(scope != RATE_SCOPE_DEFAULT && limit == config->rate_limits[i].per_minute);
    }
    /* As the server starts (src/settings), with the pools capped so each input stays cheap. */
    config->max_trades = capped(config->max_trades ? config->max_trades : 2 * config->max_orders);
    config->max_orders = capped(config->max_orders);
    /* The favorites' pools are the per-user limits times the users (up to 256 tokens). */
    if (config->max_favorites_per_user > 16)
        config->max_favorites_per_user = 16;
    if (config->max_favorite_groups_per_user > 4)
        config->max_favorite_groups_per_user = 4;
    core_config cc = settings_core(config);
    engine_venue_settings settings = settings_venue(config);
    static core c;
    engine_venue_link *link = venue_link_create(&config->refdata, &settings, FIXTURE_START_NS);
    if (link == NULL || core_init(&c, &cc) != 0)
        abort();
    core_check_invariants(&c);
    venue_link_attach(link, &c);
    venue_link_restore(link, FIXTURE_START_NS);
    probe_orders(config, &c, link);
    venue_link_advance(link, FIXTURE_START_NS + 10 * FIXTURE_NANO);
    core_check_invariants(&c);
    venue_link_destroy(link);
    core_deinit(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fixture_dir_clear();
    fixture_write("config.json", data, size);
    char path[600];
    snprintf(path, sizeof path, "%s/config.json", fixture_dir());
    static tinvestd_config config;
    char error[512] = "";
    if (config_load(&config, path, error, sizeof error) != 0) {
        assert(error[0] != '\0');
        return 0;
    }
    start(&config);
    config_deinit(&config);
    return 0;
}
