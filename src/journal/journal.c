#include "journal/journal.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/bigmem.h"
#include "util/crc32c.h"
#include "util/log.h"

/* Segment file header: magic, format version, segment number. */
#define SEGMENT_MAGIC "TINVJRNL"
#define SEGMENT_HEADER_BYTES 16

static void put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint16_t get_u16(const uint8_t *p) {
    return (uint16_t)(p[0] | p[1] << 8);
}
static uint32_t get_u32(const uint8_t *p) {
    uint32_t v = 0;
    for (int i = 3; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}
static uint64_t get_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

static void segment_path(const journal *j, uint32_t index, char *out, size_t size) {
    snprintf(out, size, "%s/journal-%08u.log", j->dir, index);
}

/* Record layout (format 4): u32 payload length | u32 body check | u16 type | u16 flags (0) |
 * u32 header check | u64 sequence number | payload. The body check is the CRC32C of the sequence
 * number and the payload; the header check is the CRC32C of the header's other 20 bytes (length,
 * body check, type, flags, sequence number). With the length under its own check, a flipped bit
 * in it is seen as damage where it happened instead of being taken for the end of the log.
 * Format 3 had no header check (the field was 0) and a body check over bytes 8 .. 24+n; its
 * segments are still read. */
static uint32_t body_check(const uint8_t *record, uint32_t length) {
    return crc32c_update(0, record + 16, 8 + (size_t)length);
}

static uint32_t header_check(const uint8_t *record) {
    return crc32c_update(crc32c_update(0, record, 12), record + 16, 8);
}

static uint32_t v3_check(const uint8_t *record, uint32_t length) {
    return crc32c_update(0, record + 8, 16 + (size_t)length);
}

int journal_append(journal *j, uint16_t type, uint64_t seq, const void *payload, uint32_t length) {
    if (length > JOURNAL_MAX_PAYLOAD_BYTES)
        return -EMSGSIZE;
    size_t need = j->pending_bytes + JOURNAL_RECORD_HEADER_BYTES + length;
    if (need > j->pending_capacity) {
        size_t capacity = j->pending_capacity ? j->pending_capacity : 65536;
        while (capacity < need)
            capacity *= 2;
        uint8_t *grown = realloc(j->pending, capacity);
        if (grown == NULL)
            return -ENOMEM;
        j->pending = grown;
        j->pending_capacity = capacity;
    }
    uint8_t *r = j->pending + j->pending_bytes;
    put_u32(r, length);
    put_u16(r + 8, type);
    put_u16(r + 10, 0);
    put_u64(r + 16, seq);
    memcpy(r + JOURNAL_RECORD_HEADER_BYTES, payload, length);
    put_u32(r + 4, body_check(r, length));
    put_u32(r + 12, header_check(r));
    j->pending_bytes = need;
    return 0;
}

bool journal_has_pending(const journal *j) {
    return j->pending_bytes > 0;
}

static int write_all(int fd, const uint8_t *data, size_t size) {
    while (size > 0) {
        ssize_t n = write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        data += n;
        size -= (size_t)n;
    }
    return 0;
}

static int sync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return -errno;
    int rc = fsync(fd) == 0 ? 0 : -errno;
    close(fd);
    return rc;
}

static int open_segment(journal *j, uint32_t index, bool create) {
    char path[600];
    segment_path(j, index, path, sizeof path);
    int fd = open(path, O_WRONLY | O_APPEND | (create ? O_CREAT | O_EXCL : 0), 0644);
    if (fd < 0)
        return -errno;
    if (create) {
        uint8_t header[SEGMENT_HEADER_BYTES] = {0};
        memcpy(header, SEGMENT_MAGIC, 8);
        put_u32(header + 8, JOURNAL_FORMAT_VERSION);
        put_u32(header + 12, index);
        int rc = write_all(fd, header, sizeof header);
        if (rc == 0 && j->sync == JOURNAL_SYNC_FSYNC &&
            (fdatasync(fd) != 0 || sync_dir(j->dir) != 0))
            rc = -EIO;
        if (rc != 0) {
            close(fd);
            unlink(path);
            return rc;
        }
    }
    j->fd = fd;
    j->segment_index = index;
    struct stat st;
    j->segment_bytes = fstat(fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    j->reserved_end = 0;
    return 0;
}

int journal_reserve(journal *j, uint64_t ahead_bytes) {
    if (j->inject_reserve_errno != 0)
        return -j->inject_reserve_errno;
    if (ahead_bytes == 0 || j->reserve_unsupported)
        return 0;
    if (j->pending_bytes == 0 && j->segment_bytes >= j->segment_limit_bytes) {
        int64_t rc = journal_roll(j);
        if (rc < 0)
            return (int)rc;
    }
    uint64_t end = j->segment_bytes + j->pending_bytes;
    if (j->reserved_end >= end + ahead_bytes / 2)
        return 0;
    if (fallocate(j->fd, FALLOC_FL_KEEP_SIZE, (off_t)end, (off_t)ahead_bytes) != 0) {
        if (errno == EOPNOTSUPP || errno == ENOSYS) {
            log_warn("journal: the file system cannot allocate ahead; a full disk will be met "
                     "by a write, holding its batch's replies");
            j->reserve_unsupported = true;
            return 0;
        }
        return -errno;
    }
    j->reserved_end = end + ahead_bytes;
    return 0;
}

void journal_inject_reserve_error(journal *j, int errno_value) {
    assert(errno_value >= 0);
    j->inject_reserve_errno = errno_value;
}

void journal_inject_write_error(journal *j, int errno_value, uint32_t after_commits) {
    assert(errno_value >= 0);
    j->inject_errno = errno_value;
    j->inject_from_commits = j->commits + after_commits;
}

/* The injected fault: half of the batch reaches the file before the write fails, so the caller's
 * take-back of a partial write is exercised too. */
static int write_injected_failure(journal *j) {
    int rc = write_all(j->fd, j->pending, j->pending_bytes / 2);
    return rc != 0 ? rc : -j->inject_errno;
}

int journal_write(journal *j) {
    if (j->pending_bytes == 0)
        return 0;
    if (j->segment_bytes >= j->segment_limit_bytes) {
        int fd = j->fd;
        int rc = open_segment(j, j->segment_index + 1, true);
        if (rc != 0)
            return rc == -EIO ? -EIO : rc;
        close(fd);
    }
    off_t start = (off_t)j->segment_bytes;
    int rc = j->inject_errno != 0 && j->commits >= j->inject_from_commits
                 ? write_injected_failure(j)
                 : write_all(j->fd, j->pending, j->pending_bytes);
    if (rc != 0) {
        /* Take back a partial write, so the batch can be written whole when space returns. */
        if (ftruncate(j->fd, start) != 0)
            return -EIO;
        return rc;
    }
    j->segment_bytes += j->pending_bytes;
    j->pending_bytes = 0;
    j->commits++;
    return 0;
}

int journal_sync_fd(const journal *j) {
    return j->sync == JOURNAL_SYNC_FSYNC ? j->fd : -1;
}

bool journal_segment_full(const journal *j) {
    return j->segment_bytes >= j->segment_limit_bytes;
}

int journal_commit(journal *j) {
    bool had_pending = j->pending_bytes > 0;
    int rc = journal_write(j);
    if (rc != 0)
        return rc;
    if (had_pending && j->sync == JOURNAL_SYNC_FSYNC && fdatasync(j->fd) != 0)
        return -EIO;
    return 0;
}

int64_t journal_roll(journal *j) {
    if (j->pending_bytes != 0)
        return -EBUSY;
    int fd = j->fd;
    int rc = open_segment(j, j->segment_index + 1, true);
    if (rc != 0)
        return rc;
    close(fd);
    return j->segment_index;
}

static int list_segments(const char *dir, uint32_t **out, size_t *count);

void journal_remove_segments_before(journal *j, uint32_t index) {
    uint32_t *segments = NULL;
    size_t count = 0;
    if (list_segments(j->dir, &segments, &count) != 0)
        return;
    for (size_t i = 0; i < count; i++) {
        if (segments[i] >= index)
            continue;
        char path[600];
        segment_path(j, segments[i], path, sizeof path);
        unlink(path);
    }
    free(segments);
    sync_dir(j->dir);
}

uint32_t journal_segment_holding(journal *j, uint64_t seq) {
    uint32_t *segments = NULL;
    size_t count = 0;
    if (list_segments(j->dir, &segments, &count) != 0 || count == 0) {
        free(segments);
        return j->segment_index;
    }
    uint32_t holding = segments[0];
    for (size_t i = 0; i < count; i++) {
        char path[600];
        segment_path(j, segments[i], path, sizeof path);
        uint8_t head[SEGMENT_HEADER_BYTES + JOURNAL_RECORD_HEADER_BYTES];
        int fd = open(path, O_RDONLY);
        bool has_record = fd >= 0 && pread(fd, head, sizeof head, 0) == (ssize_t)sizeof head;
        if (fd >= 0)
            close(fd);
        if (has_record && get_u64(head + SEGMENT_HEADER_BYTES + 16) <= seq)
            holding = segments[i];
    }
    free(segments);
    return holding;
}

/* ---- Recovery scan ------------------------------------------------------------------------- */

static int compare_u32(const void *a, const void *b) {
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int list_segments(const char *dir, uint32_t **out, size_t *count) {
    DIR *d = opendir(dir);
    if (d == NULL)
        return -errno;
    size_t n = 0, cap = 16;
    uint32_t *list = malloc(cap * sizeof *list);
    struct dirent *entry;
    while (list != NULL && (entry = readdir(d)) != NULL) {
        unsigned index;
        char tail;
        if (sscanf(entry->d_name, "journal-%8u.lo%c", &index, &tail) != 2 || tail != 'g')
            continue;
        if (n == cap) {
            uint32_t *grown = realloc(list, (cap *= 2) * sizeof *list);
            if (grown == NULL) {
                free(list);
                list = NULL;
                break;
            }
            list = grown;
        }
        list[n++] = index;
    }
    closedir(d);
    if (list == NULL)
        return -ENOMEM;
    qsort(list, n, sizeof *list, compare_u32);
    *out = list;
    *count = n;
    return 0;
}

/* The whole segment in one huge-page-backed buffer (util/bigmem.h): segments are tens of MiB
 * and recovery reads them all. Free with bigmem_free(data, size, 1). */
static uint8_t *read_whole(const char *path, size_t *size) {
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    struct stat st;
    uint8_t *data = NULL;
    if (fstat(fd, &st) == 0 && st.st_size >= 0)
        data = bigmem_alloc((size_t)st.st_size, 1);
    size_t done = 0;
    while (data != NULL && done < (size_t)st.st_size) {
        ssize_t n = read(fd, data + done, (size_t)st.st_size - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            bigmem_free(data, (size_t)st.st_size, 1);
            data = NULL;
            break;
        }
        done += (size_t)n;
    }
    close(fd);
    *size = done;
    return data;
}

typedef struct scan {
    journal *j;
    journal_record_fn on_record;
    void *ctx;
    char *error;
    size_t error_size;
} scan;

/* What a record at an offset looks like. */
typedef enum {
    RECORD_INTACT,
    RECORD_INCOMPLETE, /* the file ends inside it; its header (format 4: checked) says so */
    RECORD_BAD_HEADER, /* format 4: header check fails; format 3: impossible length */
    RECORD_BAD_BODY,   /* the header holds, the body check does not */
} record_state;

static record_state record_at(const uint8_t *data, size_t size, size_t off, uint32_t version,
                              uint32_t *length_out) {
    if (size - off < JOURNAL_RECORD_HEADER_BYTES)
        return RECORD_INCOMPLETE;
    const uint8_t *r = data + off;
    uint32_t length = get_u32(r);
    if (version >= 4 && header_check(r) != get_u32(r + 12))
        return RECORD_BAD_HEADER;
    if (length > JOURNAL_MAX_PAYLOAD_BYTES)
        return RECORD_BAD_HEADER;
    if (size - off - JOURNAL_RECORD_HEADER_BYTES < length)
        return RECORD_INCOMPLETE;
    uint32_t check = version >= 4 ? body_check(r, length) : v3_check(r, length);
    if (check != get_u32(r + 4))
        return RECORD_BAD_BODY;
    *length_out = length;
    return RECORD_INTACT;
}

static bool all_zero(const uint8_t *data, size_t size) {
    for (size_t i = 0; i < size; i++)
        if (data[i] != 0)
            return false;
    return true;
}

/* A damaged record at `off` in the newest segment: is it the end a crash left (a write that
 * never completed, so never acknowledged), or damage to records that were acknowledged? It is
 * torn only when nothing after it is a whole record: not an intact record at any later offset,
 * and not the damaged record itself complete to the end of the file (a record whose length
 * field flipped still has a body check that holds over the rest of the file). A zero-filled
 * tail, what a power loss leaves when the file grew but the data never reached the disk, is
 * torn. Returns 0 when torn, or the offset of the evidence that it is not. */
static size_t evidence_of_damage(const uint8_t *data, size_t size, size_t off, uint32_t version) {
    if (all_zero(data + off, size - off))
        return 0;
    for (size_t p = off + 1; p + JOURNAL_RECORD_HEADER_BYTES <= size; p++) {
        uint32_t length;
        if (record_at(data, size, p, version, &length) == RECORD_INTACT)
            return p;
    }
    size_t rest = size - off;
    if (rest >= JOURNAL_RECORD_HEADER_BYTES &&
        rest - JOURNAL_RECORD_HEADER_BYTES <= JOURNAL_MAX_PAYLOAD_BYTES) {
        uint32_t length = (uint32_t)(rest - JOURNAL_RECORD_HEADER_BYTES);
        uint32_t check =
            version >= 4 ? body_check(data + off, length) : v3_check(data + off, length);
        if (check == get_u32(data + off + 4))
            return off;
    }
    return 0;
}

/* Replays one segment. Returns 0, or -1 with `error` set; `*valid_bytes` receives where the
 * good records end (less than the file size only for a torn tail) and `*version` the segment's
 * format. */
static int scan_segment(scan *s, uint32_t index, bool newest, size_t *valid_bytes,
                        uint32_t *version) {
    char path[600];
    segment_path(s->j, index, path, sizeof path);
    size_t size;
    uint8_t *data = read_whole(path, &size);
    if (data == NULL) {
        snprintf(s->error, s->error_size, "journal: cannot read %s", path);
        return -1;
    }
    int rc = 0;
    *version = size >= SEGMENT_HEADER_BYTES ? get_u32(data + 8) : 0;
    if (size < SEGMENT_HEADER_BYTES || memcmp(data, SEGMENT_MAGIC, 8) != 0 ||
        *version < JOURNAL_OLDEST_READABLE_VERSION || *version > JOURNAL_FORMAT_VERSION) {
        if (newest && (size < SEGMENT_HEADER_BYTES || all_zero(data, size))) {
            *valid_bytes = 0; /* a segment whose creation the crash interrupted */
            bigmem_free(data, size, 1);
            return 0;
        }
        snprintf(s->error, s->error_size,
                 "journal: %s is not a journal segment of a version from %d to %d (bad header at "
                 "offset 0)",
                 path, JOURNAL_OLDEST_READABLE_VERSION, JOURNAL_FORMAT_VERSION);
        bigmem_free(data, size, 1);
        return -1;
    }
    size_t off = SEGMENT_HEADER_BYTES;
    while (off < size) {
        uint32_t length = 0;
        record_state state = record_at(data, size, off, *version, &length);
        if (state != RECORD_INTACT) {
            size_t evidence = newest ? evidence_of_damage(data, size, off, *version) : SIZE_MAX;
            if (evidence == 0) {
                log_warn("journal: %s: torn record at offset %zu (%zu bytes) cut off", path, off,
                         size - off);
                break;
            }
            char why[96] = "";
            if (evidence == off)
                snprintf(why, sizeof why, "; the rest of the file is this whole record");
            else if (evidence != SIZE_MAX)
                snprintf(why, sizeof why, "; an intact record follows at offset %zu", evidence);
            snprintf(s->error, s->error_size,
                     "journal: %s: corrupt record at offset %zu (%s%s); refusing to start — "
                     "restore the file or move it aside",
                     path, off,
                     state == RECORD_BAD_BODY     ? "checksum mismatch"
                     : state == RECORD_BAD_HEADER ? "damaged header"
                                                  : "cut short",
                     why);
            rc = -1;
            break;
        }
        if (s->on_record != NULL &&
            s->on_record(s->ctx, get_u16(data + off + 8), get_u64(data + off + 16),
                         data + off + JOURNAL_RECORD_HEADER_BYTES, length) != 0) {
            snprintf(s->error, s->error_size, "journal: %s: record at offset %zu was refused", path,
                     off);
            rc = -1;
            break;
        }
        s->j->records_written++;
        off += JOURNAL_RECORD_HEADER_BYTES + length;
    }
    *valid_bytes = off;
    bigmem_free(data, size, 1);
    return rc;
}

int journal_open(journal *j, const char *dir, journal_sync sync, uint64_t segment_limit_bytes,
                 journal_record_fn on_record, void *ctx, char *error, size_t error_size) {
    memset(j, 0, sizeof *j);
    j->fd = -1;
    j->sync = sync;
    j->segment_limit_bytes = segment_limit_bytes;
    snprintf(j->dir, sizeof j->dir, "%s", dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(error, error_size, "journal: cannot create %s", dir);
        return -1;
    }
    uint32_t *segments = NULL;
    size_t count = 0;
    if (list_segments(dir, &segments, &count) != 0) {
        snprintf(error, error_size, "journal: cannot list %s", dir);
        return -1;
    }
    scan s = {.j = j, .on_record = on_record, .ctx = ctx, .error = error, .error_size = error_size};
    size_t valid = 0;
    uint32_t version = JOURNAL_FORMAT_VERSION;
    for (size_t i = 0; i < count; i++) {
        if (scan_segment(&s, segments[i], i + 1 == count, &valid, &version) != 0) {
            free(segments);
            return -1;
        }
    }
    uint32_t newest = count ? segments[count - 1] : 0;
    free(segments);
    if (count == 0 || valid == 0) {
        if (count > 0) {
            char path[600];
            segment_path(j, newest, path, sizeof path);
            unlink(path);
        }
        if (open_segment(j, count ? newest : 1, true) != 0) {
            snprintf(error, error_size, "journal: cannot create a segment in %s", dir);
            return -1;
        }
        return 0;
    }
    char path[600];
    segment_path(j, newest, path, sizeof path);
    if (truncate(path, (off_t)valid) != 0 || open_segment(j, newest, false) != 0) {
        snprintf(error, error_size, "journal: cannot open %s for appending", path);
        return -1;
    }
    /* A segment of an older format is left as it is; new records go to a new segment. */
    if (version != JOURNAL_FORMAT_VERSION && journal_roll(j) < 0) {
        snprintf(error, error_size, "journal: cannot create a segment in %s", dir);
        return -1;
    }
    return 0;
}

void journal_close(journal *j) {
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    free(j->pending);
    j->pending = NULL;
}
