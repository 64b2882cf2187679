/* The durable journal: append-only segment files of checksummed records, group commit, and the
 * scan that recovery replays. The format is documented in docs/JOURNAL.md.
 *
 * DESIGN: records of one batch are gathered in memory by journal_append() and written with one
 * write() and one fdatasync() by journal_commit(); only then may the batch's replies leave. A
 * commit that cannot write (disk full) keeps the batch and reports -ENOSPC: the caller holds the
 * replies and refuses new work until journal_commit() succeeds. An fdatasync() failure is not
 * retried — after one, the kernel may have dropped the dirty pages, so the data's fate is
 * unknown; the caller must stop and let recovery decide (the lesson of PostgreSQL's fsyncgate).
 *
 * So that a full disk is met before a batch rather than in the middle of one, the caller asks
 * journal_reserve() for room before it decides anything: the journal keeps space allocated
 * ahead of its end (fallocate, the file's size unchanged) and says -ENOSPC when it cannot. With
 * nothing decided yet, nothing needs holding: the caller refuses changes and answers reads.
 *
 * Recovery tells a torn tail from corruption: a damaged record in the newest segment after which
 * nothing whole remains (no intact record at any later offset, not itself complete to the end of
 * the file; a zero-filled tail included) is a write the crash interrupted, and is cut off; any
 * other damage is corruption, and the journal refuses to open, naming the file and offset. */
#ifndef TINVESTD_JOURNAL_JOURNAL_H
#define TINVESTD_JOURNAL_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JOURNAL_FORMAT_VERSION 5
/* Segments of formats 3 and 4 (24-byte record headers) are still read, and journal_migrate()
 * rewrites them in the current format; new records go to a new segment. */
#define JOURNAL_OLDEST_READABLE_VERSION 3
/* A format-5 record: this header, the record's sequence number when it carries one (the first
 * record of a segment, and any record whose number is not its predecessor's plus one), then
 * the payload. */
#define JOURNAL_RECORD_HEADER_BYTES 8
#define JOURNAL_RECORD_SEQ_BYTES 8
#define JOURNAL_MAX_PAYLOAD_BYTES 65535u
#define JOURNAL_MAX_TYPE 127
/* Formats 3 and 4. */
#define JOURNAL_V4_RECORD_HEADER_BYTES 24
#define JOURNAL_V4_MAX_PAYLOAD_BYTES (1u << 20)

typedef enum { JOURNAL_SYNC_FSYNC, JOURNAL_SYNC_NONE } journal_sync;

typedef struct journal {
    char dir[512];
    journal_sync sync;
    int fd;                 /* current segment, opened for append */
    uint32_t segment_index; /* number in the current segment's name */
    uint64_t segment_bytes;
    uint64_t segment_limit_bytes;
    uint8_t *pending; /* records not yet written */
    size_t pending_bytes, pending_capacity;
    uint64_t records_written, commits;
    /* The sequence number of the last record appended (pending or written), and whether the
     * current segment holds a record yet: a record carries its number only where it cannot be
     * inferred from the one before. */
    uint64_t last_seq;
    bool segment_has_records;
    /* Space allocated for the current segment up to this offset (journal_reserve). */
    uint64_t reserved_end;
    bool reserve_unsupported; /* the file system cannot allocate ahead: writes may still fail */
    /* Test hook (journal_inject_write_error): once `commits` reaches `inject_from_commits`, every
     * write fails with `inject_errno` until the hook is called with 0. */
    int inject_errno;
    uint64_t inject_from_commits;
    int inject_reserve_errno; /* journal_inject_reserve_error */
} journal;

/* One record as recovery reads it; `format` is its segment's format version (3 to
 * JOURNAL_FORMAT_VERSION), which decides how its payload reads. Non-zero refuses the record. */
typedef int (*journal_record_fn)(void *ctx, uint32_t format, uint16_t type, uint64_t seq,
                                 const void *payload, uint32_t length);

/* Opens the journal in `dir` (created if missing). Existing records are checked and passed, in
 * order, to `on_record` before anything new is appended; a torn tail is truncated. Returns 0, or
 * -1 with a reason naming the file and offset in `error`. */
int journal_open(journal *j, const char *dir, journal_sync sync, uint64_t segment_limit_bytes,
                 journal_record_fn on_record, void *ctx, char *error, size_t error_size);
void journal_close(journal *j);

/* Adds a record to the pending batch; -ENOMEM, -EMSGSIZE (payload over
 * JOURNAL_MAX_PAYLOAD_BYTES) or -EINVAL (type 0 or over JOURNAL_MAX_TYPE) on failure. */
int journal_append(journal *j, uint16_t type, uint64_t seq, const void *payload, uint32_t length);

/* Writes and syncs the pending batch. 0 when durable; -ENOSPC (or another write error) when the
 * batch could not be written and is still pending; -EIO when fdatasync failed (fatal). */
int journal_commit(journal *j);

/* The two halves of journal_commit(), for a caller that syncs on another thread: writes the
 * pending records to the file (not yet durable), with journal_commit()'s results for the write;
 * and the descriptor to fdatasync() to make everything written so far durable (-1 when the
 * journal does not sync). The descriptor stays valid until the next roll: the caller must not
 * let a segment roll (journal_segment_full() says one is due) while a sync of it may run. */
int journal_write(journal *j);
int journal_sync_fd(const journal *j);
bool journal_segment_full(const journal *j);

bool journal_has_pending(const journal *j);

/* Makes sure at least `ahead_bytes / 2` bytes past what is written and pending are allocated on
 * disk, allocating `ahead_bytes` when less is left (and starting the next segment first when the
 * current one is full). 0 when there is room (or `ahead_bytes` is 0, or the file system cannot
 * allocate ahead: then a write can still fail, and journal_commit() says so); -ENOSPC (or
 * another -errno) when the disk has no room: nothing is lost, ask again later. */
int journal_reserve(journal *j, uint64_t ahead_bytes);

/* Test hook for the journal fuzz target: recomputes the checks of every whole record of a
 * segment image (of any readable format), walking the records by their length fields, so that
 * fuzzed records get past their checksums to the decoder and the replay checks. */
void journal_fix_checks(uint8_t *segment, size_t size);

/* Test hook: every journal_reserve() fails with -errno_value (0 clears), as on a full disk. */
void journal_inject_reserve_error(journal *j, int errno_value);

/* Test hook for the simulator (tests/sim): makes the journal behave as a disk that fills up.
 * After `after_commits` more successful commits, every commit writes part of its batch and then
 * fails with `-errno_value` (ENOSPC, say), as a write() that runs out of space does; the batch
 * stays pending. `errno_value` 0 clears the fault, and the next commit writes normally. Never
 * called outside tests; with the fault cleared the hook costs one compare per commit. */
void journal_inject_write_error(journal *j, int errno_value, uint32_t after_commits);

/* Starts a new segment for the records that follow (nothing may be pending). Returns the new
 * segment's number, or -errno. */
int64_t journal_roll(journal *j);
/* Deletes the segments numbered below `index` (their records are covered by a snapshot). */
void journal_remove_segments_before(journal *j, uint32_t index);
/* The segment that holds the record numbered `seq` (by the first record of each segment), or the
 * oldest segment when every segment starts after it. */
uint32_t journal_segment_holding(journal *j, uint64_t seq);

/* Rewrites the payload of a record of an older `format` in the current one: writes it to `out`
 * (room for JOURNAL_MAX_PAYLOAD_BYTES) and returns its length, or -1 when it cannot. */
typedef int (*journal_convert_fn)(void *ctx, uint32_t format, uint16_t type, uint64_t seq,
                                  const void *payload, uint32_t length, uint8_t *out);

/* Rewrites every closed segment of an older format in the current format, record by record
 * through `convert`, keeping its number and its records' sequence numbers. Each new segment is
 * written beside the old one (journal-N.tmp), synced, and renamed over it, so a crash leaves one
 * or the other, both readable. Returns how many segments were rewritten, or -1 with a reason in
 * `error` (the segments not yet rewritten stay as they were, and are still read). */
int journal_migrate(journal *j, journal_convert_fn convert, void *ctx, char *error,
                    size_t error_size);

#endif
