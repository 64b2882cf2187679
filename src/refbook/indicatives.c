#include "refbook/indicatives.h"

#include <string.h>

static bool same(const char *a, const char *b) {
    return a != NULL && b != NULL && a[0] != '\0' && strcmp(a, b) == 0;
}

const indicative *indicatives_find(const indicative_table *t, const char *uid, const char *figi) {
    for (uint32_t i = 0; i < t->count; i++)
        if (same(t->items[i].uid, uid) || same(t->items[i].figi, figi))
            return &t->items[i];
    return NULL;
}
