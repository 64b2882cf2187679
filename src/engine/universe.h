/* The instrument universe pinned in the data directory.
 *
 * Journal events and snapshots name instruments by their index in the configuration
 * (docs/JOURNAL.md). A data directory therefore belongs to one order of instruments: the file
 * `instruments.pin` holds their uids in index order. At start the configured instruments must
 * begin with the pinned ones — instruments may be appended, never removed or reordered — or
 * the start is refused with the first difference; a silent re-mapping would move every
 * position, order and candle to another instrument. Once the journal and the snapshot are
 * recovered, the configured list is pinned (durably: written aside, synced, renamed, and the
 * directory synced) when it differs from the stored one. */
#ifndef TINVESTD_ENGINE_UNIVERSE_H
#define TINVESTD_ENGINE_UNIVERSE_H

#include <stddef.h>
#include <stdint.h>

#include "core/refdata.h"

#define UNIVERSE_PIN_FILE "instruments.pin"

/* Whether the configured instruments extend the pinned ones. 0 when they do (or nothing is
 * pinned yet) and sets *pinned_count (0 when none); -1 with a reason naming the first
 * difference otherwise, or when the file cannot be read. */
int universe_check(const char *dir, const refdata *rd, uint32_t *pinned_count, char *error,
                   size_t error_size);

/* Pins the configured instruments; nothing is written when `pinned_count` equals the configured
 * count (universe_check has then found them equal). 0, or a negative errno. */
int universe_pin(const char *dir, const refdata *rd, uint32_t pinned_count);

#endif
