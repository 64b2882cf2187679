#include "util/text.h"

#include <stdlib.h>
#include <string.h>

void text_fold_case(char *s) {
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        if (*p >= 'A' && *p <= 'Z') {
            *p += 'a' - 'A';
        } else if (p[0] == 0xD0 && p[1] >= 0x90 && p[1] <= 0x9F) { /* А–П → а–п */
            p[1] += 0x20;
        } else if (p[0] == 0xD0 && p[1] >= 0xA0 && p[1] <= 0xAF) { /* Р–Я → р–я */
            p[0] = 0xD1;
            p[1] -= 0x20;
        } else if (p[0] == 0xD0 && p[1] == 0x81) { /* Ё → ё */
            p[0] = 0xD1;
            p[1] = 0x91;
        }
        /* Step over a whole UTF-8 sequence, so that a continuation byte is never a lead. */
        if (*p < 0x80)
            p++;
        else
            for (p++; (*p & 0xC0) == 0x80; p++)
                ;
    }
}

bool text_contains_folded(const char *haystack, const char *needle) {
    char *h = strdup(haystack), *n = strdup(needle);
    bool found = false;
    if (h != NULL && n != NULL) {
        text_fold_case(h);
        text_fold_case(n);
        found = strstr(h, n) != NULL;
    }
    free(h);
    free(n);
    return found;
}
