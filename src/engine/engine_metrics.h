/* The engine's metrics (docs/METRICS.md): batch sizes, journal write and fdatasync times, the
 * depth of the inbox and of the pipeline, and each instrument's book depth.
 *
 * DESIGN: the families live in this module and are registered in metrics_default() by
 * engine_metrics_init, once per process, before the engine's threads start. Until then every
 * observation below is a no-op, so engines run by tests and the simulator need nothing. The
 * book depth is read on the core thread after each batch, only for instruments whose book
 * changed, into gauges: no other thread reads the exchange. */
#ifndef TINVESTD_ENGINE_ENGINE_METRICS_H
#define TINVESTD_ENGINE_ENGINE_METRICS_H

#include <stdint.h>

#include "core/refdata.h"

typedef struct engine engine;

/* Registers the engine's families for the instruments of `rd` (labelled by uid; `rd` must
 * outlive the registry's use). Returns 0 (also when already done), or a negative errno. */
int engine_metrics_init(const refdata *rd);
/* Unregisters and frees them (after every thread that observes has stopped). */
void engine_metrics_deinit(void);

/* Called by engine.c (the hooks, each one line there). */
void engine_metrics_batch(uint32_t jobs, uint64_t events);
void engine_metrics_journal_write(int64_t ns);
void engine_metrics_journal_sync(int64_t ns);
void engine_metrics_inbox(uint32_t queued);
void engine_metrics_sealed(uint32_t waiting);
/* On the core thread after a batch: the book depth of every instrument whose book changed. */
void engine_metrics_books(engine *e);

#endif
