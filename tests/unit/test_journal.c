/* Journal: records come back in order, a torn tail is cut off, corruption in the middle refuses
 * to open and names the file and offset, and a failed batch can be committed later. */
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

typedef struct seen {
    int count;
    uint64_t last_seq;
    uint32_t sum;
} seen;

static int collect(void *ctx, uint16_t type, uint64_t seq, const void *payload, uint32_t length) {
    seen *s = ctx;
    s->count++;
    if (seq != s->last_seq + 1)
        return -1;
    s->last_seq = seq;
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
        unsigned char payload[100];
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
    CHECK_EQ_INT(whole, 16 + 20 * (24 + 100));

    /* A crash in the middle of the next write leaves half a record. */
    int fd = open(path, O_WRONLY | O_APPEND);
    unsigned char half[60];
    memset(half, 0xAB, sizeof half);
    half[0] = 100; /* claims a 100-byte payload that never arrived */
    half[1] = half[2] = half[3] = 0;
    CHECK(write(fd, half, sizeof half) == (ssize_t)sizeof half);
    close(fd);

    journal j;
    seen s = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_FSYNC, 1 << 20, collect, &s, error, sizeof error) ==
          0);
    CHECK_EQ_INT(s.count, 20);
    CHECK_EQ_INT(s.last_seq, 20);
    CHECK_EQ_INT(file_size(path), whole);
    /* Appending after the cut continues the sequence. */
    unsigned char payload[10] = {9};
    CHECK(journal_append(&j, 4, 21, payload, sizeof payload) == 0);
    CHECK(journal_commit(&j) == 0);
    journal_close(&j);
    seen again = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1 << 20, collect, &again, error, sizeof error) ==
          0);
    CHECK_EQ_INT(again.count, 21);
    journal_close(&j);
    remove_dir(dir);
}

static void test_corruption_in_the_middle_refuses(void) {
    char dir[256], path[300], error[256];
    make_dir(dir, sizeof dir);
    write_records(dir, 10, 1);
    snprintf(path, sizeof path, "%s/journal-00000001.log", dir);
    int fd = open(path, O_RDWR);
    long offset = 16 + 3 * (24 + 100) + 40; /* inside the payload of the fourth record */
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
    CHECK(strstr(error, "offset 388") != NULL);
    CHECK(strstr(error, "corrupt") != NULL);
    remove_dir(dir);
}

static void test_segments_roll_over(void) {
    char dir[256], path[300], error[256];
    make_dir(dir, sizeof dir);
    journal j;
    seen s = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1000, collect, &s, error, sizeof error) == 0);
    for (uint64_t seq = 1; seq <= 50; seq++) {
        unsigned char payload[100] = {(unsigned char)seq};
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
        {3, 1, 4},  /* length 100 -> 4196: past the end of the file */
        {3, 2, 4},  /* -> past the 1 MiB limit */
        {9, 0, 2},  /* the last record's length, 100 -> 96: shorter than it is */
        {9, 1, 4},  /* the last record's length, past the end of the file */
        {5, 12, 0}, /* the header check itself */
    };
    for (size_t i = 0; i < sizeof flips / sizeof flips[0]; i++) {
        char dir[256], path[300], error[256], where[64];
        make_dir(dir, sizeof dir);
        write_records(dir, 10, 1);
        snprintf(path, sizeof path, "%s/journal-00000001.log", dir);
        long whole = file_size(path);
        long record = 16 + flips[i].record * (24 + 100);
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
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1 << 20, collect, &third, error,
                       sizeof error) == 0);
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

/* Data written by format 3 (no header check) is read, and new records go to a new segment. */
static void test_format_3_segments_are_read(void) {
    char dir[256], path[300], error[256];
    make_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/journal-00000001.log", dir);
    int fd = open(path, O_WRONLY | O_CREAT, 0644);
    unsigned char header[16] = "TINVJRNL";
    put32(header + 8, 3);
    put32(header + 12, 1);
    CHECK(write(fd, header, sizeof header) == 16);
    for (uint64_t seq = 1; seq <= 3; seq++) {
        unsigned char r[24 + 20] = {0};
        put32(r, 20);
        r[8] = 3; /* type */
        for (int b = 0; b < 8; b++)
            r[16 + b] = (unsigned char)(seq >> (8 * b));
        memset(r + 24, (int)seq, 20);
        put32(r + 4, crc32c_update(0, r + 8, 16 + 20));
        CHECK(write(fd, r, sizeof r) == (ssize_t)sizeof r);
    }
    close(fd);
    journal j;
    seen s = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_FSYNC, 1 << 20, collect, &s, error, sizeof error) ==
          0);
    CHECK_EQ_INT(s.count, 3);
    unsigned char payload[10] = {4};
    CHECK(journal_append(&j, 4, 4, payload, sizeof payload) == 0);
    CHECK(journal_commit(&j) == 0);
    journal_close(&j);
    CHECK_EQ_INT(file_size(path), 16 + 3 * 44);
    snprintf(path, sizeof path, "%s/journal-00000002.log", dir);
    CHECK_EQ_INT(file_size(path), 16 + 24 + 10);
    seen again = {0};
    CHECK(journal_open(&j, dir, JOURNAL_SYNC_NONE, 1 << 20, collect, &again, error,
                       sizeof error) == 0);
    CHECK_EQ_INT(again.count, 4);
    CHECK_EQ_INT(again.last_seq, 4);
    journal_close(&j);
    remove_dir(dir);
}

int main(void) {
    test_round_trip_and_torn_tail();
    test_corruption_in_the_middle_refuses();
    test_segments_roll_over();
    test_flipped_length_bit_refuses();
    test_zero_filled_tail_is_torn();
    test_garbage_after_a_torn_record_is_torn();
    test_format_3_segments_are_read();
    return check_finish("journal");
}
