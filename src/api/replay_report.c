/* The replay's report: copied from the broker on the core thread, written off it (replay.h). */
#include "api/replay.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/operations.h"
#include "report/report.h"
#include "util/log.h"

struct replay_report {
    report_input in;
    report_account *accounts;
    report_money *openings; /* REFDATA_MAX_CURRENCIES per account */
    char (*currencies)[8];  /* the openings' currency names */
    report_instrument *instruments;
    report_price *prices;
    report_fill *fills;
    uint32_t fill_capacity;
};

void replay_report_free(replay_report *r) {
    if (r == NULL)
        return;
    free(r->accounts);
    free(r->openings);
    free(r->currencies);
    free(r->instruments);
    free(r->prices);
    free(r->fills);
    free(r);
}

static bool trade_operation(const core_operation *op, const void *ctx) {
    (void)ctx;
    return core_op_is_trade(op->type);
}

static bool add_fill(replay_report *r, const report_fill *f) {
    if (r->in.fill_count == r->fill_capacity) {
        uint32_t capacity = r->fill_capacity ? r->fill_capacity * 2 : 1024;
        report_fill *grown = realloc(r->fills, capacity * sizeof *grown);
        if (grown == NULL)
            return false;
        r->fills = grown;
        r->fill_capacity = capacity;
    }
    r->fills[r->in.fill_count++] = *f;
    return true;
}

/* Every fill of the account's BUY and SELL operations inside the replay's period up to now
 * (a data directory used before the replay may hold others), newest operation first (sorted
 * later). */
static bool collect_fills(replay_report *r, const core *c, uint32_t account_index, int64_t from_ns,
                          int64_t now_ns) {
    core_operation ops[256];
    core_fill fills[64];
    for (uint64_t below = UINT64_MAX; below != 0;) {
        uint64_t more = 0;
        uint32_t n = core_list_operations(c, account_index, below, trade_operation, NULL, ops,
                                          sizeof ops / sizeof ops[0], &more);
        for (uint32_t i = 0; i < n; i++) {
            uint32_t total = core_operation_fill_count(c, &ops[i]);
            core_fill *all = total <= 64 ? fills : malloc(total * sizeof *all);
            if (all == NULL)
                return false;
            uint32_t got = core_operation_fills(c, &ops[i], all, total);
            bool ok = true;
            for (uint32_t k = 0; k < got && ok; k++)
                ok = all[k].trade.time_ns < from_ns || all[k].trade.time_ns > now_ns ||
                     add_fill(r, &(report_fill){.account = account_index,
                                                .instrument = ops[i].instrument,
                                                .time_ns = all[k].trade.time_ns,
                                                .buy = core_op_is_buy(ops[i].type),
                                                .units = all[k].units,
                                                .price_nano = all[k].trade.price_nano,
                                                .value_nano = all[k].value_nano,
                                                .commission_nano = all[k].commission_nano});
            if (all != fills)
                free(all);
            if (!ok)
                return false;
        }
        below = more != 0 ? more + 1 : 0;
    }
    return true;
}

static int by_time(const void *a, const void *b) {
    const report_fill *x = a, *y = b;
    if (x->time_ns != y->time_ns)
        return x->time_ns < y->time_ns ? -1 : 1;
    if (x->account != y->account)
        return x->account < y->account ? -1 : 1;
    return x->instrument < y->instrument ? -1 : x->instrument > y->instrument;
}

/* The cash an account started with, per currency: what it holds now less what its fills moved
 * (pay-ins and transfers count as if made at the start). */
static void openings_of(replay_report *r, const core *c, uint32_t a) {
    ledger_cash cash[REFDATA_MAX_CURRENCIES];
    uint32_t n = core_account_cash(c, a, cash);
    report_money *out = &r->openings[(size_t)a * REFDATA_MAX_CURRENCIES];
    char(*names)[8] = &r->currencies[(size_t)a * REFDATA_MAX_CURRENCIES];
    for (uint32_t k = 0; k < n; k++) {
        __int128 opening = cash[k].balance_nano;
        for (uint32_t f = 0; f < r->in.fill_count; f++) {
            const report_fill *fill = &r->fills[f];
            if (fill->account != a ||
                strcmp(c->refdata->instruments[fill->instrument].currency, cash[k].currency) != 0)
                continue;
            __int128 moved = fill->buy ? -(__int128)fill->value_nano - fill->commission_nano
                                       : (__int128)fill->value_nano - fill->commission_nano;
            opening -= moved;
        }
        memcpy(names[k], cash[k].currency, sizeof names[k]);
        out[k] = (report_money){.currency = names[k],
                                .amount_nano = opening > INT64_MAX   ? INT64_MAX
                                               : opening < INT64_MIN ? INT64_MIN
                                                                     : (int64_t)opening};
    }
    r->accounts[a].opening = out;
    r->accounts[a].opening_count = n;
}

/* The closes of the replayed minutes that ended by `now_ns`. */
static bool collect_prices(replay_report *r, const api_replay *replay, int64_t now_ns) {
    size_t total = 0;
    for (uint32_t s = 0; s < replay->source_count; s++)
        total += replay->sources[s].count;
    r->prices = malloc((total ? total : 1) * sizeof *r->prices);
    if (r->prices == NULL)
        return false;
    size_t used = 0;
    for (uint32_t s = 0; s < replay->source_count; s++) {
        const history_market_source *src = &replay->sources[s];
        report_instrument *ins = &r->instruments[src->instrument];
        ins->prices = r->prices + used;
        for (size_t k = 0; k < src->count; k++) {
            int64_t start_ns = src->candles[k].time_s * 1000000000LL;
            if (start_ns < replay->from_ns || start_ns >= replay->to_ns)
                continue;
            if (start_ns + 60000000000LL > now_ns)
                break;
            r->prices[used++] = (report_price){.time_ns = start_ns + 60000000000LL,
                                               .close_nano = src->candles[k].close_nano};
            ins->price_count++;
        }
    }
    return true;
}

/* FNV-1a over 64-bit words. */
static uint64_t mix(uint64_t h, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        h ^= (v >> (8 * i)) & 0xFF;
        h *= 0x100000001b3ULL;
    }
    return h;
}

/* What the run did, independent of the ids a client chose (idempotency keys are random in most
 * bots): every fill and every account's opening cash. Two runs that traded alike have the same. */
static uint64_t fingerprint_of(const replay_report *r) {
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint32_t i = 0; i < r->in.fill_count; i++) {
        const report_fill *f = &r->fills[i];
        h = mix(mix(mix(h, f->account), f->instrument), (uint64_t)f->time_ns);
        h = mix(mix(mix(h, f->buy), (uint64_t)f->units), (uint64_t)f->price_nano);
        h = mix(mix(h, (uint64_t)f->value_nano), (uint64_t)f->commission_nano);
    }
    for (uint32_t a = 0; a < r->in.account_count; a++)
        for (uint32_t k = 0; k < r->accounts[a].opening_count; k++) {
            const report_money *m = &r->accounts[a].opening[k];
            uint64_t name = 0;
            memcpy(&name, m->currency, strnlen(m->currency, 8));
            h = mix(mix(mix(h, a), name), (uint64_t)m->amount_nano);
        }
    return h;
}

static const char *nonempty(const char *text, const char *otherwise) {
    return text != NULL && text[0] != '\0' ? text : otherwise;
}

replay_report *replay_report_collect(engine *e, const api_replay *replay) {
    const core *c = engine_core(e);
    const refdata *rd = c->refdata;
    uint32_t account_count = refdata_account_count(rd);
    replay_report *r = calloc(1, sizeof *r);
    if (r == NULL)
        return NULL;
    r->accounts = calloc(account_count ? account_count : 1, sizeof *r->accounts);
    r->openings = calloc((size_t)(account_count ? account_count : 1) * REFDATA_MAX_CURRENCIES,
                         sizeof *r->openings);
    r->currencies = calloc((size_t)(account_count ? account_count : 1) * REFDATA_MAX_CURRENCIES,
                           sizeof *r->currencies);
    r->instruments =
        calloc(rd->instrument_count ? rd->instrument_count : 1, sizeof *r->instruments);
    bool ok = r->accounts && r->openings && r->currencies && r->instruments;
    for (uint32_t i = 0; ok && i < rd->instrument_count; i++) {
        const instrument *ins = &rd->instruments[i];
        /* An instrument configured without a uid or ticker is named by its FIGI. */
        r->instruments[i] = (report_instrument){.uid = nonempty(ins->uid, ins->figi),
                                                .ticker = nonempty(ins->ticker, ins->figi),
                                                .name = ins->name,
                                                .currency = ins->currency,
                                                .lot = ins->lot};
    }
    for (uint32_t a = 0; ok && a < account_count; a++) {
        r->accounts[a] = (report_account){.id = rd->accounts[a].id, .name = rd->accounts[a].name};
        ok = collect_fills(r, c, a, replay->from_ns, engine_now_ns(e));
    }
    if (ok) {
        if (r->in.fill_count > 1)
            qsort(r->fills, r->in.fill_count, sizeof *r->fills, by_time);
        for (uint32_t a = 0; a < account_count; a++)
            openings_of(r, c, a);
        ok = collect_prices(r, replay, engine_now_ns(e));
    }
    if (!ok) {
        replay_report_free(r);
        return NULL;
    }
    int64_t now_ns = engine_now_ns(e);
    r->in = (report_input){.from_ns = replay->from_ns,
                           .to_ns = replay->to_ns,
                           .now_ns = now_ns < replay->to_ns ? now_ns : replay->to_ns,
                           .title = replay->title,

                           .accounts = r->accounts,
                           .account_count = account_count,
                           .instruments = r->instruments,
                           .instrument_count = rd->instrument_count,
                           .fills = r->fills,
                           .fill_count = r->in.fill_count};
    r->in.fingerprint = fingerprint_of(r);
    return r;
}

typedef int (*report_writer)(const report_input *in, FILE *out, const char **why);

static int write_one(const replay_report *r, const char *dir, const char *name,
                     report_writer writer, char *path, size_t path_size, char *error,
                     size_t error_size) {
    char tmp[1024];
    snprintf(path, path_size, "%s/%s", dir, name);
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name);
    FILE *f = fopen(tmp, "w");
    if (f == NULL) {
        int rc = -errno;
        snprintf(error, error_size, "%s: %s", tmp, strerror(errno));
        return rc;
    }
    const char *why = NULL;
    int rc = writer(&r->in, f, &why);
    if (fclose(f) != 0 && rc == 0)
        rc = -EIO;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc != 0) {
        snprintf(error, error_size, "%s: %s", path, why != NULL ? why : strerror(-rc));
        unlink(tmp);
    }
    return rc;
}

int replay_report_write(const replay_report *r, const api_replay *replay, char *json_path,
                        char *html_path, size_t path_size, char *error, size_t error_size) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/reports", replay->data_dir);
    if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
        snprintf(error, error_size, "%s: %s", dir, strerror(errno));
        return -errno;
    }
    int rc = write_one(r, dir, "report.json", report_write_json, json_path, path_size, error,
                       error_size);
    if (rc == 0)
        rc = write_one(r, dir, "report.html", report_write_html, html_path, path_size, error,
                       error_size);
    return rc;
}
