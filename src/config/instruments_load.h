/* Reading instruments: the configuration file's inline `instruments` array, then the
 * `instruments.json` file of the reference directory (docs/REFERENCE-DATA.md, "Instruments").
 * Both fill the refdata's instrument table in that order; an instrument's place in it is its
 * index, which the journal and snapshots name (docs/JOURNAL.md). */
#ifndef TINVESTD_CONFIG_INSTRUMENTS_LOAD_H
#define TINVESTD_CONFIG_INSTRUMENTS_LOAD_H

#include <jansson.h>

#include "config/loader.h"

/* The configuration file's `instruments` array (absent: none). */
void config_load_inline_instruments(config_loader *ld, json_t *root);
/* The reference reader: `instruments.json` of the reference directory, appended after the
 * inline ones (absent file: none). */
void config_load_instrument_file(config_loader *ld);

#endif
