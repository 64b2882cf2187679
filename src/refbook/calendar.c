#include "refbook/calendar.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define NANO_PER_UNIT INT64_C(1000000000)

void calendar_init(calendar *cal) {
    memset(cal, 0, sizeof *cal);
}

void calendar_deinit(calendar *cal) {
    free(cal->coupons);
    free(cal->events);
    free(cal->dividends);
    calendar_init(cal);
}

int calendar_reserve(calendar *cal, uint32_t coupons, uint32_t events, uint32_t dividends) {
    assert(cal->coupons == NULL && cal->events == NULL && cal->dividends == NULL);
    assert(coupons <= CALENDAR_MAX_COUPONS && events <= CALENDAR_MAX_EVENTS &&
           dividends <= CALENDAR_MAX_DIVIDENDS);
    /* calloc of at least one element, so that a reserved but empty kind is not NULL. */
    cal->coupons = calloc(coupons > 0 ? coupons : 1, sizeof *cal->coupons);
    cal->events = calloc(events > 0 ? events : 1, sizeof *cal->events);
    cal->dividends = calloc(dividends > 0 ? dividends : 1, sizeof *cal->dividends);
    if (cal->coupons == NULL || cal->events == NULL || cal->dividends == NULL) {
        calendar_deinit(cal);
        return -1;
    }
    cal->coupon_capacity = coupons;
    cal->event_capacity = events;
    cal->dividend_capacity = dividends;
    return 0;
}

static calendar_run *runs_of(calendar *cal, calendar_kind kind) {
    switch (kind) {
    case CALENDAR_COUPONS:
        return cal->coupon_runs;
    case CALENDAR_EVENTS:
        return cal->event_runs;
    case CALENDAR_DIVIDENDS:
        return cal->dividend_runs;
    }
    assert(!"unknown calendar kind");
    return NULL;
}

static uint32_t count_of(const calendar *cal, calendar_kind kind) {
    return kind == CALENDAR_COUPONS  ? cal->coupon_count
           : kind == CALENDAR_EVENTS ? cal->event_count
                                     : cal->dividend_count;
}

bool calendar_begin_run(calendar *cal, calendar_kind kind, uint32_t ins_index) {
    assert(ins_index < REFDATA_MAX_INSTRUMENTS);
    calendar_run *run = &runs_of(cal, kind)[ins_index];
    if (run->count > 0)
        return false;
    run->first = count_of(cal, kind);
    return true;
}

void calendar_add_coupon(calendar *cal, const calendar_coupon *coupon) {
    assert(cal->coupon_count < cal->coupon_capacity);
    assert(coupon->start_s < coupon->end_s && coupon->period_days > 0);
    cal->coupons[cal->coupon_count++] = *coupon;
}

void calendar_add_event(calendar *cal, const calendar_bond_event *event) {
    assert(cal->event_count < cal->event_capacity);
    assert(event->event_type >= 1 && event->event_type <= CALENDAR_EVENT_TYPE_MAX);
    cal->events[cal->event_count++] = *event;
}

void calendar_add_dividend(calendar *cal, const calendar_dividend *dividend) {
    assert(cal->dividend_count < cal->dividend_capacity);
    assert(dividend->currency != NULL);
    cal->dividends[cal->dividend_count++] = *dividend;
}

static int compare_i64(int64_t a, int64_t b) {
    return (a > b) - (a < b);
}

static int compare_coupons(const void *a, const void *b) {
    const calendar_coupon *x = a, *y = b;
    int c = compare_i64(x->coupon_date_s, y->coupon_date_s);
    return c != 0 ? c : compare_i64(x->coupon_number, y->coupon_number);
}

static int compare_events(const void *a, const void *b) {
    const calendar_bond_event *x = a, *y = b;
    int c = compare_i64(x->event_date_s, y->event_date_s);
    return c != 0 ? c : compare_i64(x->event_number, y->event_number);
}

static int compare_dividends(const void *a, const void *b) {
    const calendar_dividend *x = a, *y = b;
    return compare_i64(x->record_date_s, y->record_date_s);
}

void calendar_end_run(calendar *cal, calendar_kind kind, uint32_t ins_index) {
    assert(ins_index < REFDATA_MAX_INSTRUMENTS);
    calendar_run *run = &runs_of(cal, kind)[ins_index];
    uint32_t end = count_of(cal, kind);
    assert(end >= run->first);
    run->count = end - run->first;
    switch (kind) {
    case CALENDAR_COUPONS:
        qsort(cal->coupons + run->first, run->count, sizeof *cal->coupons, compare_coupons);
        break;
    case CALENDAR_EVENTS:
        qsort(cal->events + run->first, run->count, sizeof *cal->events, compare_events);
        break;
    case CALENDAR_DIVIDENDS:
        qsort(cal->dividends + run->first, run->count, sizeof *cal->dividends, compare_dividends);
        break;
    }
}

const calendar_coupon *calendar_coupons(const calendar *cal, uint32_t ins_index, uint32_t *count) {
    assert(ins_index < REFDATA_MAX_INSTRUMENTS);
    const calendar_run *run = &cal->coupon_runs[ins_index];
    *count = run->count;
    return run->count == 0 ? NULL : cal->coupons + run->first;
}

const calendar_bond_event *calendar_events(const calendar *cal, uint32_t ins_index,
                                           uint32_t *count) {
    assert(ins_index < REFDATA_MAX_INSTRUMENTS);
    const calendar_run *run = &cal->event_runs[ins_index];
    *count = run->count;
    return run->count == 0 ? NULL : cal->events + run->first;
}

const calendar_dividend *calendar_dividends(const calendar *cal, uint32_t ins_index,
                                            uint32_t *count) {
    assert(ins_index < REFDATA_MAX_INSTRUMENTS);
    const calendar_run *run = &cal->dividend_runs[ins_index];
    *count = run->count;
    return run->count == 0 ? NULL : cal->dividends + run->first;
}

/* a × b / c rounded half up, for a, b ≥ 0 and c > 0; false when the result is past int64. The
 * product of two int64 values fits in 128 bits. */
static bool mul_div_round(int64_t a, int64_t b, int64_t c, int64_t *out) {
    assert(a >= 0 && b >= 0 && c > 0);
    __int128 product = (__int128)a * b;
    __int128 q = product / c, r = product % c;
    if (2 * r >= c)
        q += 1;
    if (q > INT64_MAX)
        return false;
    *out = (int64_t)q;
    return true;
}

calendar_accrued_result calendar_accrued_interest(const calendar_coupon *coupons, uint32_t count,
                                                  int64_t day_s, int64_t nominal_nano,
                                                  calendar_accrued *out) {
    assert(nominal_nano > 0);
    for (uint32_t i = 0; i < count; i++) {
        const calendar_coupon *c = &coupons[i];
        if (day_s < c->start_s || day_s >= c->end_s)
            continue;
        assert(c->period_days > 0 && c->pay_one_bond_nano >= 0);
        int64_t days = (day_s - c->start_s) / CALENDAR_SECONDS_PER_DAY;
        /* The period [start, end) is period_days long (the reader checks it), so days stays
         * below period_days and the value below the coupon. */
        assert(days < c->period_days);
        calendar_accrued a;
        if (!mul_div_round(c->pay_one_bond_nano, days, c->period_days, &a.value_nano))
            return CALENDAR_ACCRUED_OVERFLOW;
        /* Percent of the nominal: value × 100 / nominal, in nano-units. */
        if (!mul_div_round(a.value_nano, 100 * NANO_PER_UNIT, nominal_nano, &a.value_percent_nano))
            return CALENDAR_ACCRUED_OVERFLOW;
        *out = a;
        return CALENDAR_ACCRUED_OK;
    }
    return CALENDAR_ACCRUED_NONE;
}
