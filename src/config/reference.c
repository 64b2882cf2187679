#include "config/reference.h"

#include "config/calendar_reader.h"
#include "config/reference_common.h"
#include "config/indicatives_load.h"
#include "config/instruments_load.h"

/* One entry a kind of reference data. Each reads its own file(s) with cfg_reference_file(); an
 * absent file is that data's empty answer. Order matters only where a reader looks up what an
 * earlier one loaded (everything after the instruments may name instruments). */
static void (*const readers[])(config_loader *) = {
    config_load_instrument_file, /* first: every later reader may name instruments */
    config_load_indicatives,
    config_read_calendar,
    /* Assets, brands, countries (reference_assets.c): countries before the brands that name
     * them, brands before the assets; then the analytics and the signals, which name assets. */
    config_read_countries,
    config_read_brands,
    config_read_assets,
    config_read_fundamentals,
    config_read_asset_reports,
    config_read_forecasts,
    config_read_risk_rates,
    config_read_insider_deals,
    config_read_structured_notes,
    config_read_strategies,
    config_read_signals,
};

void config_load_reference(config_loader *ld) {
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
        if (ld->failed)
            return;
        if (readers[i] != NULL)
            readers[i](ld);
    }
}
