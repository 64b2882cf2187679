#include "metrics/metrics.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Families ------------------------------------------------------------------------------- */

static bool name_char(char c, bool first, bool colon) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':'))
        return true;
    return !first && c >= '0' && c <= '9';
}

static bool valid_name(const char *name, bool colon) {
    if (name == NULL || name[0] == '\0')
        return false;
    for (size_t i = 0; name[i] != '\0'; i++)
        if (!name_char(name[i], i == 0, colon))
            return false;
    return true;
}

static bool valid_family(const metrics_family *f) {
    if (!valid_name(f->name, true) || f->help == NULL || f->label_count > METRICS_MAX_LABELS)
        return false;
    if (f->kind != METRICS_COUNTER && f->kind != METRICS_GAUGE && f->kind != METRICS_HISTOGRAM)
        return false;
    for (uint32_t i = 0; i < f->label_count; i++) {
        const metrics_label *l = &f->labels[i];
        if (!valid_name(l->name, false) || strncmp(l->name, "__", 2) == 0)
            return false;
        if (f->collect == NULL && (l->count == 0 || l->value == NULL))
            return false;
        if (f->kind == METRICS_HISTOGRAM && strcmp(l->name, "le") == 0)
            return false;
    }
    if (f->collect != NULL && f->kind != METRICS_GAUGE)
        return false;
    if (f->kind != METRICS_HISTOGRAM)
        return f->bucket_count == 0;
    if (f->bucket_count == 0 || f->bucket_count > METRICS_MAX_BUCKETS)
        return false;
    for (uint32_t i = 0; i < f->bucket_count; i++)
        if (f->bounds[i] < 0 || (i > 0 && f->bounds[i] <= f->bounds[i - 1]))
            return false;
    return true;
}

int metrics_family_init(metrics_family *f) {
    if (!valid_family(f))
        return -EINVAL;
    uint64_t series = 1;
    for (uint32_t i = 0; f->collect == NULL && i < f->label_count; i++)
        series *= f->labels[i].count;
    /* A histogram: its buckets, +Inf, and the sum. */
    uint32_t per_series = f->kind == METRICS_HISTOGRAM ? f->bucket_count + 2 : 1;
    if (series > UINT32_MAX / per_series)
        return -EINVAL;
    f->cells = calloc((size_t)series * per_series, sizeof *f->cells);
    if (f->cells == NULL)
        return -ENOMEM;
    /* A collected family keeps one unused cell (its storage marks it initialized) and no series. */
    f->series_count = f->collect != NULL ? 0 : (uint32_t)series;
    f->cells_per_series = per_series;
    return 0;
}

void metrics_family_deinit(metrics_family *f) {
    free((void *)f->cells);
    f->cells = NULL;
    f->series_count = 0;
}

static _Atomic uint64_t *series_cells(const metrics_family *f, uint32_t series) {
    assert(series < f->series_count);
    return f->cells + (size_t)series * f->cells_per_series;
}

void metrics_counter_add(metrics_family *f, uint32_t series, uint64_t n) {
    if (f->cells == NULL)
        return;
    assert(f->kind == METRICS_COUNTER);
    atomic_fetch_add_explicit(series_cells(f, series), n, memory_order_relaxed);
}

void metrics_gauge_set(metrics_family *f, uint32_t series, int64_t value) {
    if (f->cells == NULL)
        return;
    assert(f->kind == METRICS_GAUGE);
    atomic_store_explicit(series_cells(f, series), (uint64_t)value, memory_order_relaxed);
}

void metrics_gauge_add(metrics_family *f, uint32_t series, int64_t delta) {
    if (f->cells == NULL)
        return;
    assert(f->kind == METRICS_GAUGE);
    /* Two's complement addition of the int64 held in the cell (unsigned: defined to wrap; a gauge
     * of counts of live things never comes near the ends). */
    atomic_fetch_add_explicit(series_cells(f, series), (uint64_t)delta, memory_order_relaxed);
}

void metrics_observe(metrics_family *f, uint32_t series, int64_t value) {
    if (f->cells == NULL)
        return;
    assert(f->kind == METRICS_HISTOGRAM);
    uint64_t v = value < 0 ? 0 : (uint64_t)value;
    _Atomic uint64_t *cells = series_cells(f, series);
    uint32_t bucket = 0;
    while (bucket < f->bucket_count && value > f->bounds[bucket])
        bucket++;
    atomic_fetch_add_explicit(&cells[bucket], 1, memory_order_relaxed);
    /* The sum saturates rather than wraps. */
    _Atomic uint64_t *sum = &cells[f->bucket_count + 1];
    uint64_t old = atomic_load_explicit(sum, memory_order_relaxed);
    uint64_t next;
    do
        next = old > UINT64_MAX - v ? UINT64_MAX : old + v;
    while (!atomic_compare_exchange_weak_explicit(sum, &old, next, memory_order_relaxed,
                                                  memory_order_relaxed));
}

int64_t metrics_value(const metrics_family *f, uint32_t series) {
    assert(f->kind != METRICS_HISTOGRAM);
    if (f->cells == NULL)
        return 0;
    return (int64_t)atomic_load_explicit(series_cells(f, series), memory_order_relaxed);
}

uint64_t metrics_histogram_count(const metrics_family *f, uint32_t series) {
    assert(f->kind == METRICS_HISTOGRAM);
    if (f->cells == NULL)
        return 0;
    _Atomic uint64_t *cells = series_cells(f, series);
    uint64_t total = 0;
    for (uint32_t i = 0; i <= f->bucket_count; i++)
        total += atomic_load_explicit(&cells[i], memory_order_relaxed);
    return total;
}

uint64_t metrics_histogram_sum(const metrics_family *f, uint32_t series) {
    assert(f->kind == METRICS_HISTOGRAM);
    if (f->cells == NULL)
        return 0;
    return atomic_load_explicit(&series_cells(f, series)[f->bucket_count + 1],
                                memory_order_relaxed);
}

/* ---- Codes ---------------------------------------------------------------------------------- */

void metrics_code_table_init(metrics_code_table *t) {
    atomic_store(&t->codes[0], 0);
    for (uint32_t i = 1; i < METRICS_CODE_SLOTS; i++)
        atomic_store(&t->codes[i], METRICS_CODE_FREE);
}

/* Open addressing over slots 1 .. SLOTS-2 (0 is OK, the last the overflow); a slot, once taken,
 * keeps its code, so a reader that finds a code never sees it move. */
uint32_t metrics_code_slot(metrics_code_table *t, int32_t code) {
    if (code == 0)
        return 0;
    const uint32_t probe_slots = METRICS_CODE_SLOTS - 2;
    uint32_t start = ((uint32_t)code * 2654435761u) % probe_slots;
    for (uint32_t step = 0; step < probe_slots; step++) {
        uint32_t slot = 1 + (start + step) % probe_slots;
        int32_t seen = atomic_load_explicit(&t->codes[slot], memory_order_acquire);
        if (seen == code)
            return slot;
        if (seen != METRICS_CODE_FREE)
            continue;
        int32_t expected = METRICS_CODE_FREE;
        if (atomic_compare_exchange_strong_explicit(&t->codes[slot], &expected, code,
                                                    memory_order_acq_rel, memory_order_acquire))
            return slot;
        if (expected == code)
            return slot; /* another thread took it for the same code */
    }
    return METRICS_CODE_SLOTS - 1;
}

static bool code_value(const void *ctx, uint32_t index, char *out, size_t size) {
    const metrics_code_table *t = ctx;
    if (index == METRICS_CODE_SLOTS - 1) {
        snprintf(out, size, "other");
        return true;
    }
    int32_t code = atomic_load_explicit(&t->codes[index], memory_order_acquire);
    if (code == METRICS_CODE_FREE)
        return false;
    if (code < 0)
        snprintf(out, size, "grpc-%" PRId32, -code);
    else
        snprintf(out, size, "%" PRId32, code);
    return true;
}

metrics_label metrics_code_label(const char *name, const metrics_code_table *t) {
    return (metrics_label){
        .name = name, .count = METRICS_CODE_SLOTS, .value = code_value, .ctx = t};
}

/* ---- Registry ------------------------------------------------------------------------------- */

static metrics_registry default_registry;

metrics_registry *metrics_default(void) {
    return &default_registry;
}

int metrics_register(metrics_registry *r, metrics_family *f) {
    if (f->cells == NULL)
        return -EINVAL;
    uint32_t n = atomic_load(&r->count);
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(r->families[i]->name, f->name) == 0)
            return -EEXIST;
    if (n == METRICS_MAX_FAMILIES)
        return -ENOSPC;
    r->families[n] = f;
    atomic_store(&r->count, n + 1);
    return 0;
}

void metrics_unregister(metrics_registry *r, metrics_family *f) {
    uint32_t n = atomic_load(&r->count);
    for (uint32_t i = 0; i < n; i++)
        if (r->families[i] == f) {
            memmove(&r->families[i], &r->families[i + 1], (n - i - 1) * sizeof r->families[0]);
            atomic_store(&r->count, n - 1);
            return;
        }
}

/* ---- Text ----------------------------------------------------------------------------------- */

void metrics_buffer_free(metrics_buffer *b) {
    free(b->data);
    *b = (metrics_buffer){0};
}

static int reserve(metrics_buffer *b, size_t more) {
    if (b->capacity - b->length > more)
        return 0;
    size_t capacity = b->capacity == 0 ? 4096 : b->capacity;
    while (capacity - b->length <= more) {
        if (capacity > SIZE_MAX / 2)
            return -ENOMEM;
        capacity *= 2;
    }
    char *data = realloc(b->data, capacity);
    if (data == NULL)
        return -ENOMEM;
    b->data = data;
    b->capacity = capacity;
    return 0;
}

static int put(metrics_buffer *b, const char *text, size_t length) {
    if (reserve(b, length) != 0)
        return -ENOMEM;
    memcpy(b->data + b->length, text, length);
    b->length += length;
    b->data[b->length] = '\0';
    return 0;
}

static int puts_(metrics_buffer *b, const char *text) {
    return put(b, text, strlen(text));
}

/* HELP text escapes backslash and newline; label values also the double quote. */
static int put_escaped(metrics_buffer *b, const char *text, bool quote) {
    for (const char *p = text; *p != '\0'; p++) {
        const char *escape = NULL;
        if (*p == '\\')
            escape = "\\\\";
        else if (*p == '\n')
            escape = "\\n";
        else if (quote && *p == '"')
            escape = "\\\"";
        int rc = escape != NULL ? puts_(b, escape) : put(b, p, 1);
        if (rc != 0)
            return rc;
    }
    return 0;
}

/* An exact decimal: integers as they are, nanoseconds as seconds without trailing zeros. */
static void format_value(char *out, size_t size, uint64_t value, metrics_unit unit) {
    if (unit == METRICS_UNIT_ONE) {
        snprintf(out, size, "%" PRIu64, value);
        return;
    }
    uint64_t whole = value / 1000000000u, fraction = value % 1000000000u;
    if (fraction == 0) {
        snprintf(out, size, "%" PRIu64, whole);
        return;
    }
    int digits = 9;
    while (fraction % 10 == 0) {
        fraction /= 10;
        digits--;
    }
    snprintf(out, size, "%" PRIu64 ".%0*" PRIu64, whole, digits, fraction);
}

typedef struct series_labels {
    char values[METRICS_MAX_LABELS][METRICS_LABEL_VALUE_MAX];
} series_labels;

/* `{a="x",b="y"` plus `,le="…"` when `le` is set, then `}`; nothing for no labels at all. */
static int put_labels(metrics_buffer *b, const metrics_family *f, const series_labels *v,
                      const char *le) {
    if (f->label_count == 0 && le == NULL)
        return 0;
    int rc = puts_(b, "{");
    for (uint32_t i = 0; rc == 0 && i < f->label_count; i++) {
        if (i > 0)
            rc = puts_(b, ",");
        if (rc == 0)
            rc = puts_(b, f->labels[i].name);
        if (rc == 0)
            rc = puts_(b, "=\"");
        if (rc == 0)
            rc = put_escaped(b, v->values[i], true);
        if (rc == 0)
            rc = puts_(b, "\"");
    }
    if (rc == 0 && le != NULL) {
        rc = puts_(b, f->label_count > 0 ? ",le=\"" : "le=\"");
        if (rc == 0)
            rc = puts_(b, le);
        if (rc == 0)
            rc = puts_(b, "\"");
    }
    return rc == 0 ? puts_(b, "}") : rc;
}

static int put_sample(metrics_buffer *b, const metrics_family *f, const char *suffix,
                      const series_labels *v, const char *le, const char *value) {
    int rc = puts_(b, f->name);
    if (rc == 0)
        rc = puts_(b, suffix);
    if (rc == 0)
        rc = put_labels(b, f, v, le);
    if (rc == 0)
        rc = puts_(b, " ");
    if (rc == 0)
        rc = puts_(b, value);
    return rc == 0 ? puts_(b, "\n") : rc;
}

static int render_histogram(metrics_buffer *b, const metrics_family *f,
                            const _Atomic uint64_t *cells, const series_labels *v) {
    char value[32], le[32];
    uint64_t total = 0;
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < f->bucket_count; i++) {
        total += atomic_load_explicit(&cells[i], memory_order_relaxed);
        format_value(le, sizeof le, (uint64_t)f->bounds[i], f->unit);
        format_value(value, sizeof value, total, METRICS_UNIT_ONE);
        rc = put_sample(b, f, "_bucket", v, le, value);
    }
    total += atomic_load_explicit(&cells[f->bucket_count], memory_order_relaxed);
    format_value(value, sizeof value, total, METRICS_UNIT_ONE);
    if (rc == 0)
        rc = put_sample(b, f, "_bucket", v, "+Inf", value);
    char sum[32];
    format_value(sum, sizeof sum,
                 atomic_load_explicit(&cells[f->bucket_count + 1], memory_order_relaxed), f->unit);
    if (rc == 0)
        rc = put_sample(b, f, "_sum", v, NULL, sum);
    if (rc == 0)
        rc = put_sample(b, f, "_count", v, NULL, value);
    return rc;
}

static bool series_observed(const metrics_family *f, const _Atomic uint64_t *cells) {
    for (uint32_t i = 0; i < f->cells_per_series; i++)
        if (atomic_load_explicit(&cells[i], memory_order_relaxed) != 0)
            return true;
    return false;
}

/* The label values of `series`; false when one of them has no value. */
static bool label_values(const metrics_family *f, uint32_t series, series_labels *v) {
    uint32_t rest = series;
    for (int i = (int)f->label_count - 1; i >= 0; i--) {
        const metrics_label *l = &f->labels[i];
        uint32_t index = rest % l->count;
        rest /= l->count;
        v->values[i][0] = '\0';
        if (!l->value(l->ctx, index, v->values[i], sizeof v->values[i]))
            return false;
    }
    return true;
}

static int render_collected(metrics_buffer *b, const metrics_family *f) {
    metrics_sample samples[METRICS_COLLECTED_MAX];
    uint32_t n = f->collect(f->collect_ctx, samples, METRICS_COLLECTED_MAX);
    assert(n <= METRICS_COLLECTED_MAX);
    int rc = 0;
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        series_labels v;
        for (uint32_t l = 0; l < f->label_count; l++) {
            /* Cut at the buffer's end: the collector's text is its own. */
            memcpy(v.values[l], samples[i].labels[l], sizeof v.values[l]);
            v.values[l][sizeof v.values[l] - 1] = '\0';
        }
        char value[32];
        snprintf(value, sizeof value, "%" PRId64, samples[i].value);
        rc = put_sample(b, f, "", &v, NULL, value);
    }
    return rc;
}

static int render_family(metrics_buffer *b, const metrics_family *f) {
    static const char *const type_names[] = {"counter", "gauge", "histogram"};
    int rc = puts_(b, "# HELP ");
    if (rc == 0)
        rc = puts_(b, f->name);
    if (rc == 0)
        rc = puts_(b, " ");
    if (rc == 0)
        rc = put_escaped(b, f->help, false);
    if (rc == 0)
        rc = puts_(b, "\n# TYPE ");
    if (rc == 0)
        rc = puts_(b, f->name);
    if (rc == 0)
        rc = puts_(b, " ");
    if (rc == 0)
        rc = puts_(b, type_names[f->kind]);
    if (rc == 0)
        rc = puts_(b, "\n");
    if (rc == 0 && f->collect != NULL)
        return render_collected(b, f);
    series_labels v;
    for (uint32_t s = 0; rc == 0 && s < f->series_count; s++) {
        const _Atomic uint64_t *cells = f->cells + (size_t)s * f->cells_per_series;
        if (f->sparse && f->kind != METRICS_GAUGE && !series_observed(f, cells))
            continue;
        if (!label_values(f, s, &v))
            continue;
        if (f->kind == METRICS_HISTOGRAM) {
            rc = render_histogram(b, f, cells, &v);
            continue;
        }
        char value[32];
        uint64_t raw = atomic_load_explicit(cells, memory_order_relaxed);
        if (f->kind == METRICS_GAUGE)
            snprintf(value, sizeof value, "%" PRId64, (int64_t)raw);
        else
            format_value(value, sizeof value, raw, METRICS_UNIT_ONE);
        rc = put_sample(b, f, "", &v, NULL, value);
    }
    return rc;
}

int metrics_render(const metrics_registry *r, metrics_buffer *out) {
    uint32_t n = atomic_load(&((metrics_registry *)r)->count);
    int rc = reserve(out, 0);
    for (uint32_t i = 0; rc == 0 && i < n; i++)
        rc = render_family(out, r->families[i]);
    return rc;
}
