/* report_write_json: the report as one JSON object (docs/REPORT.md, field by field). Money is an
 * exact decimal string, times RFC 3339 UTC strings, percentages numbers with 4 decimals (null
 * where undefined), counts integers. */
#include <errno.h>
#include <inttypes.h>

#include "report/report_internal.h"

static void key(FILE *out, const char *indent, const char *name) {
    fprintf(out, "%s\"%s\": ", indent, name);
}

static void money_field(FILE *out, const char *indent, const char *name, int64_t nano, bool more) {
    key(out, indent, name);
    putc('"', out);
    report_money_text(out, nano);
    fputs(more ? "\",\n" : "\"\n", out);
}

static void time_value(FILE *out, int64_t time_ns) {
    char text[REPORT_TIME_MAX];
    report_time_rfc3339(time_ns, text);
    fprintf(out, "\"%s\"", text);
}

static void time_field(FILE *out, const char *indent, const char *name, int64_t time_ns) {
    key(out, indent, name);
    time_value(out, time_ns);
    fputs(",\n", out);
}

static void pct_field(FILE *out, const char *indent, const char *name, bool known, double pct,
                      bool more) {
    key(out, indent, name);
    if (known)
        fprintf(out, "%.4f", pct);
    else
        fputs("null", out);
    fputs(more ? ",\n" : "\n", out);
}

static void count_field(FILE *out, const char *indent, const char *name, uint64_t n) {
    key(out, indent, name);
    fprintf(out, "%" PRIu64 ",\n", n);
}

static void write_drawdown(FILE *out, const report_currency *c) {
    const char *in = "          ";
    fputs("        \"max_drawdown\": {\n", out);
    money_field(out, in, "amount", c->drawdown_nano, true);
    pct_field(out, in, "pct", c->drawdown_pct_known, c->drawdown_pct, true);
    money_field(out, in, "peak", c->drawdown_peak_nano, true);
    time_field(out, in, "peak_time", c->drawdown_peak_time_ns);
    money_field(out, in, "trough", c->drawdown_trough_nano, true);
    key(out, in, "trough_time");
    time_value(out, c->drawdown_trough_time_ns);
    fputs("\n        },\n", out);
}

static void write_exposure(FILE *out, const report_currency *c) {
    const char *in = "          ";
    fputs("        \"exposure\": {\n", out);
    count_field(out, in, "samples", c->samples);
    count_field(out, in, "samples_in_position", c->samples_in_position);
    pct_field(out, in, "time_in_market_pct", true, c->exposure_pct, true);
    money_field(out, in, "max_gross_position", c->max_gross_nano, true);
    pct_field(out, in, "max_gross_pct_of_equity", true, c->max_gross_pct, false);
    fputs("        },\n", out);
}

static void write_currency(FILE *out, const report_currency *c, bool more) {
    const char *in = "        ";
    fputs("      {\n", out);
    key(out, in, "currency");
    report_json_string(out, c->currency);
    fputs(",\n", out);
    money_field(out, in, "opening_cash", c->opening_cash_nano, true);
    money_field(out, in, "final_cash", c->final_cash_nano, true);
    money_field(out, in, "opening_equity", c->opening_equity_nano, true);
    money_field(out, in, "final_equity", c->final_equity_nano, true);
    pct_field(out, in, "return_pct", c->return_pct_known, c->return_pct, true);
    money_field(out, in, "net_pnl", c->net_pnl_nano, true);
    money_field(out, in, "realised_pnl", c->realised_nano, true);
    money_field(out, in, "unrealised_pnl", c->unrealised_nano, true);
    money_field(out, in, "fees", c->fees_nano, true);
    money_field(out, in, "turnover", c->turnover_nano, true);
    count_field(out, in, "fill_count", c->fills);
    count_field(out, in, "buys", c->buys);
    count_field(out, in, "sells", c->sells);
    write_drawdown(out, c);
    write_exposure(out, c);
    fputs("        \"equity\": [", out);
    for (uint32_t i = 0; i < c->point_count; i++) {
        fputs(i == 0 ? "\n          [" : ",\n          [", out);
        time_value(out, c->points[i].time_ns);
        fputs(", \"", out);
        report_money_text(out, c->points[i].value_nano);
        fputs("\"]", out);
    }
    fprintf(out, "\n        ]\n      }%s\n", more ? "," : "");
}

static void write_fill(FILE *out, const report_input *in, const report_fill *f, bool more) {
    const report_instrument *ins = &in->instruments[f->instrument];
    fputs("          {\"time\": ", out);
    time_value(out, f->time_ns);
    fprintf(out, ", \"side\": \"%s\", \"lots\": %" PRId64 ", \"units\": %" PRId64 ", \"price\": \"",
            f->buy ? "buy" : "sell", f->units / ins->lot, f->units);
    report_money_text(out, f->price_nano);
    fputs("\", \"value\": \"", out);
    report_money_text(out, f->value_nano);
    fputs("\", \"commission\": \"", out);
    report_money_text(out, f->commission_nano);
    fprintf(out, "\"}%s\n", more ? "," : "");
}

static void write_position(FILE *out, const report_prepared *p, const report_account_result *r,
                           const report_position *pos, bool more) {
    const report_input *in = p->in;
    const report_instrument *ins = &in->instruments[pos->instrument];
    const char *ind = "        ";
    fputs("      {\n", out);
    const char *names[] = {"uid", "ticker", "name", "currency"};
    const char *values[] = {ins->uid, ins->ticker, ins->name, ins->currency};
    for (int i = 0; i < 4; i++) {
        key(out, ind, names[i]);
        report_json_string(out, values[i]);
        fputs(",\n", out);
    }
    fprintf(out, "%s\"lot\": %" PRId64 ",\n", ind, ins->lot);
    count_field(out, ind, "fill_count", pos->fills);
    count_field(out, ind, "buys", pos->buys);
    count_field(out, ind, "sells", pos->sells);
    fprintf(out, "%s\"bought_units\": %" PRId64 ",\n", ind, pos->bought_units);
    fprintf(out, "%s\"sold_units\": %" PRId64 ",\n", ind, pos->sold_units);
    fprintf(out, "%s\"position_units\": %" PRId64 ",\n", ind, pos->position_units);
    money_field(out, ind, "position_cost", pos->cost_nano, true);
    money_field(out, ind, "mark_price", pos->mark_nano, true);
    key(out, ind, "mark_source");
    fputs(pos->marked_by_close ? "\"close\",\n" : "\"last_fill\",\n", out);
    money_field(out, ind, "realised_pnl", pos->realised_nano, true);
    money_field(out, ind, "unrealised_pnl", pos->unrealised_nano, true);
    money_field(out, ind, "fees", pos->fees_nano, true);
    money_field(out, ind, "turnover", pos->turnover_nano, true);
    fputs("        \"fills\": [\n", out);
    uint32_t begin = p->account_fill_start[r->account], end = p->account_fill_start[r->account + 1];
    uint32_t left = pos->fills;
    for (uint32_t k = begin; k < end && left > 0; k++) {
        const report_fill *f = &in->fills[p->account_fills[k]];
        if (f->instrument == pos->instrument)
            write_fill(out, in, f, --left > 0);
    }
    fprintf(out, "        ]\n      }%s\n", more ? "," : "");
}

static void write_account(FILE *out, const report_prepared *p, const report_account_result *r,
                          bool more) {
    const report_account *acc = &p->in->accounts[r->account];
    const char *in = "    ";
    fputs("  {\n", out);
    key(out, in, "id");
    report_json_string(out, acc->id);
    fputs(",\n", out);
    key(out, in, "name");
    report_json_string(out, acc->name);
    fputs(",\n", out);
    count_field(out, in, "fill_count", r->fills);
    count_field(out, in, "buys", r->buys);
    count_field(out, in, "sells", r->sells);
    fputs("    \"currencies\": [\n", out);
    for (uint32_t c = 0; c < r->currency_count; c++)
        write_currency(out, &r->currencies[c], c + 1 < r->currency_count);
    fputs("    ],\n    \"instruments\": [\n", out);
    for (uint32_t i = 0; i < r->position_count; i++)
        write_position(out, p, r, &r->positions[i], i + 1 < r->position_count);
    fprintf(out, "    ]\n  }%s\n", more ? "," : "");
}

static void write_head(FILE *out, const report_prepared *p) {
    const report_input *in = p->in;
    fputs("{\n  \"format\": \"tinvestd-report\",\n  \"version\": 1,\n  \"title\": ", out);
    report_json_string(out, in->title);
    fputs(",\n  \"period\": {\"from\": ", out);
    time_value(out, in->from_ns);
    fputs(", \"to\": ", out);
    time_value(out, in->to_ns);
    fputs("},\n  \"now\": ", out);
    time_value(out, in->now_ns);
    fprintf(out, ",\n  \"fingerprint\": \"%016" PRIx64 "\",\n", in->fingerprint);
    fprintf(out, "  \"samples\": %" PRIu32 ",\n  \"max_points\": %u,\n", p->sample_count,
            REPORT_MAX_POINTS);
}

int report_write_json(const report_input *in, FILE *out, const char **why) {
    report_prepared p;
    int rc = report_prepare(in, &p, why);
    if (rc != 0)
        return rc;
    rc = report_check_accounts(&p, why);
    if (rc == 0) {
        write_head(out, &p);
        fputs("  \"accounts\": [\n", out);
        for (uint32_t a = 0; rc == 0 && a < in->account_count; a++) {
            report_account_result r;
            rc = report_account_compute(&p, a, &r, why);
            if (rc == 0) {
                write_account(out, &p, &r, a + 1 < in->account_count);
                report_account_free(&r);
            }
        }
        fputs("  ]\n}\n", out);
    }
    report_prepared_free(&p);
    if (rc == 0 && (fflush(out) != 0 || ferror(out))) {
        if (why != NULL)
            *why = "writing the report failed";
        rc = -EIO;
    }
    return rc;
}
