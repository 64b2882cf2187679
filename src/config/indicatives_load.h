/* The reader of `indicatives.json` (docs/REFERENCE-DATA.md, "Indicatives"). */
#ifndef TINVESTD_CONFIG_INDICATIVES_LOAD_H
#define TINVESTD_CONFIG_INDICATIVES_LOAD_H

#include "config/loader.h"

void config_load_indicatives(config_loader *ld);

#endif
