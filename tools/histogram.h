/* A log-linear latency histogram (about 1.5% resolution from 1 ns to hours), fixed size, no
 * allocation per sample: what a load generator needs to report p50 ... max honestly. */
#ifndef TINVESTD_TOOLS_HISTOGRAM_H
#define TINVESTD_TOOLS_HISTOGRAM_H

#include <stdint.h>
#include <string.h>

#define HISTOGRAM_SUB_BITS 6
#define HISTOGRAM_BUCKETS (64 << HISTOGRAM_SUB_BITS)

typedef struct histogram {
    uint64_t counts[HISTOGRAM_BUCKETS];
    uint64_t total;
    int64_t max;
} histogram;

static inline int histogram_bucket(int64_t v) {
    if (v < (1 << HISTOGRAM_SUB_BITS))
        return (int)(v < 0 ? 0 : v);
    int msb = 63 - __builtin_clzll((uint64_t)v);
    int shift = msb - HISTOGRAM_SUB_BITS;
    return ((shift + 1) << HISTOGRAM_SUB_BITS) +
           (int)((v >> shift) & ((1 << HISTOGRAM_SUB_BITS) - 1));
}

/* The lowest value that falls in `bucket`. */
static inline int64_t histogram_value(int bucket) {
    if (bucket < (1 << HISTOGRAM_SUB_BITS))
        return bucket;
    int shift = (bucket >> HISTOGRAM_SUB_BITS) - 1;
    int64_t mantissa = (1 << HISTOGRAM_SUB_BITS) | (bucket & ((1 << HISTOGRAM_SUB_BITS) - 1));
    return mantissa << shift;
}

static inline void histogram_record(histogram *h, int64_t v) {
    h->counts[histogram_bucket(v)]++;
    h->total++;
    if (v > h->max)
        h->max = v;
}

static inline int64_t histogram_percentile(const histogram *h, double p) {
    if (h->total == 0)
        return 0;
    uint64_t rank = (uint64_t)(p / 100.0 * (double)h->total);
    if (rank >= h->total)
        rank = h->total - 1;
    uint64_t seen = 0;
    for (int b = 0; b < HISTOGRAM_BUCKETS; b++) {
        seen += h->counts[b];
        if (seen > rank)
            return histogram_value(b);
    }
    return h->max;
}

#endif
