/* report_write_html: the report as one self-contained page. Inline CSS, inline SVG charts drawn
 * here, no script and nothing fetched: it renders the same offline, printed or from a mail. Every
 * text from the input goes through report_html_text. Each headline number carries its exact
 * value in data-value (as in the JSON) beside the grouped text a person reads. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>

#include "report/report_internal.h"

static const char STYLE[] =
    ":root{--ink:#1f2933;--muted:#66788a;--line:#e4e7eb;--bg:#f5f7fa;--card:#fff;"
    "--up:#15803d;--down:#c62828;--accent:#2563eb}\n"
    "*{box-sizing:border-box}\n"
    "body{margin:0;background:var(--bg);color:var(--ink);font:14px/1.45 system-ui,-apple-system,"
    "'Segoe UI',Roboto,'Helvetica Neue',Arial,sans-serif}\n"
    "header.top{background:#102a43;color:#f0f4f8;padding:22px 32px}\n"
    "header.top h1{margin:0 0 4px;font-size:22px;font-weight:600}\n"
    "header.top p{margin:0;color:#bcccdc}\n"
    "header.top code{color:#f0f4f8}\n"
    "main{max-width:1100px;margin:0 auto;padding:8px 24px 40px}\n"
    "section.account{background:var(--card);border:1px solid var(--line);border-radius:10px;"
    "margin:22px 0;padding:18px 22px;box-shadow:0 1px 2px rgba(16,42,67,.06)}\n"
    "section.account>h2{margin:0 0 2px;font-size:19px}\n"
    "h2 small,h3 small{color:var(--muted);font-weight:400;font-size:13px;margin-left:6px}\n"
    "h3{font-size:16px;margin:18px 0 8px}\n"
    ".meta{color:var(--muted);margin:0 0 6px}\n"
    ".cards{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:10px;"
    "margin:8px 0 12px}\n"
    "@media (max-width:720px){.cards{grid-template-columns:repeat(2,minmax(0,1fr))}}\n"
    ".card{border:1px solid var(--line);border-radius:8px;padding:10px 12px;background:#fbfcfd}\n"
    ".card "
    ".label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.04em}\n"
    ".card .value{font-size:20px;font-weight:600;margin-top:2px;white-space:nowrap;"
    "font-variant-numeric:tabular-nums}\n"
    ".card .sub{color:var(--muted);font-size:12px}\n"
    ".cur{color:var(--muted);font-size:12px;font-weight:400;margin-left:3px}\n"
    ".pos .value,.pos{color:var(--up)}.neg .value,.neg{color:var(--down)}\n"
    ".note{color:var(--muted);font-style:italic;margin:4px 0 10px}\n"
    "figure{margin:0 0 6px}figcaption{color:var(--muted);font-size:12px;margin-top:2px}\n"
    "svg.chart{width:100%;height:auto;display:block;font-size:11px;"
    "font-variant-numeric:tabular-nums}\n"
    "svg .plot{fill:#fff;stroke:var(--line)}\n"
    "svg .grid{stroke:#eef1f4}svg .tick{stroke:#d9dee4}\n"
    "svg .ylab{fill:var(--muted);text-anchor:end}svg .xlab{fill:var(--muted);text-anchor:middle}\n"
    "svg .equity{fill:none;stroke:var(--accent);stroke-width:1.6;stroke-linejoin:round}\n"
    "svg .peak{fill:none;stroke:#9fb3c8;stroke-width:1;stroke-dasharray:4 3}\n"
    "svg .band{fill:rgba(198,40,40,.16);stroke:none}\n"
    "svg .base{stroke:#829ab1;stroke-width:1;stroke-dasharray:2 4}\n"
    "svg .trough{fill:var(--down)}\n"
    "svg .price{fill:none;stroke:#334e68;stroke-width:1.3;stroke-linejoin:round}\n"
    "svg .mark.buy{fill:var(--up)}svg .mark.sell{fill:var(--down)}\n"
    "svg .mark{stroke:#fff;stroke-width:.8}svg .mark:hover{stroke:var(--ink)}\n"
    ".legend span{margin-right:14px}.legend i{display:inline-block;width:18px;height:0;"
    "vertical-align:middle;margin-right:5px;border-top:2px solid var(--accent)}\n"
    ".legend i.pk{border-top:1px dashed #9fb3c8}.legend i.dd{height:9px;border:0;"
    "background:rgba(198,40,40,.16)}\n"
    ".stats{color:var(--muted);margin:0 0 6px}.stats b{color:var(--ink);font-weight:600}\n"
    "table{border-collapse:collapse;width:100%;font-size:13px;font-variant-numeric:tabular-nums}\n"
    "th,td{padding:5px 8px;border-bottom:1px solid var(--line);text-align:right;"
    "white-space:nowrap}\n"
    "th{color:var(--muted);font-weight:600;font-size:12px;text-transform:uppercase}\n"
    "td.l,th.l{text-align:left}tbody tr:nth-child(even){background:#fafbfc}\n"
    "footer{color:var(--muted);text-align:center;font-size:12px;padding:0 0 24px}\n";

static void currency_upper(FILE *out, const char *currency) {
    for (const char *p = currency; *p != '\0'; p++)
        putc(*p - 'a' + 'A', out); /* checked: lower-case Latin letters only */
}

static void time_text(FILE *out, int64_t time_ns) {
    report_civil c;
    report_civil_of(time_ns, &c);
    fprintf(out, "%04lld-%02d-%02d %02d:%02d:%02d", (long long)c.year, c.month, c.day, c.hour,
            c.minute, c.second);
}

/* The class of a signed amount: a card's (" pos") and a word's ("pos"). */
/* "3 fills: 2 buys, 1 sell" */
static void counts_text(char *out, size_t size, uint32_t fills, uint32_t buys, uint32_t sells) {
    snprintf(out, size, "%" PRIu32 " fill%s: %" PRIu32 " buy%s, %" PRIu32 " sell%s", fills,
             fills == 1 ? "" : "s", buys, buys == 1 ? "" : "s", sells, sells == 1 ? "" : "s");
}

static const char *tone(int64_t v) {
    return v > 0 ? " pos" : v < 0 ? " neg" : "";
}

static const char *tone_word(int64_t v) {
    return v > 0 ? "pos" : v < 0 ? "neg" : "";
}

/* A headline card for an amount: the grouped text, the exact value in data-value. */
static void money_card(FILE *out, const char *label, const char *metric, int64_t nano,
                       const char *currency, bool toned, const char *sub) {
    fprintf(out, "<div class=\"card%s\"><div class=\"label\">%s</div>", toned ? tone(nano) : "",
            label);
    fprintf(out, "<div class=\"value\" data-metric=\"%s\" data-value=\"", metric);
    report_money_text(out, nano);
    fputs("\">", out);
    report_money_grouped(out, nano);
    fputs("<span class=\"cur\">", out);
    currency_upper(out, currency);
    fprintf(out, "</span></div>%s</div>\n", sub);
}

static void pct_text(FILE *out, bool known, double pct, bool sign) {
    if (!known)
        fputs("n/a", out);
    else
        fprintf(out, sign ? "%+.2f%%" : "%.2f%%", pct);
}

static void write_cards(FILE *out, const report_currency *c) {
    const char *cur = c->currency;
    fputs("<div class=\"cards\">\n", out);
    fputs("<div class=\"card\"><div class=\"label\">Final equity</div>", out);
    fputs("<div class=\"value\" data-metric=\"final-equity\" data-value=\"", out);
    report_money_text(out, c->final_equity_nano);
    fputs("\">", out);
    report_money_grouped(out, c->final_equity_nano);
    fputs("<span class=\"cur\">", out);
    currency_upper(out, cur);
    fputs("</span></div><div class=\"sub\">opening ", out);
    report_money_grouped(out, c->opening_equity_nano);
    fputs("</div></div>\n", out);

    int64_t change = c->net_pnl_nano;
    fprintf(out, "<div class=\"card%s\"><div class=\"label\">Return</div>", tone(change));
    fputs("<div class=\"value\" data-metric=\"return\">", out);
    pct_text(out, c->return_pct_known, c->return_pct, true);
    fputs("</div><div class=\"sub\">", out);
    report_money_grouped(out, change);
    fputs(" net</div></div>\n", out);

    money_card(out, "Realised P&amp;L", "realised", c->realised_nano, cur, true,
               "<div class=\"sub\">average cost</div>");
    money_card(out, "Unrealised P&amp;L", "unrealised", c->unrealised_nano, cur, true,
               "<div class=\"sub\">open positions at the last close</div>");
    money_card(out, "Fees", "fees", c->fees_nano, cur, false, "");
    fprintf(out, "<div class=\"card%s\"><div class=\"label\">Max drawdown</div>",
            c->drawdown_nano > 0 ? " neg" : "");
    fputs("<div class=\"value\" data-metric=\"drawdown\" data-value=\"", out);
    report_money_text(out, c->drawdown_nano);
    fputs("\">", out);
    report_money_grouped(out, c->drawdown_nano);
    fputs("<span class=\"cur\">", out);
    currency_upper(out, cur);
    fputs("</span></div><div class=\"sub\">", out);
    pct_text(out, c->drawdown_pct_known, c->drawdown_pct, false);
    fputs(" of the peak</div></div>\n", out);
    fputs("<div class=\"card\"><div class=\"label\">Exposure</div>", out);
    fputs("<div class=\"value\" data-metric=\"exposure\">", out);
    pct_text(out, true, c->exposure_pct, false);
    fputs("</div><div class=\"sub\">of the time in a position; largest ", out);
    pct_text(out, true, c->max_gross_pct, false);
    fputs(" of equity</div></div>\n", out);
    char sub[128];
    char counts[80];
    counts_text(counts, sizeof counts, c->fills, c->buys, c->sells);
    snprintf(sub, sizeof sub, "<div class=\"sub\">%s</div>", counts);
    money_card(out, "Turnover", "turnover", c->turnover_nano, cur, false, sub);
    fputs("</div>\n", out);
}

static void write_equity_chart(FILE *out, const report_time_axis *axis, const report_currency *c) {
    int64_t low = c->opening_equity_nano, high = c->opening_equity_nano;
    for (uint32_t i = 0; i < c->point_count; i++) {
        if (c->points[i].value_nano < low)
            low = c->points[i].value_nano;
        if (c->points[i].peak_nano > high)
            high = c->points[i].peak_nano;
        if (c->points[i].value_nano > high)
            high = c->points[i].value_nano;
    }
    report_chart ch;
    fputs("<figure>", out);
    report_chart_open(&ch, out, axis, "equity-chart", low, high);
    double y = report_chart_y(&ch, c->opening_equity_nano);
    fprintf(out, "<line class=\"base\" x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\"/>\n",
            ch.left, y, ch.width - ch.right, y);
    fputs("<path class=\"band\" d=\"M", out);
    report_chart_points(&ch, c->points, c->point_count, true, false);
    fputs(" L", out);
    report_chart_points(&ch, c->points, c->point_count, false, true);
    fputs(" Z\"/>\n<polyline class=\"peak\" points=\"", out);
    report_chart_points(&ch, c->points, c->point_count, true, false);
    fputs("\"/>\n<polyline class=\"equity\" points=\"", out);
    report_chart_points(&ch, c->points, c->point_count, false, false);
    fputs("\"/>\n", out);
    if (c->drawdown_nano > 0) {
        double x = report_chart_x(&ch, report_time_axis_place(axis, c->drawdown_trough_time_ns));
        fprintf(out, "<circle class=\"trough\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\"><title>", x,
                report_chart_y(&ch, c->drawdown_trough_nano));
        fputs("max drawdown ", out);
        report_money_grouped(out, c->drawdown_nano);
        fputs(" at ", out);
        time_text(out, c->drawdown_trough_time_ns);
        fputs("</title></circle>\n", out);
    }
    report_chart_close(&ch);
    fputs("<figcaption class=\"legend\"><span><i></i>equity</span><span><i class=\"pk\"></i>"
          "running peak</span><span><i class=\"dd\"></i>drawdown</span>",
          out);
    fprintf(out, "<span>%" PRIu32 " samples, %" PRIu32 " drawn</span></figcaption></figure>\n",
            c->samples, c->point_count);
}

/* The instrument's closes in the period, downsampled; returns how many points. */
static uint32_t price_points(const report_instrument *ins, const report_time_axis *axis,
                             int64_t from_ns, report_point *points) {
    uint32_t first = 0;
    while (first < ins->price_count && ins->prices[first].time_ns < from_ns)
        first++;
    report_thinner t;
    report_thinner_init(&t, ins->price_count - first, points);
    for (uint32_t k = first; k < ins->price_count; k++) {
        const report_price *pr = &ins->prices[k];
        report_point p = {pr->time_ns, (uint32_t)report_time_axis_place(axis, pr->time_ns),
                          pr->close_nano, pr->close_nano};
        report_thinner_push(&t, &p);
    }
    return report_thinner_finish(&t);
}

static void write_marker(FILE *out, const report_chart *ch, const report_instrument *ins,
                         const report_fill *f) {
    double x = report_chart_x(ch, report_time_axis_place(ch->axis, f->time_ns));
    double y = report_chart_y(ch, f->price_nano);
    /* ▲ under the price for a buy, ▼ over it for a sell, the tip on the price. */
    fprintf(out, "<path class=\"mark %s\" d=\"M%.1f %.1fl5.5 %s9h-11z\"><title>",
            f->buy ? "buy" : "sell", x, y, f->buy ? "" : "-");
    fprintf(out, "%s %" PRId64 " lot%s @ ", f->buy ? "buy" : "sell", f->units / ins->lot,
            f->units / ins->lot == 1 ? "" : "s");
    report_money_grouped(out, f->price_nano);
    fputs(" \xC2\xB7 ", out);
    time_text(out, f->time_ns);
    fputs("</title></path>\n", out);
}

static void write_position(FILE *out, const report_prepared *p, const report_time_axis *axis,
                           const report_account_result *r, const report_position *pos,
                           report_point *points) {
    const report_input *in = p->in;
    const report_instrument *ins = &in->instruments[pos->instrument];
    uint32_t begin = p->account_fill_start[r->account], end = p->account_fill_start[r->account + 1];
    fputs("<div class=\"instrument\"><h3>", out);
    report_html_text(out, ins->ticker);
    fputs("<small>", out);
    report_html_text(out, ins->name);
    fputs(" \xC2\xB7 ", out);
    currency_upper(out, ins->currency);
    fputs("</small></h3>\n<p class=\"stats\">", out);
    fprintf(out, "position <b>%" PRId64 "</b> units \xC2\xB7 realised <b class=\"%s\">",
            pos->position_units, tone_word(pos->realised_nano));
    report_money_grouped(out, pos->realised_nano);
    fprintf(out, "</b> \xC2\xB7 unrealised <b class=\"%s\">", tone_word(pos->unrealised_nano));
    report_money_grouped(out, pos->unrealised_nano);
    fputs("</b> \xC2\xB7 fees <b>", out);
    report_money_grouped(out, pos->fees_nano);
    fputs("</b> \xC2\xB7 turnover <b>", out);
    report_money_grouped(out, pos->turnover_nano);
    char counts[80];
    counts_text(counts, sizeof counts, pos->fills, pos->buys, pos->sells);
    fprintf(out, "</b> \xC2\xB7 %s</p>\n", counts);

    uint32_t count = price_points(ins, axis, in->from_ns, points);
    int64_t low = INT64_MAX, high = INT64_MIN;
    for (uint32_t i = 0; i < count; i++) {
        low = points[i].value_nano < low ? points[i].value_nano : low;
        high = points[i].value_nano > high ? points[i].value_nano : high;
    }
    for (uint32_t k = begin; k < end; k++) {
        const report_fill *f = &in->fills[p->account_fills[k]];
        if (f->instrument == pos->instrument) {
            low = f->price_nano < low ? f->price_nano : low;
            high = f->price_nano > high ? f->price_nano : high;
        }
    }
    report_chart ch;
    fputs("<figure>", out);
    report_chart_open(&ch, out, axis, "price-chart", low, high);
    if (count > 0) {
        fputs("<polyline class=\"price\" points=\"", out);
        report_chart_points(&ch, points, count, false, false);
        fputs("\"/>\n", out);
    }
    uint32_t marked = 0;
    for (uint32_t k = begin; k < end && marked < REPORT_MAX_MARKERS; k++) {
        const report_fill *f = &in->fills[p->account_fills[k]];
        if (f->instrument == pos->instrument) {
            write_marker(out, &ch, ins, f);
            marked++;
        }
    }
    report_chart_close(&ch);
    fputs("<figcaption>close price", out);
    if (count == 0)
        fputs(" (no closes in the period)", out);
    fputs("; <span class=\"pos\">\xE2\x96\xB2</span> buy, <span class=\"neg\">\xE2\x96\xBC</span> "
          "sell",
          out);
    if (pos->fills > marked)
        fprintf(out, "; the first %" PRIu32 " of %" PRIu32 " fills marked", marked, pos->fills);
    fputs("</figcaption></figure></div>\n", out);
}

static void write_fills_table(FILE *out, const report_prepared *p, const report_account_result *r) {
    const report_input *in = p->in;
    uint32_t begin = p->account_fill_start[r->account], end = p->account_fill_start[r->account + 1];
    if (begin == end)
        return;
    fputs("<h3>Fills</h3>\n<table class=\"fills\"><thead><tr><th class=\"l\">time (UTC)</th>"
          "<th class=\"l\">instrument</th><th class=\"l\">side</th><th>lots</th><th>price</th>"
          "<th>value</th><th>commission</th></tr></thead><tbody>\n",
          out);
    for (uint32_t k = begin; k < end && k - begin < REPORT_MAX_FILL_ROWS; k++) {
        const report_fill *f = &in->fills[p->account_fills[k]];
        const report_instrument *ins = &in->instruments[f->instrument];
        fputs("<tr><td class=\"l\">", out);
        time_text(out, f->time_ns);
        fputs("</td><td class=\"l\">", out);
        report_html_text(out, ins->ticker);
        fprintf(out, "</td><td class=\"l %s\">%s</td><td>%" PRId64 "</td><td>",
                f->buy ? "pos" : "neg", f->buy ? "buy" : "sell", f->units / ins->lot);
        report_money_grouped(out, f->price_nano);
        fputs("</td><td>", out);
        report_money_grouped(out, f->value_nano);
        fputs("</td><td>", out);
        report_money_grouped(out, f->commission_nano);
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table>\n", out);
    if (end - begin > REPORT_MAX_FILL_ROWS)
        fprintf(out,
                "<p class=\"note\" data-left-out=\"%" PRIu32 "\">%" PRIu32
                " more fills are left out here; the JSON report lists them all.</p>\n",
                end - begin - REPORT_MAX_FILL_ROWS, end - begin - REPORT_MAX_FILL_ROWS);
}

static void write_account(FILE *out, const report_prepared *p, const report_time_axis *axis,
                          const report_account_result *r, report_point *points) {
    const report_account *acc = &p->in->accounts[r->account];
    fputs("<section class=\"account\"><h2>", out);
    report_html_text(out, acc->name != NULL && acc->name[0] != '\0' ? acc->name : acc->id);
    fputs("<small>", out);
    report_html_text(out, acc->id);
    char counts[80];
    counts_text(counts, sizeof counts, r->fills, r->buys, r->sells);
    fprintf(out, "</small></h2>\n<p class=\"meta\">%s</p>\n", counts);
    if (r->currency_count == 0)
        fputs("<p class=\"note\">no cash and no trades</p>\n", out);
    for (uint32_t c = 0; c < r->currency_count; c++) {
        const report_currency *cur = &r->currencies[c];
        fputs("<div class=\"currency\"><h3>", out);
        currency_upper(out, cur->currency);
        fputs("<small>cash and positions</small></h3>\n", out);
        write_cards(out, cur);
        if (cur->fills == 0)
            fputs("<p class=\"note\">no trades</p>\n", out);
        write_equity_chart(out, axis, cur);
        fputs("</div>\n", out);
    }
    for (uint32_t i = 0; i < r->position_count; i++)
        write_position(out, p, axis, r, &r->positions[i], points);
    write_fills_table(out, p, r);
    fputs("</section>\n", out);
}

static void write_head(FILE *out, const report_input *in, uint32_t sample_count) {
    const char *title = in->title != NULL && in->title[0] != '\0' ? in->title : "tinvestd report";
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>",
          out);
    report_html_text(out, title);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head><body>\n<header class=\"top\"><h1>", STYLE);
    report_html_text(out, title);
    fputs("</h1>\n<p>", out);
    time_text(out, in->from_ns);
    fputs(" \xE2\x80\x93 ", out);
    time_text(out, in->to_ns);
    fputs(" UTC \xC2\xB7 report at ", out);
    time_text(out, in->now_ns);
    fprintf(out, " \xC2\xB7 fingerprint <code data-fingerprint>%016" PRIx64 "</code></p>\n",
            in->fingerprint);
    fprintf(out,
            "<p>%" PRIu32 " accounts \xC2\xB7 %" PRIu32 " instruments \xC2\xB7 %" PRIu32
            " fills \xC2\xB7 %" PRIu32 " samples (every price time)</p></header>\n",
            in->account_count, in->instrument_count, in->fill_count, sample_count);
    fputs("<main>\n", out);
}

int report_write_html(const report_input *in, FILE *out, const char **why) {
    report_prepared p;
    int rc = report_prepare(in, &p, why);
    if (rc != 0)
        return rc;
    report_point *points = NULL;
    rc = report_check_accounts(&p, why);
    if (rc == 0 && (points = malloc(REPORT_MAX_POINTS * sizeof *points)) == NULL)
        rc = -ENOMEM;
    if (rc == 0) {
        report_time_axis axis;
        report_time_axis_init(&axis, &p);
        write_head(out, in, p.sample_count);
        for (uint32_t a = 0; rc == 0 && a < in->account_count; a++) {
            report_account_result r;
            rc = report_account_compute(&p, a, &r, why);
            if (rc == 0) {
                write_account(out, &p, &axis, &r, points);
                report_account_free(&r);
            }
        }
        fputs("</main>\n<footer>tinvestd backtest report \xC2\xB7 all times UTC \xC2\xB7 money "
              "exact to the nano; drawdown on the full curve, charts downsampled</footer>\n"
              "</body></html>\n",
              out);
    }
    free(points);
    report_prepared_free(&p);
    if (rc == 0 && (fflush(out) != 0 || ferror(out))) {
        if (why != NULL)
            *why = "writing the report failed";
        rc = -EIO;
    }
    if (rc == -ENOMEM && why != NULL)
        *why = "out of memory";
    return rc;
}
