/* The reference-data files of `reference_dir` (docs/REFERENCE-DATA.md): each kind of data has a
 * reader of its own, called in turn once the configuration file itself is loaded. */
#ifndef TINVESTD_CONFIG_REFERENCE_H
#define TINVESTD_CONFIG_REFERENCE_H

#include "config/loader.h"

/* Runs every reader; the first failure stops the rest and is the loader's error. */
void config_load_reference(config_loader *ld);

#endif
