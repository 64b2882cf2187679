#include "config/loader.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "util/money.h"

void cfg_fail(config_loader *ld, const char *fmt, ...) {
    if (ld->failed)
        return;
    ld->failed = true;
    va_list args;
    va_start(args, fmt);
    vsnprintf(ld->error, ld->error_size, fmt, args);
    va_end(args);
}

const char *cfg_string(config_loader *ld, json_t *obj, const char *where, const char *key,
                       const char *fallback) {
    json_t *value = json_object_get(obj, key);
    if (value == NULL || json_is_null(value)) {
        if (fallback == NULL)
            cfg_fail(ld, "%s.%s: required string is missing", where, key);
        return fallback == NULL ? NULL : refdata_intern(&ld->cfg->refdata, fallback);
    }
    if (!json_is_string(value)) {
        cfg_fail(ld, "%s.%s: must be a string", where, key);
        return NULL;
    }
    const char *copy = refdata_intern(&ld->cfg->refdata, json_string_value(value));
    if (copy == NULL)
        cfg_fail(ld, "out of memory");
    return copy;
}

int64_t cfg_int(config_loader *ld, json_t *obj, const char *where, const char *key,
                int64_t fallback, int64_t min, int64_t max) {
    json_t *value = json_object_get(obj, key);
    if (value == NULL)
        return fallback;
    if (!json_is_integer(value)) {
        cfg_fail(ld, "%s.%s: must be an integer", where, key);
        return fallback;
    }
    json_int_t v = json_integer_value(value);
    if (v < min || v > max) {
        cfg_fail(ld, "%s.%s: %lld is outside [%lld, %lld]", where, key, (long long)v,
                 (long long)min, (long long)max);
        return fallback;
    }
    return (int64_t)v;
}

bool cfg_bool(config_loader *ld, json_t *obj, const char *where, const char *key, bool fallback) {
    json_t *value = json_object_get(obj, key);
    if (value == NULL)
        return fallback;
    if (!json_is_boolean(value)) {
        cfg_fail(ld, "%s.%s: must be true or false", where, key);
        return fallback;
    }
    return json_is_true(value);
}

/* Money and prices are decimal strings in the file ("250.35"), never JSON numbers, so that no
 * value passes through a binary floating-point representation. */
int64_t cfg_money(config_loader *ld, json_t *obj, const char *where, const char *key,
                  const char *fallback) {
    json_t *value = json_object_get(obj, key);
    const char *text = fallback;
    if (value != NULL) {
        if (!json_is_string(value)) {
            cfg_fail(ld, "%s.%s: must be a decimal string such as \"12.5\"", where, key);
            return 0;
        }
        text = json_string_value(value);
    }
    if (text == NULL) {
        cfg_fail(ld, "%s.%s: required decimal string is missing", where, key);
        return 0;
    }
    int64_t nano = 0;
    if (money_parse_decimal(text, &nano) != 0)
        cfg_fail(ld, "%s.%s: \"%s\" is not a decimal amount", where, key, text);
    return nano;
}

int64_t cfg_date(config_loader *ld, json_t *obj, const char *where, const char *key) {
    json_t *value = json_object_get(obj, key);
    if (value == NULL)
        return 0;
    int year, month, day;
    char tail;
    if (!json_is_string(value) ||
        sscanf(json_string_value(value), "%4d-%2d-%2d%c", &year, &month, &day, &tail) != 3) {
        cfg_fail(ld, "%s.%s: must be a date \"YYYY-MM-DD\"", where, key);
        return 0;
    }
    return cfg_utc_seconds(year, month, day, 0, 0, 0);
}

int64_t cfg_utc_seconds(int year, int month, int day, int hour, int minute, int second) {
    struct tm tm = {.tm_year = year - 1900,
                    .tm_mon = month - 1,
                    .tm_mday = day,
                    .tm_hour = hour,
                    .tm_min = minute,
                    .tm_sec = second};
    return (int64_t)timegm(&tm);
}

json_t *cfg_object(config_loader *ld, json_t *obj, const char *where, const char *key) {
    json_t *value = json_object_get(obj, key);
    if (value != NULL && !json_is_object(value)) {
        cfg_fail(ld, "%s.%s: must be an object", where, key);
        return NULL;
    }
    return value;
}

void cfg_array(config_loader *ld, json_t *root, const char *key, uint32_t max, uint32_t *count,
               void (*load_item)(config_loader *, json_t *, uint32_t)) {
    json_t *array = json_object_get(root, key);
    if (array == NULL)
        return;
    if (!json_is_array(array) || json_array_size(array) > max) {
        cfg_fail(ld, "%s: must be an array of at most %u entries", key, max);
        return;
    }
    size_t i;
    json_t *item;
    json_array_foreach(array, i, item) {
        if (!json_is_object(item)) {
            cfg_fail(ld, "%s[%zu]: must be an object", key, i);
            return;
        }
        load_item(ld, item, (uint32_t)i);
        if (ld->failed)
            return;
        *count = (uint32_t)i + 1;
    }
}

json_t *cfg_reference_file(config_loader *ld, const char *name) {
    if (ld->failed || ld->cfg->reference_dir[0] == '\0')
        return NULL;
    char path[sizeof ld->cfg->reference_dir + 64];
    snprintf(path, sizeof path, "%s/%s", ld->cfg->reference_dir, name);
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return NULL;
    json_error_t parse_error;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &parse_error);
    if (root == NULL) {
        cfg_fail(ld, "%s:%d:%d: %s", name, parse_error.line, parse_error.column, parse_error.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        cfg_fail(ld, "%s: the top level must be an object", name);
        json_decref(root);
        return NULL;
    }
    return root;
}
