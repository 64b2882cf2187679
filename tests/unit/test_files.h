/* Files the unit tests write into their scratch directories (include after check.h). */
#ifndef TINVESTD_TESTS_TEST_FILES_H
#define TINVESTD_TESTS_TEST_FILES_H

#include <stdio.h>

#include "check.h"

/* Writes `text` as the whole file at `path`; a file that cannot be opened fails a CHECK. */
static inline void test_write_path(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f == NULL)
        return;
    fputs(text, f);
    fclose(f);
}

/* The same for the file `name` in the directory `dir`. */
static inline void test_write_file(const char *dir, const char *name, const char *text) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    test_write_path(path, text);
}

#endif
