/* Assets, brands and countries (InstrumentsService GetAssets, GetAssetBy, GetBrands, GetBrandBy,
 * GetCountries).
 *
 * DESIGN: the instrument universe already names most of what an asset is: each instrument's
 * asset_uid, its name, sector and country of risk. refbook_assets_derive() builds one asset per
 * distinct asset_uid from the instruments (futures excepted: the real API lists no derivative
 * in an asset), after config/ has read assets.json, whose entries add what only the file knows
 * (brief name, description, brand, registration codes, status, tests) and may link instruments
 * without an asset_uid of their own. So GetAssets lists every asset the universe implies even
 * with no assets.json at all. An instrument neither names an asset nor is linked by one: it has
 * no asset, as in the real API's answers for such instruments. Loaded before any thread starts,
 * read-only afterwards. */
#ifndef TINVESTD_REFBOOK_ASSETS_H
#define TINVESTD_REFBOOK_ASSETS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/refdata.h"

#define REFBOOK_MAX_ASSETS 4096
#define REFBOOK_MAX_ASSET_INSTRUMENTS 32
#define REFBOOK_MAX_REQUIRED_TESTS 8
#define REFBOOK_MAX_BRANDS 2048
#define REFBOOK_MAX_COUNTRIES 256

/* AssetType values of the contract. */
#define REFBOOK_ASSET_TYPE_CURRENCY 1
#define REFBOOK_ASSET_TYPE_COMMODITY 2
#define REFBOOK_ASSET_TYPE_INDEX 3
#define REFBOOK_ASSET_TYPE_SECURITY 4

typedef struct refbook_country {
    const char *alfa_two, *alfa_three, *name, *name_brief;
} refbook_country;

typedef struct refbook_brand {
    const char *uid, *name, *description, *info, *company, *sector;
    const char *country_of_risk, *country_of_risk_name;
} refbook_brand;

typedef struct refbook_asset {
    const char *uid;
    int32_t type; /* AssetType */
    const char *name, *name_brief, *description, *gos_reg_code, *cfi, *code_nsd, *status;
    const char *br_code, *br_code_name;
    const char *base_currency;          /* currency assets: "usd" */
    int64_t deleted_at_s, updated_at_s; /* 0: none */
    const refbook_brand *brand;         /* NULL: none */
    uint32_t required_test_count;
    const char *required_tests[REFBOOK_MAX_REQUIRED_TESTS];
    uint32_t instrument_count;
    uint32_t instruments[REFBOOK_MAX_ASSET_INSTRUMENTS]; /* refdata indexes */
} refbook_asset;

typedef struct refbook_assets {
    uint32_t asset_count, brand_count, country_count;
    refbook_asset assets[REFBOOK_MAX_ASSETS];
    refbook_brand brands[REFBOOK_MAX_BRANDS];
    refbook_country countries[REFBOOK_MAX_COUNTRIES];
} refbook_assets;

typedef enum {
    REFBOOK_OK = 0,
    REFBOOK_TOO_MANY_ASSETS,      /* more than REFBOOK_MAX_ASSETS */
    REFBOOK_TOO_MANY_INSTRUMENTS, /* an asset of more than REFBOOK_MAX_ASSET_INSTRUMENTS */
    REFBOOK_INSTRUMENT_ELSEWHERE, /* an instrument linked to two assets */
} refbook_result;

/* Adds the instruments of `rd` to the assets their asset_uid names, making an asset (named as
 * its first instrument) for a uid no entry has; an instrument already linked to its asset is not
 * added twice. On failure *instrument is the refdata index of the instrument concerned. */
refbook_result refbook_assets_derive(refbook_assets *a, const refdata *rd, uint32_t *failed_index);
/* Links instrument `index` to asset `asset` (an entry of the file). */
refbook_result refbook_asset_link(refbook_assets *a, refbook_asset *asset, uint32_t index);

const refbook_asset *refbook_find_asset(const refbook_assets *a, const char *uid);
/* The asset one of whose instruments is `index`, or NULL. */
const refbook_asset *refbook_asset_of_instrument(const refbook_assets *a, uint32_t index);
const refbook_brand *refbook_find_brand(const refbook_assets *a, const char *uid);
const refbook_country *refbook_find_country(const refbook_assets *a, const char *alfa_two);

#endif
