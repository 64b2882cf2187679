/* Snapshots of the core: the whole broker state at a sequence number, so that recovery reads
 * the latest snapshot and replays only the journal written after it.
 *
 * DESIGN: a snapshot is written by a forked child from its copy-on-write image of the core, so
 * the core thread does not stop while it is written (the technique of Redis' background save).
 * The child only calls write/fsync/rename/_exit on memory that already exists — nothing that
 * could need a lock another thread held at fork time. Indexes are not stored: loading rebuilds
 * them from the orders. */
#ifndef TINVESTD_ENGINE_SNAPSHOT_H
#define TINVESTD_ENGINE_SNAPSHOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/core.h"

/* 6: the candle store follows the core's sections (format 5, without it, still loads: its
 * candles start empty). 7: the stop orders follow the candles (formats 5 and 6 still load, with
 * no stop orders). 8: the operations follow the stop orders (formats 5, 6 and 7, without them,
 * still load: the operations start with the journal after the snapshot). */
/* 9: the favorites follow the operations. 10: the market's print position follows the
 * favorites (a format 9 snapshot still loads: no print yet). 11: the instruments the operator
 * halted follow the print position (a format 10 snapshot still loads: none halted). */
/* 12: the margin state (core_margin_state: the newest clearing, each futures position's
 * guarantee and variation margin count) follows the halts (a format 11 snapshot still loads:
 * no futures position, no clearing yet). */
#define SNAPSHOT_FORMAT_VERSION 12
#define SNAPSHOT_FORMAT_VERSION_NO_MARGIN 11
#define SNAPSHOT_FORMAT_VERSION_NO_HALTS 10
#define SNAPSHOT_FORMAT_VERSION_NO_MARKET_PRINTS 9
#define SNAPSHOT_FORMAT_VERSION_NO_FAVORITES 8
#define SNAPSHOT_FORMAT_VERSION_NO_OPERATIONS 7
#define SNAPSHOT_FORMAT_VERSION_NO_STOP_ORDERS 6
#define SNAPSHOT_FORMAT_VERSION_NO_CANDLES 5

/* Forks a child that writes `dir`/snapshot-<seq>.snap; returns its pid, or -1. */
pid_t snapshot_start(const core *c, const char *dir);

/* Writes a snapshot synchronously (tests, and the child's work). Returns 0 or -errno. */
int snapshot_write(const core *c, const char *dir);

/* Loads the newest valid snapshot in `dir` into a freshly initialised core. Returns the
 * snapshot's sequence number, 0 when there is none, or -1 with `error` set when the newest
 * snapshot does not fit this configuration. Invalid (torn) snapshots are skipped. */
int64_t snapshot_load(core *c, const char *dir, char *error, size_t error_size);

/* Removes snapshots older than the one at `keep_seq`. */
void snapshot_prune(const char *dir, uint64_t keep_seq);

/* Builds the core's two order indexes afresh from its orders: after a snapshot load, and after a
 * replay that deferred them (core.indexes_deferred, which also makes snapshot_load leave them to
 * the caller). */
void snapshot_rebuild_indexes(core *c);

/* The length of a snapshot's margin section (format 12) for the core's accounts and
 * `instrument_count` instruments: what a snapshot of an older format lacks at its end. */
size_t snapshot_margin_bytes(const core *c, uint32_t instrument_count);

#endif
