/* Case-insensitive text matching for instrument search, for the two scripts instrument names
 * here are written in: Latin and Cyrillic (UTF-8). */
#ifndef TINVESTD_UTIL_TEXT_H
#define TINVESTD_UTIL_TEXT_H

#include <stdbool.h>

/* Lower-cases ASCII letters and the Cyrillic А–Я and Ё in place; other bytes stay as they are.
 * Every folded letter keeps its UTF-8 length, so the string keeps its length. */
void text_fold_case(char *s);
/* Whether `needle` occurs in `haystack`, ignoring case as text_fold_case() does. */
bool text_contains_folded(const char *haystack, const char *needle);

#endif
