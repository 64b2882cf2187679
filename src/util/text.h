/* Text helpers: UTF-8 validation of client strings, and case-insensitive matching for
 * instrument search in the two scripts instrument names here are written in: Latin and Cyrillic
 * (UTF-8). */
#ifndef TINVESTD_UTIL_TEXT_H
#define TINVESTD_UTIL_TEXT_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the `len` bytes at `s` are well-formed UTF-8 (RFC 3629): no overlong forms, no
 * surrogates (U+D800..U+DFFF), nothing past U+10FFFF, no sequence cut short. A NUL byte is
 * valid UTF-8 (U+0000); callers that cannot hold one check for it themselves. */
bool text_utf8_valid(const char *s, size_t len);

/* Lower-cases ASCII letters and the Cyrillic А–Я and Ё in place; other bytes stay as they are.
 * Every folded letter keeps its UTF-8 length, so the string keeps its length. */
void text_fold_case(char *s);
/* Whether `needle` occurs in `haystack`, ignoring case as text_fold_case() does. */
bool text_contains_folded(const char *haystack, const char *needle);

#endif
