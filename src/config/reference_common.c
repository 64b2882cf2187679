#include "config/reference_common.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "util/uuid.h"

int64_t ref_time(config_loader *ld, json_t *obj, const char *where, const char *key,
                 bool required) {
    json_t *value = json_object_get(obj, key);
    if (value == NULL || json_is_null(value)) {
        if (required)
            cfg_fail(ld, "%s.%s: required time is missing", where, key);
        return 0;
    }
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
    const char *text = json_is_string(value) ? json_string_value(value) : "";
    size_t len = strlen(text);
    bool ok = (len == 10 && sscanf(text, "%4d-%2d-%2d%n", &year, &month, &day, &used) == 3 &&
               used == 10) ||
              (len == 20 &&
               sscanf(text, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &year, &month, &day, &hour, &minute,
                      &second, &used) == 6 &&
               used == 20);
    ok = ok && year >= 1970 && year <= 2099 && month >= 1 && month <= 12 && day >= 1 && day <= 31 &&
         hour <= 23 && minute <= 59 && second <= 59;
    if (!ok) {
        cfg_fail(ld, "%s.%s: must be a date \"YYYY-MM-DD\" or a UTC time \"YYYY-MM-DDTHH:MM:SSZ\"",
                 where, key);
        return 0;
    }
    return cfg_utc_seconds(year, month, day, hour, minute, second);
}

uint32_t ref_instrument(config_loader *ld, json_t *obj, const char *where, const char *key) {
    const char *uid = cfg_string(ld, obj, where, key, NULL);
    if (ld->failed)
        return 0;
    const instrument *ins = refdata_find_by_uid(&ld->cfg->refdata, uid);
    if (ins == NULL) {
        cfg_fail(ld, "%s.%s: no instrument has uid \"%s\"", where, key, uid);
        return 0;
    }
    return ins->index;
}

int32_t ref_enum(config_loader *ld, json_t *obj, const char *where, const char *key,
                 const char *const *names, int32_t count, int32_t fallback) {
    json_t *value = json_object_get(obj, key);
    if (value == NULL)
        return fallback;
    const char *text = json_is_string(value) ? json_string_value(value) : "";
    for (int32_t i = 0; i < count; i++)
        if (names[i] != NULL && strcasecmp(names[i], text) == 0)
            return i;
    cfg_fail(ld, "%s.%s: \"%s\" is not one of the contract's values", where, key, text);
    return fallback;
}

double ref_number(config_loader *ld, json_t *obj, const char *where, const char *key) {
    json_t *value = json_object_get(obj, key);
    if (value == NULL)
        return 0;
    if (!json_is_number(value)) {
        cfg_fail(ld, "%s.%s: must be a number", where, key);
        return 0;
    }
    return json_number_value(value);
}

const char *ref_uuid(config_loader *ld, json_t *obj, const char *where, const char *key) {
    const char *text = cfg_string(ld, obj, where, key, NULL);
    if (!ld->failed && !uuid_is_valid(text, strlen(text)))
        cfg_fail(ld, "%s.%s: \"%s\" is not a UUID", where, key, text);
    return text;
}
