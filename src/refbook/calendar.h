/* The payment calendar of the instruments: bond coupons, bond events and dividends, as the
 * reference-data files give them (docs/REFERENCE-DATA.md), and the accrued interest worked out
 * from a bond's coupons.
 *
 * DESIGN: the calendar is loaded once by config/ (src/config/calendar_reader.c) and read-only
 * afterwards, so the transport threads read it without locks, as they read the instruments. Its
 * arrays are sized from the files at start (calendar_reserve) and bounded by the CALENDAR_MAX_*
 * limits below; nothing is added at run time, so nothing is journaled or retired. Each
 * instrument's entries are one run of an array, sorted by date (calendar_finish), so a lookup is
 * an index and a filter by date is a scan of that run only. */
#ifndef TINVESTD_REFBOOK_CALENDAR_H
#define TINVESTD_REFBOOK_CALENDAR_H

#include <stdbool.h>
#include <stdint.h>

#include "core/refdata.h"

/* Entries of each kind one instrument may have, and in all (a file naming more is refused at
 * start with its JSON path). */
#define CALENDAR_MAX_COUPONS_PER_BOND 1000
#define CALENDAR_MAX_EVENTS_PER_BOND 2000
#define CALENDAR_MAX_DIVIDENDS_PER_INSTRUMENT 1000
#define CALENDAR_MAX_COUPONS 200000
#define CALENDAR_MAX_EVENTS 400000
#define CALENDAR_MAX_DIVIDENDS 200000

#define CALENDAR_SECONDS_PER_DAY 86400

/* The contract's CouponType values. */
#define CALENDAR_COUPON_TYPE_MAX 7
/* The contract's GetBondEventsRequest.EventType values: CPN 1, CALL 2, MTY 3, CONV 4. */
#define CALENDAR_EVENT_TYPE_MAX 4

typedef struct calendar_coupon {
    uint32_t ins_index;        /* refdata index of the bond */
    int64_t coupon_number;     /* 1, 2, ... */
    int64_t coupon_date_s;     /* payment date, UTC midnight */
    int64_t fix_date_s;        /* record date; 0: none */
    int64_t pay_one_bond_nano; /* in the bond's nominal currency; 0: not yet known */
    int32_t coupon_type;       /* CouponType */
    int64_t start_s, end_s;    /* the coupon period [start, end) */
    int32_t period_days;       /* (end - start) in days, > 0 */
} calendar_coupon;

typedef struct calendar_bond_event {
    uint32_t ins_index;
    int32_t event_number;
    int32_t event_type; /* EventType, 1 .. CALENDAR_EVENT_TYPE_MAX */
    int64_t event_date_s;
    /* Each date 0 when the file gives none (the reply leaves it out). */
    int64_t fix_date_s, rate_date_s, default_date_s, real_pay_date_s, pay_date_s;
    int64_t coupon_start_s, coupon_end_s;
    int32_t coupon_period_days;
    bool has_pay_one_bond, has_money_flow_val, has_value, has_total_vol, has_rate;
    int64_t pay_one_bond_nano, money_flow_val_nano; /* in the bond's nominal currency */
    int64_t value_nano, event_total_vol_nano, coupon_interest_rate_nano;
    const char *execution, *operation_type, *note, *convert_to_fin_tool_id; /* never NULL */
} calendar_bond_event;

typedef struct calendar_dividend {
    uint32_t ins_index;
    const char *currency; /* of dividend_net and close_price */
    int64_t dividend_net_nano;
    int64_t record_date_s; /* the date GetDividends filters by; required */
    /* Each 0 when the file gives none. */
    int64_t payment_date_s, declared_date_s, last_buy_date_s, created_at_s;
    const char *dividend_type, *regularity; /* never NULL */
    bool has_close_price, has_yield;
    int64_t close_price_nano, yield_value_nano;
} calendar_dividend;

/* One instrument's run of an array: entries [first, first + count). */
typedef struct calendar_run {
    uint32_t first, count;
} calendar_run;

typedef struct calendar {
    calendar_coupon *coupons;
    calendar_bond_event *events;
    calendar_dividend *dividends;
    uint32_t coupon_count, event_count, dividend_count;
    uint32_t coupon_capacity, event_capacity, dividend_capacity;
    calendar_run coupon_runs[REFDATA_MAX_INSTRUMENTS];
    calendar_run event_runs[REFDATA_MAX_INSTRUMENTS];
    calendar_run dividend_runs[REFDATA_MAX_INSTRUMENTS];
} calendar;

/* An empty calendar (every lookup finds nothing). */
void calendar_init(calendar *cal);
void calendar_deinit(calendar *cal);
/* Allocates room for exactly this many entries of each kind (each at most its CALENDAR_MAX_*);
 * -1 when out of memory. Called once, before any entry is added. */
int calendar_reserve(calendar *cal, uint32_t coupons, uint32_t events, uint32_t dividends);

/* Appends an entry (within the reserved room). An instrument's entries are added together, one
 * run per instrument: calendar_begin_run before the first, calendar_end_run after the last. */
typedef enum { CALENDAR_COUPONS, CALENDAR_EVENTS, CALENDAR_DIVIDENDS } calendar_kind;
/* False when `instrument` already has a run of that kind. */
bool calendar_begin_run(calendar *cal, calendar_kind kind, uint32_t ins_index);
void calendar_add_coupon(calendar *cal, const calendar_coupon *coupon);
void calendar_add_event(calendar *cal, const calendar_bond_event *event);
void calendar_add_dividend(calendar *cal, const calendar_dividend *dividend);
/* Closes the run and sorts it by date (coupons by payment date then number, events by event
 * date then number, dividends by record date). */
void calendar_end_run(calendar *cal, calendar_kind kind, uint32_t ins_index);

/* An instrument's entries in date order; *count 0 when it has none. */
const calendar_coupon *calendar_coupons(const calendar *cal, uint32_t ins_index, uint32_t *count);
const calendar_bond_event *calendar_events(const calendar *cal, uint32_t ins_index,
                                           uint32_t *count);
const calendar_dividend *calendar_dividends(const calendar *cal, uint32_t ins_index,
                                            uint32_t *count);

/* The accrued interest of one bond on one day. */
typedef struct calendar_accrued {
    int64_t value_nano;         /* per bond, in the nominal currency */
    int64_t value_percent_nano; /* of the nominal, in percent */
} calendar_accrued;

typedef enum {
    CALENDAR_ACCRUED_OK = 0,
    CALENDAR_ACCRUED_NONE,     /* the day lies in no coupon period of the schedule */
    CALENDAR_ACCRUED_OVERFLOW, /* a value past int64 nano-units (the data is absurd) */
} calendar_accrued_result;

/* The accrued interest on `day_s` (UTC midnight) from the coupons of one bond (in date order):
 * the coupon whose period [start, end) holds the day gives pay × days since start / period days,
 * rounded half up to the nano-unit, and its share of `nominal_nano` in percent. On the payment
 * day the next period has begun (0 accrued), and past the last period there is none. */
calendar_accrued_result calendar_accrued_interest(const calendar_coupon *coupons, uint32_t count,
                                                  int64_t day_s, int64_t nominal_nano,
                                                  calendar_accrued *out);

#endif
