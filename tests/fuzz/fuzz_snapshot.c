/* Fuzz target: the snapshot reader.
 *
 * Feeds: byte 0 holds flags; the rest is a snapshot file, written into an empty data directory as
 * snapshot-00000000000000000009.snap.
 *   bit 0  recompute the trailing CRC32C over everything before it, so that the loader's checks
 *          past the checksum are what is tested.
 * The directory is recovered as the server starts (engine_recover: snapshot_load into the
 * fixture's core, then the journal, here empty), and the exchange link restores the books from
 * the result (venue_link_restore).
 *
 * Asserts, besides no crash, leak or sanitizer report: a snapshot that loads leaves a core that
 * passes core_check_invariants(), before and after the restore. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "fixture.h"
#include "journal/journal.h"
#include "util/crc32c.h"
#include "util/log.h"

#define FLAG_FIX_CRC 1

static refdata rd;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv) {
    log_set_level(LOG_LEVEL_ERROR);
    fixture_dir();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size == 0)
        return 0;
    uint8_t flags = data[0];
    data++;
    size--;
    uint8_t *bytes = malloc(size ? size : 1);
    memcpy(bytes, data, size);
    if (flags & FLAG_FIX_CRC && size >= sizeof(uint32_t)) {
        uint32_t crc = crc32c_update(0, bytes, size - sizeof crc);
        memcpy(bytes + size - sizeof crc, &crc, sizeof crc);
    }
    fixture_dir_clear();
    fixture_write("snapshot-00000000000000000009.snap", bytes, size);
    free(bytes);

    fixture_refdata(&rd);
    core_config cfg = fixture_core_config(&rd);
    engine_venue_settings settings = fixture_venue_settings();
    engine_config engine_settings = {.inbox_capacity = 4, .max_batch = 4};
    engine_venue_link *link = venue_link_create(&rd, &settings, FIXTURE_START_NS);
    static engine e;
    journal j;
    if (link == NULL || engine_init(&e, &engine_settings, &cfg, link) != 0)
        abort();
    char error[512];
    if (engine_recover(&e, &j, fixture_dir(), JOURNAL_SYNC_NONE, 0, error, sizeof error) == 0) {
        core_check_invariants(&e.core);
        venue_link_restore(link, FIXTURE_START_NS + 3600 * FIXTURE_NANO);
        core_check_invariants(&e.core);
        journal_close(&j);
    }
    engine_deinit(&e);
    venue_link_destroy(link);
    refdata_deinit(&rd);
    return 0;
}
