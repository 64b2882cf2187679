/* The report's shared pieces: the downsampling of a curve, times as text, money as text, and
 * escaping for JSON and HTML. */
#include <assert.h>
#include <string.h>

#include "report/report_internal.h"
#include "util/money.h"

#define NS_PER_S INT64_C(1000000000)
#define S_PER_DAY INT64_C(86400)

/* ---- Downsampling. ---- */

void report_thinner_init(report_thinner *t, uint32_t total, report_point *out) {
    memset(t, 0, sizeof *t);
    t->total = total;
    t->buckets = total <= REPORT_MAX_POINTS ? 0 : (REPORT_MAX_POINTS - 1) / 3;
    t->out = out;
}

static void emit(report_thinner *t, const report_point *p) {
    if (t->count > 0 && t->out[t->count - 1].sample >= p->sample)
        return; /* the same sample twice (first, lowest and highest may coincide) */
    assert(t->count < REPORT_MAX_POINTS);
    t->out[t->count++] = *p;
}

/* The bucket's first, lowest and highest samples, in time order, each once. */
static void flush(report_thinner *t) {
    const report_point *p[3] = {&t->first, &t->low, &t->high};
    for (int i = 1; i < 3; i++)
        for (int j = i; j > 0 && p[j]->sample < p[j - 1]->sample; j--) {
            const report_point *tmp = p[j];
            p[j] = p[j - 1];
            p[j - 1] = tmp;
        }
    for (int i = 0; i < 3; i++)
        emit(t, p[i]);
    t->open = false;
}

void report_thinner_push(report_thinner *t, const report_point *p) {
    assert(t->seen < t->total);
    if (t->buckets == 0) {
        emit(t, p);
        t->seen++;
        return;
    }
    uint32_t bucket = (uint32_t)((uint64_t)t->seen * t->buckets / t->total);
    if (t->open && bucket != t->bucket)
        flush(t);
    if (!t->open) {
        t->first = t->low = t->high = *p;
        t->bucket = bucket;
        t->open = true;
    } else if (p->value_nano < t->low.value_nano) {
        t->low = *p;
    } else if (p->value_nano > t->high.value_nano) {
        t->high = *p;
    }
    t->last = *p;
    t->seen++;
}

uint32_t report_thinner_finish(report_thinner *t) {
    assert(t->seen == t->total);
    if (t->buckets != 0) {
        if (t->open)
            flush(t);
        emit(t, &t->last); /* the curve ends where it ends */
    }
    return t->count;
}

/* ---- Times. ---- */

static int64_t floor_div(int64_t a, int64_t b) {
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

void report_civil_of(int64_t time_ns, report_civil *out) {
    int64_t seconds = floor_div(time_ns, NS_PER_S);
    int64_t days = floor_div(seconds, S_PER_DAY);
    int64_t of_day = seconds - days * S_PER_DAY;
    /* Days since 1970-01-01 to a proleptic Gregorian date, counting in 400-year eras that start
     * on 1 March 0000, so the leap day ends each era's year. */
    int64_t z = days + 719468;
    int64_t era = floor_div(z, 146097);
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int month = (int)(mp < 10 ? mp + 3 : mp - 9);
    out->year = yoe + era * 400 + (month <= 2);
    out->month = month;
    out->day = (int)(doy - (153 * mp + 2) / 5 + 1);
    out->hour = (int)(of_day / 3600);
    out->minute = (int)(of_day / 60 % 60);
    out->second = (int)(of_day % 60);
}

void report_time_rfc3339(int64_t time_ns, char *out) {
    report_civil c;
    report_civil_of(time_ns, &c);
    int n = snprintf(out, REPORT_TIME_MAX, "%04lld-%02d-%02dT%02d:%02d:%02d", (long long)c.year,
                     c.month, c.day, c.hour, c.minute, c.second);
    int64_t fraction = time_ns - floor_div(time_ns, NS_PER_S) * NS_PER_S;
    if (fraction != 0) {
        int places = 9;
        while (fraction % 10 == 0) {
            fraction /= 10;
            places--;
        }
        n += snprintf(out + n, (size_t)(REPORT_TIME_MAX - n), ".%0*lld", places,
                      (long long)fraction);
    }
    snprintf(out + n, (size_t)(REPORT_TIME_MAX - n), "Z");
}

/* ---- Text. ---- */

void report_json_string(FILE *out, const char *s) {
    putc('"', out);
    for (const unsigned char *p = (const unsigned char *)(s != NULL ? s : ""); *p != '\0'; p++) {
        switch (*p) {
        case '"':
            fputs("\\\"", out);
            break;
        case '\\':
            fputs("\\\\", out);
            break;
        case '\n':
            fputs("\\n", out);
            break;
        case '\r':
            fputs("\\r", out);
            break;
        case '\t':
            fputs("\\t", out);
            break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                putc(*p, out); /* UTF-8 was checked by report_prepare */
        }
    }
    putc('"', out);
}

void report_html_text(FILE *out, const char *s) {
    for (const char *p = s != NULL ? s : ""; *p != '\0'; p++) {
        switch (*p) {
        case '&':
            fputs("&amp;", out);
            break;
        case '<':
            fputs("&lt;", out);
            break;
        case '>':
            fputs("&gt;", out);
            break;
        case '"':
            fputs("&quot;", out);
            break;
        case '\'':
            fputs("&#39;", out);
            break;
        default:
            putc(*p, out);
        }
    }
}

void report_money_text(FILE *out, int64_t nano) {
    char text[MONEY_DECIMAL_MAX];
    money_format_decimal(nano, text, sizeof text);
    fputs(text, out);
}

void report_money_grouped(FILE *out, int64_t nano) {
    char text[MONEY_DECIMAL_MAX];
    money_format_decimal(nano, text, sizeof text);
    const char *digits = text[0] == '-' ? text + 1 : text;
    size_t whole = strcspn(digits, ".");
    if (text[0] == '-')
        fputs("\xE2\x88\x92", out); /* U+2212 MINUS SIGN */
    for (size_t i = 0; i < whole; i++) {
        if (i > 0 && (whole - i) % 3 == 0)
            fputs("\xE2\x80\xAF", out); /* U+202F NARROW NO-BREAK SPACE */
        putc(digits[i], out);
    }
    fputs(digits + whole, out);
}
