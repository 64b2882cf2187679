/* Journal: records come back in order, a torn tail is cut off, corruption in the middle refuses
 * to open and names the file and offset, a failed batch can be committed later, segments of
 * formats 3 and 4 are read and rewritten in format 5. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "journal/journal.h"
#include "util/crc32c.h"

/* write_records() writes 100-byte payloads: the first record of a segment carries its sequence
 * number (8 + 8 + 100 bytes), the others not (8 + 100). */
#define PAYLOAD 100
#define FIRST_RECORD (JOURNAL_RECORD_HEADER_BYTES + JOURNAL_RECORD_SEQ_BYTES + PAYLOAD)
#define RECORD (JOURNAL_RECORD_HEADER_BYTES + PAYLOAD)

static long record_offset(int k) {
    return 16 + (k == 0 ? 0 : FIRST_RECORD + (long)(k - 1) * RECORD);
}

typedef struct seen {
    int count;
    uint64_t last_seq;
    uint32_t sum;
    uint32_t format; /* of the last record */
} seen;

static int collect(void *ctx, uint32_t format, uint16_t type, uint64_t seq, const void *payload,
                   uint32_t length) {
    seen *s = ctx;
    s->count++;
    if (seq != s->last_seq + 1)
        return -1;
    s->last_seq = seq;
    s->format = format;
    s->sum += type + length + ((const unsigned char *)payload)[0];
    return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(path);
}

static void remove_dir(const char *dir) {
    nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

static void make_dir(char *dir, size_t size) {
    snprintf(dir, size, "%s/tinvestd-journal-XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(dir) == NULL)
        abort();
}

static void write_records(const char *dir, int count, uint64_t first_seq) {
    journal j;
    char error[256];
    seen s = {.last_seq = 0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_FSYNC, 1 << 20, collect, &s, error, sizeof error) ==
          0);
    for (int i = 0; i < count; i++) {
        unsigned char payload[PAYLOAD];
        memset(payload, (int)(first_seq + (uint64_t)i), sizeof payload);
        CHECK(journal_append(&j, 3, first_seq + (uint64_t)i, payload, sizeof payload) == 0);
        if (i % 7 == 6)
            CHECK(journal_commit(&j) == 0);
    }
    CHECK(journal_commit(&j) == 0);
    journal_close(&j);
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

static void test_round_trip_and_torn_tail(void) {
    char dir[256], path[300], error[256];
    make_dir(dir, sizeof dir);
    write_records(dir, 20, 1);
    snprintf(path, sizeof path, "%s/journal-00000001.log", dir);
    long whole = file_size(path);
    CHECK_EQ_INT(whole, record_offset(20));

    /* A crash in the middle of the next write leaves half a record. */
    write_records(dir, 1, 21);
    CHECK_EQ_INT(file_size(path), whole + RECORD);
    CHECK(truncate(path, whole + RECORD / 2) == 0);

    journal j;
    seen s = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_FSYNC, 1 << 20, collect, &s, error, sizeof error) ==
          0);
    CHECK_EQ_INT(s.count, 20);
    CHECK_EQ_INT(s.last_seq, 20);
    CHECK_EQ_INT(s.format, JOURNAL_FORMAT_VERSION);
    CHECK_EQ_INT(file_size(path), whole);
    /* Appending after the cut continues the sequence. */
    unsigned char payload[10] = {9};
    CHECK(journal_append(&j, 4, 21, payload, sizeof payload) == 0);
    CHECK(journal_commit(&j) == 0);
    journal_close(&j);
    CHECK_EQ_INT(file_size(path), whole + JOURNAL_RECORD_HEADER_BYTES + 10);
    seen again = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1 << 20, collect, &again, error, sizeof error) ==
          0);
    CHECK_EQ_INT(again.count, 21);
    journal_close(&j);
    remove_dir(dir);
}

static void test_corruption_in_the_middle_refuses(void) {
    char dir[256], path[300], error[256], where[64];
    make_dir(dir, sizeof dir);
    write_records(dir, 10, 1);
    snprintf(path, sizeof path, "%s/journal-00000001.log", dir);
    int fd = open(path, O_RDWR);
    long offset = record_offset(3) + 40; /* inside the payload of the fourth record */
    unsigned char byte;
    CHECK(pread(fd, &byte, 1, offset) == 1);
    byte ^= 0x40;
    CHECK(pwrite(fd, &byte, 1, offset) == 1);
    close(fd);
    journal j;
    seen s = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_FSYNC, 1 << 20, collect, &s, error, sizeof error) !=
          0);
    CHECK(strstr(error, "journal-00000001.log") != NULL);
    snprintf(where, sizeof where, "offset %ld ", record_offset(3));
    CHECK(strstr(error, where) != NULL);
    CHECK(strstr(error, "corrupt") != NULL);
    remove_dir(dir);
}

/* Records whose number is not one more than the record before carry it, and read back so. */
static int collect_any(void *ctx, uint32_t format, uint16_t type, uint64_t seq, const void *payload,
                       uint32_t length) {
    seen *s = ctx;
    s->count++;
    s->sum = s->sum * 31 + (uint32_t)seq;
    s->last_seq = seq;
    return 0;
}

static void test_sequence_gaps_are_written(void) {
    char dir[256], path[300], error[256];
    make_dir(dir, sizeof dir);
    journal j;
    seen s = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1 << 20, collect_any, &s, error, sizeof error) ==
          0);
    static const uint64_t seqs[] = {7, 8, 9, 20, 21, 3};
    uint32_t expected = 0;
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        unsigned char payload[5] = {1, 2, 3, 4, 5};
        CHECK(journal_append(&j, 2, seqs[i], payload, sizeof payload) == 0);
        expected = expected * 31 + (uint32_t)seqs[i];
    }
    CHECK(journal_append(&j, 0, 4, "x", 1) == -EINVAL);
    CHECK(journal_append(&j, JOURNAL_MAX_TYPE + 1, 4, "x", 1) == -EINVAL);
    CHECK(journal_commit(&j) == 0);
    journal_close(&j);
    snprintf(path, sizeof path, "%s/journal-00000001.log", dir);
    /* Three records carry their numbers: the first, 20 and 3. */
    CHECK_EQ_INT(file_size(path),
                 16 + 6 * (JOURNAL_RECORD_HEADER_BYTES + 5) + 3 * JOURNAL_RECORD_SEQ_BYTES);
    seen again = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1 << 20, collect_any, &again, error,
                       sizeof error) == 0);
    CHECK_EQ_INT(again.count, 6);
    CHECK_EQ_INT(again.sum, expected);
    journal_close(&j);
    remove_dir(dir);
}

static void test_segments_roll_over(void) {
    char dir[256], path[300], error[256];
    make_dir(dir, sizeof dir);
    journal j;
    seen s = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1000, collect, &s, error, sizeof error) == 0);
    for (uint64_t seq = 1; seq <= 50; seq++) {
        unsigned char payload[PAYLOAD] = {(unsigned char)seq};
        CHECK(journal_append(&j, 1, seq, payload, sizeof payload) == 0);
        CHECK(journal_commit(&j) == 0);
    }
    journal_close(&j);
    snprintf(path, sizeof path, "%s/journal-00000002.log", dir);
    CHECK(file_size(path) > 0);
    seen all = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1000, collect, &all, error, sizeof error) == 0);
    CHECK_EQ_INT(all.count, 50);
    CHECK_EQ_INT(all.last_seq, 50);
    journal_close(&j);
    remove_dir(dir);
}

static void flip_bit(const char *path, long offset, int bit) {
    int fd = open(path, O_RDWR);
    unsigned char byte;
    CHECK(pread(fd, &byte, 1, offset) == 1);
    byte ^= (unsigned char)(1u << bit);
    CHECK(pwrite(fd, &byte, 1, offset) == 1);
    close(fd);
}

static void append_bytes(const char *path, const unsigned char *bytes, size_t size) {
    int fd = open(path, O_WRONLY | O_APPEND);
    CHECK(write(fd, bytes, size) == (ssize_t)size);
    close(fd);
}

/* A flipped bit in a record's length field made it look longer than the file: recovery took it
 * for a torn tail and cut it and every record after it. The header check sees the damage. */
static void test_flipped_length_bit_refuses(void) {
    static const struct {
        int record, byte, bit;
    } flips[] = {
        {3, 1, 4}, /* length 100 -> 4196: past the end of the file */
        {3, 1, 7}, /* -> 32868 */
        {9, 0, 2}, /* the last record's length, 100 -> 96: shorter than it is */
        {9, 1, 4}, /* the last record's length, past the end of the file */
        {5, 3, 0}, /* the header check itself */
        {9, 2, 7}, /* the last record's "sequence number follows" bit */
        {0, 2, 7}, /* the first record's: it would lose its number */
    };
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        char dir[256], path[300], error[256], where[64];
        make_dir(dir, sizeof dir);
        write_records(dir, 10, 1);
        snprintf(path, sizeof path, "%s/journal-00000001.log", dir);
        long whole = file_size(path);
        long record = record_offset(flips[i].record);
        flip_bit(path, record + flips[i].byte, flips[i].bit);
        journal j;
        seen s = {0};
        error[0] = 0;
        CHECK(journal_open(&j, dir, JOURNAL_SYNC_FSYNC, 1 << 20, collect, &s, error,
                           sizeof error) != 0);
        snprintf(where, sizeof where, "offset %ld ", record);
        CHECK(strstr(error, where) != NULL);
        CHECK(strstr(error, "corrupt") != NULL);
        CHECK_EQ_INT(file_size(path), whole); /* nothing cut */
        remove_dir(dir);
    }
}

static void write_file(const char *path, const unsigned char *bytes, size_t size) {
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    CHECK(write(fd, bytes, size) == (ssize_t)size);
    close(fd);
}

/* Every flip of one or two bits in the length, type and header check of the last record — the one
 * a wrong verdict would cut — is refused as corruption, never cut as a torn tail. */
static void test_every_header_flip_of_the_last_record_refuses(void) {
    char dir[256], path[300], error[256];
    make_dir(dir, sizeof dir);
    write_records(dir, 3, 1);
    snprintf(path, sizeof path, "%s/journal-00000001.log", dir);
    long whole = file_size(path);
    unsigned char pristine[1024], bytes[1024];
    CHECK(whole <= (long)sizeof pristine);
    int fd = open(path, O_RDONLY);
    CHECK(read(fd, pristine, (size_t)whole) == whole);
    close(fd);
    long record = record_offset(2);
    int refused = 0, tried = 0;
    for (int a = 0; a < 32; a++) {
        for (int b = a; b < 32; b++) {
            memcpy(bytes, pristine, (size_t)whole);
            bytes[record + a / 8] ^= (unsigned char)(1u << (a % 8));
            if (b != a)
                bytes[record + b / 8] ^= (unsigned char)(1u << (b % 8));
            write_file(path, bytes, (size_t)whole);
            journal j;
            seen s = {0};
            if (journal_open(&j, dir, JOURNAL_SYNC_NONE, 1 << 20, collect, &s, error,
                             sizeof error) != 0)
                refused += file_size(path) == whole && strstr(error, "corrupt") != NULL;
            else
                journal_close(&j);
            tried++;
        }
    }
    CHECK_EQ_INT(refused, tried);
    CHECK_EQ_INT(tried, 32 + 32 * 31 / 2);
    remove_dir(dir);
}

/* What a power loss can leave: the file grew, the data never reached the disk. */
static void test_zero_filled_tail_is_torn(void) {
    char dir[256], path[300], error[256];
    make_dir(dir, sizeof dir);
    write_records(dir, 10, 1);
    snprintf(path, sizeof path, "%s/journal-00000001.log", dir);
    long whole = file_size(path);
    static const unsigned char zeros[4096];
    append_bytes(path, zeros, sizeof zeros);
    journal j;
    seen s = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_FSYNC, 1 << 20, collect, &s, error, sizeof error) ==
          0);
    CHECK_EQ_INT(s.count, 10);
    CHECK_EQ_INT(file_size(path), whole);
    journal_close(&j);

    /* A segment whose header never reached the disk either. */
    snprintf(path, sizeof path, "%s/journal-00000002.log", dir);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    CHECK(write(fd, zeros, sizeof zeros) == (ssize_t)sizeof zeros);
    close(fd);
    seen again = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_FSYNC, 1 << 20, collect, &again, error,
                       sizeof error) == 0);
    CHECK_EQ_INT(again.count, 10);
    unsigned char payload[10] = {7};
    CHECK(journal_append(&j, 4, 11, payload, sizeof payload) == 0);
    CHECK(journal_commit(&j) == 0);
    journal_close(&j);
    seen third = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1 << 20, collect, &third, error, sizeof error) ==
          0);
    CHECK_EQ_INT(third.count, 11);
    journal_close(&j);
    remove_dir(dir);
}

/* A torn write of a batch can leave any of its sectors unwritten: a damaged record followed only
 * by garbage is still the torn end, and is cut. */
static void test_garbage_after_a_torn_record_is_torn(void) {
    char dir[256], path[300], error[256];
    make_dir(dir, sizeof dir);
    write_records(dir, 10, 1);
    snprintf(path, sizeof path, "%s/journal-00000001.log", dir);
    long whole = file_size(path);
    unsigned char garbage[700];
    for (size_t i = 0; i < sizeof garbage; i++)
        garbage[i] = (unsigned char)(i * 37 + 11);
    append_bytes(path, garbage, sizeof garbage);
    journal j;
    seen s = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_FSYNC, 1 << 20, collect, &s, error, sizeof error) ==
          0);
    CHECK_EQ_INT(s.count, 10);
    CHECK_EQ_INT(file_size(path), whole);
    journal_close(&j);
    remove_dir(dir);
}

static void put32(unsigned char *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

/* A segment as formats 3 and 4 wrote it: 24-byte record headers, 20-byte payloads of the byte
 * `seq`. */
static void write_old_segment(const char *dir, uint32_t index, uint32_t version, uint64_t first_seq,
                              int count) {
    char path[300];
    snprintf(path, sizeof path, "%s/journal-%08u.log", dir, index);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    unsigned char header[16] = "TINVJRNL";
    put32(header + 8, version);
    put32(header + 12, index);
    CHECK(write(fd, header, sizeof header) == 16);
    for (uint64_t seq = first_seq; seq < first_seq + (uint64_t)count; seq++) {
        unsigned char r[24 + 20] = {0};
        put32(r, 20);
        r[8] = 3; /* type */
        for (int b = 0; b < 8; b++)
            r[16 + b] = (unsigned char)(seq >> (8 * b));
        memset(r + 24, (int)seq, 20);
        if (version == 3) {
            put32(r + 4, crc32c_update(0, r + 8, 16 + 20));
        } else {
            put32(r + 4, crc32c_update(0, r + 16, 8 + 20));
            put32(r + 12, crc32c_update(crc32c_update(0, r, 12), r + 16, 8));
        }
        CHECK(write(fd, r, sizeof r) == (ssize_t)sizeof r);
    }
    close(fd);
}

static uint32_t segment_version(const char *dir, uint32_t index) {
    char path[300];
    snprintf(path, sizeof path, "%s/journal-%08u.log", dir, index);
    unsigned char header[16] = {0};
    int fd = open(path, O_RDONLY);
    if (fd < 0 || read(fd, header, sizeof header) != (ssize_t)sizeof header)
        header[8] = 0;
    if (fd >= 0)
        close(fd);
    return (uint32_t)header[8] | (uint32_t)header[9] << 8;
}

/* Data written by formats 3 and 4 is read, and new records go to a new segment. */
static void test_old_formats_are_read(void) {
    for (uint32_t version = 3; version <= 4; version++) {
        char dir[256], path[300], error[256];
        make_dir(dir, sizeof dir);
        write_old_segment(dir, 1, version, 1, 3);
        snprintf(path, sizeof path, "%s/journal-00000001.log", dir);
        journal j;
        seen s = {0};
        CHECK(journal_open(&j, dir, JOURNAL_SYNC_FSYNC, 1 << 20, collect, &s, error,
                           sizeof error) == 0);
        CHECK_EQ_INT(s.count, 3);
        CHECK_EQ_INT(s.format, version);
        unsigned char payload[10] = {4};
        CHECK(journal_append(&j, 4, 4, payload, sizeof payload) == 0);
        CHECK(journal_commit(&j) == 0);
        journal_close(&j);
        CHECK_EQ_INT(file_size(path), 16 + 3 * 44);
        snprintf(path, sizeof path, "%s/journal-00000002.log", dir);
        CHECK_EQ_INT(file_size(path),
                     16 + JOURNAL_RECORD_HEADER_BYTES + JOURNAL_RECORD_SEQ_BYTES + 10);
        seen again = {0};
        CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1 << 20, collect, &again, error,
                           sizeof error) == 0);
        CHECK_EQ_INT(again.count, 4);
        CHECK_EQ_INT(again.last_seq, 4);
        CHECK_EQ_INT(again.format, JOURNAL_FORMAT_VERSION);
        journal_close(&j);
        remove_dir(dir);
    }
}

/* The conversion the migration test uses: the old payload's first byte, then its length; fails
 * for the record numbered `fail_seq`. */
typedef struct converter {
    uint64_t fail_seq;
    int calls;
} converter;

static int convert_record(void *ctx, uint32_t format, uint16_t type, uint64_t seq,
                          const void *payload, uint32_t length, uint8_t *out) {
    converter *c = ctx;
    c->calls++;
    if (seq == c->fail_seq || format >= JOURNAL_FORMAT_VERSION)
        return -1;
    out[0] = ((const uint8_t *)payload)[0];
    out[1] = (uint8_t)length;
    return 2;
}

static int collect_converted(void *ctx, uint32_t format, uint16_t type, uint64_t seq,
                             const void *payload, uint32_t length) {
    seen *s = ctx;
    const uint8_t *p = payload;
    int rc = collect(ctx, format, type, seq, payload, length);
    if (format == JOURNAL_FORMAT_VERSION && seq <= 6 &&
        (length != 2 || p[0] != (uint8_t)seq || p[1] != 20 || type != 3))
        s->sum = 0xBAD;
    return rc;
}

static bool any_tmp_file(const char *dir) {
    char path[300];
    for (uint32_t index = 1; index <= 3; index++) {
        snprintf(path, sizeof path, "%s/journal-%08u.tmp", dir, index);
        if (file_size(path) >= 0)
            return true;
    }
    return false;
}

/* journal_migrate() rewrites the segments of formats 3 and 4 in format 5, with their numbers and
 * their records' numbers; one that cannot be converted stays as it was, and is still read. */
static void test_old_segments_are_migrated(void) {
    for (int failing = 0; failing < 2; failing++) {
        char dir[256], error[256];
        make_dir(dir, sizeof dir);
        write_old_segment(dir, 1, 3, 1, 3);
        write_old_segment(dir, 2, 4, 4, 3);
        journal j;
        seen s = {0};
        CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1 << 20, collect, &s, error, sizeof error) ==
              0);
        CHECK_EQ_INT(s.count, 6);
        CHECK_EQ_INT(j.segment_index, 3); /* new records go to a new segment */
        unsigned char payload[10] = {7};
        CHECK(journal_append(&j, 4, 7, payload, sizeof payload) == 0);
        CHECK(journal_commit(&j) == 0);
        converter c = {.fail_seq = failing ? 5 : 0};
        int rewritten = journal_migrate(&j, convert_record, &c, error, sizeof error);
        if (failing) {
            CHECK_EQ_INT(rewritten, -1);
            CHECK(strstr(error, "journal-00000002.log") != NULL);
            CHECK(strstr(error, "event 5") != NULL);
        } else {
            CHECK_EQ_INT(rewritten, 2);
            CHECK_EQ_INT(c.calls, 6);
        }
        journal_close(&j);
        CHECK_EQ_INT(segment_version(dir, 1), JOURNAL_FORMAT_VERSION);
        CHECK_EQ_INT(segment_version(dir, 2), failing ? 4 : JOURNAL_FORMAT_VERSION);
        CHECK_EQ_INT(segment_version(dir, 3), JOURNAL_FORMAT_VERSION);
        CHECK(!any_tmp_file(dir));
        seen again = {0};
        CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1 << 20, collect_converted, &again, error,
                           sizeof error) == 0);
        CHECK_EQ_INT(again.count, 7);
        CHECK_EQ_INT(again.last_seq, 7);
        CHECK(again.sum != 0xBAD);
        CHECK_EQ_INT(journal_segment_holding(&j, 5), 2);
        CHECK_EQ_INT(journal_segment_holding(&j, 3), 1);
        /* The next start finishes what is left, and then nothing is. */
        converter next = {0};
        CHECK_EQ_INT(journal_migrate(&j, convert_record, &next, error, sizeof error),
                     failing ? 1 : 0);
        CHECK_EQ_INT(segment_version(dir, 2), JOURNAL_FORMAT_VERSION);
        CHECK_EQ_INT(journal_migrate(&j, convert_record, &next, error, sizeof error), 0);
        journal_close(&j);
        remove_dir(dir);
    }
}

int main(void) {
    test_round_trip_and_torn_tail();
    test_corruption_in_the_middle_refuses();
    test_sequence_gaps_are_written();
    test_segments_roll_over();
    test_flipped_length_bit_refuses();
    test_every_header_flip_of_the_last_record_refuses();
    test_zero_filled_tail_is_torn();
    test_garbage_after_a_torn_record_is_torn();
    test_old_formats_are_read();
    test_old_segments_are_migrated();
    return check_finish("journal");
}
