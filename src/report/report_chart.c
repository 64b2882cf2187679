/* The SVG charts' frame: the shared time axis (ticks at round steps of time, placed by sample)
 * and a value axis per chart (ticks at 1, 2 or 5 x 10^k nano, labelled as exact decimals). */
#include <assert.h>
#include <string.h>

#include "report/report_internal.h"

#define NS_PER_S INT64_C(1000000000)
#define DAY_S INT64_C(86400)
/* At most this many ticks on the time axis, and never closer than this many pixels. */
#define TIME_TICKS_WANTED 7
#define TICK_MIN_GAP_PX 78.0
#define CHART_WIDTH 960.0

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* How many samples start a new step (a new minute, hour, day…) after the previous one. */
static uint32_t crossings(const int64_t *times, uint32_t n, int64_t step_ns) {
    uint32_t count = 0;
    for (uint32_t i = 1; i < n; i++)
        if (floor_div(times[i], step_ns) != floor_div(times[i - 1], step_ns))
            count++;
    return count;
}

static void tick_label(char *out, size_t size, int64_t time_ns, int64_t step_s, bool new_day,
                       bool show_year) {
    report_civil c;
    report_civil_of(time_ns, &c);
    if (step_s >= DAY_S && show_year)
        snprintf(out, size, "%04lld-%02d-%02d", (long long)c.year, c.month, c.day);
    else if (step_s >= DAY_S)
        snprintf(out, size, "%02d-%02d", c.month, c.day);
    else if (step_s < 60)
        snprintf(out, size, "%02d:%02d:%02d", c.hour, c.minute, c.second);
    else if (new_day)
        snprintf(out, size, "%02d-%02d %02d:%02d", c.month, c.day, c.hour, c.minute);
    else
        snprintf(out, size, "%02d:%02d", c.hour, c.minute);
}

void report_time_axis_init(report_time_axis *axis, const report_prepared *p) {
    static const int64_t steps_s[] = {
        1,         5,          15,         60,         300,         900,         1800,
        3600,      7200,       10800,      21600,      43200,       DAY_S,       2 * DAY_S,
        7 * DAY_S, 14 * DAY_S, 28 * DAY_S, 91 * DAY_S, 364 * DAY_S, 3640 * DAY_S};
    memset(axis, 0, sizeof *axis);
    axis->times = p->sample_times;
    axis->count = p->sample_count;
    const int64_t *t = axis->times;
    uint32_t n = axis->count;
    int64_t step_s = steps_s[sizeof steps_s / sizeof steps_s[0] - 1];
    for (size_t i = 0; i < sizeof steps_s / sizeof steps_s[0]; i++)
        if (crossings(t, n, steps_s[i] * NS_PER_S) <= TIME_TICKS_WANTED) {
            step_s = steps_s[i];
            break;
        }
    report_civil first, last;
    report_civil_of(t[0], &first);
    report_civil_of(t[n - 1], &last);
    bool show_year = first.year != last.year;
    /* The first sample is always a tick; then the first sample of each new step that is far
     * enough (in samples, as the chart will place it) from the previous tick. */
    double min_gap = n > 1 ? TICK_MIN_GAP_PX * (double)(n - 1) / (CHART_WIDTH - 100.0) : 1.0;
    int64_t step_ns = step_s * NS_PER_S;
    int64_t prev_day = INT64_MIN;
    for (uint32_t i = 0; i < n && axis->tick_count < REPORT_MAX_TICKS; i++) {
        bool boundary = i == 0 || floor_div(t[i], step_ns) != floor_div(t[i - 1], step_ns);
        if (!boundary)
            continue;
        if (axis->tick_count > 0 && (double)(i - axis->tick_sample[axis->tick_count - 1]) < min_gap)
            continue;
        int64_t day = floor_div(t[i], DAY_S * NS_PER_S);
        uint32_t k = axis->tick_count++;
        axis->tick_sample[k] = i;
        tick_label(axis->tick_label[k], sizeof axis->tick_label[k], t[i], step_s, day != prev_day,
                   show_year);
        prev_day = day;
    }
}

double report_time_axis_place(const report_time_axis *axis, int64_t time_ns) {
    const int64_t *t = axis->times;
    uint32_t lo = 0, hi = axis->count; /* the last sample at or before time_ns */
    while (hi - lo > 1) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (t[mid] <= time_ns)
            lo = mid;
        else
            hi = mid;
    }
    if (lo + 1 >= axis->count || t[lo] >= time_ns)
        return lo;
    return lo + (double)(time_ns - t[lo]) / (double)(t[lo + 1] - t[lo]);
}

/* The smallest 1, 2 or 5 x 10^k at least `span` / 4, so the axis has about four to six ticks. */
static __int128 round_step(__int128 span) {
    __int128 want = span / 4;
    for (__int128 decade = 1;; decade *= 10) {
        if (decade >= want)
            return decade;
        if (2 * decade >= want)
            return 2 * decade;
        if (5 * decade >= want)
            return 5 * decade;
    }
}

static __int128 floor_to(__int128 v, __int128 step) {
    __int128 q = v / step;
    if (v % step != 0 && v < 0)
        q--;
    return q * step;
}

double report_chart_x(const report_chart *c, double sample) {
    double plot = c->width - c->left - c->right;
    if (c->axis->count <= 1)
        return c->left + plot / 2;
    return c->left + plot * sample / (double)(c->axis->count - 1);
}

static double y_of(const report_chart *c, __int128 v) {
    double plot = c->height - c->top - c->bottom;
    return c->top + plot * (double)(c->high - v) / (double)(c->high - c->low);
}

double report_chart_y(const report_chart *c, int64_t nano) {
    return y_of(c, nano);
}

static void value_label(FILE *out, __int128 v) {
    if (v >= INT64_MIN && v <= INT64_MAX)
        report_money_grouped(out, (int64_t)v);
}

void report_chart_open(report_chart *c, FILE *out, const report_time_axis *axis, const char *cls,
                       int64_t low, int64_t high) {
    assert(low <= high);
    *c = (report_chart){.out = out,
                        .axis = axis,
                        .width = CHART_WIDTH,
                        .height = 300,
                        .left = 92,
                        .right = 16,
                        .top = 14,
                        .bottom = 30};
    __int128 lo = low, hi = high;
    if (lo == hi) { /* a flat line: a band of 1% around it (at least a hundredth of a unit) */
        __int128 pad = (lo < 0 ? -lo : lo) / 100;
        if (pad < 10000000)
            pad = 10000000;
        lo -= pad;
        hi += pad;
    }
    c->step = round_step(hi - lo);
    c->low = floor_to(lo, c->step);
    c->high = floor_to(hi, c->step);
    if (c->high < hi)
        c->high += c->step;
    fprintf(out,
            "<svg class=\"chart %s\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" "
            "preserveAspectRatio=\"xMidYMid meet\">\n",
            cls, c->width, c->height);
    double x0 = c->left, x1 = c->width - c->right, y0 = c->top, y1 = c->height - c->bottom;
    fprintf(out, "<rect class=\"plot\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\"/>\n",
            x0, y0, x1 - x0, y1 - y0);
    for (__int128 v = c->low; v <= c->high; v += c->step) {
        double y = y_of(c, v);
        fprintf(out, "<line class=\"grid\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x0,
                y, x1, y);
        fprintf(out, "<text class=\"ylab\" x=\"%.1f\" y=\"%.1f\">", x0 - 8, y + 4);
        value_label(out, v);
        fputs("</text>\n", out);
    }
    for (uint32_t k = 0; k < axis->tick_count; k++) {
        double x = report_chart_x(c, axis->tick_sample[k]);
        fprintf(out, "<line class=\"tick\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>", x,
                y0, x, y1 + 4);
        fprintf(out, "<text class=\"xlab\" x=\"%.1f\" y=\"%.1f\">%s</text>\n", x, y1 + 18,
                axis->tick_label[k]);
    }
}

void report_chart_points(const report_chart *c, const report_point *points, uint32_t count,
                         bool peaks, bool reverse) {
    for (uint32_t k = 0; k < count; k++) {
        const report_point *p = &points[reverse ? count - 1 - k : k];
        fprintf(c->out, "%s%.1f,%.1f", k == 0 ? "" : " ", report_chart_x(c, p->sample),
                report_chart_y(c, peaks ? p->peak_nano : p->value_nano));
    }
}

void report_chart_close(report_chart *c) {
    fputs("</svg>\n", c->out);
}
