/* The exchange link between the broker core and the embedded venue.
 *
 * It turns the core's new/cancel requests into venue orders and the venue's execution reports
 * into core reports, and owns the venue. Everything here runs on the core thread. */
#ifndef TINVESTD_ENGINE_VENUE_LINK_H
#define TINVESTD_ENGINE_VENUE_LINK_H

#include <stdint.h>

#include "core/core.h"
#include "core/refdata.h"

typedef struct engine_venue_settings {
    int64_t ack_delay_ns;
    int64_t fill_delay_ns;
    uint32_t reject_probability_ppm;
    uint64_t seed;
    bool market_maker_enabled;
    int32_t market_maker_levels;
    int64_t market_maker_lots_per_level;
    int32_t market_maker_spread_ticks;
    int64_t market_maker_refresh_ns;
    int32_t market_maker_walk_ticks;
    uint32_t max_orders;
} engine_venue_settings;

typedef struct engine_venue_link engine_venue_link;

engine_venue_link *venue_link_create(const refdata *rd, const engine_venue_settings *settings,
                                     int64_t start_ns);
void venue_link_destroy(engine_venue_link *link);

/* Installs the link as the core's exchange. */
void venue_link_attach(engine_venue_link *link, core *c);
/* Lets the venue process everything due by `now_ns`, feeding its reports to the core. */
void venue_link_advance(engine_venue_link *link, int64_t now_ns);
/* When the venue next has something to do; INT64_MAX when nothing is scheduled. */
int64_t venue_link_next_due_ns(const engine_venue_link *link);

/* Market data for MarketDataService, read on the core thread. */
struct venue; /* forward */
const struct venue *venue_link_venue(const engine_venue_link *link);

#endif
