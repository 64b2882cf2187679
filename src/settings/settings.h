/* The loaded configuration as the broker core and the exchange link take it: one place that says
 * which configuration key feeds which setting, for the server (src/main.c) and for everything
 * that starts a broker the way the server does (the configuration fuzz target). */
#ifndef TINVESTD_SETTINGS_SETTINGS_H
#define TINVESTD_SETTINGS_SETTINGS_H

#include "config/config.h"
#include "core/core.h"
#include "engine/venue_link.h"

/* The core keeps a pointer to the configuration's reference data, which it changes (sandbox
 * accounts opened at run time). */
core_config settings_core(tinvestd_config *config);
engine_venue_settings settings_venue(const tinvestd_config *config);

#endif
