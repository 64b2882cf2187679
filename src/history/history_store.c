/* The history store's files: reading and checking one instrument's file, writing a new one
 * beside it and renaming it into place. */
#include "history/history_store.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/durable.h"

static int path_of(char *out, size_t size, const char *data_dir, const char *uid,
                   const char *suffix) {
    int n = uid == NULL
                ? snprintf(out, size, "%s/%s", data_dir, HISTORY_DIR_NAME)
                : snprintf(out, size, "%s/%s/%s%s", data_dir, HISTORY_DIR_NAME, uid, suffix);
    return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int read_all(int fd, uint8_t *buf, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t n = read(fd, buf + done, len - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? -errno : -EIO;
        done += (size_t)n;
    }
    return 0;
}

/* Checks the header against the file's size and the cap before anything is allocated. */
static int load_checked(int fd, const char *path, const char *uid, uint64_t max_candles,
                        history_reader *r, char *error, size_t error_size) {
    struct stat st;
    uint8_t head[HISTORY_HEADER_BYTES];
    if (fstat(fd, &st) != 0)
        return -errno;
    if ((uint64_t)st.st_size < HISTORY_HEADER_BYTES) {
        snprintf(error, error_size, "%s: %s", path,
                 history_format_status_text(HISTORY_FORMAT_BAD_SIZE));
        return -EINVAL;
    }
    int rc = read_all(fd, head, sizeof head);
    if (rc != 0)
        return rc;
    history_format_status status = history_header_decode(head, &r->header);
    if (status == HISTORY_FORMAT_OK && strcmp(r->header.uid, uid) != 0)
        status = HISTORY_FORMAT_BAD_HEADER;
    if (status == HISTORY_FORMAT_OK &&
        (uint64_t)st.st_size != HISTORY_HEADER_BYTES + r->header.count * HISTORY_RECORD_BYTES)
        status = HISTORY_FORMAT_BAD_SIZE;
    if (status != HISTORY_FORMAT_OK) {
        snprintf(error, error_size, "%s: %s", path, history_format_status_text(status));
        return -EINVAL;
    }
    if (r->header.count > max_candles) {
        snprintf(error, error_size, "%s: %llu candles, more than the limit of %llu", path,
                 (unsigned long long)r->header.count, (unsigned long long)max_candles);
        return -EFBIG;
    }
    size_t len = (size_t)st.st_size;
    uint8_t *bytes = malloc(len);
    r->candles = malloc(r->header.count > 0 ? r->header.count * sizeof *r->candles : 1);
    if (bytes == NULL || r->candles == NULL) {
        free(bytes);
        return -ENOMEM;
    }
    memcpy(bytes, head, sizeof head);
    rc = read_all(fd, bytes + sizeof head, len - sizeof head);
    if (rc == 0) {
        status = history_file_decode(bytes, len, &r->header, r->candles);
        if (status != HISTORY_FORMAT_OK) {
            snprintf(error, error_size, "%s: %s", path, history_format_status_text(status));
            rc = -EINVAL;
        }
    }
    free(bytes);
    if (rc == 0)
        r->count = (size_t)r->header.count;
    return rc;
}

int history_reader_open(history_reader *r, const char *data_dir, const char *uid,
                        uint64_t max_candles, char *error, size_t error_size) {
    char path[PATH_MAX];
    *r = (history_reader){0};
    if (!history_uid_valid(uid, strlen(uid))) {
        snprintf(error, error_size, "%s: not an instrument uid", uid);
        return -EINVAL;
    }
    int rc = path_of(path, sizeof path, data_dir, uid, HISTORY_FILE_SUFFIX);
    if (rc != 0) {
        snprintf(error, error_size, "%s: path too long", data_dir);
        return rc;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        rc = -errno;
        snprintf(error, error_size, "%s: %s", path, strerror(errno));
        return rc;
    }
    error[0] = '\0';
    rc = load_checked(fd, path, uid, max_candles, r, error, error_size);
    close(fd);
    if (rc != 0) {
        if (error[0] == '\0')
            snprintf(error, error_size, "%s: %s", path, strerror(-rc));
        history_reader_close(r);
    }
    return rc;
}

void history_reader_close(history_reader *r) {
    free(r->candles);
    *r = (history_reader){0};
}

size_t history_reader_seek(const history_reader *r, int64_t time_s) {
    return history_lower_bound(r->candles, r->count, time_s);
}

history_cursor history_reader_range(const history_reader *r, int64_t from_s, int64_t to_s) {
    if (r->count == 0 || to_s <= from_s)
        return (history_cursor){NULL, NULL};
    size_t begin = history_reader_seek(r, from_s), end = history_reader_seek(r, to_s);
    return (history_cursor){r->candles + begin, r->candles + end};
}

const history_candle *history_cursor_next(history_cursor *c) {
    if (c->next == c->end)
        return NULL;
    return c->next++;
}

/* Writes the header and the records in blocks of 1024. */
static int write_file(int fd, const char *uid, const history_candle *candles, size_t count) {
    enum { BLOCK = 1024 };
    static uint8_t block[BLOCK * HISTORY_RECORD_BYTES];
    uint8_t head[HISTORY_HEADER_BYTES];
    history_header header;
    history_header_for(uid, candles, count, &header);
    history_header_encode(&header, head);
    int rc = durable_write_all(fd, head, sizeof head);
    for (size_t i = 0; rc == 0 && i < count; i += BLOCK) {
        size_t n = count - i < BLOCK ? count - i : BLOCK;
        for (size_t k = 0; k < n; k++)
            history_record_encode(&candles[i + k], block + k * HISTORY_RECORD_BYTES);
        rc = durable_write_all(fd, block, n * HISTORY_RECORD_BYTES);
    }
    if (rc == 0 && fsync(fd) != 0)
        rc = -errno;
    return rc;
}

int history_store_write_temp(const char *data_dir, const char *uid, const history_candle *candles,
                             size_t count, char *error, size_t error_size) {
    char dir[PATH_MAX], path[PATH_MAX];
    if (path_of(dir, sizeof dir, data_dir, NULL, NULL) != 0 ||
        path_of(path, sizeof path, data_dir, uid, HISTORY_TEMP_SUFFIX) != 0) {
        snprintf(error, error_size, "%s: path too long", data_dir);
        return -ENAMETOOLONG;
    }
    if ((mkdir(data_dir, 0755) != 0 && errno != EEXIST) ||
        (mkdir(dir, 0755) != 0 && errno != EEXIST)) {
        int rc = -errno;
        snprintf(error, error_size, "%s: %s", dir, strerror(errno));
        return rc;
    }
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        int rc = -errno;
        snprintf(error, error_size, "%s: %s", path, strerror(errno));
        return rc;
    }
    int rc = write_file(fd, uid, candles, count);
    if (close(fd) != 0 && rc == 0)
        rc = -errno;
    if (rc != 0) {
        snprintf(error, error_size, "%s: %s", path, strerror(-rc));
        unlink(path);
    }
    return rc;
}

int history_store_commit(const char *data_dir, const char *uid, char *error, size_t error_size) {
    char from[PATH_MAX], to[PATH_MAX];
    if (path_of(from, sizeof from, data_dir, uid, HISTORY_TEMP_SUFFIX) != 0 ||
        path_of(to, sizeof to, data_dir, uid, HISTORY_FILE_SUFFIX) != 0)
        return -ENAMETOOLONG;
    if (rename(from, to) != 0) {
        int rc = -errno;
        snprintf(error, error_size, "rename %s: %s", from, strerror(errno));
        return rc;
    }
    return 0;
}

void history_store_discard(const char *data_dir, const char *uid) {
    char path[PATH_MAX];
    if (path_of(path, sizeof path, data_dir, uid, HISTORY_TEMP_SUFFIX) == 0)
        unlink(path);
}

int history_store_sync_dir(const char *data_dir, char *error, size_t error_size) {
    char dir[PATH_MAX];
    if (path_of(dir, sizeof dir, data_dir, NULL, NULL) != 0)
        return -ENAMETOOLONG;
    int rc = durable_sync_dir(dir);
    if (rc != 0)
        snprintf(error, error_size, "fsync %s: %s", dir, strerror(-rc));
    return rc;
}
