/* Recovery's replay of the journal into the core, and the conversion of older journal formats.
 *
 * DESIGN: replay is two stages on two threads. The calling thread reads the journal (each
 * record's checks), decodes each record's payload as its segment's format reads (the codec of
 * format 5, the raw struct of formats 3 and 4), checks what the event must satisfy alone
 * (core_event_well_formed) and hands the events on in batches; a second thread checks each event
 * against the state (core_event_fits) and applies it (core_apply) — the one function the live
 * path applies with. Decoding and applying each cost about as much, so on two cores the replay
 * takes about half the time. When the applier has every batch, the reader, instead of waiting,
 * has the kernel back the memory the batches in flight will fill (bigmem_prefault): the page
 * faults that were a fifth of the applier's time move to the thread that has time to spare. Events
 * arrive and are applied in journal order, so the state is exactly the one a single thread would
 * build; an event that is refused stops both, and the journal is read once more to name the
 * record's file and offset. Events the loaded snapshot covers are skipped before they are decoded.
 */
#ifndef TINVESTD_ENGINE_REPLAY_H
#define TINVESTD_ENGINE_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "core/core.h"
#include "journal/journal.h"

/* Opens the journal in `dir` (journal_open) and applies every record after the core's state
 * (c->next_seq) to `c`. 0, or -1 with a reason naming the file and offset in `error`. */
int replay_journal(core *c, journal *j, const char *dir, journal_sync sync,
                   uint64_t segment_limit_bytes, char *error, size_t error_size);

/* journal_convert_fn for journal_migrate(): a record of an older format as a format-5 payload,
 * decoded again and compared with the event before it is accepted. */
int replay_convert_record(void *ctx, uint32_t format, uint16_t type, uint64_t seq,
                          const void *payload, uint32_t length, uint8_t *out);

#endif
