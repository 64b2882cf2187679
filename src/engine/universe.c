#include "engine/universe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util/durable.h"

#define PIN_HEADER "tinvestd instruments 1\n"
#define UID_MAX 128

/* An instrument's line: its uid, or "figi:" and its FIGI when it has no uid. */
static void pin_key(const instrument *ins, char *out, size_t size) {
    if (ins->uid[0] != '\0')
        snprintf(out, size, "%s", ins->uid);
    else
        snprintf(out, size, "figi:%s", ins->figi);
}

static void pin_path(const char *dir, const char *name, char *out, size_t size) {
    snprintf(out, size, "%s/%s", dir, name);
}

int universe_check(const char *dir, const refdata *rd, uint32_t *pinned_count, char *error,
                   size_t error_size) {
    char path[600];
    pin_path(dir, UNIVERSE_PIN_FILE, path, sizeof path);
    *pinned_count = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) {
        if (errno == ENOENT)
            return 0;
        snprintf(error, error_size, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    char line[UID_MAX + 2];
    int rc = 0;
    if (fgets(line, sizeof line, f) == NULL || strcmp(line, PIN_HEADER) != 0) {
        snprintf(error, error_size, "%s is not a list of instruments this version wrote", path);
        rc = -1;
    }
    uint32_t i = 0;
    while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') {
            snprintf(error, error_size, "%s: line %u is cut or too long", path, i + 2);
            rc = -1;
            break;
        }
        line[len - 1] = '\0';
        if (i >= rd->instrument_count) {
            snprintf(error, error_size,
                     "the data directory holds instrument %u (uid %s), which the configuration "
                     "no longer has: instruments may be appended, never removed (%s)",
                     i, line, path);
            rc = -1;
        } else {
            char key[UID_MAX + 8];
            pin_key(&rd->instruments[i], key, sizeof key);
            if (strcmp(line, key) != 0) {
                snprintf(error, error_size,
                         "instrument %u of the data directory has uid %s, the configuration's has "
                         "%s (\"%s\"): instruments may be appended, never removed or reordered, "
                         "because the journal names them by their place (%s)",
                         i, line, key, rd->instruments[i].name, path);
                rc = -1;
            }
        }
        i++;
    }
    if (rc == 0 && ferror(f)) {
        snprintf(error, error_size, "cannot read %s", path);
        rc = -1;
    }
    fclose(f);
    if (rc == 0)
        *pinned_count = i;
    return rc;
}

static int write_text(int fd, const char *text) {
    return durable_write_all(fd, text, strlen(text));
}

int universe_pin(const char *dir, const refdata *rd, uint32_t pinned_count) {
    if (pinned_count == rd->instrument_count && pinned_count > 0)
        return 0;
    char tmp[600], path[600];
    pin_path(dir, UNIVERSE_PIN_FILE ".tmp", tmp, sizeof tmp);
    pin_path(dir, UNIVERSE_PIN_FILE, path, sizeof path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -errno;
    int rc = write_text(fd, PIN_HEADER);
    for (uint32_t i = 0; rc == 0 && i < rd->instrument_count; i++) {
        char key[UID_MAX + 8];
        pin_key(&rd->instruments[i], key, sizeof key);
        rc = write_text(fd, key);
        if (rc == 0)
            rc = write_text(fd, "\n");
    }
    if (rc != 0) {
        close(fd);
        unlink(tmp);
        return rc;
    }
    return durable_replace(fd, tmp, path, dir);
}
