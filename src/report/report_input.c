/* report_prepare: the checks of the whole input, the sample times (every distinct price time of the
 * replay, merged from the instruments' sorted closes through a small heap) and the fills grouped
 * by account. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/text.h"

#define CURRENCY_MAX_LEN 15

static int refuse(const char **why, const char *reason) {
    if (why != NULL)
        *why = reason;
    return -EINVAL;
}

static bool utf8_text(const char *s) {
    return text_utf8_valid(s, strlen(s));
}

/* A required text: present, not empty, UTF-8. */
static bool required_text(const char *s) {
    return s != NULL && s[0] != '\0' && utf8_text(s);
}

/* An optional text: absent, or UTF-8. */
static bool optional_text(const char *s) {
    return s == NULL || utf8_text(s);
}

static bool currency_valid(const char *s) {
    if (s == NULL)
        return false;
    size_t n = strlen(s);
    if (n == 0 || n > CURRENCY_MAX_LEN)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < 'a' || s[i] > 'z')
            return false;
    return true;
}

static int check_accounts(const report_input *in, const char **why) {
    if (in->account_count > 0 && in->accounts == NULL)
        return refuse(why, "accounts: count without an array");
    for (uint32_t a = 0; a < in->account_count; a++) {
        const report_account *acc = &in->accounts[a];
        if (!required_text(acc->id))
            return refuse(why, "account: id missing, empty or not UTF-8");
        if (!optional_text(acc->name))
            return refuse(why, "account: name not UTF-8");
        if (acc->opening_count > 0 && acc->opening == NULL)
            return refuse(why, "account: opening count without an array");
        for (uint32_t i = 0; i < acc->opening_count; i++) {
            if (!currency_valid(acc->opening[i].currency))
                return refuse(why, "account: opening currency not 1-15 lower-case letters");
            for (uint32_t j = 0; j < i; j++)
                if (strcmp(acc->opening[i].currency, acc->opening[j].currency) == 0)
                    return refuse(why, "account: an opening currency given twice");
        }
    }
    return 0;
}

static int check_instruments(const report_input *in, const char **why) {
    if (in->instrument_count > 0 && in->instruments == NULL)
        return refuse(why, "instruments: count without an array");
    for (uint32_t i = 0; i < in->instrument_count; i++) {
        const report_instrument *ins = &in->instruments[i];
        if (!required_text(ins->uid) || !required_text(ins->ticker))
            return refuse(why, "instrument: uid or ticker missing, empty or not UTF-8");
        if (!optional_text(ins->name))
            return refuse(why, "instrument: name not UTF-8");
        if (!currency_valid(ins->currency))
            return refuse(why, "instrument: currency not 1-15 lower-case letters");
        if (ins->lot <= 0)
            return refuse(why, "instrument: lot not positive");
        if (ins->price_count > 0 && ins->prices == NULL)
            return refuse(why, "instrument: price count without an array");
        for (uint32_t k = 1; k < ins->price_count; k++)
            if (ins->prices[k].time_ns <= ins->prices[k - 1].time_ns)
                return refuse(why, "instrument: price times not strictly increasing");
        if (ins->price_count > 0 && ins->prices[ins->price_count - 1].time_ns > in->now_ns)
            return refuse(why, "instrument: a price after now");
    }
    return 0;
}

static int check_fills(const report_input *in, const char **why) {
    if (in->fill_count > 0 && in->fills == NULL)
        return refuse(why, "fills: count without an array");
    for (uint32_t i = 0; i < in->fill_count; i++) {
        const report_fill *f = &in->fills[i];
        if (f->account >= in->account_count)
            return refuse(why, "fill: account index out of range");
        if (f->instrument >= in->instrument_count)
            return refuse(why, "fill: instrument index out of range");
        if (f->time_ns < in->from_ns || f->time_ns > in->now_ns)
            return refuse(why, "fill: time outside the period up to now");
        if (i > 0 && f->time_ns < in->fills[i - 1].time_ns)
            return refuse(why, "fill: out of time order");
        if (f->units <= 0 || f->units % in->instruments[f->instrument].lot != 0)
            return refuse(why, "fill: units not a positive number of lots");
        if ((__int128)f->price_nano * f->units != f->value_nano)
            return refuse(why, "fill: value is not price x units");
        if (f->commission_nano < 0)
            return refuse(why, "fill: negative commission");
    }
    return 0;
}

static int check_input(const report_input *in, const char **why) {
    if (in->from_ns > in->to_ns)
        return refuse(why, "period: from after to");
    if (in->now_ns < in->from_ns)
        return refuse(why, "now before the period's start");
    if (!optional_text(in->title))
        return refuse(why, "title not UTF-8");
    int rc = check_accounts(in, why);
    if (rc == 0)
        rc = check_instruments(in, why);
    if (rc == 0)
        rc = check_fills(in, why);
    return rc;
}

/* ---- Sample times: a k-way merge of the instruments' price times. ---- */

typedef struct cursor {
    int64_t time_ns;
    uint32_t instrument, next;
} cursor;

static bool cursor_less(const cursor *a, const cursor *b) {
    return a->time_ns < b->time_ns || (a->time_ns == b->time_ns && a->instrument < b->instrument);
}

static void heap_down(cursor *heap, uint32_t n, uint32_t i) {
    for (;;) {
        uint32_t least = i, l = 2 * i + 1, r = 2 * i + 2;
        if (l < n && cursor_less(&heap[l], &heap[least]))
            least = l;
        if (r < n && cursor_less(&heap[r], &heap[least]))
            least = r;
        if (least == i)
            return;
        cursor tmp = heap[i];
        heap[i] = heap[least];
        heap[least] = tmp;
        i = least;
    }
}

typedef struct time_list {
    int64_t *times;
    uint32_t count, capacity;
} time_list;

/* Appends `t` unless it is the last time already held; false on no memory or past uint32. */
static bool time_list_add(time_list *l, int64_t t) {
    if (l->count > 0 && l->times[l->count - 1] == t)
        return true;
    if (l->count == l->capacity) {
        if (l->capacity > UINT32_MAX / 2)
            return false;
        uint32_t cap = l->capacity == 0 ? 1024 : l->capacity * 2;
        int64_t *grown = realloc(l->times, (size_t)cap * sizeof *grown);
        if (grown == NULL)
            return false;
        l->times = grown;
        l->capacity = cap;
    }
    l->times[l->count++] = t;
    return true;
}

/* The index of the first price at or after `from_ns`. */
static uint32_t first_price_from(const report_instrument *ins, int64_t from_ns) {
    uint32_t lo = 0, hi = ins->price_count;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (ins->prices[mid].time_ns < from_ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int build_samples(const report_input *in, report_prepared *out) {
    time_list list = {0};
    cursor *heap = malloc(((size_t)in->instrument_count + 1) * sizeof *heap);
    if (heap == NULL)
        return -ENOMEM;
    uint32_t n = 0;
    for (uint32_t i = 0; i < in->instrument_count; i++) {
        const report_instrument *ins = &in->instruments[i];
        uint32_t k = first_price_from(ins, in->from_ns);
        if (k < ins->price_count)
            heap[n++] = (cursor){ins->prices[k].time_ns, i, k + 1};
    }
    for (uint32_t i = n; i-- > 0;)
        heap_down(heap, n, i);
    bool ok = time_list_add(&list, in->from_ns);
    while (ok && n > 0) {
        ok = time_list_add(&list, heap[0].time_ns);
        const report_instrument *ins = &in->instruments[heap[0].instrument];
        if (heap[0].next < ins->price_count) {
            heap[0].time_ns = ins->prices[heap[0].next].time_ns;
            heap[0].next++;
        } else {
            heap[0] = heap[--n];
        }
        heap_down(heap, n, 0);
    }
    ok = ok && time_list_add(&list, in->now_ns);
    free(heap);
    if (!ok) {
        free(list.times);
        return -ENOMEM;
    }
    out->sample_times = list.times;
    out->sample_count = list.count;
    return 0;
}

/* Fill indexes grouped by account (a counting sort, stable: time order within an account). */
static int build_account_fills(const report_input *in, report_prepared *out) {
    out->account_fill_start = calloc((size_t)in->account_count + 1, sizeof(uint32_t));
    out->account_fills = malloc(((size_t)in->fill_count + 1) * sizeof(uint32_t));
    if (out->account_fill_start == NULL || out->account_fills == NULL)
        return -ENOMEM;
    uint32_t *start = out->account_fill_start;
    for (uint32_t i = 0; i < in->fill_count; i++)
        start[in->fills[i].account + 1]++;
    for (uint32_t a = 0; a < in->account_count; a++)
        start[a + 1] += start[a];
    uint32_t *next = malloc(((size_t)in->account_count + 1) * sizeof *next);
    if (next == NULL)
        return -ENOMEM;
    memcpy(next, start, ((size_t)in->account_count + 1) * sizeof *next);
    for (uint32_t i = 0; i < in->fill_count; i++)
        out->account_fills[next[in->fills[i].account]++] = i;
    free(next);
    return 0;
}

int report_prepare(const report_input *in, report_prepared *out, const char **why) {
    memset(out, 0, sizeof *out);
    if (in == NULL)
        return refuse(why, "no input");
    int rc = check_input(in, why);
    if (rc != 0)
        return rc;
    out->in = in;
    rc = build_samples(in, out);
    if (rc == 0)
        rc = build_account_fills(in, out);
    if (rc != 0) {
        report_prepared_free(out);
        if (why != NULL)
            *why = "out of memory";
        return rc;
    }
    assert(out->sample_count >= 1 && out->sample_times[0] == in->from_ns);
    assert(out->sample_times[out->sample_count - 1] == in->now_ns);
    return 0;
}

void report_prepared_free(report_prepared *p) {
    free(p->sample_times);
    free(p->account_fills);
    free(p->account_fill_start);
    memset(p, 0, sizeof *p);
}
