/* Counters, gauges and histograms, and their text in the Prometheus exposition format 0.0.4.
 *
 * DESIGN: a family is a metric name with up to two labels, each with a bounded set of values
 * known by index (a method's index, a slot of the code table, an instrument's index). Its
 * storage, one array of atomic 64-bit cells for every series, is allocated once by
 * metrics_family_init; an observation is an index computation and one or two relaxed atomic
 * additions: no lock, no allocation. Times are observed in nanoseconds and written in seconds
 * as exact decimals (no floating point anywhere). A family whose storage was never allocated
 * ignores observations, so code that runs without a registry (tests, the simulator) pays one
 * branch.
 *
 * A histogram keeps one cell per bucket (not cumulative) plus +Inf and the sum; the text
 * cumulates the buckets and writes _count as the +Inf bucket, so the two always agree even while
 * other threads observe. Families are registered in a registry before the threads that observe
 * start; metrics_render may run on any thread at any time after that. */
#ifndef TINVESTD_METRICS_METRICS_H
#define TINVESTD_METRICS_METRICS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define METRICS_MAX_LABELS 2
#define METRICS_MAX_BUCKETS 24
#define METRICS_MAX_FAMILIES 64
/* The longest label value written (longer ones are cut at a character boundary). */
#define METRICS_LABEL_VALUE_MAX 160

typedef enum metrics_kind {
    METRICS_COUNTER,
    METRICS_GAUGE,
    METRICS_HISTOGRAM,
} metrics_kind;

typedef enum metrics_unit {
    METRICS_UNIT_ONE,         /* values written as integers */
    METRICS_UNIT_NANOSECONDS, /* observed in ns, written in seconds */
} metrics_unit;

/* One label: its name and how many values it may take. `value` writes the text of value `index`
 * into `out` (NUL-terminated, at most `size` bytes with the NUL) and returns false for an index
 * that has no value (yet): its series are left out of the text. */
typedef struct metrics_label {
    const char *name;
    uint32_t count;
    bool (*value)(const void *ctx, uint32_t index, char *out, size_t size);
    const void *ctx;
} metrics_label;

/* A series gathered when the text is written (a family's `collect`): its label values in the
 * family's label order, and its value. */
#define METRICS_COLLECTED_MAX 16
typedef struct metrics_sample {
    char labels[METRICS_MAX_LABELS][METRICS_LABEL_VALUE_MAX];
    int64_t value;
} metrics_sample;

typedef struct metrics_family {
    /* Set by the owner before metrics_family_init. */
    const char *name, *help;
    metrics_kind kind;
    metrics_unit unit;
    uint32_t label_count;
    metrics_label labels[METRICS_MAX_LABELS];
    /* Histograms: upper bounds, ascending, in the family's unit; +Inf is implicit. */
    uint32_t bucket_count;
    int64_t bounds[METRICS_MAX_BUCKETS];
    /* Counters and histograms: series never observed are left out of the text (a calls counter
     * by method and code has thousands of possible series and a few dozen real ones). */
    bool sparse;
    /* A gauge whose few series are not known in advance (the slowest streams): when set, the
     * text writes the series `collect` fills in (at most `capacity`, which is
     * METRICS_COLLECTED_MAX) each time it is written, instead of cells; its labels need only a
     * name. It runs on the rendering thread and may take its owner's locks. */
    uint32_t (*collect)(const void *ctx, metrics_sample *out, uint32_t capacity);
    const void *collect_ctx;
    /* Storage (metrics_family_init): counters and histogram cells are unsigned and never wrap in
     * practice (2^64 events); a histogram's sum saturates at UINT64_MAX instead of wrapping.
     * A gauge's cell holds its int64 value. */
    _Atomic uint64_t *cells;
    uint32_t series_count, cells_per_series;
} metrics_family;

/* Allocates the family's cells, all zero. Returns 0, -EINVAL for a family that is not
 * well-formed (no name or help, a bad name, too many labels or buckets, bounds not ascending, a
 * label without values) or -ENOMEM. */
int metrics_family_init(metrics_family *f);
void metrics_family_deinit(metrics_family *f);

/* The series of the label values (i0, i1); indexes past a label's count are a programmer error.
 * Families with one label take i1 = 0, without labels both 0. */
static inline uint32_t metrics_series(const metrics_family *f, uint32_t i0, uint32_t i1) {
    uint32_t n1 = f->label_count > 1 ? f->labels[1].count : 1;
    return i0 * n1 + i1;
}

static inline bool metrics_on(const metrics_family *f) {
    return f->cells != NULL;
}

void metrics_counter_add(metrics_family *f, uint32_t series, uint64_t n);
void metrics_gauge_set(metrics_family *f, uint32_t series, int64_t value);
void metrics_gauge_add(metrics_family *f, uint32_t series, int64_t delta);
/* A histogram observation (a negative value counts as 0: a clock that stepped). */
void metrics_observe(metrics_family *f, uint32_t series, int64_t value);

/* Reads (for tests): a counter's or gauge's value, a histogram's count or sum. */
int64_t metrics_value(const metrics_family *f, uint32_t series);
uint64_t metrics_histogram_count(const metrics_family *f, uint32_t series);
uint64_t metrics_histogram_sum(const metrics_family *f, uint32_t series);

/* ---- T-Invest codes as a label: a slot per code, taken on first use ---------------------- */

/* Slot 0 is code 0 (OK); the last slot counts every code that found no free slot. 256 slots
 * hold the whole catalogue (about 180 codes) with room to spare. */
#define METRICS_CODE_SLOTS 256
#define METRICS_CODE_FREE INT32_MIN
typedef struct metrics_code_table {
    /* The code held by each slot; METRICS_CODE_FREE for a free one. */
    _Atomic int32_t codes[METRICS_CODE_SLOTS];
} metrics_code_table;

void metrics_code_table_init(metrics_code_table *t);
/* The slot of `code` (lock-free; the first use of a code takes a free slot). */
uint32_t metrics_code_slot(metrics_code_table *t, int32_t code);
/* A label whose values are the table's codes ("0", "30079"; negative codes as "grpc-N": a gRPC
 * status of another protocol; the overflow slot as "other"). */
metrics_label metrics_code_label(const char *name, const metrics_code_table *t);

/* ---- A registry and its text ---------------------------------------------------------------- */

typedef struct metrics_registry {
    metrics_family *families[METRICS_MAX_FAMILIES];
    _Atomic uint32_t count;
} metrics_registry;

/* The process's registry: the server's families are in it (metrics_render of it is /metrics). */
metrics_registry *metrics_default(void);

/* Adds an initialized family (before the threads that render start). -EEXIST for a name already
 * there, -ENOSPC past METRICS_MAX_FAMILIES, -EINVAL for a family without storage. */
int metrics_register(metrics_registry *r, metrics_family *f);
/* Takes a family out (its owner deinitializes it afterwards, once no thread renders). */
void metrics_unregister(metrics_registry *r, metrics_family *f);

/* A growing text buffer (the renderer's only allocation). */
typedef struct metrics_buffer {
    char *data;
    size_t length, capacity;
} metrics_buffer;

void metrics_buffer_free(metrics_buffer *b);

/* Appends the registry's text to `out` (HELP and TYPE once per family, in registration order,
 * label values escaped). Returns 0 or -ENOMEM (then `out` holds a prefix). */
int metrics_render(const metrics_registry *r, metrics_buffer *out);

#endif
