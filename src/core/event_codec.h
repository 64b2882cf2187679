/* Journal payloads of core events: the explicit encoding of journal format 5, and the reader of
 * the raw records of formats 3 and 4. The encoding, field by field, is in docs/JOURNAL.md.
 *
 * DESIGN: a record's type and sequence number travel in the journal's record header, so a
 * payload holds the rest: the order slot, the time, then each field of the event's type in a
 * fixed order. Integers are little-endian variable-length (LEB128; signed values zigzag-mapped
 * first), except the time and the market maker's generator state, which are fixed 8-byte words
 * (they use every bit). Texts carry their length; a canonical lower-case UUID is its 16 bytes.
 * Nothing depends on the compiler's layout of core_event, and an event costs what it holds: an
 * ACK is a dozen bytes, not 208.
 *
 * Decoding trusts nothing: every read is bounded by the payload, every number must fit its field,
 * every enumeration must hold one of its values, texts must fit their arrays and hold no NUL, and
 * the payload must end exactly where the event does. A payload that fails any of these is
 * refused (-1), never half-read. What the state decides (is the slot free, does the account
 * exist) is core_event_applicable's job, after decoding. Decoded events are zero-filled first, so
 * two decodings of the same event compare equal byte for byte, but for a favorite group's name,
 * which the event borrows from the payload (event_codec_equal compares it by its bytes). */
#ifndef TINVESTD_CORE_EVENT_CODEC_H
#define TINVESTD_CORE_EVENT_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/events.h"

/* The journal format whose payloads event_codec_encode() writes. */
#define EVENT_CODEC_FORMAT 5
/* No encoded event is longer (an ORDER_ACCEPTED with every number at its widest and three
 * 36-byte texts needs 206; a FAVORITE_GROUP_CREATED with a 255-byte name 302). */
#define EVENT_CODEC_MAX_BYTES 320
/* A record of journal formats 3 and 4: the core_event struct as the x86-64 build laid it out. */
#define EVENT_CODEC_LEGACY_BYTES 208

/* True when every field of `ev` holds a value the encoding can carry: a known type, enumerations
 * within their values, texts terminated within their arrays. Events the core makes always are. */
bool event_codec_valid(const core_event *ev);

/* Writes the payload of `ev` (which must be event_codec_valid) to `out`; returns its length. */
size_t event_codec_encode(const core_event *ev, uint8_t out[EVENT_CODEC_MAX_BYTES]);

/* Reads a format-5 payload of a record of `type` numbered `seq` into `out`. 0, or -1 when the
 * payload is malformed (then `out` holds nothing usable). A favorite group's name is not copied:
 * `out->u.favorite.name` points into `bytes`, so the event is good only as long as they are. */
int event_codec_decode(uint16_t type, uint64_t seq, const uint8_t *bytes, size_t length,
                       core_event *out);

/* Two events alike: every field the same, a borrowed text (core_event_borrows_text) compared by
 * its bytes, not by where it is. */
bool event_codec_equal(const core_event *a, const core_event *b);

/* Reads a record of journal formats 3 and 4 (EVENT_CODEC_LEGACY_BYTES of raw struct; the type and
 * sequence number it holds must match the record header's). 0, or -1 when it is malformed. */
int event_codec_decode_legacy(uint16_t type, uint64_t seq, const uint8_t *bytes, size_t length,
                              core_event *out);

#endif
