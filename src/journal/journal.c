#include "journal/journal.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/crc32c.h"
#include "util/le.h"
#include "util/durable.h"
#include "util/log.h"

/* Segment file header: magic, format version, segment number. */
#define SEGMENT_MAGIC "TINVJRNL"
#define SEGMENT_HEADER_BYTES 16

static void segment_path(const journal *j, uint32_t index, char *out, size_t size) {
    snprintf(out, size, "%s/journal-%08u.log", j->dir, index);
}

/* Record layout (format 5): u16 payload length | u8 type (bit 7: the sequence number follows) |
 * u8 header check | u32 body check | [u64 sequence number] | payload. The header check is a CRC-8
 * of the length and type bytes: with the length under its own check, a flipped bit in it is seen
 * as damage where it happened instead of being taken for the end of the log. The body check is
 * the CRC32C of the sequence number when present and the payload. A record without its number is
 * numbered one after the record before it in the segment; the first record of a segment always
 * carries its number.
 *
 * Formats 3 and 4 had a 24-byte header: u32 payload length | u32 body check | u16 type | u16 flags
 * | u32 header check (format 4; 0 in format 3) | u64 sequence number. Format 4's body check is the
 * CRC32C of the sequence number and payload, its header check the CRC32C of the other 20 header
 * bytes; format 3 had one CRC over bytes 8 .. 24+n. Their segments are still read. */
#define SEQ_FLAG 0x80
#define TYPE_MASK 0x7F

/* CRC-8, polynomial x^8 + x^2 + x + 1, initial value 0xFF, most significant bit first, no final
 * xor: over the three bytes it covers it detects every error of up to three bits in them and in
 * itself (tests/unit/test_journal.c tries them all). The table is CRC8_TABLE[i] = the CRC-8 of the
 * byte i from an initial value of 0. */
static const uint8_t CRC8_TABLE[256] = {
    0x00, 0x07, 0x0e, 0x09, 0x1c, 0x1b, 0x12, 0x15, 0x38, 0x3f, 0x36, 0x31, 0x24, 0x23, 0x2a, 0x2d,
    0x70, 0x77, 0x7e, 0x79, 0x6c, 0x6b, 0x62, 0x65, 0x48, 0x4f, 0x46, 0x41, 0x54, 0x53, 0x5a, 0x5d,
    0xe0, 0xe7, 0xee, 0xe9, 0xfc, 0xfb, 0xf2, 0xf5, 0xd8, 0xdf, 0xd6, 0xd1, 0xc4, 0xc3, 0xca, 0xcd,
    0x90, 0x97, 0x9e, 0x99, 0x8c, 0x8b, 0x82, 0x85, 0xa8, 0xaf, 0xa6, 0xa1, 0xb4, 0xb3, 0xba, 0xbd,
    0xc7, 0xc0, 0xc9, 0xce, 0xdb, 0xdc, 0xd5, 0xd2, 0xff, 0xf8, 0xf1, 0xf6, 0xe3, 0xe4, 0xed, 0xea,
    0xb7, 0xb0, 0xb9, 0xbe, 0xab, 0xac, 0xa5, 0xa2, 0x8f, 0x88, 0x81, 0x86, 0x93, 0x94, 0x9d, 0x9a,
    0x27, 0x20, 0x29, 0x2e, 0x3b, 0x3c, 0x35, 0x32, 0x1f, 0x18, 0x11, 0x16, 0x03, 0x04, 0x0d, 0x0a,
    0x57, 0x50, 0x59, 0x5e, 0x4b, 0x4c, 0x45, 0x42, 0x6f, 0x68, 0x61, 0x66, 0x73, 0x74, 0x7d, 0x7a,
    0x89, 0x8e, 0x87, 0x80, 0x95, 0x92, 0x9b, 0x9c, 0xb1, 0xb6, 0xbf, 0xb8, 0xad, 0xaa, 0xa3, 0xa4,
    0xf9, 0xfe, 0xf7, 0xf0, 0xe5, 0xe2, 0xeb, 0xec, 0xc1, 0xc6, 0xcf, 0xc8, 0xdd, 0xda, 0xd3, 0xd4,
    0x69, 0x6e, 0x67, 0x60, 0x75, 0x72, 0x7b, 0x7c, 0x51, 0x56, 0x5f, 0x58, 0x4d, 0x4a, 0x43, 0x44,
    0x19, 0x1e, 0x17, 0x10, 0x05, 0x02, 0x0b, 0x0c, 0x21, 0x26, 0x2f, 0x28, 0x3d, 0x3a, 0x33, 0x34,
    0x4e, 0x49, 0x40, 0x47, 0x52, 0x55, 0x5c, 0x5b, 0x76, 0x71, 0x78, 0x7f, 0x6a, 0x6d, 0x64, 0x63,
    0x3e, 0x39, 0x30, 0x37, 0x22, 0x25, 0x2c, 0x2b, 0x06, 0x01, 0x08, 0x0f, 0x1a, 0x1d, 0x14, 0x13,
    0xae, 0xa9, 0xa0, 0xa7, 0xb2, 0xb5, 0xbc, 0xbb, 0x96, 0x91, 0x98, 0x9f, 0x8a, 0x8d, 0x84, 0x83,
    0xde, 0xd9, 0xd0, 0xd7, 0xc2, 0xc5, 0xcc, 0xcb, 0xe6, 0xe1, 0xe8, 0xef, 0xfa, 0xfd, 0xf4, 0xf3,
};

static uint8_t crc8(const uint8_t *p, size_t n) {
    uint8_t c = 0xFF;
    for (size_t i = 0; i < n; i++)
        c = CRC8_TABLE[c ^ p[i]];
    return c;
}

static uint8_t header_check(const uint8_t *record) {
    return crc8(record, 3);
}

static size_t seq_bytes(const uint8_t *record) {
    return record[2] & SEQ_FLAG ? JOURNAL_RECORD_SEQ_BYTES : 0;
}

/* Over the sequence number when present (`s` bytes) and the payload. */
static uint32_t body_check(const uint8_t *record, size_t s, uint32_t length) {
    return crc32c_update(0, record + JOURNAL_RECORD_HEADER_BYTES, s + length);
}

static uint32_t v4_body_check(const uint8_t *record, uint32_t length) {
    return crc32c_update(0, record + 16, 8 + (size_t)length);
}

static uint32_t v4_header_check(const uint8_t *record) {
    return crc32c_update(crc32c_update(0, record, 12), record + 16, 8);
}

static uint32_t v3_check(const uint8_t *record, uint32_t length) {
    return crc32c_update(0, record + 8, 16 + (size_t)length);
}

/* Writes one format-5 record at `r`; returns its size. */
static size_t put_record(uint8_t *r, uint16_t type, uint64_t seq, bool carries_seq,
                         const void *payload, uint32_t length) {
    le_put_u16(r, (uint16_t)length);
    r[2] = (uint8_t)(type | (carries_seq ? SEQ_FLAG : 0));
    r[3] = header_check(r);
    size_t s = carries_seq ? JOURNAL_RECORD_SEQ_BYTES : 0;
    if (carries_seq)
        le_put_u64(r + JOURNAL_RECORD_HEADER_BYTES, seq);
    memcpy(r + JOURNAL_RECORD_HEADER_BYTES + s, payload, length);
    le_put_u32(r + 4, body_check(r, s, length));
    return JOURNAL_RECORD_HEADER_BYTES + s + length;
}

static int grow_pending(journal *j, size_t need) {
    if (need <= j->pending_capacity)
        return 0;
    size_t capacity = j->pending_capacity ? j->pending_capacity : 65536;
    while (capacity < need)
        capacity *= 2;
    uint8_t *grown = realloc(j->pending, capacity);
    if (grown == NULL)
        return -ENOMEM;
    j->pending = grown;
    j->pending_capacity = capacity;
    return 0;
}

int journal_append(journal *j, uint16_t type, uint64_t seq, const void *payload, uint32_t length) {
    if (length > JOURNAL_MAX_PAYLOAD_BYTES)
        return -EMSGSIZE;
    if (type == 0 || type > JOURNAL_MAX_TYPE)
        return -EINVAL;
    int rc = grow_pending(j, j->pending_bytes + JOURNAL_RECORD_HEADER_BYTES +
                                 JOURNAL_RECORD_SEQ_BYTES + length);
    if (rc != 0)
        return rc;
    /* The first record of a batch goes to a new segment when the current one is full (the
     * commit rolls it), so it must carry its number, as the first record of any segment does. */
    bool first_in_segment = j->pending_bytes == 0 &&
                            (!j->segment_has_records || j->segment_bytes >= j->segment_limit_bytes);
    bool carries_seq = first_in_segment || seq != j->last_seq + 1;
    j->pending_bytes +=
        put_record(j->pending + j->pending_bytes, type, seq, carries_seq, payload, length);
    j->last_seq = seq;
    return 0;
}

bool journal_has_pending(const journal *j) {
    return j->pending_bytes > 0;
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
        le_put_u32(header + 8, JOURNAL_FORMAT_VERSION);
        le_put_u32(header + 12, index);
        int rc = durable_write_all(fd, header, sizeof header);
        if (rc == 0 && j->sync == JOURNAL_SYNC_FSYNC &&
            (fdatasync(fd) != 0 || durable_sync_dir(j->dir) != 0))
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
    j->segment_has_records = j->segment_bytes > SEGMENT_HEADER_BYTES;
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
    int rc = durable_write_all(j->fd, j->pending, j->pending_bytes / 2);
    return rc != 0 ? rc : -j->inject_errno;
}

/* A segment the journal moves on from is synced before it is closed: the engine syncs the
 * current segment's descriptor only, and may have written batches it did not sync yet (nothing of
 * theirs was released), which the next sync must cover wherever they are. */
static int close_previous(journal *j, int fd) {
    int rc = j->sync == JOURNAL_SYNC_FSYNC && fdatasync(fd) != 0 ? -EIO : 0;
    close(fd);
    return rc;
}

int journal_write(journal *j) {
    if (j->pending_bytes == 0)
        return 0;
    if (j->segment_bytes >= j->segment_limit_bytes) {
        int fd = j->fd;
        int rc = open_segment(j, j->segment_index + 1, true);
        if (rc != 0)
            return rc == -EIO ? -EIO : rc;
        if (close_previous(j, fd) != 0)
            return -EIO;
    }
    off_t start = (off_t)j->segment_bytes;
    int rc = j->inject_errno != 0 && j->commits >= j->inject_from_commits
                 ? write_injected_failure(j)
                 : durable_write_all(j->fd, j->pending, j->pending_bytes);
    if (rc != 0) {
        /* Take back a partial write, so the batch can be written whole when space returns. */
        if (ftruncate(j->fd, start) != 0)
            return -EIO;
        return rc;
    }
    j->segment_bytes += j->pending_bytes;
    j->segment_has_records = true;
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
    if (close_previous(j, fd) != 0)
        return -EIO;
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
    durable_sync_dir(j->dir);
}

/* The sequence number of a segment's first record, read from its headers; false when it has
 * none (or is not a segment). */
static bool first_seq_of(const char *path, uint64_t *seq) {
    uint8_t head[SEGMENT_HEADER_BYTES + JOURNAL_V4_RECORD_HEADER_BYTES];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return false;
    ssize_t n = pread(fd, head, sizeof head, 0);
    close(fd);
    if (n < SEGMENT_HEADER_BYTES || memcmp(head, SEGMENT_MAGIC, 8) != 0)
        return false;
    const uint8_t *r = head + SEGMENT_HEADER_BYTES;
    if (le_get_u32(head + 8) >= 5) {
        if (n < SEGMENT_HEADER_BYTES + JOURNAL_RECORD_HEADER_BYTES + JOURNAL_RECORD_SEQ_BYTES ||
            !(r[2] & SEQ_FLAG))
            return false;
        *seq = le_get_u64(r + JOURNAL_RECORD_HEADER_BYTES);
        return true;
    }
    if (n < (ssize_t)sizeof head)
        return false;
    *seq = le_get_u64(r + 16);
    return true;
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
        uint64_t first;
        if (first_seq_of(path, &first) && first <= seq)
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

/* The whole segment, mapped read-only from the page cache: recovery reads every byte of it once,
 * and a mapping spares copying it into freshly zeroed memory (on a virtual machine the zeroing is
 * the dearer part). A segment is never written to while it is mapped. Release with
 * unmap_whole(). */
static const uint8_t *map_whole(const char *path, size_t *size) {
    static const uint8_t empty[1];
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return NULL;
    struct stat st;
    const uint8_t *data = NULL;
    if (fstat(fd, &st) == 0 && st.st_size >= 0) {
        *size = (size_t)st.st_size;
        if (*size == 0) {
            data = empty;
        } else {
            void *p = mmap(NULL, *size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
            data = p == MAP_FAILED ? NULL : p;
        }
    }
    close(fd);
    return data;
}

static void unmap_whole(const uint8_t *data, size_t size) {
    if (data != NULL && size > 0)
        munmap((void *)data, size);
}

/* What a record at an offset looks like. */
typedef enum {
    RECORD_INTACT,
    RECORD_INCOMPLETE, /* the file ends inside it; its header (checked, from format 4) says so */
    RECORD_BAD_HEADER, /* header check fails (format 3: an impossible length) */
    RECORD_BAD_BODY,   /* the header holds, the body check does not */
} record_state;

/* An intact record: where its payload is, and what its header says. */
typedef struct record_view {
    size_t size;       /* the whole record */
    size_t payload_at; /* from the record's start */
    uint32_t length;   /* of the payload */
    uint16_t type;
    bool has_seq; /* always, before format 5 */
    uint64_t seq;
} record_view;

static size_t record_header_bytes(uint32_t version) {
    return version >= 5 ? JOURNAL_RECORD_HEADER_BYTES : JOURNAL_V4_RECORD_HEADER_BYTES;
}

static record_state v5_record_at(const uint8_t *r, size_t avail, record_view *out) {
    if (avail < JOURNAL_RECORD_HEADER_BYTES)
        return RECORD_INCOMPLETE;
    if (header_check(r) != r[3] || (r[2] & TYPE_MASK) == 0)
        return RECORD_BAD_HEADER;
    uint32_t length = le_get_u16(r);
    size_t s = seq_bytes(r);
    if (avail - JOURNAL_RECORD_HEADER_BYTES < s + length)
        return RECORD_INCOMPLETE;
    if (body_check(r, s, length) != le_get_u32(r + 4))
        return RECORD_BAD_BODY;
    *out = (record_view){.size = JOURNAL_RECORD_HEADER_BYTES + s + length,
                         .payload_at = JOURNAL_RECORD_HEADER_BYTES + s,
                         .length = length,
                         .type = r[2] & TYPE_MASK,
                         .has_seq = s != 0,
                         .seq = s != 0 ? le_get_u64(r + JOURNAL_RECORD_HEADER_BYTES) : 0};
    return RECORD_INTACT;
}

static record_state v4_record_at(const uint8_t *r, size_t avail, uint32_t version,
                                 record_view *out) {
    if (avail < JOURNAL_V4_RECORD_HEADER_BYTES)
        return RECORD_INCOMPLETE;
    uint32_t length = le_get_u32(r);
    if (version >= 4 && v4_header_check(r) != le_get_u32(r + 12))
        return RECORD_BAD_HEADER;
    if (length > JOURNAL_V4_MAX_PAYLOAD_BYTES)
        return RECORD_BAD_HEADER;
    if (avail - JOURNAL_V4_RECORD_HEADER_BYTES < length)
        return RECORD_INCOMPLETE;
    uint32_t check = version >= 4 ? v4_body_check(r, length) : v3_check(r, length);
    if (check != le_get_u32(r + 4))
        return RECORD_BAD_BODY;
    *out = (record_view){.size = JOURNAL_V4_RECORD_HEADER_BYTES + length,
                         .payload_at = JOURNAL_V4_RECORD_HEADER_BYTES,
                         .length = length,
                         .type = le_get_u16(r + 8),
                         .has_seq = true,
                         .seq = le_get_u64(r + 16)};
    return RECORD_INTACT;
}

static record_state record_at(const uint8_t *data, size_t size, size_t off, uint32_t version,
                              record_view *out) {
    return version >= 5 ? v5_record_at(data + off, size - off, out)
                        : v4_record_at(data + off, size - off, version, out);
}

void journal_fix_checks(uint8_t *segment, size_t size) {
    if (size < SEGMENT_HEADER_BYTES)
        return;
    uint32_t version = le_get_u32(segment + 8);
    for (size_t off = SEGMENT_HEADER_BYTES; off < size;) {
        uint8_t *r = segment + off;
        size_t avail = size - off;
        if (version >= 5) {
            if (avail < JOURNAL_RECORD_HEADER_BYTES)
                return;
            r[3] = header_check(r);
            uint32_t length = le_get_u16(r);
            size_t s = seq_bytes(r);
            if (avail - JOURNAL_RECORD_HEADER_BYTES < s + length)
                return;
            le_put_u32(r + 4, body_check(r, s, length));
            off += JOURNAL_RECORD_HEADER_BYTES + s + length;
        } else {
            if (avail < JOURNAL_V4_RECORD_HEADER_BYTES)
                return;
            uint32_t length = le_get_u32(r);
            if (length > JOURNAL_V4_MAX_PAYLOAD_BYTES ||
                avail - JOURNAL_V4_RECORD_HEADER_BYTES < length)
                return;
            if (version >= 4) {
                le_put_u32(r + 4, v4_body_check(r, length));
                le_put_u32(r + 12, v4_header_check(r));
            } else {
                le_put_u32(r + 4, v3_check(r, length));
            }
            off += JOURNAL_V4_RECORD_HEADER_BYTES + length;
        }
    }
}

static bool all_zero(const uint8_t *data, size_t size) {
    for (size_t i = 0; i < size; i++)
        if (data[i] != 0)
            return false;
    return true;
}

/* Is the damaged record at `off` a whole record to the end of the file, its header aside? (A
 * record whose length or type flipped still has a body check that holds over the rest of the
 * file; format 5 tries it with and without a sequence number, which a flipped type bit moves.) */
static bool whole_to_the_end(const uint8_t *data, size_t size, size_t off, uint32_t version) {
    const uint8_t *r = data + off;
    size_t rest = size - off;
    if (version >= 5) {
        for (size_t s = 0; s <= JOURNAL_RECORD_SEQ_BYTES; s += JOURNAL_RECORD_SEQ_BYTES) {
            if (rest < JOURNAL_RECORD_HEADER_BYTES + s ||
                rest - JOURNAL_RECORD_HEADER_BYTES - s > JOURNAL_MAX_PAYLOAD_BYTES)
                continue;
            uint32_t length = (uint32_t)(rest - JOURNAL_RECORD_HEADER_BYTES - s);
            if (body_check(r, s, length) == le_get_u32(r + 4))
                return true;
        }
        return false;
    }
    if (rest < JOURNAL_V4_RECORD_HEADER_BYTES ||
        rest - JOURNAL_V4_RECORD_HEADER_BYTES > JOURNAL_V4_MAX_PAYLOAD_BYTES)
        return false;
    uint32_t length = (uint32_t)(rest - JOURNAL_V4_RECORD_HEADER_BYTES);
    uint32_t check = version >= 4 ? v4_body_check(r, length) : v3_check(r, length);
    return check == le_get_u32(r + 4);
}

/* A damaged record at `off` in the newest segment: is it the end a crash left (a write that
 * never completed, so never acknowledged), or damage to records that were acknowledged? It is
 * torn only when nothing after it is a whole record: not an intact record at any later offset,
 * and not the damaged record itself complete to the end of the file. A zero-filled tail, what a
 * power loss leaves when the file grew but the data never reached the disk, is torn. Returns 0
 * when torn, or the offset of the evidence that it is not. */
static size_t evidence_of_damage(const uint8_t *data, size_t size, size_t off, uint32_t version) {
    if (all_zero(data + off, size - off))
        return 0;
    for (size_t p = off + 1; p + record_header_bytes(version) <= size; p++) {
        record_view view;
        if (record_at(data, size, p, version, &view) == RECORD_INTACT)
            return p;
    }
    return whole_to_the_end(data, size, off, version) ? off : 0;
}

typedef struct scan {
    journal *j;
    journal_record_fn on_record;
    void *ctx;
    char *error;
    size_t error_size;
    uint64_t last_seq; /* of the last record read */
} scan;

static int refuse_damage(scan *s, const char *path, size_t off, record_state state,
                         size_t evidence) {
    char why[96] = "";
    if (evidence == off)
        snprintf(why, sizeof why, "; the rest of the file is this whole record");
    else if (evidence != SIZE_MAX)
        snprintf(why, sizeof why, "; an intact record follows at offset %zu", evidence);
    snprintf(s->error, s->error_size,
             "journal: %s: corrupt record at offset %zu (%s%s); refusing to start — restore the "
             "file or move it aside",
             path, off,
             state == RECORD_BAD_BODY     ? "checksum mismatch"
             : state == RECORD_BAD_HEADER ? "damaged header"
                                          : "cut short",
             why);
    return -1;
}

static bool segment_version_readable(const uint8_t *data, size_t size, uint32_t *version) {
    *version = size >= SEGMENT_HEADER_BYTES ? le_get_u32(data + 8) : 0;
    return size >= SEGMENT_HEADER_BYTES && memcmp(data, SEGMENT_MAGIC, 8) == 0 &&
           *version >= JOURNAL_OLDEST_READABLE_VERSION && *version <= JOURNAL_FORMAT_VERSION;
}

/* Replays one segment. Returns 0, or -1 with `error` set; `*valid_bytes` receives where the
 * good records end (less than the file size only for a torn tail) and `*version` the segment's
 * format. */
static int scan_segment(scan *s, uint32_t index, bool newest, size_t *valid_bytes,
                        uint32_t *version) {
    char path[600];
    segment_path(s->j, index, path, sizeof path);
    size_t size = 0;
    const uint8_t *data = map_whole(path, &size);
    if (data == NULL) {
        snprintf(s->error, s->error_size, "journal: cannot read %s", path);
        return -1;
    }
    int rc = 0;
    if (!segment_version_readable(data, size, version)) {
        if (newest && (size < SEGMENT_HEADER_BYTES || all_zero(data, size))) {
            *valid_bytes = 0; /* a segment whose creation the crash interrupted */
            unmap_whole(data, size);
            return 0;
        }
        snprintf(s->error, s->error_size,
                 "journal: %s is not a journal segment of a version from %d to %d (bad header at "
                 "offset 0)",
                 path, JOURNAL_OLDEST_READABLE_VERSION, JOURNAL_FORMAT_VERSION);
        unmap_whole(data, size);
        return -1;
    }
    size_t off = SEGMENT_HEADER_BYTES;
    bool numbered = false; /* a record of this segment has given the numbering */
    uint64_t seq = 0;
    while (off < size) {
        record_view view;
        record_state state = record_at(data, size, off, *version, &view);
        if (state != RECORD_INTACT) {
            size_t evidence = newest ? evidence_of_damage(data, size, off, *version) : SIZE_MAX;
            if (evidence == 0) {
                log_warn("journal: %s: torn record at offset %zu (%zu bytes) cut off", path, off,
                         size - off);
                break;
            }
            rc = refuse_damage(s, path, off, state, evidence);
            break;
        }
        if (!view.has_seq && !numbered) {
            snprintf(s->error, s->error_size,
                     "journal: %s: the record at offset %zu, the segment's first, does not carry "
                     "its sequence number; refusing to start",
                     path, off);
            rc = -1;
            break;
        }
        seq = view.has_seq ? view.seq : seq + 1;
        numbered = true;
        if (s->on_record != NULL && s->on_record(s->ctx, *version, view.type, seq,
                                                 data + off + view.payload_at, view.length) != 0) {
            snprintf(s->error, s->error_size, "journal: %s: record at offset %zu was refused", path,
                     off);
            rc = -1;
            break;
        }
        s->last_seq = seq;
        s->j->records_written++;
        off += view.size;
    }
    *valid_bytes = off;
    unmap_whole(data, size);
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
    j->last_seq = s.last_seq;
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
    /* A segment of an older format is not appended to: new records go to a new segment, and
     * journal_migrate() rewrites the old one. */
    if (version != JOURNAL_FORMAT_VERSION && journal_roll(j) < 0) {
        snprintf(error, error_size, "journal: cannot create a segment in %s", dir);
        return -1;
    }
    return 0;
}

/* ---- Migration ------------------------------------------------------------------------------ */

typedef struct image {
    uint8_t *data;
    size_t size, capacity;
} image;

static int image_reserve(image *m, size_t more) {
    if (m->size + more <= m->capacity)
        return 0;
    size_t capacity = m->capacity ? m->capacity : 65536;
    while (capacity < m->size + more)
        capacity *= 2;
    uint8_t *grown = realloc(m->data, capacity);
    if (grown == NULL)
        return -ENOMEM;
    m->data = grown;
    m->capacity = capacity;
    return 0;
}

/* The records of an old-format segment `data` in the current format, after a segment header for
 * `index`. Every record must be intact: journal_open() has cut a torn tail already. */
static int convert_segment(const uint8_t *data, size_t size, uint32_t version, uint32_t index,
                           journal_convert_fn convert, void *ctx, uint8_t *payload, image *out,
                           size_t *records, char *why, size_t why_size) {
    if (image_reserve(out, SEGMENT_HEADER_BYTES) != 0)
        return -ENOMEM;
    memcpy(out->data, SEGMENT_MAGIC, 8);
    le_put_u32(out->data + 8, JOURNAL_FORMAT_VERSION);
    le_put_u32(out->data + 12, index);
    out->size = SEGMENT_HEADER_BYTES;
    uint64_t last_seq = 0;
    for (size_t off = SEGMENT_HEADER_BYTES; off < size;) {
        record_view view;
        if (record_at(data, size, off, version, &view) != RECORD_INTACT) {
            snprintf(why, why_size, "a damaged record at offset %zu", off);
            return -EINVAL;
        }
        int length = convert(ctx, version, view.type, view.seq, data + off + view.payload_at,
                             view.length, payload);
        if (length < 0 || (uint32_t)length > JOURNAL_MAX_PAYLOAD_BYTES || view.type == 0 ||
            view.type > JOURNAL_MAX_TYPE) {
            snprintf(why, why_size, "the record at offset %zu (event %llu) cannot be converted",
                     off, (unsigned long long)view.seq);
            return -EINVAL;
        }
        if (image_reserve(out, JOURNAL_RECORD_HEADER_BYTES + JOURNAL_RECORD_SEQ_BYTES +
                                   (size_t)length) != 0)
            return -ENOMEM;
        bool carries_seq = out->size == SEGMENT_HEADER_BYTES || view.seq != last_seq + 1;
        out->size += put_record(out->data + out->size, view.type, view.seq, carries_seq, payload,
                                (uint32_t)length);
        last_seq = view.seq;
        off += view.size;
        (*records)++;
    }
    return 0;
}

/* Writes `m` as segment `index`: to journal-N.tmp, synced, then renamed over journal-N.log. The
 * data was durable in the old segment, so it is synced whatever the journal's sync mode. */
static int replace_segment(journal *j, uint32_t index, const image *m) {
    char path[600], tmp[600];
    segment_path(j, index, path, sizeof path);
    snprintf(tmp, sizeof tmp, "%s/journal-%08u.tmp", j->dir, index);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -errno;
    int rc = durable_write_all(fd, m->data, m->size);
    if (rc != 0) {
        close(fd);
        unlink(tmp);
        return rc;
    }
    return durable_replace(fd, tmp, path, j->dir);
}

int journal_migrate(journal *j, journal_convert_fn convert, void *ctx, char *error,
                    size_t error_size) {
    uint32_t *segments = NULL;
    size_t count = 0;
    if (list_segments(j->dir, &segments, &count) != 0) {
        snprintf(error, error_size, "journal: cannot list %s", j->dir);
        return -1;
    }
    uint8_t *payload = malloc(JOURNAL_MAX_PAYLOAD_BYTES);
    int rewritten = payload != NULL ? 0 : -1;
    if (payload == NULL)
        snprintf(error, error_size, "journal: out of memory");
    for (size_t i = 0; i < count && rewritten >= 0; i++) {
        if (segments[i] == j->segment_index)
            continue; /* the one being appended to is of the current format */
        char path[600];
        segment_path(j, segments[i], path, sizeof path);
        uint8_t header[SEGMENT_HEADER_BYTES];
        uint32_t version;
        int fd = open(path, O_RDONLY);
        bool read_header = fd >= 0 && pread(fd, header, sizeof header, 0) == (ssize_t)sizeof header;
        if (fd >= 0)
            close(fd);
        if (read_header && segment_version_readable(header, sizeof header, &version) &&
            version == JOURNAL_FORMAT_VERSION)
            continue; /* only the header is read of a segment that needs nothing */
        size_t size = 0;
        const uint8_t *data = map_whole(path, &size);
        if (data == NULL || !segment_version_readable(data, size, &version)) {
            snprintf(error, error_size, "journal: cannot read %s", path);
            rewritten = -1;
        } else {
            image m = {0};
            size_t records = 0;
            char why[160] = "";
            int rc = convert_segment(data, size, version, segments[i], convert, ctx, payload, &m,
                                     &records, why, sizeof why);
            if (rc == 0)
                rc = replace_segment(j, segments[i], &m);
            if (rc == 0) {
                log_info("journal: %s rewritten from format %u to format %d: %zu records, %zu "
                         "bytes (was %zu)",
                         path, version, JOURNAL_FORMAT_VERSION, records, m.size, size);
                rewritten++;
            } else {
                snprintf(error, error_size, "journal: cannot rewrite %s in format %d: %s", path,
                         JOURNAL_FORMAT_VERSION, why[0] ? why : strerror(-rc));
                rewritten = -1;
            }
            free(m.data);
        }
        unmap_whole(data, size);
    }
    free(payload);
    free(segments);
    return rewritten;
}

void journal_close(journal *j) {
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
    free(j->pending);
    j->pending = NULL;
}
