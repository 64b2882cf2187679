/* What every reader of a configuration or reference-data file shares: the first error wins and
 * every later step becomes a no-op, so parsing code reads as a plain list of fields without an
 * error check after each one. Errors name the JSON path (`where`.`key`). Strings are interned in
 * the configuration's refdata, so they live as long as the configuration. */
#ifndef TINVESTD_CONFIG_LOADER_H
#define TINVESTD_CONFIG_LOADER_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

typedef struct config_loader {
    tinvestd_config *cfg;
    char *error;
    size_t error_size;
    bool failed;
} config_loader;

void cfg_fail(config_loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A string member; `fallback` when it is absent or null (NULL fallback: the member is required). */
const char *cfg_string(config_loader *ld, json_t *obj, const char *where, const char *key,
                       const char *fallback);
/* An integer member in [min, max]; `fallback` when absent. */
int64_t cfg_int(config_loader *ld, json_t *obj, const char *where, const char *key,
                int64_t fallback, int64_t min, int64_t max);
bool cfg_bool(config_loader *ld, json_t *obj, const char *where, const char *key, bool fallback);
/* A decimal string ("250.35") in nano units: money and prices are never JSON numbers, so no value
 * passes through a binary floating-point representation. NULL fallback: required. */
int64_t cfg_money(config_loader *ld, json_t *obj, const char *where, const char *key,
                  const char *fallback);
/* A date "YYYY-MM-DD" as seconds since the epoch (UTC midnight); 0 when absent. */
int64_t cfg_date(config_loader *ld, json_t *obj, const char *where, const char *key);
/* A UTC civil time as seconds since 1970, normalised as timegm does (31 April is 1 May). */
int64_t cfg_utc_seconds(int year, int month, int day, int hour, int minute, int second);
/* An object member, or NULL when absent. */
json_t *cfg_object(config_loader *ld, json_t *obj, const char *where, const char *key);
/* Calls `load_item` for each object of the array member `key` (at most `max`), counting in *count
 * the items loaded. An absent member loads nothing. */
void cfg_array(config_loader *ld, json_t *root, const char *key, uint32_t max, uint32_t *count,
               void (*load_item)(config_loader *, json_t *, uint32_t));

/* Opens the reference-data file `name` of the configuration's `reference_dir`. NULL without an
 * error when there is no reference_dir or no such file (its data is then empty); NULL with an
 * error when the file does not parse or is not a JSON object. The caller releases the result
 * with json_decref. */
json_t *cfg_reference_file(config_loader *ld, const char *name);

#endif
