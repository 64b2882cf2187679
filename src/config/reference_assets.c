/* Readers of countries.json, brands.json and assets.json (docs/REFERENCE-DATA.md). The assets
 * the instrument universe implies are derived after assets.json is read, file or no file
 * (refbook/assets.h). */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "config/reference_common.h"

static refbook_assets *assets_of(config_loader *ld) {
    return &ld->cfg->assets;
}

static void load_country(config_loader *ld, json_t *item, uint32_t index) {
    char where[64];
    snprintf(where, sizeof where, "countries.json: countries[%u]", index);
    refbook_country *c = &assets_of(ld)->countries[index];
    c->alfa_two = cfg_string(ld, item, where, "alfa_two", NULL);
    c->alfa_three = cfg_string(ld, item, where, "alfa_three", "");
    c->name = cfg_string(ld, item, where, "name", NULL);
    c->name_brief = cfg_string(ld, item, where, "name_brief", "");
    if (!ld->failed && strlen(c->alfa_two) != 2)
        cfg_fail(ld, "%s.alfa_two: must be two letters", where);
    if (!ld->failed && refbook_find_country(assets_of(ld), c->alfa_two) != NULL)
        cfg_fail(ld, "%s.alfa_two: \"%s\" is listed twice", where, c->alfa_two);
}

void config_read_countries(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "countries.json");
    if (root == NULL)
        return;
    refbook_assets *a = assets_of(ld);
    cfg_array(ld, root, "countries", REFBOOK_MAX_COUNTRIES, &a->country_count, load_country);
    json_decref(root);
}

static void load_brand(config_loader *ld, json_t *item, uint32_t index) {
    char where[64];
    snprintf(where, sizeof where, "brands.json: brands[%u]", index);
    refbook_assets *a = assets_of(ld);
    refbook_brand *b = &a->brands[index];
    b->uid = ref_uuid(ld, item, where, "uid");
    b->name = cfg_string(ld, item, where, "name", NULL);
    b->description = cfg_string(ld, item, where, "description", "");
    b->info = cfg_string(ld, item, where, "info", "");
    b->company = cfg_string(ld, item, where, "company", "");
    b->sector = cfg_string(ld, item, where, "sector", "");
    b->country_of_risk = cfg_string(ld, item, where, "country_of_risk", "");
    b->country_of_risk_name = cfg_string(ld, item, where, "country_of_risk_name", "");
    if (ld->failed)
        return;
    if (refbook_find_brand(a, b->uid) != NULL) {
        cfg_fail(ld, "%s.uid: \"%s\" is listed twice", where, b->uid);
        return;
    }
    /* The country's name comes from countries.json unless the entry names it itself. */
    const refbook_country *country = refbook_find_country(a, b->country_of_risk);
    if (b->country_of_risk[0] != '\0' && a->country_count > 0 && country == NULL)
        cfg_fail(ld, "%s.country_of_risk: \"%s\" is not in countries.json", where,
                 b->country_of_risk);
    else if (b->country_of_risk_name[0] == '\0' && country != NULL)
        b->country_of_risk_name = country->name;
}

void config_read_brands(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "brands.json");
    if (root == NULL)
        return;
    refbook_assets *a = assets_of(ld);
    cfg_array(ld, root, "brands", REFBOOK_MAX_BRANDS, &a->brand_count, load_brand);
    json_decref(root);
}

static const char *const asset_types[] = {"unspecified", "currency", "commodity", "index",
                                          "security"};

static void load_asset_instruments(config_loader *ld, json_t *item, const char *where,
                                   refbook_asset *asset) {
    json_t *list = json_object_get(item, "instruments");
    if (list == NULL)
        return;
    if (!json_is_array(list)) {
        cfg_fail(ld, "%s.instruments: must be an array of instrument uids", where);
        return;
    }
    size_t i;
    json_t *uid;
    json_array_foreach(list, i, uid) {
        const instrument *ins = json_is_string(uid)
                                    ? refdata_find_by_uid(&ld->cfg->refdata, json_string_value(uid))
                                    : NULL;
        if (ins == NULL) {
            cfg_fail(ld, "%s.instruments[%zu]: no instrument has this uid", where, i);
            return;
        }
        if (ins->asset_uid[0] != '\0' && strcasecmp(ins->asset_uid, asset->uid) != 0) {
            cfg_fail(ld, "%s.instruments[%zu]: the instrument names asset \"%s\"", where, i,
                     ins->asset_uid);
            return;
        }
        if (ins->kind == INSTRUMENT_KIND_FUTURE) {
            cfg_fail(ld, "%s.instruments[%zu]: a future belongs to no asset", where, i);
            return;
        }
        refbook_result r = refbook_asset_link(assets_of(ld), asset, ins->index);
        if (r == REFBOOK_TOO_MANY_INSTRUMENTS)
            cfg_fail(ld, "%s.instruments: at most %d instruments", where,
                     REFBOOK_MAX_ASSET_INSTRUMENTS);
        else if (r == REFBOOK_INSTRUMENT_ELSEWHERE)
            cfg_fail(ld, "%s.instruments[%zu]: the instrument is another asset's", where, i);
        if (ld->failed)
            return;
    }
}

static void load_required_tests(config_loader *ld, json_t *item, const char *where,
                                refbook_asset *asset) {
    json_t *list = json_object_get(item, "required_tests");
    if (list == NULL)
        return;
    if (!json_is_array(list) || json_array_size(list) > REFBOOK_MAX_REQUIRED_TESTS) {
        cfg_fail(ld, "%s.required_tests: must be an array of at most %d strings", where,
                 REFBOOK_MAX_REQUIRED_TESTS);
        return;
    }
    size_t i;
    json_t *test;
    json_array_foreach(list, i, test) {
        if (!json_is_string(test)) {
            cfg_fail(ld, "%s.required_tests[%zu]: must be a string", where, i);
            return;
        }
        const char *copy = refdata_intern(&ld->cfg->refdata, json_string_value(test));
        if (copy == NULL) {
            cfg_fail(ld, "out of memory");
            return;
        }
        asset->required_tests[asset->required_test_count++] = copy;
    }
}

static void load_asset(config_loader *ld, json_t *item, uint32_t index) {
    char where[64];
    snprintf(where, sizeof where, "assets.json: assets[%u]", index);
    refbook_assets *a = assets_of(ld);
    refbook_asset *asset = &a->assets[index];
    *asset = (refbook_asset){0};
    asset->uid = ref_uuid(ld, item, where, "uid");
    if (!ld->failed && refbook_find_asset(a, asset->uid) != NULL)
        cfg_fail(ld, "%s.uid: \"%s\" is listed twice", where, asset->uid);
    /* Counted now so that the lookups above see this entry and the next sees it as taken. */
    a->asset_count = index + 1;
    asset->type = ref_enum(ld, item, where, "type", asset_types, 5, 0);
    asset->name = cfg_string(ld, item, where, "name", "");
    asset->name_brief = cfg_string(ld, item, where, "name_brief", "");
    asset->description = cfg_string(ld, item, where, "description", "");
    asset->gos_reg_code = cfg_string(ld, item, where, "gos_reg_code", "");
    asset->cfi = cfg_string(ld, item, where, "cfi", "");
    asset->code_nsd = cfg_string(ld, item, where, "code_nsd", "");
    asset->status = cfg_string(ld, item, where, "status", "");
    asset->br_code = cfg_string(ld, item, where, "br_code", "");
    asset->br_code_name = cfg_string(ld, item, where, "br_code_name", "");
    asset->base_currency = cfg_string(ld, item, where, "base_currency", "");
    asset->deleted_at_s = ref_time(ld, item, where, "deleted_at", false);
    asset->updated_at_s = ref_time(ld, item, where, "updated_at", false);
    const char *brand = cfg_string(ld, item, where, "brand", "");
    if (!ld->failed && brand[0] != '\0') {
        asset->brand = refbook_find_brand(a, brand);
        if (asset->brand == NULL)
            cfg_fail(ld, "%s.brand: no brand of brands.json has uid \"%s\"", where, brand);
    }
    if (!ld->failed)
        load_required_tests(ld, item, where, asset);
    if (!ld->failed)
        load_asset_instruments(ld, item, where, asset);
}

void config_read_assets(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "assets.json");
    refbook_assets *a = assets_of(ld);
    if (root != NULL) {
        cfg_array(ld, root, "assets", REFBOOK_MAX_ASSETS, &a->asset_count, load_asset);
        json_decref(root);
    }
    if (ld->failed)
        return;
    uint32_t index = 0;
    switch (refbook_assets_derive(a, &ld->cfg->refdata, &index)) {
    case REFBOOK_OK:
        break;
    case REFBOOK_TOO_MANY_ASSETS:
        cfg_fail(ld, "instruments[%u].asset_uid: more than %d assets", index, REFBOOK_MAX_ASSETS);
        break;
    case REFBOOK_TOO_MANY_INSTRUMENTS:
        cfg_fail(ld, "instruments[%u].asset_uid: the asset has more than %d instruments", index,
                 REFBOOK_MAX_ASSET_INSTRUMENTS);
        break;
    case REFBOOK_INSTRUMENT_ELSEWHERE:
        cfg_fail(ld, "instruments[%u].asset_uid: assets.json links it to another asset", index);
        break;
    }
}
