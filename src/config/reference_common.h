/* What the readers of assets, analytics and signals share: times, instruments and enumerations
 * named in a reference-data file, each checked with the entry's JSON path. */
#ifndef TINVESTD_CONFIG_REFERENCE_COMMON_H
#define TINVESTD_CONFIG_REFERENCE_COMMON_H

#include "config/loader.h"

/* A time "YYYY-MM-DD" (UTC midnight) or "YYYY-MM-DDTHH:MM:SSZ", as seconds; 0 when absent
 * (required: an error). */
int64_t ref_time(config_loader *ld, json_t *obj, const char *where, const char *key, bool required);
/* The refdata index of the instrument whose uid the member `key` names (required). */
uint32_t ref_instrument(config_loader *ld, json_t *obj, const char *where, const char *key);
/* A member naming one of `names` (an enumeration's values without their prefix, index = value);
 * `fallback` when absent. */
int32_t ref_enum(config_loader *ld, json_t *obj, const char *where, const char *key,
                 const char *const *names, int32_t count, int32_t fallback);
/* A JSON number (analytics, not money); 0 when absent. */
double ref_number(config_loader *ld, json_t *obj, const char *where, const char *key);
/* A string member of at most `max` characters that is a UUID (required). */
const char *ref_uuid(config_loader *ld, json_t *obj, const char *where, const char *key);

/* Every reader of reference.c's readers[] table that these files define. */
void config_read_countries(config_loader *ld);
void config_read_brands(config_loader *ld);
void config_read_assets(config_loader *ld);
void config_read_fundamentals(config_loader *ld);
void config_read_asset_reports(config_loader *ld);
void config_read_forecasts(config_loader *ld);
void config_read_risk_rates(config_loader *ld);
void config_read_insider_deals(config_loader *ld);
void config_read_structured_notes(config_loader *ld);
void config_read_strategies(config_loader *ld);
void config_read_signals(config_loader *ld);

#endif
