/* What the report's files share and nothing outside src/report uses: the downsampling of a curve,
 * the text forms (times, money, escaping) and the charts' axes. */
#ifndef TINVESTD_REPORT_INTERNAL_H
#define TINVESTD_REPORT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report/report.h"

/* ---- Downsampling (report.h, REPORT_MAX_POINTS): fed the samples of a curve in order. ---- */

typedef struct report_thinner {
    uint32_t total;   /* samples the curve will have */
    uint32_t buckets; /* 0: every sample is kept */
    uint32_t seen;
    uint32_t bucket;
    bool open;
    report_point first, low, high, last;
    report_point *out; /* room for REPORT_MAX_POINTS */
    uint32_t count;
} report_thinner;

void report_thinner_init(report_thinner *t, uint32_t total, report_point *out);
void report_thinner_push(report_thinner *t, const report_point *p);
/* Flushes the last bucket and ends with the last sample; returns the number of points. */
uint32_t report_thinner_finish(report_thinner *t);

/* ---- Text. ---- */

/* RFC 3339 in UTC: "2024-01-02T10:00:00Z", with the fraction of a second when there is one
 * ("…:00.5Z"). Room: REPORT_TIME_MAX. */
#define REPORT_TIME_MAX 40
void report_time_rfc3339(int64_t time_ns, char *out);
/* The UTC civil fields of a time. */
typedef struct report_civil {
    int64_t year;
    int month, day, hour, minute, second;
} report_civil;
void report_civil_of(int64_t time_ns, report_civil *out);

/* `s` as a JSON string with its quotes (valid UTF-8 passes through; quotes, backslashes and
 * control characters escaped). */
void report_json_string(FILE *out, const char *s);
/* `s` with & < > " ' as character references. */
void report_html_text(FILE *out, const char *s);
/* A money amount as an exact decimal (money_format_decimal). */
void report_money_text(FILE *out, int64_t nano);
/* The same with the integer digits grouped by three with a narrow no-break space, for the page. */
void report_money_grouped(FILE *out, int64_t nano);

/* ---- Charts (SVG): a time axis shared by every chart, a value axis per chart. ---- */

/* The x axis is the sample index, not time: nights and weekends, when nothing is sampled, take no
 * room. Ticks sit at the first sample past a boundary of a round step of time. */
#define REPORT_MAX_TICKS 12
typedef struct report_time_axis {
    const int64_t *times;
    uint32_t count;
    uint32_t tick_sample[REPORT_MAX_TICKS];
    char tick_label[REPORT_MAX_TICKS][24];
    uint32_t tick_count;
} report_time_axis;
void report_time_axis_init(report_time_axis *axis, const report_prepared *p);
/* A time's place on the axis: its sample, or between the samples around it. */
double report_time_axis_place(const report_time_axis *axis, int64_t time_ns);

typedef struct report_chart {
    FILE *out;
    const report_time_axis *axis;
    double width, height, left, right, top, bottom;
    __int128 low, high; /* the value axis, nano, on round ticks */
    __int128 step;
} report_chart;
/* Opens <svg> with its frame, grid and labels for values from `low` to `high`. */
void report_chart_open(report_chart *c, FILE *out, const report_time_axis *axis, const char *cls,
                       int64_t low, int64_t high);
void report_chart_close(report_chart *c);
double report_chart_x(const report_chart *c, double sample);
double report_chart_y(const report_chart *c, int64_t nano);
/* `points` as the coordinates of a polyline's points attribute ("x,y x,y …"). */
void report_chart_points(const report_chart *c, const report_point *points, uint32_t count,
                         bool peaks, bool reverse);

/* Runs report_account_compute for every account and forgets the results: whether the report can
 * be written at all, before a byte of it is. */
int report_check_accounts(const report_prepared *p, const char **why);

#endif
