/* Fuzz target: the journal reader and the engine's replay of what it reads.
 *
 * Feeds: byte 0 holds flags; the rest is journal segment bytes (16-byte segment header, then
 * records), written into an empty data directory.
 *   bit 0  recompute every record's checks, in the segment's own format (journal_fix_checks), so
 * that records get past the checksum and the replay's own checks are what is tested; bit 1  two
 * segments: the next two bytes (little-endian) say where the rest is cut, the first part is
 * journal-00000001.log and the second journal-00000002.log (a bad record in the older one is
 * corruption, in the newest a torn tail). The directory is recovered as the server starts
 * (engine_recover: journal_open with the engine's replay, core_event_applicable then core_apply,
 * against the fixture's core), then recovered a second time, and the exchange link restores the
 * books from the result (venue_link_restore).
 *
 * Asserts, besides no crash, leak or sanitizer report: a journal that opens leaves a core that
 * passes core_check_invariants(), before and after the restore; the second recovery, which reads
 * what the first one left (a torn tail cut off), reaches the same state hash and event count. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "fixture.h"
#include "journal/journal.h"
#include "util/log.h"

#define FLAG_FIX_CRC 1
#define FLAG_TWO_SEGMENTS 2
#define SEGMENT_HEADER_BYTES 16

static refdata rd;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    log_set_level(LOG_LEVEL_ERROR);
    fixture_dir();
    return 0;
}

static void write_segment(uint32_t index, uint8_t *bytes, size_t size, uint8_t flags) {
    if (flags & FLAG_FIX_CRC && size >= SEGMENT_HEADER_BYTES)
        journal_fix_checks(bytes, size);
    char name[32];
    snprintf(name, sizeof name, "journal-%08u.log", index);
    fixture_write(name, bytes, size);
}

typedef struct recovered {
    engine engine;
    engine_venue_link *link;
    journal journal;
} recovered;

/* engine_recover of the scratch directory into a fresh engine; false when it refuses. */
static bool recover(recovered *r) {
    core_config cfg = fixture_core_config(&rd);
    engine_venue_settings settings = fixture_venue_settings();
    engine_config engine_settings = {.inbox_capacity = 4, .max_batch = 4};
    r->link = venue_link_create(&rd, &settings, FIXTURE_START_NS);
    if (r->link == NULL || engine_init(&r->engine, &engine_settings, &cfg, r->link) != 0)
        abort();
    char error[512];
    bool ok = engine_recover(&r->engine, &r->journal, fixture_dir(), JOURNAL_SYNC_NONE, 0, error,
                             sizeof error) == 0;
    if (ok)
        core_check_invariants(&r->engine.core);
    return ok;
}

static void release(recovered *r, bool opened) {
    engine_deinit(&r->engine);
    if (opened)
        journal_close(&r->journal);
    venue_link_destroy(r->link);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    uint8_t flags = data[0];
    size_t split = SIZE_MAX;
    data++;
    size--;
    if (flags & FLAG_TWO_SEGMENTS) {
        if (size < 2)
            return 0;
        split = (size_t)(data[0] | data[1] << 8);
        data += 2;
        size -= 2;
        if (split > size)
            split = size;
    }
    uint8_t *bytes = malloc(size ? size : 1);
    memcpy(bytes, data, size);
    fixture_dir_clear();
    if (split == SIZE_MAX) {
        write_segment(1, bytes, size, flags);
    } else {
        write_segment(1, bytes, split, flags);
        write_segment(2, bytes + split, size - split, flags);
    }
    free(bytes);

    fixture_refdata(&rd);
    recovered first;
    bool opened = recover(&first);
    if (opened) {
        uint64_t hash = core_state_hash(&first.engine.core);
        uint64_t next_seq = first.engine.core.next_seq;
        release(&first, true);
        refdata_deinit(&rd);
        fixture_refdata(&rd);
        recovered second;
        bool reopened = recover(&second);
        assert(reopened);
        assert(core_state_hash(&second.engine.core) == hash);
        assert(second.engine.core.next_seq == next_seq);
        venue_link_restore(second.link, FIXTURE_START_NS + 3600 * FIXTURE_NANO);
        core_check_invariants(&second.engine.core);
        release(&second, true);
    } else {
        release(&first, false);
    }
    refdata_deinit(&rd);
    return 0;
}
