#include "config/reference.h"

#include "config/indicatives_load.h"
#include "config/instruments_load.h"

/* One entry a kind of reference data. Each reads its own file(s) with cfg_reference_file(); an
 * absent file is that data's empty answer. Order matters only where a reader looks up what an
 * earlier one loaded (everything after the instruments may name instruments). */
static void (*const readers[])(config_loader *) = {
    config_load_instrument_file, /* first: every later reader may name instruments */
    config_load_indicatives,
};

void config_load_reference(config_loader *ld) {
    for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
        if (ld->failed)
            return;
        if (readers[i] != NULL)
            readers[i](ld);
    }
}
