#include "refbook/assets.h"

#include <assert.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

const refbook_asset *refbook_find_asset(const refbook_assets *a, const char *uid) {
    if (uid == NULL || uid[0] == '\0')
        return NULL;
    for (uint32_t i = 0; i < a->asset_count; i++)
        if (strcasecmp(a->assets[i].uid, uid) == 0)
            return &a->assets[i];
    return NULL;
}

const refbook_asset *refbook_asset_of_instrument(const refbook_assets *a, uint32_t index) {
    for (uint32_t i = 0; i < a->asset_count; i++)
        for (uint32_t j = 0; j < a->assets[i].instrument_count; j++)
            if (a->assets[i].instruments[j] == index)
                return &a->assets[i];
    return NULL;
}

const refbook_brand *refbook_find_brand(const refbook_assets *a, const char *uid) {
    if (uid == NULL || uid[0] == '\0')
        return NULL;
    for (uint32_t i = 0; i < a->brand_count; i++)
        if (strcasecmp(a->brands[i].uid, uid) == 0)
            return &a->brands[i];
    return NULL;
}

const refbook_country *refbook_find_country(const refbook_assets *a, const char *alfa_two) {
    if (alfa_two == NULL || alfa_two[0] == '\0')
        return NULL;
    for (uint32_t i = 0; i < a->country_count; i++)
        if (strcasecmp(a->countries[i].alfa_two, alfa_two) == 0)
            return &a->countries[i];
    return NULL;
}

refbook_result refbook_asset_link(refbook_assets *a, refbook_asset *asset, uint32_t index) {
    const refbook_asset *owner = refbook_asset_of_instrument(a, index);
    if (owner == asset)
        return REFBOOK_OK;
    if (owner != NULL)
        return REFBOOK_INSTRUMENT_ELSEWHERE;
    if (asset->instrument_count == REFBOOK_MAX_ASSET_INSTRUMENTS)
        return REFBOOK_TOO_MANY_INSTRUMENTS;
    asset->instruments[asset->instrument_count++] = index;
    return REFBOOK_OK;
}

/* The asset type an instrument implies: a currency's asset is the currency itself, the others'
 * a security. */
static int32_t asset_type_of(const instrument *ins) {
    return ins->kind == INSTRUMENT_KIND_CURRENCY ? REFBOOK_ASSET_TYPE_CURRENCY
                                                 : REFBOOK_ASSET_TYPE_SECURITY;
}

/* What the first instrument tells of an asset its file entry left unsaid. */
static void fill_from_instrument(refbook_asset *asset, const instrument *ins) {
    if (asset->name == NULL || asset->name[0] == '\0')
        asset->name = ins->name;
    if (asset->type == 0)
        asset->type = asset_type_of(ins);
    if (asset->type == REFBOOK_ASSET_TYPE_CURRENCY &&
        (asset->base_currency == NULL || asset->base_currency[0] == '\0'))
        asset->base_currency = ins->iso_currency_name;
}

refbook_result refbook_assets_derive(refbook_assets *a, const refdata *rd, uint32_t *failed_index) {
    for (uint32_t i = 0; i < rd->instrument_count; i++) {
        const instrument *ins = &rd->instruments[i];
        *failed_index = i;
        if (ins->kind == INSTRUMENT_KIND_FUTURE || ins->asset_uid == NULL ||
            ins->asset_uid[0] == '\0')
            continue;
        refbook_asset *asset = (refbook_asset *)refbook_find_asset(a, ins->asset_uid);
        if (asset == NULL) {
            if (a->asset_count == REFBOOK_MAX_ASSETS)
                return REFBOOK_TOO_MANY_ASSETS;
            asset = &a->assets[a->asset_count++];
            *asset = (refbook_asset){.uid = ins->asset_uid};
        }
        refbook_result r = refbook_asset_link(a, asset, i);
        if (r != REFBOOK_OK)
            return r;
    }
    for (uint32_t i = 0; i < a->asset_count; i++) {
        refbook_asset *asset = &a->assets[i];
        if (asset->instrument_count > 0)
            fill_from_instrument(asset, &rd->instruments[asset->instruments[0]]);
        assert(asset->uid != NULL);
    }
    return REFBOOK_OK;
}
