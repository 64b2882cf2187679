#include "config/indicatives_load.h"

#include <stdio.h>
#include <string.h>

static void load_indicative(config_loader *ld, json_t *item, uint32_t index) {
    char where[64];
    snprintf(where, sizeof where, "indicatives.json: indicatives[%u]", index);
    indicative_table *t = &ld->cfg->indicatives;
    indicative *out = &t->items[index];
    out->figi = cfg_string(ld, item, where, "figi", "");
    out->ticker = cfg_string(ld, item, where, "ticker", NULL);
    out->class_code = cfg_string(ld, item, where, "class_code", "");
    out->currency = cfg_string(ld, item, where, "currency", "");
    out->name = cfg_string(ld, item, where, "name", NULL);
    out->exchange = cfg_string(ld, item, where, "exchange", "");
    out->uid = cfg_string(ld, item, where, "uid", "");
    out->buy_available = cfg_bool(ld, item, where, "buy_available", false);
    out->sell_available = cfg_bool(ld, item, where, "sell_available", false);
    const char *kind = cfg_string(ld, item, where, "instrument_kind", NULL);
    if (ld->failed)
        return;
    if (strcmp(kind, "index") == 0)
        out->instrument_kind = INDICATIVE_KIND_INDEX;
    else if (strcmp(kind, "commodity") == 0)
        out->instrument_kind = INDICATIVE_KIND_COMMODITY;
    else
        cfg_fail(ld, "%s.instrument_kind: must be index or commodity", where);
    for (uint32_t j = 0; !ld->failed && j < index; j++)
        if ((out->uid[0] != '\0' && strcmp(t->items[j].uid, out->uid) == 0) ||
            (out->figi[0] != '\0' && strcmp(t->items[j].figi, out->figi) == 0))
            cfg_fail(ld, "%s: its uid or figi is already held by indicatives[%u]", where, j);
}

void config_load_indicatives(config_loader *ld) {
    json_t *root = cfg_reference_file(ld, "indicatives.json");
    if (root == NULL)
        return;
    if (json_object_get(root, "indicatives") == NULL)
        cfg_fail(ld, "indicatives.json: indicatives: required array is missing");
    else
        cfg_array(ld, root, "indicatives", REFBOOK_MAX_INDICATIVES, &ld->cfg->indicatives.count,
                  load_indicative);
    json_decref(root);
}
