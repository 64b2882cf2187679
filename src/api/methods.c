#include <stdlib.h>
#include <string.h>

#include "api/replay.h"
#include "api/services.h"
#include "api/techanalysis.h"

typedef const api_method *(*method_table_fn)(size_t *count);

static const method_table_fn service_tables[] = {
    api_users_methods,
    api_instruments_methods,
    api_orders_methods,
    api_operations_methods,
    api_marketdata_methods,
    api_order_stream_methods,
    api_techanalysis_methods,
    api_marketdata_stream_methods,
    api_stop_order_methods,
    api_operations_history_methods,
    api_operations_stream_methods,
    api_calendar_methods,
    api_assets_methods,
    api_signal_methods,
    api_favorites_methods,
    api_universe_methods,
    api_reflection_methods,
    api_health_methods,
    api_replay_methods,
    api_admin_methods,
};

api_method *api_all_methods(size_t *count) {
    size_t total = 0;
    for (size_t s = 0; s < sizeof service_tables / sizeof service_tables[0]; s++) {
        size_t n;
        service_tables[s](&n);
        total += n;
    }
    api_method *all = calloc(total, sizeof *all);
    if (all == NULL)
        return NULL;
    size_t used = 0;
    for (size_t s = 0; s < sizeof service_tables / sizeof service_tables[0]; s++) {
        size_t n;
        const api_method *table = service_tables[s](&n);
        memcpy(all + used, table, n * sizeof *table);
        used += n;
    }
    *count = total;
    return all;
}
