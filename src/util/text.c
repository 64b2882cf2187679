#include "util/text.h"

#include <stdlib.h>
#include <string.h>

bool text_utf8_valid(const char *s, size_t len) {
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        unsigned char lead = *p++;
        if (lead < 0x80)
            continue;
        /* The second byte's range is what rules out overlongs (after E0 and F0), surrogates
         * (after ED) and code points past U+10FFFF (after F4); the rest are plain 80..BF. */
        unsigned char low = 0x80, high = 0xBF;
        size_t continuation;
        if (lead >= 0xC2 && lead <= 0xDF) {
            continuation = 1;
        } else if (lead >= 0xE0 && lead <= 0xEF) {
            continuation = 2;
            if (lead == 0xE0)
                low = 0xA0;
            else if (lead == 0xED)
                high = 0x9F;
        } else if (lead >= 0xF0 && lead <= 0xF4) {
            continuation = 3;
            if (lead == 0xF0)
                low = 0x90;
            else if (lead == 0xF4)
                high = 0x8F;
        } else {
            return false; /* a continuation byte as lead, C0/C1 (overlong) or F5..FF */
        }
        if ((size_t)(end - p) < continuation || p[0] < low || p[0] > high)
            return false;
        for (size_t i = 1; i < continuation; i++)
            if ((p[i] & 0xC0) != 0x80)
                return false;
        p += continuation;
    }
    return true;
}

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
