/* tinvestd_sim: a deterministic simulator of the broker core, the exchange link, the engine and
 * the journal, in the spirit of TigerBeetle's VOPR.
 *
 * DESIGN: one 64-bit seed drives a private generator that picks the scenario (reference data,
 * limits, exchange latency and reject rate, market maker, snapshot period, fault rates) and then
 * every step: the jobs of each batch, the fake clock, and the faults. Nothing reads a real clock
 * and there are no threads: batches run through engine_run_batch() on this thread, stamped with
 * the simulated time. The same seed therefore replays the same run, byte for byte, which is what
 * turns a failure into a one-line reproduction (`make sim SEED=N`).
 *
 * Jobs call the public core API exactly as src/api does (run on the core thread, answer in
 * `finish` after the commit), without gRPC. Faults: crash and recover from the data directory,
 * a torn journal tail after a crash, a damaged or lost snapshot, and a disk that fills up
 * (journal_inject_write_error). After every batch sim_check_invariants() checks the ledger, the
 * reservations, the order records, the pools, the indexes and the trades (and, every few
 * batches, calls the core's own core_check_invariants()); the event sink checks every retirement,
 * reused slot and settled replacement as it is written, and keeps the books of what orders that
 * left the history did. Every few batches a fresh engine replays the data directory and must
 * reach the live state hash exactly. Orders are named by slot and acceptance number: slots, keys
 * and trade records are reused. Each seed runs in a forked child, so an assertion or a sanitizer
 * report in one seed still names the seed and lets the other seeds run. Docs: docs/TESTING.md. */
#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <stddef.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#endif

#include "candles/candles.h"
#include "core/core.h"
#include "core/valuation.h"
#include "engine/engine.h"
#include "engine/venue_link.h"
#include "journal/journal.h"
#include "util/log.h"
#include "util/prng.h"
#include "util/uuid.h"

#define NANO 1000000000LL
#define SIM_START_NS (1735689600LL * NANO) /* 2025-01-01T00:00:00Z */
#define SIM_MAX_JOBS_PER_BATCH 256
#define SIM_TOKENS 3
#define SIM_TOKEN_FULL 0
#define SIM_TOKEN_READ 1
#define SIM_TOKEN_NONE 2
#define SIM_DRAIN_BATCHES 400
#define SIM_FULL_CHECK_EVERY 32 /* batches between full checks (indexes, the core's own) */
/* engine/snapshot.c's header: magic, version, ten u32 sizes and counts, the u64 sequence. */
#define SIM_SNAPSHOT_HEADER_BYTES 64

/* ---- Deterministic randomness: xoshiro256** seeded through splitmix64. ------------------- */

typedef struct prng {
    uint64_t s[4];
} prng;

static void sim_prng_seed(prng *r, uint64_t seed) {
    prng_seed(r->s, seed);
}

static uint64_t sim_prng_next(prng *r) {
    return prng_next(r->s);
}

static uint64_t sim_prng_below(prng *r, uint64_t n) {
    return prng_below(r->s, n);
}

/* Uniform in [lo, hi]. */
static int64_t prng_range(prng *r, int64_t lo, int64_t hi) {
    assert(lo <= hi && (uint64_t)hi - (uint64_t)lo < UINT64_MAX);
    return (int64_t)((uint64_t)lo + sim_prng_below(r, (uint64_t)hi - (uint64_t)lo + 1));
}

static bool prng_percent(prng *r, uint32_t percent) {
    return sim_prng_below(r, 100) < percent;
}

static bool prng_ppm(prng *r, uint32_t ppm) {
    return sim_prng_below(r, 1000000) < ppm;
}

/* Picks an index with probability proportional to `weights[i]`. */
static uint32_t prng_weighted(prng *r, const uint32_t *weights, uint32_t count) {
    uint64_t total = 0;
    for (uint32_t i = 0; i < count; i++)
        total += weights[i];
    assert(total > 0);
    uint64_t x = sim_prng_below(r, total);
    for (uint32_t i = 0; i < count; i++) {
        if (x < weights[i])
            return i;
        x -= weights[i];
    }
    return count - 1;
}

/* ---- Failure reports ----------------------------------------------------------------------- */

/* Shared with the parent, which reports a child that died without saying why (a signal). */
typedef struct sim_shared {
    volatile uint64_t step;
    volatile int reported;
} sim_shared;

static sim_shared *shared;
static uint64_t current_seed;

static void sim_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void sim_fail(const char *fmt, ...) {
    char what[1024];
    va_list args;
    va_start(args, fmt);
    vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    printf("sim: FAILED seed=%" PRIu64 " step=%" PRIu64 ": %s\n", current_seed, shared->step, what);
    fflush(stdout);
    shared->reported = 1;
    /* _exit: a failed run leaks its engine on purpose; a leak report would bury the line above. */
    _exit(1);
}

static size_t format_u64(char *out, uint64_t v) {
    char digits[24];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        out[i] = digits[n - 1 - i];
    return n;
}

/* Async-signal-safe: an assertion (SIGABRT) or a sanitizer report is above this line. */
static void report_abort(void) {
    if (shared == NULL || shared->reported)
        return;
    shared->reported = 1;
    char line[160];
    size_t n = 0;
    const char *head = "sim: FAILED seed=";
    memcpy(line + n, head, strlen(head));
    n += strlen(head);
    n += format_u64(line + n, current_seed);
    const char *mid = " step=";
    memcpy(line + n, mid, strlen(mid));
    n += strlen(mid);
    n += format_u64(line + n, shared->step);
    const char *tail = ": aborted (the assertion or sanitizer report is above)\n";
    memcpy(line + n, tail, strlen(tail));
    n += strlen(tail);
    ssize_t ignored = write(STDOUT_FILENO, line, n);
    (void)ignored;
}

static void on_abort_signal(int sig) {
    report_abort();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* ---- Scenario ------------------------------------------------------------------------------ */

typedef enum {
    JOB_PLACE,
    JOB_CANCEL,
    JOB_REPLACE,
    JOB_GET_STATE,
    JOB_PAY_IN,
    JOB_OPEN_ACCOUNT,
    JOB_CLOSE_ACCOUNT,
    JOB_MAX_LOTS,
    JOB_ORDER_PRICE,
    JOB_STOP_PLACE,
    JOB_STOP_CANCEL,
    JOB_FAVORITES,
    JOB_KIND_COUNT
} sim_job_kind;

static const char *const job_kind_names[JOB_KIND_COUNT] = {
    "place", "cancel",   "replace", "get_state", "pay_in",      "open",
    "close", "max_lots", "price",   "stop",      "stop_cancel", "favorites"};

/* Generator restrictions for bugs the simulator found: each keeps the generator away from one bug
 * so that a run can go on to find others while it is open. A restriction whose bug is fixed is
 * off by default (the generator covers its ground) and stays only as `--restrict NAME`, to
 * compare runs with and without it. docs/TESTING.md lists what each one hid. */
typedef struct sim_restrictions {
    bool restore_immediate_orders;
    bool snapshot_header_damage;
    bool margin_sell_behind_held;
} sim_restrictions;

typedef struct sim_restriction_name {
    const char *name;
    size_t offset;
    const char *what;
    bool open_bug; /* on by default: its bug is not fixed yet */
} sim_restriction_name;

static const sim_restriction_name restriction_names[] = {
    {"restore-immediate-orders", offsetof(sim_restrictions, restore_immediate_orders),
     "no crash while a market, best-price, FAK or FOK order is acknowledged but not matched "
     "(fixed)",
     false},
    {"snapshot-header-damage", offsetof(sim_restrictions, snapshot_header_damage),
     "damaged snapshots are damaged past their header (fixed)", false},
    {"margin-sell-behind-held", offsetof(sim_restrictions, margin_sell_behind_held),
     "a margin account gets no new sell (order or stop order) in an instrument while another "
     "of its sells there is active or generated in the same batch (fixed: a margin account's "
     "sell holds nothing back)",
     false},
};
#define SIM_RESTRICTION_COUNT (sizeof restriction_names / sizeof restriction_names[0])

static bool *restriction_flag(sim_restrictions *r, size_t i) {
    return (bool *)((char *)r + restriction_names[i].offset);
}

static bool restriction_on(const sim_restrictions *r, size_t i) {
    return *(const bool *)((const char *)r + restriction_names[i].offset);
}

typedef struct scenario {
    uint64_t steps;
    uint32_t instrument_count, account_count, openable_accounts;
    int32_t commission_bp;
    uint32_t max_orders, max_trades, max_orders_per_account, max_trades_per_order;
    int64_t retention_ns; /* order_retention_ns: how long a finished order and its key stay */
    uint32_t max_batch;
    uint32_t value_limit_count;
    core_value_limit value_limits[2];
    engine_venue_settings venue;
    uint64_t snapshot_every_events;
    int64_t max_step_ns;  /* the largest single advance of the clock */
    int64_t max_stale_ns; /* how long before the batch a job may have been received */
    uint32_t crash_ppm, torn_percent, enospc_ppm, snapshot_damage_percent, snapshot_loss_percent;
    uint32_t replay_every_batches;
    uint32_t weights[JOB_KIND_COUNT];
} scenario;

/* ---- State of one run ---------------------------------------------------------------------- */

typedef struct sim sim;

/* A placement's key: fresh, or the key of an order in the history (with its terms or other
 * ones), or the key of an order that left the history (free again, unless taken since). */
typedef enum { DUP_NONE, DUP_SAME_TERMS, DUP_OTHER_TERMS, DUP_RETIRED_KEY } dup_kind;
typedef enum { REF_INTENT, REF_EXCHANGE, REF_KEY, REF_UNKNOWN } ref_kind;

typedef struct sim_job {
    engine_job base; /* must stay first */
    sim *sim;
    sim_job_kind kind;
    uint64_t number;
    bool finished;
    struct sim_job *prev_live, *next_live;
    /* The request. Strings are copied: an opened account's id lives in the core. */
    uint32_t token_index;
    char account_id[64];
    char instrument_id[64];
    char key[64];
    char order_id[64];
    char currency[8];
    char name[96];
    core_order_request req;
    bool by_request_id;
    ref_kind ref;
    uint32_t target;     /* the slot of the order the client means, or CORE_NO_ORDER */
    uint64_t target_seq; /* and its acceptance number: the slot may hold another order by then */
    dup_kind dup;
    uint32_t dup_account;
    int64_t quantity, price_nano, amount_nano;
    bool has_price;
    int32_t price_type, direction;
    /* What it got. */
    core_result result; /* a waiting job's order is copied here when its wait ends */
    core_error error;   /* the calls that answer with a core_error alone */
    int64_t balance_nano;
    char opened_id[ORDER_ID_SIZE];
    core_max_lots max_lots;
    core_order_price price;
    /* PostStopOrder / CancelStopOrder. */
    core_stop_request stop;
    core_stop_result stop_result;
    /* Favorites: which command (0 create a group, 1 delete one, 2 edit a list), the action and
     * group of an edit (`order_id`, empty: the default list), up to three instruments. */
    int fav_command;
    int32_t fav_action;
    uint32_t fav_count;
    char fav_ids[3][64];
} sim_job;

/* What a client was told: it must survive every crash (replies leave only after the commit). */
typedef enum { FACT_ORDER, FACT_ACCOUNT_OPENED, FACT_ACCOUNT_CLOSED } fact_kind;

typedef struct sim_fact {
    fact_kind kind;
    uint64_t batch;
    uint32_t slot, account;
    uint64_t accepted_seq; /* an order is its slot and its acceptance number */
    order_status status;
    int64_t lots_executed;
    char key[64]; /* an order's key or an account's id */
} sim_fact;

/* Sums are 128-bit: the simulator adds in another order than the core, and must not overflow
 * where the core does not. */
typedef __int128 wide;

/* What the ledger holds beyond the orders still in the history, as the events said: opening
 * cash, pay-ins, the executions of orders that left the history, and a sandbox slot emptied for
 * a new account. Kept by event number, so that a crash that loses events loses their entries. */
typedef enum { BOOK_PAY_IN, BOOK_RETIRED, BOOK_RESET, BOOK_PAYMENT } book_kind;

typedef struct sim_book_entry {
    uint64_t seq;
    book_kind kind;
    uint32_t account, instrument;
    char currency[8];
    wide cash_nano;
    wide units;
} sim_book_entry;

typedef struct sim_book_cash {
    char currency[8];
    wide amount_nano;
} sim_book_cash;

/* An order that left the history (CORE_EVENT_HISTORY_RETIRED), as it was when it left. */
typedef struct sim_retired {
    uint64_t seq; /* the retirement's event */
    uint64_t accepted_seq;
    uint32_t slot, account;
    order_status status;
    int64_t lots_executed;
    char key[ORDER_KEY_SIZE];
} sim_retired;

/* A closed sandbox account whose slot went to a new account (its id is no longer found). */
typedef struct sim_gone_account {
    uint64_t seq;
    char id[ORDER_ID_SIZE];
} sim_gone_account;

/* A fill as the event recorded it, with what the checks need of its order. */
typedef struct sim_trade {
    uint64_t seq, trade_id;
    int64_t lots, price_nano, time_ns;
    uint32_t slot, account, instrument;
    order_direction direction;
} sim_trade;

/* A futures clearing as its event said: the simulator counts variation margin from these and
 * the fills, on its own (vm_expect). */
typedef struct sim_clearing {
    uint64_t seq;
    uint32_t instrument;
    int64_t price_nano;
} sim_clearing;

/* The state at an event boundary of the batch a torn tail cuts into. */
typedef struct sim_boundary {
    uint64_t hash;
    uint64_t offset; /* where the batch's record of the next event starts (records vary in size) */
    bool restorable; /* see restorable() */
} sim_boundary;

typedef struct sim_counts {
    uint64_t batches, jobs, refused, crashes, torn, enospc, snapshots, snapshots_lost;
    uint64_t snapshots_damaged, replays, events, crashes_deferred;
    uint64_t accepted, fills, retirements, accounts_reused;
    uint64_t clearings, vm_payments, margin_fees, margin_calls, margin_accepted, futures_fills;
    uint64_t by_kind[JOB_KIND_COUNT], ok_by_kind[JOB_KIND_COUNT];
    /* Answers to placements by error, for --verbose: is the generator mostly valid? */
    uint64_t place_errors[CORE_ERROR_COUNT];
    /* Stop order events by type (CORE_EVENT_STOP_ORDER_PLACED .. STOP_ORDERS_RETIRED). */
    uint64_t stop_events[5];
} sim_counts;

struct sim {
    uint64_t seed;
    prng rng;    /* the scenario, the clients and the clock */
    prng faults; /* crashes, torn tails, snapshots, the disk: a deferred crash (restorable())
                  * draws nothing from `rng`, so a restriction changes the clients' path only
                  * through the state it leaves */
    scenario sc;
    sim_restrictions restrict_to;
    bool verbose;
    char dir[600];
    refdata pristine; /* the configuration; live_rd and replay_rd start as copies of it */
    refdata live_rd, replay_rd;
    uint32_t account_capacity; /* account slots: configured + openable */
    core_config core_cfg;
    engine_config engine_cfg;
    engine *e;
    engine_venue_link *link;
    journal journal;
    core_event_sink inner_sink;
    int64_t now_ns;
    /* When the current process started: no command it serves was received before. */
    int64_t started_ns;
    int64_t last_event_ns;
    uint64_t batch_no;
    /* Durability: the state a crash must recover to. */
    uint64_t durable_hash;
    bool durable_is_current; /* the live state is durable: its hash is the durable hash */
    /* Per-event hashes of the batch a torn tail will cut into: hash before each event. */
    bool track_events;
    sim_boundary *boundaries;
    size_t boundary_count, boundary_capacity;
    bool durable_restorable; /* restorable() of the durable state */
    /* Disk-full fault. */
    bool enospc_armed;
    bool reserve_fault; /* the armed fault is the disk found full before a batch */
    uint32_t stall_batches_left;
    /* Snapshots. */
    pid_t last_snapshot_pid;
    uint64_t damaged_snapshot_seq;
    /* Jobs not answered yet. */
    sim_job *live_head;
    uint64_t job_numbers;
    /* Client knowledge. */
    sim_fact *facts;
    size_t fact_count, fact_capacity;
    /* The history beyond the orders the core still holds, by event number (see sim_book_entry):
     * the entries, and what they add up to per account (cash per currency, units per
     * instrument). */
    sim_book_entry *book;
    size_t book_count, book_capacity;
    sim_book_cash *book_cash; /* capacity x REFDATA_MAX_CURRENCIES */
    wide *book_units;         /* capacity x instruments */
    sim_retired *retired;
    size_t retired_count, retired_capacity;
    int64_t last_retired_completion_ns;
    sim_gone_account *gone;
    size_t gone_count, gone_capacity;
    /* Every fill in event order; those from trades_checked on are checked after the batch, with
     * a copy of their order as it was at the fill (pending, from trades_checked). */
    sim_trade *trades;
    size_t trade_count, trade_capacity, trades_checked;
    core_order *pending;
    size_t pending_count, pending_capacity;
    uint32_t *touched; /* slots accepted or acknowledged since the last invariant check */
    size_t touched_count, touched_capacity;
    /* What the event sink saw, for the checks of a single command: events that change state
     * (every event but a retirement), and the last ORDER_ACCEPTED. */
    uint64_t state_events, accepted_events;
    char last_stop_key[64]; /* the last stop order key generated, to repeat it */
    uint32_t last_accepted_slot;
    uint64_t last_accepted_seq;
    /* Margin trading: the clearings in event order (cut with lost events like the fills), and
     * the clearing whose payments are checked once it has applied (vm_check): what each account
     * is to be paid, its balance before, and what the market maker makes. */
    sim_clearing *clearings;
    size_t clearing_count, clearing_capacity;
    uint64_t *margin_sell_batch; /* per account x instrument: the batch a sell was made for + 1 */
    bool vm_open;
    uint64_t vm_seq;
    uint32_t vm_instrument;
    wide *vm_expected, *vm_before; /* account_capacity each */
    wide vm_maker;
    sim_counts n;
};

static void *grow(void *array, size_t *capacity, size_t count, size_t size) {
    if (count < *capacity)
        return array;
    size_t next = *capacity ? *capacity * 2 : 256;
    void *grown = realloc(array, next * size);
    if (grown == NULL)
        sim_fail("out of memory");
    *capacity = next;
    return grown;
}

static void say(const sim *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Verbose trace of the scenario and of every fault; deterministic like the rest. */
static void say(const sim *s, const char *fmt, ...) {
    if (!s->verbose)
        return;
    va_list args;
    va_start(args, fmt);
    printf("  [batch %" PRIu64 "] ", s->batch_no);
    vprintf(fmt, args);
    printf("\n");
    va_end(args);
}

/* ---- Reference data ------------------------------------------------------------------------ */

static const char *intern(sim *s, const char *text) {
    const char *copy = refdata_intern(&s->pristine, text);
    if (copy == NULL)
        sim_fail("out of memory");
    return copy;
}

static const char *intern_uuid(sim *s) {
    char id[UUID_TEXT_SIZE];
    uint64_t hi = sim_prng_next(&s->rng);
    uuid_format_from_bits(hi, sim_prng_next(&s->rng), id);
    return intern(s, id);
}

static void build_instrument(sim *s, uint32_t i) {
    prng *r = &s->rng;
    instrument *ins = &s->pristine.instruments[i];
    char text[64];
    static const int64_t share_ticks[] = {10000000, 500000000, 500000, 2000000, 50000000};
    static const int32_t share_lots[] = {1, 10, 100};
    static const uint32_t kind_weights[] = {50, 10, 15, 15, 10};
    static const instrument_kind kinds[] = {INSTRUMENT_KIND_SHARE, INSTRUMENT_KIND_ETF,
                                            INSTRUMENT_KIND_BOND, INSTRUMENT_KIND_FUTURE,
                                            INSTRUMENT_KIND_CURRENCY};
    *ins = (instrument){.index = i, .kind = kinds[prng_weighted(r, kind_weights, 5)]};
    snprintf(text, sizeof text, "SIMF%05u", i);
    ins->figi = intern(s, text);
    snprintf(text, sizeof text, "SIM%u", i);
    ins->ticker = intern(s, text);
    ins->class_code = "TQBR";
    ins->isin = "";
    ins->uid = intern_uuid(s);
    ins->position_uid = intern_uuid(s);
    ins->asset_uid = "";
    snprintf(text, sizeof text, "Simulated instrument %u", i);
    ins->name = intern(s, text);
    ins->currency = prng_percent(r, 80) ? "rub" : "usd";
    ins->exchange = "MOEX";
    ins->country_of_risk = "";
    ins->sector = "";
    int64_t ticks = prng_range(r, 2000, 200000);
    switch (ins->kind) {
    case INSTRUMENT_KIND_BOND:
        ins->lot = 1;
        ins->min_price_increment_nano = NANO / 100;
        ticks = prng_range(r, 9000, 11000); /* around 100% of the nominal */
        ins->nominal_nano = 1000 * NANO;
        ins->nominal_currency = ins->currency;
        break;
    case INSTRUMENT_KIND_FUTURE:
        ins->lot = 1;
        ins->min_price_increment_nano = NANO / 100;
        ins->min_price_increment_amount_nano = prng_percent(r, 80) ? 7500000000LL : 0;
        ins->initial_margin_nano = 9000 * NANO;
        ins->basic_asset = "BR";
        ins->futures_type = "DELIVERY_TYPE_CASH_SETTLEMENT";
        ins->asset_type = "TYPE_COMMODITY";
        break;
    case INSTRUMENT_KIND_CURRENCY:
        ins->lot = 1000;
        ins->min_price_increment_nano = 2500000;
        ins->iso_currency_name = "usd";
        break;
    default:
        ins->lot = share_lots[sim_prng_below(r, 3)];
        ins->min_price_increment_nano = share_ticks[sim_prng_below(r, 5)];
        break;
    }
    ins->reference_price_nano = ins->min_price_increment_nano * ticks;
    ins->price_band_bp = (int32_t)prng_range(r, 100, 3000);
    ins->trading_status = prng_percent(r, 97) ? 5 : 1;
    ins->api_trade_available = prng_percent(r, 98);
    ins->buy_available = prng_percent(r, 98);
    ins->sell_available = prng_percent(r, 98);
    /* Margin trading: risk rates (none on one instrument in five: it is not liquid, bought with
     * the account's own money and never shorted), shorts allowed or not, and a futures contract's
     * guarantee on each side. */
    if (prng_percent(r, 80)) {
        ins->dlong_nano = prng_range(r, 5, 90) * (NANO / 100);
        ins->dshort_nano = prng_range(r, 5, 90) * (NANO / 100);
        ins->dlong_min_nano = prng_range(r, 1, ins->dlong_nano / (NANO / 100)) * (NANO / 100);
        ins->dshort_min_nano = prng_range(r, 1, ins->dshort_nano / (NANO / 100)) * (NANO / 100);
    }
    ins->short_enabled = prng_percent(r, 70);
    if (ins->kind == INSTRUMENT_KIND_FUTURE) {
        ins->initial_margin_on_buy_nano = prng_range(r, 500, 20000) * NANO;
        ins->initial_margin_on_sell_nano = prng_range(r, 500, 20000) * NANO;
    }
}

static void build_refdata(sim *s) {
    prng *r = &s->rng;
    refdata *rd = &s->pristine;
    refdata_init(rd);
    rd->instrument_count = s->sc.instrument_count;
    for (uint32_t i = 0; i < rd->instrument_count; i++)
        build_instrument(s, i);
    rd->account_count = s->sc.account_count;
    /* Dollars count in the margin figures at this rate. */
    rd->currency_rate_count = 1;
    rd->currency_rates[0] = (currency_rate){.currency = "usd", .rub_nano = 90 * NANO};
    static const char *const secrets[SIM_TOKENS] = {"sim.full", "sim.read", "sim.none"};
    rd->token_count = SIM_TOKENS;
    for (uint32_t t = 0; t < SIM_TOKENS; t++)
        rd->tokens[t] = (token){.secret = secrets[t], .user_id = "sim-user", .name = secrets[t]};
    for (uint32_t a = 0; a < rd->account_count; a++) {
        account *acc = &rd->accounts[a];
        char text[64];
        bool sandbox = prng_percent(r, 50);
        const char *id;
        if (sandbox) {
            id = intern_uuid(s);
        } else {
            snprintf(text, sizeof text, "20000000%02u", a + 1);
            id = intern(s, text);
        }
        snprintf(text, sizeof text, "Simulated account %u", a);
        *acc = (account){.index = a,
                         .id = id,
                         .name = intern(s, text),
                         .type = 1,
                         .status = ACCOUNT_STATUS_OPEN,
                         .opened_date_s = SIM_START_NS / NANO - 86400,
                         .sandbox = sandbox};
        if (prng_percent(r, 95)) {
            money_amount *m = &acc->cash[acc->cash_count++];
            strcpy(m->currency, "rub");
            uint32_t size = (uint32_t)sim_prng_below(r, 100);
            m->value_nano = size < 3    ? 0
                            : size < 13 ? prng_range(r, 1, 1000000000) * NANO /* up to 1e9 */
                                        : prng_range(r, 10000, 10000000) * NANO;
        }
        if (prng_percent(r, 50)) {
            money_amount *m = &acc->cash[acc->cash_count++];
            strcpy(m->currency, "usd");
            m->value_nano = prng_range(r, 0, 100000) * NANO;
        }
        /* Margin trading: half the configured accounts, at either risk level, some with the
         * broker's margin call. */
        acc->margin = prng_percent(r, 50);
        acc->risk_level = prng_percent(r, 30) ? ACCOUNT_RISK_HIGH : ACCOUNT_RISK_STANDARD;
        acc->margin_call = acc->margin && prng_percent(r, 60);
        rd->tokens[SIM_TOKEN_FULL].access[a] = ACCESS_FULL;
        rd->tokens[SIM_TOKEN_READ].access[a] = ACCESS_READ_ONLY;
        rd->tokens[SIM_TOKEN_NONE].access[a] = ACCESS_NONE;
    }
}

/* Futures clearings (1 to CORE_MAX_CLEARINGS a day) at whole seconds that fall inside the run:
 * the run starts at a seeded second of the day, and its length is about its steps times the mean
 * step of advance_clock (a crash's restart adds more); overnight fees at the day's last one. */
static void pick_clearings(sim *s) {
    prng *r = &s->rng;
    core_margin_config *m = &s->core_cfg.margin;
    int64_t mean_step_ns = 6300000 + s->sc.max_step_ns / 20;
    int64_t run_s = (int64_t)s->sc.steps * mean_step_ns / NANO;
    if (run_s < 4)
        run_s = 4;
    if (run_s > 80000)
        run_s = 80000;
    m->clearing_count = (uint32_t)prng_range(r, 1, CORE_MAX_CLEARINGS);
    int32_t start_s = (int32_t)((s->now_ns - SIM_START_NS) / NANO % 86400), at = 0;
    for (uint32_t k = 0; k < m->clearing_count; k++) {
        int64_t room = run_s - at - (int64_t)(m->clearing_count - k);
        at += (int32_t)prng_range(r, 1, room > 1 ? room / (int64_t)(m->clearing_count - k) : 1);
        m->clearing_s[k] = (start_s + at) % 86400;
    }
    /* Seconds of the day, ascending (the run may cross midnight). */
    for (uint32_t k = 1; k < m->clearing_count; k++)
        for (uint32_t j = k; j > 0 && m->clearing_s[j - 1] > m->clearing_s[j]; j--) {
            int32_t t = m->clearing_s[j];
            m->clearing_s[j] = m->clearing_s[j - 1];
            m->clearing_s[j - 1] = t;
        }
    m->money_rate_per_day_nano = prng_range(r, 0, 2000000); /* up to 0.2 % a day */
    m->shares_rate_per_day_nano = prng_range(r, 0, 2000000);
}

static void pick_scenario(sim *s, uint64_t steps_override) {
    prng *r = &s->rng;
    scenario *sc = &s->sc;
    /* Drawn even when overridden: --steps changes the length of the run, nothing else. */
    sc->steps = (uint64_t)prng_range(r, 500, 3000);
    if (steps_override != 0)
        sc->steps = steps_override;
    sc->instrument_count = (uint32_t)prng_range(r, 1, 6);
    sc->account_count = (uint32_t)prng_range(r, 1, 4);
    sc->openable_accounts = (uint32_t)prng_range(r, 0, 8);
    sc->commission_bp = (int32_t)prng_range(r, 0, 30);
    sc->max_orders = prng_percent(r, 15) ? (uint32_t)prng_range(r, 50, 300)
                                         : (uint32_t)prng_range(r, 2000, 8000);
    /* Trade records: as src/main.c sizes them (2 per order slot) most of the time, sometimes
     * fewer than the order slots (the trade pool runs out first: 80002), sometimes plenty. */
    uint32_t trades_roll = (uint32_t)sim_prng_below(r, 100);
    sc->max_trades = trades_roll < 60 ? sc->max_orders * 2
                     : trades_roll < 85
                         ? (uint32_t)prng_range(r, sc->max_orders / 4, sc->max_orders)
                         : sc->max_orders * 64;
    sc->max_trades_per_order = prng_percent(r, 30) ? (uint32_t)prng_range(r, 1, 8) : 1000;
    sc->max_orders_per_account =
        prng_percent(r, 20) ? (uint32_t)prng_range(r, 2, 60) : sc->max_orders;
    sc->max_batch = prng_percent(r, 20) ? (uint32_t)prng_range(r, 1, 4)
                                        : (uint32_t)prng_range(r, 8, SIM_MAX_JOBS_PER_BATCH);
    if (prng_percent(r, 70)) {
        core_value_limit *v = &sc->value_limits[sc->value_limit_count++];
        strcpy(v->currency, "rub");
        v->max_value_nano = prng_range(r, 1000000, 1000000000) * NANO;
    }
    if (prng_percent(r, 40)) {
        core_value_limit *v = &sc->value_limits[sc->value_limit_count++];
        strcpy(v->currency, "usd");
        v->max_value_nano = prng_range(r, 10000, 10000000) * NANO;
    }
    engine_venue_settings *v = &sc->venue;
    v->ack_delay_ns = prng_percent(r, 50) ? 0 : prng_range(r, 1000, 5000000);
    v->fill_delay_ns = prng_percent(r, 50) ? 0 : prng_range(r, 1000, 5000000);
    v->reject_probability_ppm = prng_percent(r, 50) ? 0 : (uint32_t)prng_range(r, 1000, 200000);
    v->seed = sim_prng_next(r);
    v->market_maker_enabled = prng_percent(r, 90);
    v->market_maker_levels = (int32_t)prng_range(r, 1, 5);
    v->market_maker_lots_per_level = prng_range(r, 1, 200);
    v->market_maker_spread_ticks = (int32_t)prng_range(r, 1, 3);
    v->market_maker_refresh_ns = prng_range(r, 1, 1000) * 1000000LL;
    v->market_maker_walk_ticks = (int32_t)prng_range(r, 0, 3);
    /* Finished orders, their trades and keys stay 30 days, or a few milliseconds: then slots,
     * trade records, keys and closed sandbox slots are reused all the time. The exchange's
     * delays stay shorter than the retention, as the configuration requires. */
    sc->retention_ns = prng_percent(r, 30)
                           ? v->ack_delay_ns + v->fill_delay_ns + prng_range(r, 1, 200) * 1000000LL
                           : 30LL * 86400 * NANO;
    sc->snapshot_every_events = prng_percent(r, 30) ? 0 : (uint64_t)prng_range(r, 100, 3000);
    /* The clock may jump far, but not so far that the market maker's timer floods a batch. */
    sc->max_step_ns = v->market_maker_refresh_ns * 50;
    if (sc->max_step_ns > 5 * NANO)
        sc->max_step_ns = 5 * NANO;
    sc->max_stale_ns = prng_percent(r, 50) ? 0 : prng_range(r, 1, 2000) * 1000LL;
    sc->crash_ppm = (uint32_t)prng_range(r, 0, 20000);
    sc->torn_percent = (uint32_t)prng_range(r, 0, 60);
    sc->enospc_ppm = (uint32_t)prng_range(r, 0, 20000);
    sc->snapshot_damage_percent = (uint32_t)prng_range(r, 0, 30);
    sc->snapshot_loss_percent = (uint32_t)prng_range(r, 0, 50);
    sc->replay_every_batches = (uint32_t)prng_range(r, 50, 400);
    static const uint32_t base_weights[JOB_KIND_COUNT] = {40, 12, 8, 12, 5, 2, 1, 3, 3, 6, 2, 3};
    for (int k = 0; k < JOB_KIND_COUNT; k++)
        sc->weights[k] = base_weights[k] * (uint32_t)prng_range(r, 1, 4);
    build_refdata(s);
    s->core_cfg = (core_config){.commission_bp = sc->commission_bp,
                                .max_orders = sc->max_orders,
                                .max_trades = sc->max_trades,
                                .order_retention_ns = sc->retention_ns,
                                .max_orders_per_account = sc->max_orders_per_account,
                                .max_trades_per_order = sc->max_trades_per_order,
                                .value_limit_count = sc->value_limit_count,
                                .id_seed = sim_prng_next(r),
                                .openable_sandbox_accounts = sc->openable_accounts,
                                .max_stop_orders = (uint32_t)prng_range(r, 16, 300),
                                .max_stop_orders_per_account = (uint32_t)prng_range(r, 1, 40),
                                .max_favorites_per_user = (uint32_t)prng_range(r, 1, 12),
                                .max_favorite_groups_per_user = (uint32_t)prng_range(r, 1, 4)};
    memcpy(s->core_cfg.value_limits, sc->value_limits, sizeof sc->value_limits);
    v->max_orders = sc->max_orders;
    s->engine_cfg = (engine_config){
        .inbox_capacity = 1, .max_batch = sc->max_batch, .journal_reserve_bytes = 64 << 10};
}

static void print_scenario(const sim *s) {
    const scenario *sc = &s->sc;
    const core_margin_config *mc = &s->core_cfg.margin;
    uint32_t margin_accounts = 0, futures = 0;
    for (uint32_t a = 0; a < sc->account_count; a++)
        margin_accounts += s->pristine.accounts[a].margin;
    for (uint32_t i = 0; i < sc->instrument_count; i++)
        futures += s->pristine.instruments[i].kind == INSTRUMENT_KIND_FUTURE;
    printf("sim: seed=%" PRIu64 " margin: accounts=%u futures=%u clearings=%u first_s=%d "
           "last_s=%d\n",
           s->seed, margin_accounts, futures, mc->clearing_count, mc->clearing_s[0],
           mc->clearing_s[mc->clearing_count - 1]);
    const engine_venue_settings *v = &sc->venue;
    printf("sim: seed=%" PRIu64 " scenario: steps=%" PRIu64
           " instruments=%u accounts=%u openable=%u commission_bp=%d max_orders=%u "
           "max_trades=%u per_account=%u trades_per_order=%u retention_ms=%" PRId64
           " max_batch=%u value_limits=%u ack_us=%" PRId64 " fill_us=%" PRId64
           " reject_ppm=%u mm=%d refresh_ms=%" PRId64 " snapshot_every=%" PRIu64
           " crash_ppm=%u torn_pct=%u enospc_ppm=%u\n",
           s->seed, sc->steps, sc->instrument_count, sc->account_count, sc->openable_accounts,
           sc->commission_bp, sc->max_orders, sc->max_trades, sc->max_orders_per_account,
           sc->max_trades_per_order, sc->retention_ns / 1000000, sc->max_batch,
           sc->value_limit_count, v->ack_delay_ns / 1000, v->fill_delay_ns / 1000,
           v->reject_probability_ppm, v->market_maker_enabled, v->market_maker_refresh_ns / 1000000,
           sc->snapshot_every_events, sc->crash_ppm, sc->torn_percent, sc->enospc_ppm);
}

/* ---- Lookups the checks share ------------------------------------------------------------- */

/* The core's state, its candles and its operations: core_state_hash leaves both out (hashes of
 * data directories written before there were candles and operations stay comparable), and the
 * simulator checks that replay rebuilds them too. */
static uint64_t state_hash(const core *c) {
    return candles_hash(&c->candles, core_state_hash(c) ^ core_operations_hash(c));
}

static core *live_core(sim *s) {
    return engine_core(s->e);
}

/* Whether a slot holds an order (free slots have status 0). */
static bool slot_used(const core *c, uint32_t slot) {
    return slot < c->config.max_orders && c->orders[slot].status != 0;
}

/* Whether the slot still holds the order accepted as event `accepted_seq`. */
static bool holds(const core *c, uint32_t slot, uint64_t accepted_seq) {
    return slot_used(c, slot) && c->orders[slot].accepted_seq == accepted_seq;
}

/* The key as the contract compares it, written down here rather than taken from the core: a
 * UUID-shaped key names the same order in either letter case, any other key only exactly. */
static size_t key_form(uint32_t account_index, const char *key,
                       char out[sizeof(uint32_t) + ORDER_KEY_MAX_LEN]) {
    size_t len = strlen(key);
    if (len > ORDER_KEY_MAX_LEN)
        return 0;
    memcpy(out, &account_index, sizeof account_index);
    char *text = out + sizeof account_index;
    bool uuid = uuid_is_valid(key, len);
    for (size_t i = 0; i < len; i++)
        text[i] = uuid && key[i] >= 'A' && key[i] <= 'Z' ? (char)(key[i] - 'A' + 'a') : key[i];
    return sizeof account_index + len;
}

static bool same_key(uint32_t account_index, const char *a, const char *b) {
    char x[sizeof(uint32_t) + ORDER_KEY_MAX_LEN], y[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
    size_t nx = key_form(account_index, a, x), ny = key_form(account_index, b, y);
    return nx != 0 && nx == ny && memcmp(x, y, nx) == 0;
}

/* The slot the core's key index names for (account, key). */
static uint32_t index_find_key(const core *c, uint32_t account_index, const char *key) {
    char bytes[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
    size_t len = key_form(account_index, key, bytes);
    if (len == 0)
        return ORDER_INDEX_EMPTY;
    return order_index_find(&c->by_key, bytes, len);
}

/* Ground truth, without the index: the order of the account in the history that holds the key.
 * A key names one order for as long as that order stays in the history: a second holder fails. */
static uint32_t key_holder(const core *c, uint32_t account_index, const char *key) {
    uint32_t found = CORE_NO_ORDER;
    for (uint32_t i = 0; i < c->pools.order_high; i++) {
        const core_order *o = &c->orders[i];
        /* Keys that differ in more than letter case never match: a cheap first look. */
        if (o->status == 0 || o->account != account_index || strcasecmp(o->key, key) != 0 ||
            !same_key(account_index, o->key, key))
            continue;
        if (found != CORE_NO_ORDER)
            sim_fail("orders %u and %u of account %u both hold key %s", found, i, account_index,
                     key);
        found = i;
    }
    return found;
}

/* Orders the history holds for an account, counted from the slots. */
static uint32_t orders_of_account(const core *c, uint32_t account_index) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->pools.order_high; i++)
        n += c->orders[i].status != 0 && c->orders[i].account == account_index;
    return n;
}

static uint32_t owner_token(const refdata *rd, uint32_t account_index) {
    for (uint32_t t = 0; t < rd->token_count; t++)
        if (rd->tokens[t].access[account_index] == ACCESS_FULL)
            return t;
    return SIM_TOKEN_NONE;
}

/* Whether the account trades on margin, from the configuration (accounts opened at run time are
 * cash accounts). */
static bool sim_margin_account(const sim *s, uint32_t account_index) {
    return account_index < s->sc.account_count && s->pristine.accounts[account_index].margin;
}

static bool account_closed(const core *c, uint32_t account_index) {
    return account_index < c->accounts.capacity && c->accounts.closed[account_index];
}

/* Upper and lower case swapped: the same UUID key, or another key of free text. */
static void swap_case(char *text) {
    for (; *text != '\0'; text++) {
        if (*text >= 'a' && *text <= 'z')
            *text = (char)(*text - 'a' + 'A');
        else if (*text >= 'A' && *text <= 'Z')
            *text = (char)(*text - 'A' + 'a');
    }
}

/* ---- Jobs: run on the core thread, finish after the commit (as src/api does) --------------- */

static void job_check_durable(sim *s, sim_job *job) {
    if (job->finished)
        sim_fail("job %" PRIu64 " (%s) answered twice", job->number, job_kind_names[job->kind]);
    job->finished = true;
    if (job->base.refused) {
        if (!job->base.mutates && !s->e->journal_stalled)
            sim_fail("job %" PRIu64 " (%s) only reads but was refused with nothing held",
                     job->number, job_kind_names[job->kind]);
        if (!engine_refusing_changes(s->e))
            sim_fail("job %" PRIu64 " (%s) refused while the journal writes", job->number,
                     job_kind_names[job->kind]);
        s->n.refused++;
        return;
    }
    if (s->e->journal != NULL && journal_has_pending(s->e->journal))
        sim_fail("job %" PRIu64 " (%s) answered before the batch was durable", job->number,
                 job_kind_names[job->kind]);
}

/* A job that changes state never runs while the journal cannot write, nor any job while a batch
 * is held: it is refused. */
static void expect_runnable(const engine *e, const sim_job *job) {
    if (e->journal_stalled || (engine_refusing_changes(e) && job->base.mutates))
        sim_fail("job %" PRIu64 " (%s) ran while the journal cannot write", job->number,
                 job_kind_names[job->kind]);
}

static void job_release(sim *s, sim_job *job) {
    if (job->prev_live != NULL)
        job->prev_live->next_live = job->next_live;
    else
        s->live_head = job->next_live;
    if (job->next_live != NULL)
        job->next_live->prev_live = job->prev_live;
    free(job);
}

static void add_fact(sim *s, sim_fact fact) {
    s->facts = grow(s->facts, &s->fact_capacity, s->fact_count, sizeof *s->facts);
    fact.batch = s->batch_no;
    s->facts[s->fact_count++] = fact;
}

static void add_order_fact(sim *s, const core_order *o) {
    sim_fact f = {.kind = FACT_ORDER,
                  .slot = o->index,
                  .account = o->account,
                  .accepted_seq = o->accepted_seq,
                  .status = o->status,
                  .lots_executed = o->lots_executed};
    snprintf(f.key, sizeof f.key, "%s", o->key);
    add_fact(s, f);
}

/* What the event sink had seen before a command: what the command wrote is the difference. */
typedef struct call_mark {
    uint64_t state_events, accepted_events;
} call_mark;

static call_mark mark_call(const sim *s) {
    return (call_mark){.state_events = s->state_events, .accepted_events = s->accepted_events};
}

/* A failed request, and a repeated key, change nothing: no event but, perhaps, the retirement
 * of finished orders whose retention had passed, which a command makes before it looks. */
static void expect_no_events(const sim *s, const sim_job *job, core_error error, call_mark before) {
    if (s->state_events != before.state_events)
        sim_fail("job %" PRIu64 " (%s) failed with error %d or repeated a key, yet wrote %" PRIu64
                 " events",
                 job->number, job_kind_names[job->kind], (int)error,
                 s->state_events - before.state_events);
}

/* The trade records an order of `lots` reserves when it is accepted. */
static uint32_t trades_needed(const core *c, int64_t lots) {
    return lots < (int64_t)c->config.max_trades_per_order ? (uint32_t)lots
                                                          : c->config.max_trades_per_order;
}

/* A refusal for capacity is true of the state the request saw (sim_check_invariants checks the
 * counters used here against the records after every batch). */
static void expect_capacity_refusal(sim *s, const sim_job *job, core_error error, int64_t lots) {
    const core *c = live_core(s);
    if (error != CORE_ERR_ACCOUNT_ORDER_LIMIT && error != CORE_ERR_BROKER_CAPACITY)
        return;
    const account *acc = refdata_find_account(c->refdata, job->account_id);
    if (acc == NULL)
        sim_fail("job %" PRIu64 " (%s): refused for capacity (%d) on an unknown account %s",
                 job->number, job_kind_names[job->kind], (int)error, job->account_id);
    if (error == CORE_ERR_ACCOUNT_ORDER_LIMIT) {
        if (c->account_orders[acc->index] < c->config.max_orders_per_account)
            sim_fail("job %" PRIu64 " (%s): refused with the account's order limit while account "
                     "%u holds %u orders of %u",
                     job->number, job_kind_names[job->kind], acc->index,
                     c->account_orders[acc->index], c->config.max_orders_per_account);
        return;
    }
    uint64_t trades = (uint64_t)c->pools.trades_in_use + c->pools.trades_reserved;
    if (c->pools.orders_in_use < c->config.max_orders &&
        trades + trades_needed(c, lots) <= c->config.max_trades)
        sim_fail("job %" PRIu64 " (%s): refused for the broker's capacity with %u of %u order "
                 "slots and %" PRIu64 " of %u trade records taken (%u more needed)",
                 job->number, job_kind_names[job->kind], c->pools.orders_in_use,
                 c->config.max_orders, trades, c->config.max_trades, trades_needed(c, lots));
}

/* Idempotency as the contract states it: a key repeated while the order it names is in the
 * history answers with that order (same terms) or 30057 (other terms), whatever the state of
 * the market. `stored` is the order that held the key before the call; when the call retired it
 * first (its retention had passed), the key was free. */
static void expect_key_answer(sim *s, sim_job *job, uint32_t stored, uint64_t stored_seq,
                              call_mark before) {
    core *c = live_core(s);
    const core_result *res = &job->result;
    if (job->dup == DUP_NONE)
        return;
    if (stored == CORE_NO_ORDER || !holds(c, stored, stored_seq)) {
        /* No order in the history holds the key: it names nothing, whatever named it before. */
        if (res->error == CORE_ERR_DUPLICATE_KEY || (res->error == CORE_OK && res->duplicate))
            sim_fail("job %" PRIu64 ": key %s, which no order in the history holds, answered "
                     "error %d duplicate=%d",
                     job->number, job->key, (int)res->error, res->duplicate);
        return;
    }
    /* The key is taken: no new order, and no check that comes after the key (trading status,
     * funds, capacity) answers; a check of the request's shape or of who and what may. */
    bool before_key =
        res->error >= CORE_ERR_ORDER_ID_MISSING && res->error <= CORE_ERR_INSTRUMENT_NOT_FOUND;
    if (res->error == CORE_OK
            ? !res->duplicate || res->order.index != stored || res->order.accepted_seq != stored_seq
            : res->error != CORE_ERR_DUPLICATE_KEY && !before_key)
        sim_fail("job %" PRIu64 ": key %s, held by order %u, answered error %d duplicate=%d "
                 "(order %u)",
                 job->number, job->key, stored, (int)res->error, res->duplicate, res->order.index);
    expect_no_events(s, job, res->error, before);
    if (job->dup == DUP_RETIRED_KEY)
        return; /* fresh terms: any of those answers */
    const core_order *o = &c->orders[stored];
    const core_order_request *req = &job->req;
    bool key_ok = req->source != ORDER_SOURCE_ASYNC || uuid_is_valid(job->key, strlen(job->key));
    /* Checks that come before the key in the contract's order: they may fail first. */
    bool valid = req->price_type >= 0 && req->price_type <= 2;
    if (!key_ok || !valid || account_closed(c, o->account))
        return;
    const instrument *ins = refdata_find_instrument_id(c->refdata, job->instrument_id);
    order_tif tif = req->tif == 0 ? TIF_DAY : (order_tif)req->tif;
    int64_t price = req->type == ORDER_TYPE_LIMIT ? req->price_nano : 0;
    bool same = ins != NULL && ins->index == o->instrument && req->direction == (int)o->direction &&
                req->type == (int)o->type && tif == o->tif && req->quantity == o->lots_requested &&
                price == o->price_nano;
    if (same && (res->error != CORE_OK || !res->duplicate || res->order.index != stored ||
                 res->order.accepted_seq != stored_seq))
        sim_fail("job %" PRIu64 ": key %s repeated with the same terms answered error %d "
                 "duplicate=%d instead of order %u",
                 job->number, job->key, (int)res->error, res->duplicate, stored);
    if (!same && res->error != CORE_ERR_DUPLICATE_KEY)
        sim_fail("job %" PRIu64 ": key %s repeated with other terms answered error %d, not the "
                 "duplicate key (30057)",
                 job->number, job->key, (int)res->error);
}

/* A repeated key answers the order that holds it, which is still in the history. */
static void expect_stored_answer(sim *s, const sim_job *job) {
    const core *c = live_core(s);
    const core_order *o = &job->result.order;
    if (!same_key(o->account, o->key, job->key) || !holds(c, o->index, o->accepted_seq))
        sim_fail("job %" PRIu64 " (%s): a repeated key %s answered order %u (key %s), which does "
                 "not hold it",
                 job->number, job_kind_names[job->kind], job->key, o->index, o->key);
}

/* The order a command accepted is the one its ORDER_ACCEPTED event placed (in a slot that was
 * free, checked by the sink), under the client's key as spelled. */
static void expect_accepted(sim *s, const sim_job *job, call_mark before) {
    const core *c = live_core(s);
    const core_order *o = &job->result.order;
    if (s->accepted_events != before.accepted_events + 1 || o->index != s->last_accepted_slot ||
        o->accepted_seq != s->last_accepted_seq || !holds(c, o->index, o->accepted_seq) ||
        strcmp(o->key, job->key) != 0)
        sim_fail("job %" PRIu64 " (%s): the accepted order %u (event %" PRIu64
                 ") is not the one its ORDER_ACCEPTED event placed (slot %u, event %" PRIu64
                 ") with key %s",
                 job->number, job_kind_names[job->kind], o->index, o->accepted_seq,
                 s->last_accepted_slot, s->last_accepted_seq, job->key);
    if (o->trades_reserved != trades_needed(c, o->lots_requested))
        sim_fail("job %" PRIu64 ": order %u of %" PRId64 " lots reserved %u trade records, not %u",
                 job->number, o->index, o->lots_requested, o->trades_reserved,
                 trades_needed(c, o->lots_requested));
}

static void expect_new_order(sim *s, sim_job *job, call_mark before) {
    const core_result *res = &job->result;
    if (res->error != CORE_OK || res->duplicate) {
        expect_no_events(s, job, res->error, before);
        if (res->error == CORE_OK)
            expect_stored_answer(s, job);
        expect_capacity_refusal(s, job, res->error, job->req.quantity);
        return;
    }
    expect_accepted(s, job, before);
}

/* Whether an order of `units` (signed) only reduces the account's position: with the active
 * orders of its side it never turns the position past zero. Counted from the order records. */
static bool sim_reduces(const core *c, uint32_t account_index, uint32_t instrument_index,
                        wide units) {
    int64_t position =
        ledger_position_get(&c->ledger, account_index, instrument_index)->balance_units;
    if (units == 0 || position == 0 || (units > 0) == (position > 0))
        return false;
    wide open = units > 0 ? units : -units;
    order_direction side = units > 0 ? DIRECTION_BUY : DIRECTION_SELL;
    for (uint32_t i = 0; i < c->pools.order_high; i++) {
        const core_order *o = &c->orders[i];
        if (o->status == 0 || order_status_is_final(o->status) || o->account != account_index ||
            o->instrument != instrument_index || o->direction != side)
            continue;
        open += (wide)(o->lots_requested - o->lots_executed - o->lots_cancelled) *
                c->refdata->instruments[instrument_index].lot;
    }
    return open <= (position < 0 ? -(wide)position : position);
}

static const char *describe_order(const core_order *o, char *out, size_t size);

/* A placement and margin trading: futures only on margin accounts (30051 otherwise, and never
 * on a margin account or another instrument), and a margin account's new order that adds
 * exposure leaves its corrected margin within its liquid portfolio (the figures right after
 * the acceptance, the order counted among the active ones). */
static void expect_margin_verdict(sim *s, const sim_job *job, const account *acc,
                                  const instrument *ins, bool reduces) {
    const core *c = live_core(s);
    const core_result *res = &job->result;
    bool margin = acc != NULL && sim_margin_account(s, acc->index);
    if (res->error == CORE_ERR_MARGIN_DISABLED &&
        (margin || ins == NULL || ins->kind != INSTRUMENT_KIND_FUTURE))
        sim_fail("job %" PRIu64 ": 30051 for an order of a %s account in %s", job->number,
                 margin ? "margin" : "cash", ins != NULL ? ins->ticker : "no instrument");
    if (res->error != CORE_OK || res->duplicate || acc == NULL || ins == NULL)
        return;
    if (!margin) {
        if (ins->kind == INSTRUMENT_KIND_FUTURE)
            sim_fail("job %" PRIu64 ": cash account %u bought or sold futures %s", job->number,
                     acc->index, ins->ticker);
        return;
    }
    s->n.margin_accepted++;
    if (reduces)
        return;
    margin_figures f;
    char text[320];
    if (!core_margin_figures(c, acc->index, NULL, &f))
        sim_fail("job %" PRIu64 ": the margin figures of account %u do not fit after accepting "
                 "%s",
                 job->number, acc->index, describe_order(&res->order, text, sizeof text));
    if (f.corrected_margin_nano > f.liquid_portfolio_nano)
        sim_fail("job %" PRIu64 ": account %u accepted %s with a corrected margin of %" PRId64
                 " over its liquid portfolio of %" PRId64,
                 job->number, acc->index, describe_order(&res->order, text, sizeof text),
                 f.corrected_margin_nano, f.liquid_portfolio_nano);
}

static void run_place(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    expect_runnable(e, job);
    sim *s = job->sim;
    core *c = engine_core(e);
    job->req.now_ns = engine_now_ns(e);
    uint32_t stored = CORE_NO_ORDER;
    uint64_t stored_seq = 0;
    if (job->dup != DUP_NONE) {
        stored = key_holder(c, job->dup_account, job->key);
        uint32_t indexed = index_find_key(c, job->dup_account, job->key);
        if (indexed != stored)
            sim_fail("the key index names order %d for key %s, not the order holding it (%d)",
                     indexed == ORDER_INDEX_EMPTY ? -1 : (int)indexed, job->key,
                     stored == CORE_NO_ORDER ? -1 : (int)stored);
        if (stored != CORE_NO_ORDER)
            stored_seq = c->orders[stored].accepted_seq;
    }
    const account *acc = refdata_find_account(c->refdata, job->account_id);
    const instrument *ins = refdata_find_instrument_id(c->refdata, job->instrument_id);
    bool reduces = acc != NULL && ins != NULL && acc->index < c->ledger.account_count &&
                   (job->req.direction == DIRECTION_BUY || job->req.direction == DIRECTION_SELL) &&
                   sim_reduces(c, acc->index, ins->index,
                               (wide)job->req.quantity * ins->lot *
                                   (job->req.direction == DIRECTION_BUY ? 1 : -1));
    call_mark before = mark_call(s);
    job->result = core_place_order(c, &job->req);
    if ((unsigned)job->result.error >= CORE_ERROR_COUNT)
        sim_fail("job %" PRIu64 ": placing answered error %d, not a core_error", job->number,
                 (int)job->result.error);
    expect_margin_verdict(s, job, acc, ins, reduces);
    expect_key_answer(s, job, stored, stored_seq, before);
    expect_new_order(s, job, before);
    s->n.place_errors[job->result.error]++;
    if (job->result.error == CORE_OK && job->req.source == ORDER_SOURCE_SYNC)
        engine_wait_for_order(e, base, job->result.order.index, ENGINE_WAIT_EXCHANGE_ANSWER);
    else
        engine_finish_after_commit(e, base);
}

static void finish_order_reply(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    sim *s = job->sim;
    job_check_durable(s, job);
    if (!base->refused && job->result.error == CORE_OK) {
        /* A waiting job's copy was taken when its wait ended, as src/api answers from it. */
        const core_order *o = &job->result.order;
        bool waits = job->kind == JOB_REPLACE ||
                     (job->kind == JOB_PLACE && job->req.source == ORDER_SOURCE_SYNC);
        if (waits && o->exchange_order_id == 0 && !order_status_is_final(o->status))
            sim_fail("job %" PRIu64 " (%s) answered before the exchange answered order %u",
                     job->number, job_kind_names[job->kind], o->index);
        add_order_fact(s, o);
        s->n.ok_by_kind[job->kind]++;
    }
    job_release(s, job);
}

/* Whether the order the client means has left the history since the request was made. */
static bool target_gone(const core *c, const sim_job *job) {
    return job->target != CORE_NO_ORDER && !holds(c, job->target, job->target_seq);
}

/* Where the client's reference should lead, from the orders themselves (not the indexes). */
static uint32_t expected_target(const core *c, const sim_job *job, uint32_t account_index) {
    if (job->ref == REF_UNKNOWN || job->target == CORE_NO_ORDER)
        return CORE_NO_ORDER;
    if (job->ref == REF_KEY)
        return key_holder(c, account_index, job->order_id);
    if (target_gone(c, job))
        return CORE_NO_ORDER; /* its ids left with it */
    if (job->ref == REF_EXCHANGE && c->orders[job->target].exchange_order_id == 0)
        return CORE_NO_ORDER;
    return c->orders[job->target].account == account_index ? job->target : CORE_NO_ORDER;
}

/* Checks a find / cancel answer against the orders, when the account is reachable. */
static void expect_found(sim *s, sim_job *job, bool need_trade) {
    core *c = live_core(s);
    const account *acc = NULL;
    if (core_account_for(c, &c->refdata->tokens[job->token_index], job->account_id, need_trade,
                         &acc) != CORE_OK)
        return;
    uint32_t want = expected_target(c, job, acc->index);
    const core_result *res = &job->result;
    if (want == CORE_NO_ORDER) {
        /* An unknown id, the id of an order that left the history, or a key no order holds. */
        if (res->error != CORE_ERR_ORDER_NOT_FOUND)
            sim_fail("job %" PRIu64 " (%s): order id %s (%s) names no order, yet answered error "
                     "%d (order %u), not 50005",
                     job->number, job_kind_names[job->kind], job->order_id,
                     job->ref == REF_UNKNOWN ? "unknown"
                     : job->ref == REF_KEY   ? "by key"
                                             : "of a retired order",
                     (int)res->error, res->order.index);
        return;
    }
    if (res->order.index != want || res->order.accepted_seq != c->orders[want].accepted_seq)
        sim_fail("job %" PRIu64 " (%s): order id %s (by %s) found %s %u, expected order %u",
                 job->number, job_kind_names[job->kind], job->order_id,
                 job->ref == REF_KEY ? "key" : "id",
                 res->order.index != CORE_NO_ORDER ? "order" : "nothing (error)",
                 res->order.index != CORE_NO_ORDER ? res->order.index : (uint32_t)res->error, want);
}

static void run_cancel(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    expect_runnable(e, job);
    sim *s = job->sim;
    core *c = engine_core(e);
    bool was_final = job->target != CORE_NO_ORDER && holds(c, job->target, job->target_seq) &&
                     order_status_is_final(c->orders[job->target].status);
    call_mark before = mark_call(s);
    job->result = core_cancel_order(c, &c->refdata->tokens[job->token_index], job->account_id,
                                    job->order_id, job->by_request_id, engine_now_ns(e));
    expect_found(s, job, true);
    if (job->result.error != CORE_OK)
        expect_no_events(s, job, job->result.error, before);
    if (job->result.error == CORE_OK && was_final && job->result.order.index == job->target &&
        job->result.order.accepted_seq == job->target_seq)
        sim_fail("job %" PRIu64 ": cancelling finished order %u succeeded", job->number,
                 job->target);
    if (job->result.error == CORE_OK)
        engine_wait_for_order(e, base, job->result.order.index, ENGINE_WAIT_FINAL);
    else
        engine_finish_after_commit(e, base);
}

static void finish_cancel(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    sim *s = job->sim;
    job_check_durable(s, job);
    if (!base->refused && job->result.error == CORE_OK) {
        const core_order *o = &job->result.order;
        if (!order_status_is_final(o->status))
            sim_fail("job %" PRIu64 ": cancel answered while order %u is still active", job->number,
                     o->index);
        add_order_fact(s, o);
        s->n.ok_by_kind[job->kind]++;
    }
    job_release(s, job);
}

static void run_replace(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    expect_runnable(e, job);
    sim *s = job->sim;
    core *c = engine_core(e);
    call_mark before = mark_call(s);
    job->result = core_replace_order(c, &c->refdata->tokens[job->token_index], job->account_id,
                                     job->order_id, job->key, job->quantity, job->has_price,
                                     job->price_nano, job->price_type, engine_now_ns(e));
    const core_result *res = &job->result;
    if (res->error != CORE_OK || res->duplicate) {
        expect_no_events(s, job, res->error, before);
        if (res->error == CORE_OK)
            expect_stored_answer(s, job);
        expect_capacity_refusal(s, job, res->error, job->quantity);
    } else {
        expect_accepted(s, job, before);
        const core_order *o = &res->order;
        const core_order *old =
            slot_used(c, o->replaces_order) ? &c->orders[o->replaces_order] : NULL;
        if (o->type != ORDER_TYPE_LIMIT || old == NULL || old->accepted_seq >= o->accepted_seq ||
            old->replaced_by != o->index || o->direction != old->direction ||
            o->instrument != old->instrument)
            sim_fail("job %" PRIu64 ": the replacing order %u does not match the order it "
                     "replaces",
                     job->number, o->index);
        const account *acc = refdata_find_account(c->refdata, job->account_id);
        if (acc == NULL || expected_target(c, job, acc->index) != o->replaces_order)
            sim_fail("job %" PRIu64 ": order %u replaces order %u, not the order %s names",
                     job->number, o->index, o->replaces_order, job->order_id);
        /* Cancel, then place: nothing is held, nothing is sent, until the old order's cancel is
         * confirmed. */
        if (!o->awaiting_replaced || o->reserved_cash_nano != 0 || o->reserved_units != 0 ||
            o->exchange_order_id != 0)
            sim_fail("job %" PRIu64 ": the replacing order %u holds %" PRId64 " nano and %" PRId64
                     " units (awaiting=%d) before the order it replaces is cancelled",
                     job->number, o->index, o->reserved_cash_nano, o->reserved_units,
                     o->awaiting_replaced);
    }
    if (res->error == CORE_OK)
        engine_wait_for_order(e, base, res->order.index, ENGINE_WAIT_EXCHANGE_ANSWER);
    else
        engine_finish_after_commit(e, base);
}

static void run_get_state(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    core *c = engine_core(e);
    uint64_t seq_before = c->next_seq;
    job->result = core_find_order(c, &c->refdata->tokens[job->token_index], job->account_id,
                                  job->order_id, job->by_request_id);
    expect_found(job->sim, job, false);
    if (c->next_seq != seq_before)
        sim_fail("job %" PRIu64 ": a read wrote events", job->number);
    engine_finish_after_commit(e, base);
}

static void run_pay_in(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    expect_runnable(e, job);
    sim *s = job->sim;
    core *c = engine_core(e);
    const account *acc = refdata_find_account(c->refdata, job->account_id);
    const ledger_cash *cash =
        acc != NULL ? ledger_cash_find(&c->ledger, acc->index, job->currency) : NULL;
    int64_t before = cash != NULL ? cash->balance_nano : 0;
    int64_t after;
    /* A balance past the broker's largest (or past int64) is refused, never wrapped. */
    bool too_large =
        __builtin_add_overflow(before, job->amount_nano, &after) || after > CORE_MAX_MONEY_NANO;
    call_mark mark = mark_call(s);
    job->error = core_pay_in(c, &c->refdata->tokens[job->token_index], job->account_id,
                             job->currency, job->amount_nano, engine_now_ns(e), &job->balance_nano);
    if (job->error == CORE_OK && (!acc->sandbox || job->amount_nano <= 0 || too_large ||
                                  job->balance_nano != before + job->amount_nano))
        sim_fail("job %" PRIu64 ": pay-in of %" PRId64 " onto %" PRId64 " gave balance %" PRId64,
                 job->number, job->amount_nano, before, job->balance_nano);
    if (job->error == CORE_ERR_PAY_IN_TOO_LARGE && !too_large)
        sim_fail("job %" PRIu64 ": pay-in of %" PRId64 " onto %" PRId64 " refused as too large",
                 job->number, job->amount_nano, before);
    if (job->error != CORE_OK)
        expect_no_events(s, job, job->error, mark);
    engine_finish_after_commit(e, base);
}

static void run_open_account(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    expect_runnable(e, job);
    core *c = engine_core(e);
    const core_accounts_state *a = &c->accounts;
    uint32_t fresh = a->configured_count + a->opened_count;
    uint8_t closed_before[REFDATA_MAX_ACCOUNTS];
    memcpy(closed_before, a->closed, a->capacity);
    job->error = core_open_sandbox_account(c, &c->refdata->tokens[job->token_index], job->name,
                                           engine_now_ns(e), job->opened_id);
    /* The slot it must take: a never-used one, else the lowest closed sandbox slot whose orders
     * and stop orders have all left the history (the call may have retired the last of them
     * first). */
    uint32_t want = fresh < a->capacity ? fresh : CORE_NO_ORDER;
    for (uint32_t slot = a->configured_count; want == CORE_NO_ORDER && slot < fresh; slot++)
        if (closed_before[slot] && orders_of_account(c, slot) == 0 &&
            c->stops.per_account[slot] == 0)
            want = slot;
    if (job->error == CORE_OK) {
        const account *acc = refdata_find_account(c->refdata, job->opened_id);
        size_t len = acc != NULL ? strlen(acc->name) : 0;
        uint32_t count = refdata_account_count(c->refdata);
        if (acc == NULL || acc->index != want || !acc->sandbox || c->accounts.closed[want] ||
            count != (want == fresh ? fresh + 1 : fresh))
            sim_fail("job %" PRIu64 ": the opened account %s is not in slot %d", job->number,
                     job->opened_id, want == CORE_NO_ORDER ? -1 : (int)want);
        if (len >= ACCOUNT_NAME_SIZE ||
            (len > 0 && ((unsigned char)acc->name[len - 1] & 0xC0) == 0xC0) ||
            strncmp(acc->name, job->name, len) != 0)
            sim_fail("job %" PRIu64 ": account name cut badly (%zu bytes)", job->number, len);
        /* A reused slot starts empty: no cash, no securities. */
        ledger_cash cash[REFDATA_MAX_CURRENCIES];
        uint32_t currencies = core_account_cash(c, want, cash);
        for (uint32_t i = 0; i < c->ledger.instrument_count; i++)
            if (core_account_position(c, want, i).balance_units != 0)
                currencies = UINT32_MAX;
        if (currencies != 0)
            sim_fail("job %" PRIu64 ": the opened account %s in slot %u does not start empty",
                     job->number, job->opened_id, want);
    } else if (job->error != CORE_ERR_SANDBOX_ACCOUNT_LIMIT || want != CORE_NO_ORDER) {
        sim_fail("job %" PRIu64 ": OpenSandboxAccount failed with error %d while slot %d is free",
                 job->number, (int)job->error, want == CORE_NO_ORDER ? -1 : (int)want);
    }
    engine_finish_after_commit(e, base);
}

static void run_close_account(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    expect_runnable(e, job);
    sim *s = job->sim;
    core *c = engine_core(e);
    call_mark mark = mark_call(s);
    job->error = core_close_sandbox_account(c, &c->refdata->tokens[job->token_index],
                                            job->account_id, engine_now_ns(e));
    if (job->error == CORE_OK && refdata_find_account(c->refdata, job->account_id) != NULL)
        sim_fail("job %" PRIu64 ": account %s still found after it was closed", job->number,
                 job->account_id);
    if (job->error != CORE_OK)
        expect_no_events(s, job, job->error, mark);
    engine_finish_after_commit(e, base);
}

static void run_max_lots(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    core *c = engine_core(e);
    job->error =
        core_max_lots_for(c, &c->refdata->tokens[job->token_index], job->account_id,
                          job->instrument_id, job->has_price, job->price_nano, &job->max_lots);
    if (job->error == CORE_OK &&
        (job->max_lots.buy_max_lots < 0 || job->max_lots.sell_max_lots < 0 ||
         job->max_lots.buy_max_market_lots < 0))
        sim_fail("job %" PRIu64 ": GetMaxLots answered a negative number of lots", job->number);
    engine_finish_after_commit(e, base);
}

static void run_order_price(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    core *c = engine_core(e);
    job->error = core_order_price_for(c, &c->refdata->tokens[job->token_index], job->account_id,
                                      job->instrument_id, job->direction, job->quantity,
                                      job->has_price, job->price_nano, &job->price);
    if (job->error == CORE_OK && (job->price.initial_nano < 0 || job->price.commission_nano < 0 ||
                                  job->price.total_nano < 0))
        sim_fail("job %" PRIu64 ": GetOrderPrice answered a negative amount", job->number);
    engine_finish_after_commit(e, base);
}

static void finish_plain(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    sim *s = job->sim;
    job_check_durable(s, job);
    if (!base->refused && job->error == CORE_OK && job->result.error == CORE_OK) {
        s->n.ok_by_kind[job->kind]++;
        if (job->kind == JOB_OPEN_ACCOUNT) {
            sim_fact f = {.kind = FACT_ACCOUNT_OPENED};
            snprintf(f.key, sizeof f.key, "%s", job->opened_id);
            add_fact(s, f);
        } else if (job->kind == JOB_CLOSE_ACCOUNT) {
            say(s, "account %s closed", job->account_id);
            sim_fact f = {.kind = FACT_ACCOUNT_CLOSED};
            snprintf(f.key, sizeof f.key, "%s", job->account_id);
            add_fact(s, f);
        } else if (job->kind == JOB_GET_STATE) {
            add_order_fact(s, &job->result.order);
        }
    }
    job_release(s, job);
}

/* ---- Request generation -------------------------------------------------------------------- */

/* An account for a request: mostly one the token may trade on, sometimes not. */
static uint32_t pick_account(sim *s, sim_job *job, bool sandbox_only) {
    prng *r = &s->rng;
    const refdata *rd = live_core(s)->refdata;
    uint32_t count = refdata_account_count(rd);
    uint32_t roll = (uint32_t)sim_prng_below(r, 100);
    if (roll < 3 || count == 0) {
        snprintf(job->account_id, sizeof job->account_id, "%s", roll == 0 ? "" : "9999999999");
        job->token_index = SIM_TOKEN_FULL;
        return CORE_NO_ORDER;
    }
    /* Closed accounts only now and then: once closed, an account answers 50004 to everything. */
    const core *c = live_core(s);
    bool allow_closed = roll < 5;
    uint32_t candidates[REFDATA_MAX_ACCOUNTS], n = 0;
    for (uint32_t i = 0; i < count; i++)
        if ((allow_closed || !account_closed(c, i)) && (!sandbox_only || rd->accounts[i].sandbox))
            candidates[n++] = i;
    uint32_t a = n > 0 ? candidates[sim_prng_below(r, n)] : (uint32_t)sim_prng_below(r, count);
    snprintf(job->account_id, sizeof job->account_id, "%s", rd->accounts[a].id);
    job->token_index = owner_token(rd, a);
    if (roll < 6)
        job->token_index = SIM_TOKEN_READ;
    else if (roll < 8)
        job->token_index = SIM_TOKEN_NONE;
    return a;
}

static const instrument *pick_instrument(sim *s, sim_job *job) {
    prng *r = &s->rng;
    const refdata *rd = live_core(s)->refdata;
    uint32_t roll = (uint32_t)sim_prng_below(r, 100);
    if (roll < 2) {
        snprintf(job->instrument_id, sizeof job->instrument_id, "%s",
                 roll == 0 ? "" : "BBG000NOSUCH");
        return NULL;
    }
    const instrument *ins = &rd->instruments[sim_prng_below(r, rd->instrument_count)];
    if (roll < 50)
        snprintf(job->instrument_id, sizeof job->instrument_id, "%s", ins->uid);
    else if (roll < 80)
        snprintf(job->instrument_id, sizeof job->instrument_id, "%s", ins->figi);
    else
        snprintf(job->instrument_id, sizeof job->instrument_id, "%s_%s", ins->ticker,
                 ins->class_code);
    return ins;
}

static void fresh_key(sim *s, char *out, size_t size, bool uuid) {
    if (uuid) {
        char id[UUID_TEXT_SIZE];
        uint64_t hi = sim_prng_next(&s->rng);
        uuid_format_from_bits(hi, sim_prng_next(&s->rng), id);
        snprintf(out, size, "%s", id);
    } else {
        snprintf(out, size, "key-%016" PRIx64, sim_prng_next(&s->rng));
    }
}

/* A limit price: mostly near the market on the tick, sometimes off the tick, outside the
 * exchange's band, absurdly large, zero or negative. */
static int64_t pick_price(sim *s, const instrument *ins, bool *has_price) {
    prng *r = &s->rng;
    core_market m;
    core_market_view(live_core(s), ins->index, &m);
    int64_t tick = ins->min_price_increment_nano;
    int64_t mid = m.last_price_nano > 0 ? m.last_price_nano : ins->reference_price_nano;
    int64_t band_ticks = (m.limit_up_nano - m.limit_down_nano) / tick;
    if (band_ticks < 2)
        band_ticks = 2;
    *has_price = true;
    uint32_t roll = (uint32_t)sim_prng_below(r, 100);
    int64_t price;
    if (roll < 70)
        price = mid + prng_range(r, -20, 20) * tick;
    else if (roll < 85)
        price = mid + prng_range(r, -band_ticks / 2, band_ticks / 2) * tick;
    else if (roll < 89)
        price = mid + prng_range(r, 1, tick > 1 ? tick - 1 : 1); /* off the tick */
    else if (roll < 92)
        price = m.limit_up_nano + prng_range(r, 1, 50) * tick; /* above the band */
    else if (roll < 94)
        price = m.limit_down_nano - prng_range(r, 1, 50) * tick; /* below, maybe negative */
    else if (roll < 96)                                          /* absurd, on the tick */
        price = (INT64_MAX / 2 / tick) * tick;
    else if (roll < 98)
        price = -prng_range(r, 0, 1000) * tick;
    else {
        *has_price = false;
        price = 0;
    }
    return price;
}

/* Lots: mostly small, sometimes large, sometimes at the edge of int64 arithmetic for the
 * price, sometimes invalid. */
static int64_t pick_lots(sim *s, const instrument *ins, int64_t price_nano) {
    prng *r = &s->rng;
    uint32_t roll = (uint32_t)sim_prng_below(r, 100);
    if (roll < 55)
        return prng_range(r, 1, 5);
    if (roll < 80)
        return prng_range(r, 6, 300);
    if (roll < 88)
        return prng_range(r, 1000, 1000000);
    if (roll < 91)
        return roll == 88 ? 0 : -prng_range(r, 1, 10);
    if (roll < 94)
        return INT64_MAX - prng_range(r, 0, 2);
    /* The largest order whose value still fits in int64 at this price, and its neighbours:
     * the commission and reservation arithmetic that follows must not overflow. */
    int64_t price = price_nano > 0 ? price_nano : ins->reference_price_nano;
    int64_t lot_value;
    if (!valuation_amount(ins, price, ins->lot, &lot_value) || lot_value <= 0)
        return INT64_MAX / 2;
    return INT64_MAX / lot_value + prng_range(r, -1, 1);
}

/* A slot that holds an order: a random slot, or the next used one after it. */
static uint32_t random_used_slot(sim *s, const core *c) {
    uint32_t high = c->pools.order_high;
    uint32_t at = (uint32_t)sim_prng_below(&s->rng, high);
    for (uint32_t k = 0; k < high; k++) {
        uint32_t slot = (at + k) % high;
        if (c->orders[slot].status != 0)
            return slot;
    }
    sim_fail("%u orders in use, none below slot %u", c->pools.orders_in_use, high);
}

/* An order of the history, often an active one. */
static uint32_t pick_order(sim *s, bool prefer_active) {
    const core *c = live_core(s);
    if (c->pools.orders_in_use == 0)
        return CORE_NO_ORDER;
    uint32_t o = random_used_slot(s, c);
    for (int tries = 0; prefer_active && tries < 8 && order_status_is_final(c->orders[o].status);
         tries++)
        o = random_used_slot(s, c);
    return o;
}

/* A reference to an order as a client would send it: our id, the exchange number, the key. */
static void pick_order_ref(sim *s, sim_job *job, bool allow_key, bool prefer_active) {
    prng *r = &s->rng;
    const core *c = live_core(s);
    uint32_t o = pick_order(s, prefer_active);
    uint32_t roll = (uint32_t)sim_prng_below(r, 100);
    if (o == CORE_NO_ORDER || roll < 5) {
        pick_account(s, job, false);
        job->ref = REF_UNKNOWN;
        job->target = CORE_NO_ORDER;
        fresh_key(s, job->order_id, sizeof job->order_id, true);
        job->by_request_id = prng_percent(r, 50);
        return;
    }
    const core_order *order = &c->orders[o];
    job->target = o;
    job->target_seq = order->accepted_seq;
    snprintf(job->account_id, sizeof job->account_id, "%s",
             c->refdata->accounts[order->account].id);
    job->token_index = owner_token(c->refdata, order->account);
    if (prng_percent(r, 4))
        job->token_index = SIM_TOKEN_READ;
    if (allow_key && roll < 30) {
        job->ref = REF_KEY;
        job->by_request_id = true;
        snprintf(job->order_id, sizeof job->order_id, "%s", order->key);
        if (prng_percent(r, 20))
            swap_case(job->order_id); /* the same UUID key; free text is another key */
    } else if (roll < 60 && order->exchange_order_id != 0) {
        job->ref = REF_EXCHANGE;
        snprintf(job->order_id, sizeof job->order_id, "%s", order->exchange_id_text);
    } else {
        job->ref = REF_INTENT;
        snprintf(job->order_id, sizeof job->order_id, "%s", order->intent_id);
    }
}

/* Most sells are of something the account holds: otherwise nearly every sell fails 30042. */
static void sell_what_is_held(sim *s, sim_job *job, uint32_t account_index) {
    const core *c = live_core(s);
    uint32_t held[REFDATA_MAX_INSTRUMENTS], n = 0;
    for (uint32_t i = 0; i < c->refdata->instrument_count; i++)
        if (account_index < c->ledger.account_count &&
            ledger_units_free(&c->ledger, account_index, i) > 0)
            held[n++] = i;
    if (n == 0)
        return;
    const instrument *ins = &c->refdata->instruments[held[sim_prng_below(&s->rng, n)]];
    snprintf(job->instrument_id, sizeof job->instrument_id, "%s", ins->uid);
    int64_t free_lots = ledger_units_free(&c->ledger, account_index, ins->index) / ins->lot;
    if (job->req.quantity > 0 && free_lots > 0 && prng_percent(&s->rng, 80))
        job->req.quantity = prng_range(&s->rng, 1, free_lots);
    if (job->req.type == ORDER_TYPE_LIMIT)
        job->req.price_nano = pick_price(s, ins, &job->req.has_price);
}

/* One of the last orders of the account to leave the history, or NULL. */
static const sim_retired *recently_retired(sim *s, uint32_t account_index) {
    size_t window = s->retired_count < 64 ? s->retired_count : 64;
    if (window == 0)
        return NULL;
    size_t start = (size_t)sim_prng_below(&s->rng, window);
    for (size_t k = 0; k < window; k++) {
        const sim_retired *r = &s->retired[s->retired_count - 1 - (start + k) % window];
        if (r->account == account_index)
            return r;
    }
    return NULL;
}

/* The restriction margin-sell-behind-held: whether a sell of the margin account in the instrument
 * must not be generated now (another sell of it there is active, or made for this batch); marks
 * the sell made otherwise. */
static bool margin_sell_held_back(sim *s, uint32_t account_index, const char *instrument_id) {
    const core *c = live_core(s);
    const instrument *ins = refdata_find_instrument_id(c->refdata, instrument_id);
    if (!s->restrict_to.margin_sell_behind_held || ins == NULL ||
        !sim_margin_account(s, account_index))
        return false;
    uint64_t *mark =
        &s->margin_sell_batch[(size_t)account_index * s->sc.instrument_count + ins->index];
    if (*mark == s->batch_no + 1)
        return true;
    for (uint32_t i = 0; i < c->pools.order_high; i++) {
        const core_order *o = &c->orders[i];
        if (o->status != 0 && !order_status_is_final(o->status) && o->account == account_index &&
            o->instrument == ins->index && o->direction == DIRECTION_SELL)
            return true;
    }
    *mark = s->batch_no + 1;
    return false;
}

static void gen_place(sim *s, sim_job *job) {
    prng *r = &s->rng;
    const core *c = live_core(s);
    core_order_request *req = &job->req;
    job->base.run = run_place;
    job->base.finish = finish_order_reply;
    job->base.mutates = true;
    bool sync = prng_percent(r, 50);
    *req = (core_order_request){.source = sync ? ORDER_SOURCE_SYNC : ORDER_SOURCE_ASYNC,
                                .require_uuid_key = !sync};
    uint32_t roll = (uint32_t)sim_prng_below(r, 100);
    uint32_t stored = roll < 14 ? pick_order(s, false) : CORE_NO_ORDER;
    if (stored != CORE_NO_ORDER) {
        /* The key of an earlier order, with its terms or with other ones. */
        const core_order *o = &c->orders[stored];
        const instrument *ins = &c->refdata->instruments[o->instrument];
        job->dup = roll < 9 ? DUP_SAME_TERMS : DUP_OTHER_TERMS;
        job->dup_account = o->account;
        job->token_index = owner_token(c->refdata, o->account);
        snprintf(job->account_id, sizeof job->account_id, "%s",
                 c->refdata->accounts[o->account].id);
        snprintf(job->instrument_id, sizeof job->instrument_id, "%s", ins->uid);
        snprintf(job->key, sizeof job->key, "%s", o->key);
        if (prng_percent(r, 20))
            swap_case(job->key); /* the same UUID key; free text is another key */
        req->direction = (int32_t)o->direction;
        req->type = (int32_t)o->type;
        req->tif = (int32_t)o->tif;
        req->quantity = o->lots_requested;
        req->has_price = o->type == ORDER_TYPE_LIMIT;
        req->price_nano = o->price_nano;
        if (job->dup == DUP_OTHER_TERMS) {
            if (req->quantity < INT64_MAX)
                req->quantity++;
            else
                req->quantity--;
        }
    } else {
        uint32_t account_index = pick_account(s, job, false);
        const instrument *ins = pick_instrument(s, job);
        uint32_t key_roll = (uint32_t)sim_prng_below(r, 100);
        const sim_retired *freed = key_roll >= 3 && key_roll < 13 && account_index != CORE_NO_ORDER
                                       ? recently_retired(s, account_index)
                                       : NULL;
        if (key_roll < 2) {
            job->key[0] = '\0';
        } else if (key_roll < 3) {
            snprintf(job->key, sizeof job->key, "%s", "0123456789012345678901234567890123456");
        } else if (freed != NULL) {
            snprintf(job->key, sizeof job->key, "%s", freed->key);
            job->dup = DUP_RETIRED_KEY;
            job->dup_account = account_index;
        } else {
            fresh_key(s, job->key, sizeof job->key, key_roll >= 8 || sync);
        }
        uint32_t dir = (uint32_t)sim_prng_below(r, 100);
        req->direction = dir < 48 ? DIRECTION_BUY : dir < 96 ? DIRECTION_SELL : dir < 98 ? 0 : 3;
        static const uint32_t type_weights[] = {60, 20, 15, 3, 2};
        static const int32_t types[] = {ORDER_TYPE_LIMIT, ORDER_TYPE_MARKET, ORDER_TYPE_BESTPRICE,
                                        0, 4};
        req->type = types[prng_weighted(r, type_weights, 5)];
        static const uint32_t tif_weights[] = {50, 20, 20, 8, 1, 1};
        static const int32_t tifs[] = {TIF_DAY, TIF_FILL_AND_KILL, TIF_FILL_OR_KILL, 0, 4, -1};
        req->tif = tifs[prng_weighted(r, tif_weights, 6)];
        if (ins != NULL) {
            req->price_nano = pick_price(s, ins, &req->has_price);
            req->quantity = pick_lots(s, ins, req->price_nano);
        } else {
            req->has_price = true;
            req->price_nano = NANO;
            req->quantity = 1;
        }
        if (req->type != ORDER_TYPE_LIMIT && prng_percent(r, 50))
            req->has_price = false;
        if (req->direction == DIRECTION_SELL && account_index != CORE_NO_ORDER &&
            prng_percent(r, 70))
            sell_what_is_held(s, job, account_index);
        if (req->direction == DIRECTION_SELL && account_index != CORE_NO_ORDER &&
            margin_sell_held_back(s, account_index, job->instrument_id))
            req->direction = DIRECTION_BUY;
    }
    uint32_t pt = (uint32_t)sim_prng_below(r, 100);
    req->price_type = pt < 90 ? 0 : pt < 99 ? (int32_t)prng_range(r, 1, 2) : 3;
    req->token = &c->refdata->tokens[job->token_index];
    req->account_id = job->account_id;
    req->instrument_id = job->instrument_id;
    req->key = job->key;
}

static void gen_replace(sim *s, sim_job *job) {
    prng *r = &s->rng;
    job->base.run = run_replace;
    job->base.finish = finish_order_reply;
    job->base.mutates = true;
    pick_order_ref(s, job, false, true);
    uint32_t roll = (uint32_t)sim_prng_below(r, 100);
    const core *c = live_core(s);
    uint32_t reused = roll < 10 ? pick_order(s, false) : CORE_NO_ORDER;
    if (reused != CORE_NO_ORDER) {
        snprintf(job->key, sizeof job->key, "%s", c->orders[reused].key);
        if (roll < 3)
            swap_case(job->key);
    } else if (roll < 12)
        job->key[0] = '\0';
    else
        fresh_key(s, job->key, sizeof job->key, true);
    if (job->target != CORE_NO_ORDER) {
        const instrument *ins = &c->refdata->instruments[c->orders[job->target].instrument];
        job->price_nano = pick_price(s, ins, &job->has_price);
        job->quantity = pick_lots(s, ins, job->price_nano);
    } else {
        job->has_price = true;
        job->price_nano = NANO;
        job->quantity = 1;
    }
    job->price_type = prng_percent(r, 95) ? 0 : (int32_t)prng_range(r, 1, 3);
}

static void gen_pay_in(sim *s, sim_job *job) {
    prng *r = &s->rng;
    job->base.run = run_pay_in;
    job->base.finish = finish_plain;
    job->base.mutates = true;
    pick_account(s, job, true);
    static const char *const currencies[] = {"rub", "rub", "rub", "usd", "cny", "eur",
                                             "gbp", "chf", "hkd", "try", "kzt", ""};
    uint32_t cur = (uint32_t)sim_prng_below(r, sizeof currencies / sizeof currencies[0]);
    snprintf(job->currency, sizeof job->currency, "%s", currencies[cur]);
    uint32_t roll = (uint32_t)sim_prng_below(r, 100);
    if (roll < 85)
        job->amount_nano = prng_range(r, 1, 1000000) * NANO + prng_range(r, 0, NANO - 1);
    else if (roll < 92)
        job->amount_nano = prng_range(r, 1, 1000000000) * NANO; /* up to 1e9 units */
    else if (roll < 95)
        job->amount_nano = INT64_MAX - prng_range(r, 0, NANO);
    else
        job->amount_nano = -prng_range(r, 0, 1000) * NANO;
}

static void gen_open_account(sim *s, sim_job *job) {
    prng *r = &s->rng;
    job->base.run = run_open_account;
    job->base.finish = finish_plain;
    job->base.mutates = true;
    job->token_index = prng_percent(r, 80) ? SIM_TOKEN_FULL : SIM_TOKEN_READ;
    /* Names longer than the 63 bytes kept, in two-byte UTF-8 letters: the cut must fall on a
     * character boundary. */
    uint32_t letters = (uint32_t)prng_range(r, 0, 45);
    size_t n = 0;
    for (uint32_t i = 0; i < letters && n + 2 < sizeof job->name; i++) {
        if (prng_percent(r, 50)) {
            job->name[n++] = (char)0xD0; /* Cyrillic "Ж" */
            job->name[n++] = (char)0x96;
        } else {
            job->name[n++] = (char)('a' + sim_prng_below(r, 26));
        }
    }
    job->name[n] = '\0';
}

static void gen_close_account(sim *s, sim_job *job) {
    job->base.run = run_close_account;
    job->base.finish = finish_plain;
    job->base.mutates = true;
    const core *c = live_core(s);
    /* Mostly accounts opened at run time: the configured ones carry most of the trading. */
    uint32_t open_configured = 0;
    for (uint32_t a = 0; a < c->accounts.configured_count; a++)
        open_configured += !c->accounts.closed[a];
    if (c->accounts.opened_count > 0 && (open_configured < 2 || prng_percent(&s->rng, 95))) {
        uint32_t a = c->accounts.configured_count +
                     (uint32_t)sim_prng_below(&s->rng, c->accounts.opened_count);
        snprintf(job->account_id, sizeof job->account_id, "%s", c->refdata->accounts[a].id);
        job->token_index = owner_token(c->refdata, a);
        return;
    }
    if (open_configured < 2) { /* the last configured account stays: an unknown one instead */
        snprintf(job->account_id, sizeof job->account_id, "%s", "9999999999");
        job->token_index = SIM_TOKEN_FULL;
        return;
    }
    pick_account(s, job, true);
}

static void gen_read(sim *s, sim_job *job) {
    prng *r = &s->rng;
    job->base.finish = finish_plain;
    pick_account(s, job, false);
    if (prng_percent(r, 30))
        job->token_index = SIM_TOKEN_READ;
    const instrument *ins = pick_instrument(s, job);
    if (ins != NULL) {
        job->price_nano = pick_price(s, ins, &job->has_price);
        job->quantity = pick_lots(s, ins, job->price_nano);
    }
    job->direction = prng_percent(r, 95) ? (int32_t)prng_range(r, 1, 2) : 0;
}

/* ---- Stop orders ------------------------------------------------------------------------------
 */

static void run_stop_place(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    sim *s = job->sim;
    core *c = engine_core(e);
    job->stop.token = &c->refdata->tokens[job->token_index];
    job->stop.now_ns = engine_now_ns(e);
    call_mark before = mark_call(s);
    job->stop_result = core_post_stop_order(c, &job->stop);
    job->error = job->stop_result.error;
    /* A refused request, and a repeated key, record nothing (expiries and retirements the
     * command makes first are not counted: see sim_sink). */
    if (job->error != CORE_OK || job->stop_result.duplicate)
        expect_no_events(s, job, job->error, before);
    else if (s->state_events != before.state_events + 1 ||
             job->stop_result.stop.status != STOP_STATUS_ACTIVE)
        sim_fail("job %" PRIu64 ": a stop order was placed with %" PRIu64 " events, status %d",
                 job->number, s->state_events - before.state_events, job->stop_result.stop.status);
    engine_finish_after_commit(e, base);
}

static void run_stop_cancel(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    core *c = engine_core(e);
    job->stop_result = core_cancel_stop_order(c, &c->refdata->tokens[job->token_index],
                                              job->account_id, job->order_id, engine_now_ns(e));
    job->error = job->stop_result.error;
    if (job->error == CORE_OK && job->stop_result.stop.status != STOP_STATUS_CANCELED)
        sim_fail("job %" PRIu64 ": a cancelled stop order has status %d", job->number,
                 job->stop_result.stop.status);
    engine_finish_after_commit(e, base);
}

/* A stop order near the market: any type and side, sometimes a stop-limit or a trailing
 * take-profit, sometimes good till a date a little ahead, sometimes a repeated key or an
 * invalid field. */
static void gen_stop_place(sim *s, sim_job *job) {
    prng *r = &s->rng;
    job->base.run = run_stop_place;
    job->base.finish = finish_plain;
    job->base.mutates = true;
    uint32_t account_index = pick_account(s, job, false);
    const instrument *ins = pick_instrument(s, job);
    core_stop_request *q = &job->stop;
    q->account_id = job->account_id;
    q->instrument_id = job->instrument_id;
    if (prng_percent(r, 20) && s->last_stop_key[0] != '\0')
        snprintf(job->key, sizeof job->key, "%s", s->last_stop_key);
    else if (prng_percent(r, 80))
        fresh_key(s, job->key, sizeof job->key, prng_percent(r, 70));
    snprintf(s->last_stop_key, sizeof s->last_stop_key, "%s", job->key);
    q->key = job->key;
    q->quantity = prng_percent(r, 97) ? prng_range(r, 1, 5) : prng_range(r, -1, 0);
    q->direction = prng_percent(r, 98) ? (int32_t)prng_range(r, 1, 2) : 0;
    /* margin-sell-behind-held: a stop order's sell is placed when it triggers, whatever else
     * the account sells then. */
    if (q->direction == DIRECTION_SELL && s->restrict_to.margin_sell_behind_held &&
        account_index != CORE_NO_ORDER && sim_margin_account(s, account_index))
        q->direction = DIRECTION_BUY;
    q->stop_type = prng_percent(r, 98) ? (int32_t)prng_range(r, 1, 3) : 4;
    q->expiration = prng_percent(r, 70) ? STOP_EXPIRES_NEVER : STOP_EXPIRES_AT_DATE;
    q->has_expire = q->expiration == STOP_EXPIRES_AT_DATE;
    /* Ahead of the clock when the job is made: mostly still ahead when it runs. */
    q->expire_ns = s->now_ns + prng_range(r, -10, 2000) * 1000000LL;
    if (ins != NULL) {
        core_market m;
        core_market_view(live_core(s), ins->index, &m);
        int64_t tick = ins->min_price_increment_nano;
        int64_t mid = m.last_price_nano > 0 ? m.last_price_nano : ins->reference_price_nano;
        q->has_stop_price = prng_percent(r, 98);
        q->stop_price_nano = mid + prng_range(r, -8, 8) * tick;
        q->has_price = q->stop_type == STOP_TYPE_STOP_LIMIT || prng_percent(r, 20);
        q->price_nano = mid + prng_range(r, -8, 8) * tick;
        if (q->stop_type == STOP_TYPE_TAKE_PROFIT && prng_percent(r, 30)) {
            q->take_profit_type = STOP_TAKE_PROFIT_TRAILING;
            q->has_trailing = q->has_indent = q->has_spread = true;
            q->indent_type = (int32_t)prng_range(r, 1, 2);
            q->spread_type = (int32_t)prng_range(r, 1, 2);
            q->indent_nano = q->indent_type == TRAILING_ABSOLUTE ? prng_range(r, 1, 5) * tick
                                                                 : prng_range(r, 1, 3) * NANO / 10;
            q->spread_nano = q->spread_type == TRAILING_ABSOLUTE ? prng_range(r, 0, 3) * tick
                                                                 : prng_range(r, 0, 2) * NANO / 10;
        }
    }
    q->child_type = prng_percent(r, 50) ? 0 : (int32_t)prng_range(r, 1, 2);
    if (q->stop_type == STOP_TYPE_STOP_LIMIT && q->child_type == STOP_CHILD_MARKET)
        q->child_type = 0;
}

/* Cancels a stop order the core holds (any status), or names one it does not. */
static void gen_stop_cancel(sim *s, sim_job *job) {
    prng *r = &s->rng;
    job->base.run = run_stop_cancel;
    job->base.finish = finish_plain;
    job->base.mutates = true;
    const core *c = live_core(s);
    const core_stop_book *b = &c->stops;
    uint32_t slot = b->high > 0 ? (uint32_t)sim_prng_below(r, b->high) : 0;
    if (b->high > 0 && b->records[slot].status != 0 && prng_percent(r, 90)) {
        const core_stop_order *o = &b->records[slot];
        job->token_index = owner_token(c->refdata, o->account);
        snprintf(job->account_id, sizeof job->account_id, "%s",
                 c->refdata->accounts[o->account].id);
        snprintf(job->order_id, sizeof job->order_id, "%s", o->id);
    } else {
        pick_account(s, job, false);
        fresh_key(s, job->order_id, sizeof job->order_id, true);
    }
}

/* ---- Favorites --------------------------------------------------------------------------------
 */

static void run_favorites(engine *e, engine_job *base) {
    sim_job *job = (sim_job *)base;
    sim *s = job->sim;
    core *c = engine_core(e);
    const token *tok = &c->refdata->tokens[job->token_index];
    uint32_t user = favorites_user_of(c, tok);
    uint32_t held_before = c->favorites.count[user], groups_before = c->favorites.group_count[user];
    call_mark before = mark_call(s);
    core_favorite_group_view view;
    const char *ids[3] = {job->fav_ids[0], job->fav_ids[1], job->fav_ids[2]};
    switch (job->fav_command) {
    case 0:
        job->error =
            core_create_favorite_group(c, tok, job->name, job->currency, engine_now_ns(e), &view);
        if (job->error == CORE_OK && c->favorites.group_count[user] != groups_before + 1)
            sim_fail("job %" PRIu64 ": a favorite group was created but not held", job->number);
        break;
    case 1:
        job->error = core_delete_favorite_group(c, tok, job->order_id, engine_now_ns(e));
        break;
    default:
        job->error =
            core_edit_favorites(c, tok, ids, job->fav_count, job->fav_action,
                                job->order_id[0] != '\0' ? job->order_id : NULL, engine_now_ns(e));
        if (job->error == CORE_OK && job->fav_action == FAVORITES_ACTION_ADD &&
            c->favorites.count[user] < held_before)
            sim_fail("job %" PRIu64 ": adding favorites lowered their count", job->number);
        break;
    }
    if (job->error != CORE_OK)
        expect_no_events(s, job, job->error, before);
    if (c->favorites.count[user] > c->favorites.per_user ||
        c->favorites.group_count[user] > c->favorites.groups_per_user)
        sim_fail("job %" PRIu64 ": favorites past their limits", job->number);
    engine_finish_after_commit(e, base);
}

/* A group created (sometimes with a bad name or color), deleted (one the user holds, or an id it
 * does not), or a list edited: one to three instruments, sometimes unknown, added or removed in
 * the default list or a group, sometimes with an action outside the contract. */
static void gen_favorites(sim *s, sim_job *job) {
    prng *r = &s->rng;
    job->base.run = run_favorites;
    job->base.finish = finish_plain;
    job->base.mutates = true;
    job->token_index = (uint32_t)sim_prng_below(r, SIM_TOKENS);
    const core *c = live_core(s);
    const core_favorites *f = &c->favorites;
    uint32_t user = f->user_of_token[job->token_index];
    /* A group of the user, or a fresh id. */
    job->order_id[0] = '\0';
    if (f->group_count[user] > 0 && prng_percent(r, 85)) {
        uint32_t g = f->group_first[user];
        for (uint64_t k = sim_prng_below(r, f->group_count[user]); k > 0; k--)
            g = f->groups[g].next;
        snprintf(job->order_id, sizeof job->order_id, "%s", f->groups[g].id);
    } else if (prng_percent(r, 50)) {
        fresh_key(s, job->order_id, sizeof job->order_id, true);
    }
    job->fav_command = (int)prng_weighted(r, (const uint32_t[]){2, 1, 6}, 3);
    if (job->fav_command == 0) {
        snprintf(job->name, sizeof job->name, prng_percent(r, 5) ? "" : "group %u",
                 (unsigned)sim_prng_below(r, 1000));
        snprintf(job->currency, sizeof job->currency, "%s",
                 prng_percent(r, 5) ? "zz0000" : "a0b1c2");
        return;
    }
    if (job->fav_command == 1)
        return;
    job->fav_action = prng_percent(r, 3) ? 0 : (int32_t)prng_range(r, 1, 2);
    job->fav_count = (uint32_t)prng_range(r, 1, 3);
    for (uint32_t i = 0; i < job->fav_count; i++) {
        pick_instrument(s, job);
        snprintf(job->fav_ids[i], sizeof job->fav_ids[i], "%s", job->instrument_id);
    }
}

static sim_job *new_job(sim *s, sim_job_kind kind) {
    sim_job *job = calloc(1, sizeof *job);
    if (job == NULL)
        sim_fail("out of memory");
    job->sim = s;
    job->kind = kind;
    job->number = ++s->job_numbers;
    job->target = CORE_NO_ORDER;
    job->base.wait_order = CORE_NO_ORDER;
    /* Waiting jobs get the order copied when their wait ends, as src/api's jobs do. */
    job->base.capture = &job->result.order;
    job->result.order.index = CORE_NO_ORDER;
    switch (kind) {
    case JOB_PLACE:
        gen_place(s, job);
        break;
    case JOB_CANCEL:
        job->base.run = run_cancel;
        job->base.finish = finish_cancel;
        job->base.mutates = true;
        pick_order_ref(s, job, true, true);
        break;
    case JOB_REPLACE:
        gen_replace(s, job);
        break;
    case JOB_GET_STATE:
        job->base.run = run_get_state;
        job->base.finish = finish_plain;
        pick_order_ref(s, job, true, false);
        if (prng_percent(&s->rng, 20))
            job->token_index = SIM_TOKEN_READ;
        break;
    case JOB_PAY_IN:
        gen_pay_in(s, job);
        break;
    case JOB_OPEN_ACCOUNT:
        gen_open_account(s, job);
        break;
    case JOB_CLOSE_ACCOUNT:
        gen_close_account(s, job);
        break;
    case JOB_MAX_LOTS:
        gen_read(s, job);
        job->base.run = run_max_lots;
        break;
    case JOB_ORDER_PRICE:
        gen_read(s, job);
        job->base.run = run_order_price;
        break;
    case JOB_STOP_PLACE:
        gen_stop_place(s, job);
        break;
    case JOB_STOP_CANCEL:
        gen_stop_cancel(s, job);
        break;
    case JOB_FAVORITES:
        gen_favorites(s, job);
        break;
    case JOB_KIND_COUNT:
        assert(!"not a job kind");
    }
    job->next_live = s->live_head;
    if (s->live_head != NULL)
        s->live_head->prev_live = job;
    s->live_head = job;
    s->n.jobs++;
    s->n.by_kind[kind]++;
    return job;
}

/* ---- The history beyond the orders: books, retirements, fills ------------------------------ */

static sim_book_cash *book_cash_of(sim *s, uint32_t account_index, const char *currency) {
    sim_book_cash *slots = &s->book_cash[(size_t)account_index * REFDATA_MAX_CURRENCIES];
    for (uint32_t k = 0; k < REFDATA_MAX_CURRENCIES; k++) {
        if (slots[k].currency[0] == '\0') {
            snprintf(slots[k].currency, sizeof slots[k].currency, "%s", currency);
            slots[k].amount_nano = 0;
            return &slots[k];
        }
        if (strcmp(slots[k].currency, currency) == 0)
            return &slots[k];
    }
    sim_fail("account %u moved more currencies than its ledger holds (%s)", account_index,
             currency);
}

static void book_apply(sim *s, const sim_book_entry *e) {
    size_t instruments = s->sc.instrument_count;
    switch (e->kind) {
    case BOOK_PAY_IN:
    case BOOK_PAYMENT:
        book_cash_of(s, e->account, e->currency)->amount_nano += e->cash_nano;
        break;
    case BOOK_RETIRED:
        book_cash_of(s, e->account, e->currency)->amount_nano += e->cash_nano;
        s->book_units[(size_t)e->account * instruments + e->instrument] += e->units;
        break;
    case BOOK_RESET:
        memset(&s->book_cash[(size_t)e->account * REFDATA_MAX_CURRENCIES], 0,
               REFDATA_MAX_CURRENCIES * sizeof *s->book_cash);
        memset(&s->book_units[(size_t)e->account * instruments], 0,
               instruments * sizeof *s->book_units);
        break;
    }
}

static void book_add(sim *s, sim_book_entry e) {
    s->book = grow(s->book, &s->book_capacity, s->book_count, sizeof *s->book);
    s->book[s->book_count++] = e;
    book_apply(s, &e);
}

/* The configured accounts' opening cash, then every entry in event order. */
static void books_rebuild(sim *s) {
    memset(s->book_cash, 0,
           (size_t)s->account_capacity * REFDATA_MAX_CURRENCIES * sizeof *s->book_cash);
    memset(s->book_units, 0,
           (size_t)s->account_capacity * s->sc.instrument_count * sizeof *s->book_units);
    for (uint32_t a = 0; a < s->sc.account_count; a++)
        for (uint32_t k = 0; k < s->pristine.accounts[a].cash_count; k++)
            book_cash_of(s, a, s->pristine.accounts[a].cash[k].currency)->amount_nano +=
                s->pristine.accounts[a].cash[k].value_nano;
    for (size_t i = 0; i < s->book_count; i++)
        book_apply(s, &s->book[i]);
}

/* After a crash: what events from `next_seq` on did is no longer part of the history. */
static void forget_lost_events(sim *s, uint64_t next_seq) {
    size_t before = s->book_count;
    while (s->book_count > 0 && s->book[s->book_count - 1].seq >= next_seq)
        s->book_count--;
    if (s->book_count != before)
        books_rebuild(s);
    while (s->retired_count > 0 && s->retired[s->retired_count - 1].seq >= next_seq)
        s->retired_count--;
    while (s->gone_count > 0 && s->gone[s->gone_count - 1].seq >= next_seq)
        s->gone_count--;
    while (s->clearing_count > 0 && s->clearings[s->clearing_count - 1].seq >= next_seq)
        s->clearing_count--;
    if (s->pending_count != s->trade_count - s->trades_checked)
        sim_fail("%zu fills pending a check, %zu unchecked", s->pending_count,
                 s->trade_count - s->trades_checked);
    while (s->trade_count > 0 && s->trades[s->trade_count - 1].seq >= next_seq)
        s->trade_count--;
    if (s->trades_checked > s->trade_count)
        s->trades_checked = s->trade_count;
    s->pending_count = s->trade_count - s->trades_checked;
    s->last_retired_completion_ns = INT64_MIN;
}

/* ---- Invariants ---------------------------------------------------------------------------- */

/* Cash slot index of `currency` for the account in the ledger's layout; -1 when absent. */
static long cash_slot(const ledger *lg, uint32_t account_index, const char *currency) {
    const ledger_cash *cash = ledger_cash_find(lg, account_index, currency);
    return cash == NULL ? -1 : (long)(cash - lg->cash);
}

/* Per ledger cash slot, per account x instrument position, per order slot and per account. */
typedef struct check_scratch {
    wide *reserved_cash, *expected_cash;
    wide *reserved_units, *expected_units;
    wide *trade_lots, *trade_records;
    wide *account_orders;
} check_scratch;
#define SCRATCH_ARRAYS 7

/* Decimal text of a 128-bit sum, for failure lines. */
static const char *wide_text(wide v, char out[48]) {
    char digits[48];
    size_t n = 0;
    unsigned __int128 u = v < 0 ? -(unsigned __int128)v : (unsigned __int128)v;
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u != 0);
    size_t at = 0;
    if (v < 0)
        out[at++] = '-';
    while (n > 0)
        out[at++] = digits[--n];
    out[at] = '\0';
    return out;
}

static wide *scratch_array(wide **array, size_t *have, size_t need) {
    if (need == 0)
        need = 1;
    if (need > *have) {
        free(*array);
        *array = calloc(need, sizeof **array);
        if (*array == NULL)
            sim_fail("out of memory");
        *have = need;
    }
    memset(*array, 0, need * sizeof **array);
    return *array;
}

static check_scratch scratch;
static size_t scratch_have[SCRATCH_ARRAYS];

static const char *type_name(order_type type) {
    return type == ORDER_TYPE_LIMIT ? "limit" : type == ORDER_TYPE_MARKET ? "market" : "bestprice";
}

static const char *tif_name(order_tif tif) {
    return tif == TIF_DAY ? "day" : tif == TIF_FILL_AND_KILL ? "fak" : "fok";
}

/* "order 12 (account 1, buy limit day at 100.5, status 4, lots 10/3/0)" for failure lines. */
static const char *describe_order(const core_order *o, char *out, size_t size) {
    snprintf(out, size,
             "order %u (event %" PRIu64 ", account %u, %s %s %s at %" PRId64
             ", status %d, lots %" PRId64 "/%" PRId64 "/%" PRId64 ", reserved %" PRId64
             " nano %" PRId64 " units, exchange number %" PRIu64 "%s)",
             o->index, o->accepted_seq, o->account, o->direction == DIRECTION_BUY ? "buy" : "sell",
             type_name(o->type), tif_name(o->tif), o->price_nano, o->status, o->lots_requested,
             o->lots_executed, o->lots_cancelled, o->reserved_cash_nano, o->reserved_units,
             o->exchange_order_id, o->awaiting_replaced ? ", awaiting its replaced order" : "");
    return out;
}

/* The active orders holding cash (`currency`) or units of an instrument, with the orders they
 * replaced, for a failure line. */
static const char *describe_holders(const core *c, uint32_t account_index,
                                    uint32_t instrument_index, const char *currency) {
    static char out[1200];
    size_t used = (size_t)snprintf(out, sizeof out, "held by:");
    for (uint32_t i = 0; i < c->pools.order_high && used < sizeof out - 300; i++) {
        const core_order *o = &c->orders[i];
        if (o->status == 0)
            continue;
        bool holds_it =
            currency != NULL
                ? o->reserved_cash_nano > 0 &&
                      strcmp(c->refdata->instruments[o->instrument].currency, currency) == 0
                : o->instrument == instrument_index && o->reserved_units > 0;
        if (o->account != account_index || order_status_is_final(o->status) || !holds_it)
            continue;
        char text[320];
        used += (size_t)snprintf(out + used, sizeof out - used, " %s",
                                 describe_order(o, text, sizeof text));
        if (o->replaces_order != CORE_NO_ORDER && slot_used(c, o->replaces_order))
            used +=
                (size_t)snprintf(out + used, sizeof out - used, " replacing %s",
                                 describe_order(&c->orders[o->replaces_order], text, sizeof text));
    }
    return out;
}

static void check_order_record(const core *c, uint32_t slot) {
    const core_order *o = &c->orders[slot];
    bool final = order_status_is_final(o->status);
    uint32_t fills = trades_needed(c, o->lots_requested);
    const char *bad = NULL;
    if (o->index != slot)
        bad = "its record names another slot";
    else if (o->status < ORDER_STATUS_FILL || o->status > ORDER_STATUS_PARTIALLYFILL)
        bad = "unknown status";
    else if (o->lots_requested <= 0 || o->lots_executed < 0 || o->lots_cancelled < 0 ||
             o->lots_executed > o->lots_requested ||
             o->lots_cancelled > o->lots_requested - o->lots_executed)
        bad = "lot counts out of range";
    else if (o->reserved_cash_nano < 0 || o->reserved_units < 0)
        bad = "negative reservation";
    else if (final && (o->reserved_cash_nano != 0 || o->reserved_units != 0))
        bad = "a finished order still holds a reservation";
    else if (o->direction == DIRECTION_BUY && o->reserved_units != 0)
        bad = "a buy holds securities";
    else if (o->direction == DIRECTION_SELL && o->reserved_cash_nano != 0 &&
             core_instrument_of(c, o)->kind != INSTRUMENT_KIND_FUTURE)
        bad = "a sell holds cash"; /* a futures sell holds its guarantee */
    else if ((o->status == ORDER_STATUS_FILL) != (o->lots_executed == o->lots_requested))
        bad = "FILL status and executed lots disagree";
    else if (o->status == ORDER_STATUS_PARTIALLYFILL && o->lots_executed == 0)
        bad = "PARTIALLYFILL without executions";
    else if (o->status == ORDER_STATUS_NEW && o->lots_executed != 0)
        bad = "NEW with executions";
    else if (o->status == ORDER_STATUS_REJECTED && o->lots_executed != 0)
        bad = "REJECTED with executions";
    else if ((o->status == ORDER_STATUS_REJECTED) !=
             (o->reject_reason > CORE_OK && o->reject_reason < CORE_ERROR_COUNT))
        bad = "a reject reason without a reject, or a reject without a reason";
    else if (o->status == ORDER_STATUS_CANCELLED &&
             o->lots_executed + o->lots_cancelled != o->lots_requested)
        bad = "CANCELLED but executed + cancelled lots differ from requested";
    else if (o->account >= c->accounts.capacity || o->instrument >= c->refdata->instrument_count)
        bad = "account or instrument out of range";
    else if (o->executed_value_nano < 0 || o->executed_commission_nano < 0)
        bad = "negative executed value or commission";
    else if (final && o->completion_ns < o->created_ns)
        bad = "completed before it was created";
    else if (o->trade_count > fills || (final && o->trades_reserved != 0) ||
             (!final && o->trade_count + o->trades_reserved != fills))
        bad = "its fills and reserved trade records do not add up to what it may make";
    else if (o->awaiting_replaced && (o->status != ORDER_STATUS_NEW || o->reserved_cash_nano != 0 ||
                                      o->reserved_units != 0 || o->exchange_order_id != 0 ||
                                      o->replaces_order == CORE_NO_ORDER))
        bad = "waits for the order it replaces, yet holds something or was sent";
    else if (o->replaces_order != CORE_NO_ORDER &&
             (!slot_used(c, o->replaces_order) || c->orders[o->replaces_order].replaced_by != slot))
        bad = "replaces an order that does not name it as its replacement";
    else if (o->replaced_by != CORE_NO_ORDER &&
             (!slot_used(c, o->replaced_by) || c->orders[o->replaced_by].replaces_order != slot))
        bad = "names a replacement that does not name it back";
    char text[320];
    if (bad != NULL)
        sim_fail("%s: %s", describe_order(o, text, sizeof text), bad);
}

static void check_indexes(const core *c, const core_order *o) {
    /* A key names one order of the account for as long as that order is in the history. */
    uint32_t by_key = index_find_key(c, o->account, o->key);
    if (by_key != o->index)
        sim_fail("order %u: its key %s leads to %d, not to it", o->index, o->key,
                 by_key == ORDER_INDEX_EMPTY ? -1 : (int)by_key);
    if (order_index_find(&c->by_order_id, o->intent_id, strlen(o->intent_id)) != o->index)
        sim_fail("order %u: not found by its id %s", o->index, o->intent_id);
    if (o->exchange_order_id != 0 && order_index_find(&c->by_order_id, o->exchange_id_text,
                                                      strlen(o->exchange_id_text)) != o->index)
        sim_fail("order %u: not found by its exchange number %s", o->index, o->exchange_id_text);
}

typedef struct key_entry {
    char form[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
    size_t len;
    uint32_t slot;
} key_entry;

static int by_key_form(const void *a, const void *b) {
    const key_entry *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int d = memcmp(x->form, y->form, n);
    return d != 0 ? d : (x->len > y->len) - (x->len < y->len);
}

/* No two orders in the history hold one key of an account (in the contract's comparison). */
static void check_keys_unique(const core *c) {
    static key_entry *keys;
    static size_t have;
    if (have < c->pools.order_high) {
        free(keys);
        have = c->pools.order_high;
        keys = malloc(have * sizeof *keys);
        if (keys == NULL)
            sim_fail("out of memory");
    }
    size_t n = 0;
    for (uint32_t i = 0; i < c->pools.order_high; i++) {
        const core_order *o = &c->orders[i];
        if (o->status == 0)
            continue;
        keys[n].len = key_form(o->account, o->key, keys[n].form);
        keys[n].slot = i;
        if (keys[n].len == 0)
            sim_fail("order %u: key %s longer than a key may be", i, o->key);
        n++;
    }
    if (n > 1)
        qsort(keys, n, sizeof *keys, by_key_form);
    for (size_t i = 1; i < n; i++)
        if (by_key_form(&keys[i - 1], &keys[i]) == 0)
            sim_fail("orders %u and %u of account %u hold one key (%s, %s)", keys[i - 1].slot,
                     keys[i].slot, c->orders[keys[i].slot].account, c->orders[keys[i - 1].slot].key,
                     c->orders[keys[i].slot].key);
}

/* New fills: on the tick, inside the exchange's band, never worse than a limit order's price,
 * after the order was accepted, ids in time order, and a trade between two clients is between
 * two accounts. Their orders as they were at the fill (they may have left the history since). */
static void check_new_trades(sim *s, const core *c) {
    for (size_t t = s->trades_checked; t < s->trade_count; t++) {
        const sim_trade *tr = &s->trades[t];
        const core_order *o = &s->pending[t - s->trades_checked];
        const instrument *ins = &c->refdata->instruments[o->instrument];
        char text[320];
        core_market m;
        core_market_view(c, o->instrument, &m);
        if (tr->lots <= 0 || tr->price_nano <= 0 || tr->price_nano % ins->min_price_increment_nano)
            sim_fail("fill %zu (id %" PRIu64 ") of %s: %" PRId64 " lots at %" PRId64
                     " (tick %" PRId64 ")",
                     t, tr->trade_id, describe_order(o, text, sizeof text), tr->lots,
                     tr->price_nano, ins->min_price_increment_nano);
        if (tr->price_nano < m.limit_down_nano || tr->price_nano > m.limit_up_nano)
            sim_fail("fill %zu of %s at %" PRId64 " outside the band [%" PRId64 ", %" PRId64 "]", t,
                     describe_order(o, text, sizeof text), tr->price_nano, m.limit_down_nano,
                     m.limit_up_nano);
        if (o->type == ORDER_TYPE_LIMIT &&
            (o->direction == DIRECTION_BUY ? tr->price_nano > o->price_nano
                                           : tr->price_nano < o->price_nano))
            sim_fail("fill %zu of %s at %" PRId64 ", worse than its limit", t,
                     describe_order(o, text, sizeof text), tr->price_nano);
        if (tr->time_ns < o->created_ns)
            sim_fail("fill %zu of %s happened before the order was accepted", t,
                     describe_order(o, text, sizeof text));
        const sim_trade *prev = t > 0 ? &s->trades[t - 1] : NULL;
        if (prev != NULL && tr->trade_id < prev->trade_id)
            sim_fail("fill %zu (event %" PRIu64 "): trade id %" PRIu64 " after id %" PRIu64
                     " (event %" PRIu64 ")",
                     t, tr->seq, tr->trade_id, prev->trade_id, prev->seq);
        if (prev != NULL && tr->trade_id == prev->trade_id) {
            if (t > 1 && s->trades[t - 2].trade_id == tr->trade_id)
                sim_fail("trade id %" PRIu64 " recorded three times", tr->trade_id);
            if (prev->account == tr->account)
                sim_fail("orders %u and %u of account %u traded with each other (trade %" PRIu64
                         "): self-trade",
                         prev->slot, tr->slot, tr->account, tr->trade_id);
            if (prev->instrument != tr->instrument || prev->direction == tr->direction ||
                prev->price_nano != tr->price_nano || prev->lots != tr->lots)
                sim_fail("the two sides of trade %" PRIu64 " disagree", tr->trade_id);
        }
    }
    s->trades_checked = s->trade_count;
    s->pending_count = 0;
}

/* Every invariant of the broker state, in one place: this independent check, which derives the
 * ledger from the orders and the history's books after every batch, and with every full check
 * (every SIM_FULL_CHECK_EVERY batches, after a recovery, at the end) the core's own check
 * (core_check_invariants asserts; it finds every order by its key and ids, which costs as much
 * as the rest of a run on a large history). */
static void vm_check(sim *s, const core *c);

static void sim_check_invariants(sim *s, const core *c, bool full) {
    vm_check(s, c); /* a clearing that was the batch's last event */
    if (full)
        core_check_invariants(c);
    const ledger *lg = &c->ledger;
    const refdata *rd = c->refdata;
    const core_pools *p = &c->pools;
    const core_config *cfg = &c->config;
    size_t cash_slots = (size_t)lg->account_count * REFDATA_MAX_CURRENCIES;
    size_t position_slots = (size_t)lg->account_count * lg->instrument_count;
    wide *reserved_cash = scratch_array(&scratch.reserved_cash, &scratch_have[0], cash_slots);
    wide *expected_cash = scratch_array(&scratch.expected_cash, &scratch_have[1], cash_slots);
    wide *reserved_units = scratch_array(&scratch.reserved_units, &scratch_have[2], position_slots);
    wide *expected_units = scratch_array(&scratch.expected_units, &scratch_have[3], position_slots);
    wide *trade_lots = scratch_array(&scratch.trade_lots, &scratch_have[4], cfg->max_orders);
    wide *trade_records = scratch_array(&scratch.trade_records, &scratch_have[5], cfg->max_orders);
    wide *account_orders =
        scratch_array(&scratch.account_orders, &scratch_have[6], c->accounts.capacity);
    char sum[48];

    /* The pools: the records against the core's counters and the configured limits. */
    if (p->order_high > cfg->max_orders || p->trade_high > cfg->max_trades)
        sim_fail("slots used up to %u orders and %u trades, pools of %u and %u", p->order_high,
                 p->trade_high, cfg->max_orders, cfg->max_trades);
    uint32_t orders_used = 0;
    uint64_t trades_reserved = 0;
    for (uint32_t i = 0; i < p->order_high; i++) {
        const core_order *o = &c->orders[i];
        if (o->status == 0)
            continue;
        check_order_record(c, i);
        orders_used++;
        trades_reserved += o->trades_reserved;
        account_orders[o->account]++;
    }
    uint32_t trades_used = 0;
    for (uint32_t t = 0; t < p->trade_high; t++) {
        const core_trade *tr = &c->trades[t];
        if (tr->lots == 0 && tr->order == 0 && tr->trade_id == 0)
            continue; /* a free record is all zero */
        if (!slot_used(c, tr->order) || tr->lots <= 0)
            sim_fail("trade record %u (%" PRId64 " lots) names slot %u, which holds no order", t,
                     tr->lots, tr->order);
        trades_used++;
        trade_lots[tr->order] += tr->lots;
        trade_records[tr->order]++;
    }
    if (orders_used != p->orders_in_use || trades_used != p->trades_in_use ||
        trades_reserved != p->trades_reserved)
        sim_fail("%u orders, %u trade records and %" PRIu64 " reserved records in use; the core "
                 "counts %u, %u and %" PRIu64,
                 orders_used, trades_used, trades_reserved, p->orders_in_use, p->trades_in_use,
                 p->trades_reserved);
    if (trades_used + trades_reserved > cfg->max_trades)
        sim_fail("%u trade records used and %" PRIu64 " reserved, in a pool of %u", trades_used,
                 trades_reserved, cfg->max_trades);
    for (uint32_t a = 0; a < c->accounts.capacity; a++)
        if (account_orders[a] != c->account_orders[a] ||
            account_orders[a] > cfg->max_orders_per_account)
            sim_fail("account %u holds %s orders (the core counts %u, the limit is %u)", a,
                     wide_text(account_orders[a], sum), c->account_orders[a],
                     cfg->max_orders_per_account);
    if (full) {
        for (uint32_t i = p->order_high; i < cfg->max_orders; i++)
            if (c->orders[i].status != 0)
                sim_fail("slot %u above the slots ever used (%u) holds an order", i, p->order_high);
        for (uint32_t t = p->trade_high; t < cfg->max_trades; t++)
            if (c->trades[t].lots != 0 || c->trades[t].trade_id != 0)
                sim_fail("trade record %u above the records ever used (%u) is taken", t,
                         p->trade_high);
    }

    /* Opening cash, pay-ins, and what orders that left the history did. */
    for (uint32_t a = 0; a < lg->account_count; a++) {
        const sim_book_cash *book = &s->book_cash[(size_t)a * REFDATA_MAX_CURRENCIES];
        for (uint32_t k = 0; k < REFDATA_MAX_CURRENCIES && book[k].currency[0] != '\0'; k++) {
            long slot = cash_slot(lg, a, book[k].currency);
            if (slot < 0)
                sim_fail("account %u holds no %s, which its opening cash, pay-ins or past "
                         "trades (%s nano) put there",
                         a, book[k].currency, wide_text(book[k].amount_nano, sum));
            expected_cash[slot] += book[k].amount_nano;
        }
    }
    for (size_t pos = 0; pos < position_slots; pos++)
        expected_units[pos] = s->book_units[pos];

    /* Orders in the history: their fills, their reservations, and what their executions did to
     * the ledger. */
    for (uint32_t i = 0; i < p->order_high; i++) {
        const core_order *o = &c->orders[i];
        if (o->status == 0)
            continue;
        if (trade_lots[i] != o->lots_executed)
            sim_fail("order %u executed %" PRId64 " lots but its trades add up to %s", i,
                     o->lots_executed, wide_text(trade_lots[i], sum));
        if (trade_records[i] != o->trade_count)
            sim_fail("order %u counts %u trades but %s trade records name it", i, o->trade_count,
                     wide_text(trade_records[i], sum));
        if (full)
            check_indexes(c, o);
        const instrument *ins = &rd->instruments[o->instrument];
        long slot = cash_slot(lg, o->account, ins->currency);
        size_t pos = (size_t)o->account * lg->instrument_count + o->instrument;
        if (o->lots_executed > 0 && slot < 0)
            sim_fail("order %u traded in %s, which account %u has no slot for", i, ins->currency,
                     o->account);
        if (ins->kind == INSTRUMENT_KIND_FUTURE) {
            /* Futures (margin accounts only): a fill moves no value, only the commission; an
             * order of either side holds its guarantee and commission in cash. */
            if (!sim_margin_account(s, o->account))
                sim_fail("order %u of account %u, a cash account, is in futures %s", i, o->account,
                         ins->ticker);
            if (slot >= 0)
                expected_cash[slot] -= (wide)o->executed_commission_nano;
            expected_units[pos] +=
                (wide)o->lots_executed * ins->lot * (o->direction == DIRECTION_BUY ? 1 : -1);
            if (o->reserved_units != 0)
                sim_fail("futures order %u holds %" PRId64 " units", i, o->reserved_units);
            if (!order_status_is_final(o->status) && o->reserved_cash_nano > 0) {
                if (slot < 0)
                    sim_fail("order %u reserves %s that account %u has no slot for", i,
                             ins->currency, o->account);
                reserved_cash[slot] += o->reserved_cash_nano;
            }
        } else if (o->direction == DIRECTION_BUY) {
            if (slot >= 0)
                expected_cash[slot] -= (wide)o->executed_value_nano + o->executed_commission_nano;
            expected_units[pos] += (wide)o->lots_executed * ins->lot;
            if (!order_status_is_final(o->status) && o->reserved_cash_nano > 0) {
                if (slot < 0)
                    sim_fail("order %u reserves %s that account %u has no slot for", i,
                             ins->currency, o->account);
                reserved_cash[slot] += o->reserved_cash_nano;
            }
        } else {
            if (slot >= 0)
                expected_cash[slot] += (wide)o->executed_value_nano - o->executed_commission_nano;
            expected_units[pos] -= (wide)o->lots_executed * ins->lot;
            if (!order_status_is_final(o->status))
                reserved_units[pos] += o->reserved_units;
        }
    }
    /* Each futures position holds its guarantee in the cash of its currency: its contracts
     * times the guarantee of its side. */
    for (uint32_t a = 0; a < lg->account_count; a++)
        for (uint32_t i = 0; i < lg->instrument_count; i++) {
            const instrument *ins = &rd->instruments[i];
            int64_t units = ledger_position_get(lg, a, i)->balance_units;
            if (ins->kind != INSTRUMENT_KIND_FUTURE || units == 0)
                continue;
            if (!sim_margin_account(s, a))
                sim_fail("account %u, a cash account, holds %" PRId64 " units of futures %s", a,
                         units, ins->ticker);
            long slot = cash_slot(lg, a, ins->currency);
            if (slot < 0)
                sim_fail("account %u holds futures %s without %s cash for its guarantee", a,
                         ins->ticker, ins->currency);
            reserved_cash[slot] += units > 0 ? (wide)units * ins->initial_margin_on_buy_nano
                                             : -(wide)units * ins->initial_margin_on_sell_nano;
        }
    for (size_t slot = 0; slot < cash_slots; slot++) {
        const ledger_cash *cash = &lg->cash[slot];
        if (cash->currency[0] == '\0')
            continue;
        uint32_t a = (uint32_t)(slot / REFDATA_MAX_CURRENCIES);
        bool margin = sim_margin_account(s, a);
        if (cash->blocked_nano != reserved_cash[slot])
            sim_fail("account %u %s: blocked %" PRId64 " but active orders and futures "
                     "guarantees reserve %s",
                     a, cash->currency, cash->blocked_nano, wide_text(reserved_cash[slot], sum));
        if (cash->balance_nano != expected_cash[slot])
            sim_fail("account %u %s: balance %" PRId64 " but opening + pay-ins + executions give "
                     "%s",
                     a, cash->currency, cash->balance_nano, wide_text(expected_cash[slot], sum));
        if (cash->blocked_nano < 0 || (!margin && cash->balance_nano < 0))
            sim_fail("account %u %s: balance %" PRId64 ", blocked %" PRId64 " (negative)", a,
                     cash->currency, cash->balance_nano, cash->blocked_nano);
        if (!margin && cash->blocked_nano > cash->balance_nano)
            sim_fail("account %u %s: blocked %" PRId64 " exceeds balance %" PRId64
                     " (free cash negative); %s",
                     a, cash->currency, cash->blocked_nano, cash->balance_nano,
                     describe_holders(c, a, 0, cash->currency));
    }
    for (size_t pos = 0; pos < position_slots; pos++) {
        const ledger_position *ps = &lg->positions[pos];
        uint32_t a = (uint32_t)(pos / lg->instrument_count);
        uint32_t ins = (uint32_t)(pos % lg->instrument_count);
        if (ps->blocked_units != reserved_units[pos])
            sim_fail("account %u instrument %u: blocked %" PRId64
                     " units but active sells reserve %s",
                     a, ins, ps->blocked_units, wide_text(reserved_units[pos], sum));
        if (ps->balance_units != expected_units[pos])
            sim_fail("account %u instrument %u: holds %" PRId64 " units but executions give %s", a,
                     ins, ps->balance_units, wide_text(expected_units[pos], sum));
        /* A margin account may be short; it holds back only units it has. */
        bool margin = sim_margin_account(s, a);
        if ((!margin && ps->balance_units < 0) || ps->blocked_units < 0 ||
            ps->blocked_units > (ps->balance_units > 0 ? ps->balance_units : 0))
            sim_fail("account %u instrument %u: %" PRId64 " units held, %" PRId64 " blocked; %s", a,
                     ins, ps->balance_units, ps->blocked_units, describe_holders(c, a, ins, NULL));
    }
    if (c->accounts.configured_count + c->accounts.opened_count != refdata_account_count(rd) ||
        refdata_account_count(rd) > c->accounts.capacity)
        sim_fail("%u configured + %u opened accounts, %u published, capacity %u",
                 c->accounts.configured_count, c->accounts.opened_count, refdata_account_count(rd),
                 c->accounts.capacity);
    for (uint32_t a = 0; a < refdata_account_count(rd); a++)
        if ((refdata_account_status(&rd->accounts[a]) == ACCOUNT_STATUS_CLOSED) !=
            (c->accounts.closed[a] != 0))
            sim_fail("account %u: closed in the core and in the reference data disagree", a);
    check_new_trades(s, c);
    /* The indexes change only when an order is accepted or acknowledged (or leaves): between
     * full checks, the orders this batch touched that are still in the history. */
    for (size_t t = 0; !full && t < s->touched_count; t++)
        if (slot_used(c, s->touched[t]))
            check_indexes(c, &c->orders[s->touched[t]]);
    s->touched_count = 0;
    if (full)
        check_keys_unique(c);
}

/* A replacement waits only while the order it replaces is active: the event that ends that
 * order settles it in the same command. (Not after a recovery before core_resume: a torn tail
 * may keep the end and lose the settlement.) */
static void check_waiting_replacements(const core *c) {
    char text[320];
    for (uint32_t i = 0; i < c->pools.order_high; i++) {
        const core_order *o = &c->orders[i];
        if (o->status == 0 || !o->awaiting_replaced)
            continue;
        if (!slot_used(c, o->replaces_order) ||
            order_status_is_final(c->orders[o->replaces_order].status))
            sim_fail("%s still waits, but the order it replaces has ended",
                     describe_order(o, text, sizeof text));
    }
}

/* After the last batch, when the exchange had time to answer everything. */
static void check_quiescent(sim *s, const core *c) {
    char text[320];
    if (c->pools.request_count != 0)
        sim_fail("%u requests for the exchange still queued", c->pools.request_count);
    for (uint32_t i = 0; i < c->pools.order_high; i++) {
        const core_order *o = &c->orders[i];
        if (o->status == 0)
            continue;
        if (o->replaces_order != CORE_NO_ORDER &&
            !order_status_is_final(c->orders[o->replaces_order].status))
            sim_fail("order %u replaced %s, which is still active", i,
                     describe_order(&c->orders[o->replaces_order], text, sizeof text));
        describe_order(o, text, sizeof text);
        if (order_status_is_final(o->status))
            continue;
        if (o->type != ORDER_TYPE_LIMIT || o->tif != TIF_DAY)
            sim_fail("%s still active long after the exchange saw it: only day limit orders "
                     "may rest",
                     text);
        if (o->exchange_order_id == 0)
            sim_fail("%s never got an answer from the exchange", text);
        if (c->accounts.closed[o->account])
            sim_fail("%s of a closed account still active", text);
    }
    (void)s;
}

/* ---- The event sink wrapper ---------------------------------------------------------------- */

/* Whether a crash may leave the broker in this state under the restriction that keeps the
 * simulator away from a known recovery bug: no market, best-price, FAK or FOK order acknowledged
 * but not matched (restore-immediate-orders). */
static bool restorable(sim *s) {
    const core *c = live_core(s);
    if (!s->restrict_to.restore_immediate_orders)
        return true;
    for (uint32_t i = 0; i < c->pools.order_high; i++) {
        const core_order *o = &c->orders[i];
        if (o->status == 0 || order_status_is_final(o->status))
            continue;
        if (o->exchange_order_id != 0 && (o->type != ORDER_TYPE_LIMIT || o->tif != TIF_DAY))
            return false;
    }
    return true;
}

/* `offset`: the bytes of the batch's records before this boundary. */
static void record_boundary(sim *s, uint64_t offset) {
    s->boundaries =
        grow(s->boundaries, &s->boundary_capacity, s->boundary_count, sizeof *s->boundaries);
    s->boundaries[s->boundary_count++] = (sim_boundary){
        .hash = state_hash(live_core(s)), .offset = offset, .restorable = restorable(s)};
}

/* HISTORY_RETIRED, before it is applied: the orders at the head of the FIFO of finished orders
 * leave. Each must have ended, and ended at least the retention before the event; what they did
 * to the ledger goes into the books. */
static void on_retired(sim *s, const core *c, const core_event *ev) {
    const core_pools *p = &c->pools;
    uint32_t count = ev->u.retired.count;
    if (count == 0 || count > p->finished_count)
        sim_fail("event %" PRIu64 " retires %u orders of %u finished", ev->seq, count,
                 p->finished_count);
    for (uint32_t i = 0; i < count; i++) {
        uint32_t slot = c->finished[(p->finished_head + i) % c->config.max_orders];
        const core_order *o = &c->orders[slot];
        char text[320];
        if (!slot_used(c, slot) || !order_status_is_final(o->status))
            sim_fail("event %" PRIu64 " retires slot %u, whose order has not ended", ev->seq, slot);
        describe_order(o, text, sizeof text);
        if (o->completion_ns > ev->time_ns - c->config.order_retention_ns)
            sim_fail("event %" PRIu64 " at %" PRId64 " retires %s, which ended at %" PRId64
                     ", less than the retention (%" PRId64 " ns) before",
                     ev->seq, ev->time_ns, text, o->completion_ns, c->config.order_retention_ns);
        if (o->completion_ns < s->last_retired_completion_ns)
            sim_fail("event %" PRIu64 " retires %s, which ended before an order retired earlier",
                     ev->seq, text);
        if (o->replaced_by != CORE_NO_ORDER && slot_used(c, o->replaced_by) &&
            c->orders[o->replaced_by].awaiting_replaced)
            sim_fail("event %" PRIu64 " retires %s, which its replacement still waits for", ev->seq,
                     text);
        s->last_retired_completion_ns = o->completion_ns;
        s->retired = grow(s->retired, &s->retired_capacity, s->retired_count, sizeof *s->retired);
        s->retired[s->retired_count++] = (sim_retired){.seq = ev->seq,
                                                       .accepted_seq = o->accepted_seq,
                                                       .slot = slot,
                                                       .account = o->account,
                                                       .status = o->status,
                                                       .lots_executed = o->lots_executed};
        memcpy(s->retired[s->retired_count - 1].key, o->key, sizeof o->key);
        s->n.retirements++;
        if (o->lots_executed == 0)
            continue;
        const instrument *ins = &c->refdata->instruments[o->instrument];
        sim_book_entry e = {.seq = ev->seq,
                            .kind = BOOK_RETIRED,
                            .account = o->account,
                            .instrument = o->instrument};
        snprintf(e.currency, sizeof e.currency, "%s", ins->currency);
        wide units = (wide)o->lots_executed * ins->lot;
        if (ins->kind == INSTRUMENT_KIND_FUTURE) {
            /* A futures fill moves no value: the commission only (variation margin is paid at
             * the clearings, booked on their events). */
            e.cash_nano = -(wide)o->executed_commission_nano;
            e.units = o->direction == DIRECTION_BUY ? units : -units;
        } else if (o->direction == DIRECTION_BUY) {
            e.cash_nano = -((wide)o->executed_value_nano + o->executed_commission_nano);
            e.units = units;
        } else {
            e.cash_nano = (wide)o->executed_value_nano - o->executed_commission_nano;
            e.units = -units;
        }
        book_add(s, e);
    }
}

/* ACCOUNT_OPENED, before it is applied: a slot below the opened count is a closed sandbox
 * account's, which must hold no order any more; its old id is gone and its books start over. */
static void on_account_opened(sim *s, const core *c, const core_event *ev) {
    const core_accounts_state *a = &c->accounts;
    uint32_t slot = ev->u.account_opened.account;
    if (slot >= a->configured_count + a->opened_count)
        return;
    uint32_t held = orders_of_account(c, slot);
    if (slot < a->configured_count || !a->closed[slot] || held != 0)
        sim_fail("event %" PRIu64 " gives account slot %u to a new account while its account "
                 "is %s and holds %u orders",
                 ev->seq, slot, a->closed[slot] ? "closed" : "open", held);
    s->gone = grow(s->gone, &s->gone_capacity, s->gone_count, sizeof *s->gone);
    sim_gone_account *g = &s->gone[s->gone_count++];
    g->seq = ev->seq;
    snprintf(g->id, sizeof g->id, "%s", c->refdata->accounts[slot].id);
    book_add(s, (sim_book_entry){.seq = ev->seq, .kind = BOOK_RESET, .account = slot});
    s->n.accounts_reused++;
    say(s, "account slot %u reused: closed account %s gives way to a new one", slot, g->id);
}

static void on_trade(sim *s, const core *c, const core_event *ev) {
    const core_order *o = &c->orders[ev->order];
    s->trades = grow(s->trades, &s->trade_capacity, s->trade_count, sizeof *s->trades);
    s->trades[s->trade_count++] = (sim_trade){.seq = ev->seq,
                                              .trade_id = ev->u.trade.trade_id,
                                              .lots = ev->u.trade.lots,
                                              .price_nano = ev->u.trade.price_nano,
                                              .time_ns = ev->time_ns,
                                              .slot = ev->order,
                                              .account = o->account,
                                              .instrument = o->instrument,
                                              .direction = o->direction};
    s->pending = grow(s->pending, &s->pending_capacity, s->pending_count, sizeof *s->pending);
    s->pending[s->pending_count++] = *o;
    s->n.fills++;
    s->n.futures_fills += c->refdata->instruments[o->instrument].kind == INSTRUMENT_KIND_FUTURE;
}

/* ReplaceOrder is cancel-then-place: a replacement is armed (reserves and goes to the exchange)
 * only once the order it replaces was cancelled; it is rejected as REPLACED_ORDER_ENDED if that
 * order ended otherwise (filled, rejected), or by the broker's checks once the money it needs
 * is no longer free. Checked on REPLACEMENT_ARMED and ORDER_REJECTED, before they apply. */
static void on_replacement_settled(const core *c, const core_event *ev) {
    const core_order *o = &c->orders[ev->order];
    bool armed = ev->type == CORE_EVENT_REPLACEMENT_ARMED;
    bool ended = !armed && ev->u.rejected.reason == (int32_t)CORE_ERR_REPLACED_ORDER_ENDED;
    if (!armed && !o->awaiting_replaced && !ended)
        return; /* an order at the exchange, rejected there */
    const core_order *old = slot_used(c, o->replaces_order) ? &c->orders[o->replaces_order] : NULL;
    bool cancelled = old != NULL && old->status == ORDER_STATUS_CANCELLED;
    bool right;
    if (armed)
        right = o->awaiting_replaced && cancelled;
    else if (ended)
        right =
            o->awaiting_replaced && old != NULL && order_status_is_final(old->status) && !cancelled;
    else
        right = cancelled && ev->u.rejected.cause == ORDER_CAUSE_REJECTED_BY_BROKER;
    char text[320];
    if (!right)
        sim_fail("event %" PRIu64 " %s %s, while the order it replaces has status %d", ev->seq,
                 armed   ? "arms"
                 : ended ? "rejects as ended"
                         : "rejects",
                 describe_order(o, text, sizeof text), old != NULL ? (int)old->status : -1);
}

/* A price difference times units, in money: each step of the tick is worth its amount. The
 * simulator's prices are on the tick, so the count is exact; anything else is a failure. */
static wide points_money(const instrument *ins, wide points) {
    char text[48];
    if (points % ins->min_price_increment_nano != 0)
        sim_fail("variation margin of %s: %s nano x units is not a whole number of ticks",
                 ins->ticker, wide_text(points, text));
    /* Without a step value, points are money (valuation_amount, margin_points_value). */
    wide worth = ins->min_price_increment_amount_nano > 0 ? ins->min_price_increment_amount_nano
                                                          : ins->min_price_increment_nano;
    return points / ins->min_price_increment_nano * worth;
}

/* FUTURES_CLEARING, before it is applied: what each account is to be paid, counted from the fills
 * and the earlier clearings alone (each fill at price f makes (S - f) x units, each clearing
 * (S - S_prev) x the position), and what the market maker — the other side of every fill whose
 * trade has only one client side — makes by the same rule. Booked as payments; vm_check compares
 * them with what the clearing did once it has applied. */
static void vm_expect(sim *s, const core *c, const core_event *ev) {
    const core_event_clearing *e = &ev->u.clearing;
    if (e->instrument == UINT32_MAX) {
        /* A clearing with nothing to settle: no position nor anything due in any future. */
        for (uint32_t i = 0; i < c->refdata->instrument_count; i++)
            if (c->refdata->instruments[i].kind == INSTRUMENT_KIND_FUTURE)
                for (uint32_t a = 0; a < s->account_capacity; a++)
                    if (ledger_position_get(&c->ledger, a, i)->balance_units != 0 ||
                        margin_future_get(c, a, i)->pending_vm_nano != 0)
                        sim_fail("event %" PRIu64 " records a clearing with nothing to settle, "
                                 "but account %u holds %s",
                                 ev->seq, a, c->refdata->instruments[i].ticker);
        return;
    }
    const instrument *ins = &c->refdata->instruments[e->instrument];
    if (ins->kind != INSTRUMENT_KIND_FUTURE)
        sim_fail("event %" PRIu64 " clears %s, which is no futures contract", ev->seq, ins->ticker);
    size_t parties = (size_t)s->account_capacity + 1, maker = s->account_capacity;
    wide *pos = calloc(parties * 3, sizeof *pos);
    if (pos == NULL)
        sim_fail("out of memory");
    wide *pos_prev = pos + parties, *fu = pos + 2 * parties;
    wide s_prev = 0;
    size_t k = 0;
    for (size_t t = 0; t <= s->trade_count; t++) {
        uint64_t seq = t < s->trade_count ? s->trades[t].seq : ev->seq;
        for (; k < s->clearing_count && s->clearings[k].seq < seq; k++) {
            if (s->clearings[k].instrument != e->instrument)
                continue;
            memcpy(pos_prev, pos, parties * sizeof *pos);
            memset(fu, 0, parties * sizeof *fu);
            s_prev = s->clearings[k].price_nano;
        }
        if (t == s->trade_count)
            break;
        const sim_trade *tr = &s->trades[t];
        if (tr->instrument != e->instrument)
            continue;
        wide u = (wide)tr->lots * ins->lot * (tr->direction == DIRECTION_BUY ? 1 : -1);
        pos[tr->account] += u;
        fu[tr->account] += u * tr->price_nano;
        bool paired = (t > 0 && s->trades[t - 1].trade_id == tr->trade_id) ||
                      (t + 1 < s->trade_count && s->trades[t + 1].trade_id == tr->trade_id);
        if (!paired) {
            pos[maker] -= u;
            fu[maker] -= u * tr->price_nano;
        }
    }
    for (size_t a = 0; a < parties; a++) {
        wide vm = points_money(ins, pos[a] * e->price_nano - pos_prev[a] * s_prev - fu[a]);
        if (a == maker) {
            s->vm_maker = vm;
            continue;
        }
        s->vm_expected[a] = vm;
        const ledger_cash *cash = ledger_cash_find(&c->ledger, (uint32_t)a, ins->currency);
        s->vm_before[a] = cash != NULL ? cash->balance_nano : 0;
        if (vm == 0)
            continue;
        if (!sim_margin_account(s, (uint32_t)a))
            sim_fail("event %" PRIu64 ": account %zu, a cash account, is owed variation margin "
                     "in %s",
                     ev->seq, a, ins->ticker);
        sim_book_entry b = {.seq = ev->seq,
                            .kind = BOOK_PAYMENT,
                            .account = (uint32_t)a,
                            .instrument = e->instrument,
                            .cash_nano = vm};
        snprintf(b.currency, sizeof b.currency, "%s", ins->currency);
        book_add(s, b);
        s->n.vm_payments++;
    }
    free(pos);
    s->clearings =
        grow(s->clearings, &s->clearing_capacity, s->clearing_count, sizeof *s->clearings);
    s->clearings[s->clearing_count++] =
        (sim_clearing){.seq = ev->seq, .instrument = e->instrument, .price_nano = e->price_nano};
    s->vm_open = true;
    s->vm_seq = ev->seq;
    s->vm_instrument = e->instrument;
    s->n.clearings++;
}

/* Once the clearing has applied: each account was paid what vm_expect counted, and the clients'
 * payments and the market maker's variation margin sum to zero. */
static void vm_check(sim *s, const core *c) {
    if (!s->vm_open)
        return;
    s->vm_open = false;
    const instrument *ins = &c->refdata->instruments[s->vm_instrument];
    wide paid = 0;
    char a_text[48], b_text[48];
    for (uint32_t a = 0; a < c->ledger.account_count && a < s->account_capacity; a++) {
        const ledger_cash *cash = ledger_cash_find(&c->ledger, a, ins->currency);
        wide moved = (cash != NULL ? (wide)cash->balance_nano : 0) - s->vm_before[a];
        if (moved != s->vm_expected[a])
            sim_fail("clearing %" PRIu64 " of %s paid account %u %s nano, the fills and "
                     "clearings give %s",
                     s->vm_seq, ins->ticker, a, wide_text(moved, a_text),
                     wide_text(s->vm_expected[a], b_text));
        paid += moved;
    }
    if (paid + s->vm_maker != 0)
        sim_fail("clearing %" PRIu64 " of %s: clients paid %s nano, the market maker %s: "
                 "variation margin does not sum to zero",
                 s->vm_seq, ins->ticker, wide_text(paid, a_text), wide_text(s->vm_maker, b_text));
}

/* MARGIN_FEE, before it is applied: a margin account's overnight fee, at a clearing. */
static void on_margin_fee(sim *s, const core_event *ev) {
    const core_event_margin_fee *f = &ev->u.margin_fee;
    if (!sim_margin_account(s, f->account) || f->amount_nano <= 0 ||
        s->core_cfg.margin.clearing_count == 0)
        sim_fail("event %" PRIu64 " charges account %u (%s) a fee of %" PRId64, ev->seq, f->account,
                 sim_margin_account(s, f->account) ? "margin" : "cash", f->amount_nano);
    sim_book_entry b = {.seq = ev->seq,
                        .kind = BOOK_PAYMENT,
                        .account = f->account,
                        .instrument = f->instrument,
                        .cash_nano = -(wide)f->amount_nano};
    snprintf(b.currency, sizeof b.currency, "%s", f->currency);
    book_add(s, b);
    s->n.margin_fees++;
}

static void sim_sink(void *ctx, const core_event *ev) {
    sim *s = ctx;
    const core *c = live_core(s);
    if (s->track_events)
        record_boundary(s, s->journal.pending_bytes); /* the batch began with nothing pending */
    if (ev->time_ns < s->last_event_ns)
        sim_fail("event %" PRIu64 " (type %u) at %" PRId64 " is earlier than the previous event "
                 "at %" PRId64,
                 ev->seq, ev->type, ev->time_ns, s->last_event_ns);
    s->last_event_ns = ev->time_ns;
    vm_check(s, c); /* the clearing before this event has applied */
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_FUTURES_CLEARING:
        vm_expect(s, c, ev);
        break;
    case CORE_EVENT_MARGIN_FEE:
        on_margin_fee(s, ev);
        break;
    case CORE_EVENT_CASH_ADJUSTED: {
        sim_book_entry e = {.seq = ev->seq,
                            .kind = BOOK_PAY_IN,
                            .account = ev->u.cash.account,
                            .cash_nano = ev->u.cash.amount_nano};
        memcpy(e.currency, ev->u.cash.currency, sizeof e.currency);
        book_add(s, e);
        break;
    }
    case CORE_EVENT_ORDER_ACCEPTED:
        if (slot_used(c, ev->order))
            sim_fail("event %" PRIu64 " accepts an order into slot %u, which holds order %" PRIu64,
                     ev->seq, ev->order, c->orders[ev->order].accepted_seq);
        if (ev->u.accepted.source == ORDER_SOURCE_MARGIN_CALL) {
            /* The broker closes positions only of margin accounts with the margin call on. */
            uint32_t a = ev->u.accepted.account;
            if (!sim_margin_account(s, a) || !s->pristine.accounts[a].margin_call)
                sim_fail("event %" PRIu64 ": a margin call on account %u, which has none", ev->seq,
                         a);
            s->n.margin_calls++;
        }
        s->accepted_events++;
        s->last_accepted_slot = ev->order;
        s->last_accepted_seq = ev->seq;
        s->n.accepted++;
        __attribute__((fallthrough));
    case CORE_EVENT_ORDER_ACKED:
        s->touched = grow(s->touched, &s->touched_capacity, s->touched_count, sizeof *s->touched);
        s->touched[s->touched_count++] = ev->order;
        break;
    case CORE_EVENT_ORDER_TRADE:
        on_trade(s, c, ev);
        break;
    case CORE_EVENT_HISTORY_RETIRED:
        on_retired(s, c, ev);
        break;
    case CORE_EVENT_ACCOUNT_OPENED:
        on_account_opened(s, c, ev);
        break;
    case CORE_EVENT_REPLACEMENT_ARMED:
    case CORE_EVENT_ORDER_REJECTED:
        on_replacement_settled(c, ev);
        break;
    default:
        break;
    }
    /* What a command does before it looks (retirements, stop orders that are due expiring) is
     * not the command's own. */
    if (ev->type >= CORE_EVENT_STOP_ORDER_PLACED && ev->type <= CORE_EVENT_STOP_ORDERS_RETIRED)
        s->n.stop_events[ev->type - CORE_EVENT_STOP_ORDER_PLACED]++;
    if (ev->type != CORE_EVENT_HISTORY_RETIRED && ev->type != CORE_EVENT_STOP_ORDERS_RETIRED &&
        ev->type != CORE_EVENT_STOP_ORDER_EXPIRED)
        s->state_events++;
    s->n.events++;
    s->inner_sink.append(s->inner_sink.ctx, ev);
}

/* ---- Incarnations: start, crash, recover --------------------------------------------------- */

static void segment_path(const sim *s, uint32_t index, char *out, size_t size) {
    snprintf(out, size, "%s/journal-%08u.log", s->dir, index);
}

static void snapshot_path(const sim *s, uint64_t seq, char *out, size_t size) {
    snprintf(out, size, "%s/snapshot-%020" PRIu64 ".snap", s->dir, seq);
}

static int by_accepted_seq(const void *a, const void *b) {
    const sim_retired *x = a, *y = b;
    return (x->accepted_seq > y->accepted_seq) - (x->accepted_seq < y->accepted_seq);
}

/* The retirement of the order accepted as event `accepted_seq`, in `sorted` (by that number). */
static const sim_retired *find_retired(const sim_retired *sorted, size_t n, uint64_t accepted_seq) {
    sim_retired probe = {.accepted_seq = accepted_seq};
    return n > 0 ? bsearch(&probe, sorted, n, sizeof *sorted, by_accepted_seq) : NULL;
}

static bool account_gone(const sim *s, const char *id) {
    for (size_t i = 0; i < s->gone_count; i++)
        if (strcmp(s->gone[i].id, id) == 0)
            return true;
    return false;
}

/* Facts the client was told must hold in the recovered state: an order is there as told (or
 * further along), or it left the history by a retirement the state records, after it had got
 * as far as told; an account is there, closed if it was closed, or its closed slot went to a
 * new account. */
static void check_facts(sim *s) {
    const core *c = live_core(s);
    const refdata *rd = c->refdata;
    sim_retired *sorted = malloc((s->retired_count ? s->retired_count : 1) * sizeof *sorted);
    if (sorted == NULL)
        sim_fail("out of memory");
    if (s->retired_count > 0) {
        memcpy(sorted, s->retired, s->retired_count * sizeof *sorted);
        qsort(sorted, s->retired_count, sizeof *sorted, by_accepted_seq);
    }
    for (size_t i = 0; i < s->fact_count; i++) {
        const sim_fact *f = &s->facts[i];
        if (f->kind == FACT_ORDER) {
            order_status status;
            int64_t lots_executed;
            if (holds(c, f->slot, f->accepted_seq)) {
                const core_order *o = &c->orders[f->slot];
                if (o->account != f->account || strcmp(o->key, f->key) != 0)
                    sim_fail("order %u (event %" PRIu64 "), answered in batch %" PRIu64
                             " with key %s, recovered as %s",
                             f->slot, f->accepted_seq, f->batch, f->key, o->key);
                status = o->status;
                lots_executed = o->lots_executed;
            } else {
                const sim_retired *r = find_retired(sorted, s->retired_count, f->accepted_seq);
                if (r == NULL || r->slot != f->slot || r->account != f->account)
                    sim_fail("order %u (event %" PRIu64 ", key %s), answered in batch %" PRIu64
                             ", lost in recovery",
                             f->slot, f->accepted_seq, f->key, f->batch);
                status = r->status;
                lots_executed = r->lots_executed;
            }
            if (lots_executed < f->lots_executed ||
                (order_status_is_final(f->status) && status != f->status))
                sim_fail("order %u (event %" PRIu64 "), answered in batch %" PRIu64
                         " as status %d with %" PRId64
                         " lots executed, recovered as status %d with %" PRId64,
                         f->slot, f->accepted_seq, f->batch, f->status, f->lots_executed, status,
                         lots_executed);
            continue;
        }
        uint32_t count = refdata_account_count(rd), a = 0;
        while (a < count && strcmp(rd->accounts[a].id, f->key) != 0)
            a++;
        if (a == count) {
            if (!account_gone(s, f->key))
                sim_fail("account %s, answered in batch %" PRIu64 ", lost in recovery", f->key,
                         f->batch);
            continue;
        }
        if (f->kind == FACT_ACCOUNT_CLOSED && !c->accounts.closed[a])
            sim_fail("account %s, closed in batch %" PRIu64 ", open again after recovery", f->key,
                     f->batch);
    }
    free(sorted);
}

/* An error text with the data directory (a temporary path) replaced by "DATA", so that a
 * failure line is the same on every run of the seed. */
static const char *without_dir(const sim *s, const char *text) {
    static char out[1024];
    size_t dir_len = strlen(s->dir), n = 0;
    for (const char *p = text; *p != '\0' && n + 5 < sizeof out;) {
        if (strncmp(p, s->dir, dir_len) == 0) {
            memcpy(out + n, "DATA", 4);
            n += 4;
            p += dir_len;
        } else {
            out[n++] = *p++;
        }
    }
    out[n] = '\0';
    return out;
}

static void wrap_sink(sim *s) {
    core *c = engine_core(s->e);
    s->inner_sink = c->sink;
    c->sink = (core_event_sink){.ctx = s, .append = sim_sink};
}

/* A new engine, venue and journal from the data directory, as src/main.c starts. */
static void start_incarnation(sim *s) {
    memcpy(&s->live_rd, &s->pristine, sizeof s->live_rd);
    core_config cc = s->core_cfg;
    cc.refdata = &s->live_rd;
    s->link = venue_link_create(&s->live_rd, &s->sc.venue, s->now_ns);
    s->e = calloc(1, sizeof *s->e);
    if (s->link == NULL || s->e == NULL || engine_init(s->e, &s->engine_cfg, &cc, s->link) != 0)
        sim_fail("out of memory starting the engine");
    char error[600];
    if (engine_recover(s->e, &s->journal, s->dir, JOURNAL_SYNC_NONE, s->sc.snapshot_every_events,
                       error, sizeof error) != 0)
        sim_fail("recovery refused: %s", without_dir(s, error));
    s->durable_hash = state_hash(live_core(s));
    s->durable_is_current = true;
    s->durable_restorable = restorable(s);

    s->last_snapshot_pid = 0;
    s->enospc_armed = false;
    s->reserve_fault = false;
    s->stall_batches_left = 0;
    wrap_sink(s);
}

static void restore_venue(sim *s) {
    s->started_ns = s->now_ns;
    venue_link_restore(s->link, s->now_ns);
    /* Orders sent again to the exchange may already have events, not yet durable. */
    if (journal_has_pending(&s->journal))
        s->durable_is_current = false;
}

static void stop_incarnation(sim *s) {
    journal_close(&s->journal);
    engine_deinit(s->e);
    free(s->e);
    s->e = NULL;
    venue_link_destroy(s->link);
    s->link = NULL;
    /* The calls in flight die with the process: their clients never got an answer. */
    while (s->live_head != NULL)
        job_release(s, s->live_head);
}

typedef struct torn_plan {
    bool planned, usable;
    uint32_t segment;
    uint64_t start_bytes, end_bytes;
} torn_plan;

static bool file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

static uint64_t newest_snapshot(const sim *s) {
    DIR *d = opendir(s->dir);
    if (d == NULL)
        sim_fail("cannot list the data directory");
    uint64_t newest = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        unsigned long long seq;
        char tail[8];
        if (sscanf(entry->d_name, "snapshot-%20llu.%4s", &seq, tail) == 2 &&
            strcmp(tail, "snap") == 0 && seq > newest)
            newest = seq;
    }
    closedir(d);
    return newest;
}

/* The snapshot child of the crashed process: it finished, or was killed before its rename. */
static void crash_snapshot_faults(sim *s) {
    engine *e = s->e;
    char path[700];
    if (e->pending_snapshot_pid > 0) {
        int status;
        waitpid(e->pending_snapshot_pid, &status, 0);
        if (prng_percent(&s->faults, s->sc.snapshot_loss_percent)) {
            snapshot_path(s, e->pending_snapshot_seq, path, sizeof path);
            unlink(path);
            s->n.snapshots_lost++;
            say(s, "crash: snapshot at event %" PRIu64 " lost before its rename",
                e->pending_snapshot_seq);
        }
    }
    /* A damaged newest snapshot, when no other damaged one is on disk: two damaged generations
     * are beyond what recovery promises (docs/JOURNAL.md). */
    char damaged[700];
    snapshot_path(s, s->damaged_snapshot_seq, damaged, sizeof damaged);
    if (!prng_percent(&s->faults, s->sc.snapshot_damage_percent) ||
        (s->damaged_snapshot_seq != 0 && file_exists(damaged)))
        return;
    uint64_t newest = newest_snapshot(s);
    if (newest == 0)
        return;
    snapshot_path(s, newest, path, sizeof path);
    int fd = open(path, O_RDWR);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0 || st.st_size <= SIM_SNAPSHOT_HEADER_BYTES)
        sim_fail("cannot open snapshot %s to damage it", without_dir(s, path));
    /* Anywhere past the header; with snapshot-header-damage exposed, the header half the time. */
    off_t at;
    if (!s->restrict_to.snapshot_header_damage && prng_percent(&s->faults, 50))
        at = (off_t)sim_prng_below(&s->faults, SIM_SNAPSHOT_HEADER_BYTES);
    else
        at = SIM_SNAPSHOT_HEADER_BYTES +
             (off_t)sim_prng_below(&s->faults, (uint64_t)(st.st_size - SIM_SNAPSHOT_HEADER_BYTES));
    unsigned char byte;
    if (pread(fd, &byte, 1, at) != 1)
        sim_fail("cannot read snapshot %s", without_dir(s, path));
    byte ^= (unsigned char)(1u << sim_prng_below(&s->faults, 8));
    if (pwrite(fd, &byte, 1, at) != 1)
        sim_fail("cannot write snapshot %s", without_dir(s, path));
    close(fd);
    s->damaged_snapshot_seq = newest;
    s->n.snapshots_damaged++;
    say(s, "crash: snapshot at event %" PRIu64 " damaged at byte %lld", newest, (long long)at);
}

/* A boundary inside the last batch (not its end) where no immediate order is in flight. */
static bool any_safe_boundary(const sim *s) {
    for (size_t k = 0; k + 1 < s->boundary_count; k++)
        if (s->boundaries[k].restorable)
            return true;
    return false;
}

/* Throws the process away and recovers a new one from the data directory. With a usable torn
 * plan, the newest segment is first cut inside the last batch's records. */
static void crash_and_recover(sim *s, const torn_plan *torn) {
    uint64_t expected = s->durable_is_current ? state_hash(live_core(s)) : s->durable_hash;
    uint64_t expected_next_seq = 0;
    crash_snapshot_faults(s);
    if (torn->usable) {
        uint64_t records = s->boundary_count - 1, bytes = torn->end_bytes - torn->start_bytes;
        const sim_boundary *b = s->boundaries;
        if (b[records].offset != bytes)
            sim_fail("the last batch wrote %" PRIu64 " bytes for %" PRIu64 " events of %" PRIu64
                     " bytes",
                     bytes, records, b[records].offset);
        uint64_t cut = sim_prng_below(&s->faults, bytes);
        uint64_t kept = 0;
        while (kept + 1 < records && b[kept + 1].offset <= cut)
            kept++;
        if (!b[kept].restorable) {
            /* Only at a boundary the restrictions allow (any_safe_boundary found one). */
            do
                kept = sim_prng_below(&s->faults, records);
            while (!b[kept].restorable);
            cut = b[kept].offset + sim_prng_below(&s->faults, b[kept + 1].offset - b[kept].offset);
        }
        expected = b[kept].hash;
        expected_next_seq = live_core(s)->next_seq - records + kept;
        cut += torn->start_bytes;
        char path[700];
        segment_path(s, torn->segment, path, sizeof path);
        if (truncate(path, (off_t)cut) != 0)
            sim_fail("cannot truncate %s", without_dir(s, path));
        /* The batch's replies never left: the write they waited for did not finish. */
        while (s->fact_count > 0 && s->facts[s->fact_count - 1].batch == s->batch_no)
            s->fact_count--;
        s->n.torn++;
        say(s, "crash with a torn tail: %" PRIu64 " of %" PRIu64 " records of the last batch kept",
            kept, records);
    } else {
        say(s, "crash%s", s->durable_is_current ? "" : " while the journal cannot write");
    }
    s->n.crashes++;
    stop_incarnation(s);
    /* A restart takes a while: commands after it are stamped later than any before it. */
    s->now_ns += s->sc.max_stale_ns + prng_range(&s->faults, 1000000, NANO);
    start_incarnation(s);
    uint64_t got = state_hash(live_core(s));
    if (got != expected)
        sim_fail("recovered state hash %016" PRIx64 " differs from the %s state %016" PRIx64, got,
                 torn->usable ? "torn batch's" : "last durable", expected);
    if (expected_next_seq != 0 && live_core(s)->next_seq != expected_next_seq)
        sim_fail("recovered up to event %" PRIu64 ", expected %" PRIu64, live_core(s)->next_seq - 1,
                 expected_next_seq - 1);
    /* What events lost with the tail (or never written) did is no longer part of the history. */
    forget_lost_events(s, live_core(s)->next_seq);
    check_facts(s);
    sim_check_invariants(s, live_core(s), true);
    restore_venue(s);
}

/* A fresh engine replays the data directory (snapshot and journal) and must reach the live
 * state exactly. Only while everything is durable. */
static void replay_check(sim *s) {
    memcpy(&s->replay_rd, &s->pristine, sizeof s->replay_rd);
    core_config cc = s->core_cfg;
    cc.refdata = &s->replay_rd;
    engine *r = calloc(1, sizeof *r);
    journal *j = calloc(1, sizeof *j);
    char error[600];
    if (r == NULL || j == NULL || engine_init(r, &s->engine_cfg, &cc, NULL) != 0)
        sim_fail("out of memory for the replay");
    if (engine_recover(r, j, s->dir, JOURNAL_SYNC_NONE, 0, error, sizeof error) != 0)
        sim_fail("replay refused: %s", without_dir(s, error));
    uint64_t replayed = state_hash(&r->core), live = state_hash(live_core(s));
    if (replayed != live)
        sim_fail("replaying the data directory gives state %016" PRIx64 " (%u orders, %" PRIu64
                 " events), the live state is %016" PRIx64 " (%u orders, %" PRIu64 " events)",
                 replayed, r->core.pools.orders_in_use, r->core.next_seq - 1, live,
                 live_core(s)->pools.orders_in_use, live_core(s)->next_seq - 1);
    journal_close(j);
    engine_deinit(r);
    free(j);
    free(r);
    s->n.replays++;
}

/* ---- The run ------------------------------------------------------------------------------- */

static void advance_clock(sim *s) {
    prng *r = &s->rng;
    uint32_t roll = (uint32_t)sim_prng_below(r, 100);
    int64_t step;
    if (roll < 30)
        step = prng_range(r, 0, 1000);
    else if (roll < 65)
        step = prng_range(r, 1000, 1000000);
    else if (roll < 90)
        step = prng_range(r, 1000000, 50000000);
    else
        step = prng_range(r, 0, s->sc.max_step_ns);
    s->now_ns += step;
}

static uint32_t batch_size(sim *s) {
    prng *r = &s->rng;
    uint32_t roll = (uint32_t)sim_prng_below(r, 100);
    uint32_t n = roll < 20   ? 0
                 : roll < 70 ? (uint32_t)prng_range(r, 1, 4)
                 : roll < 95 ? (uint32_t)prng_range(r, 5, 32)
                             : (uint32_t)prng_range(r, 33, SIM_MAX_JOBS_PER_BATCH);
    return n < s->sc.max_batch ? n : s->sc.max_batch;
}

/* The disk fills up and frees again some batches later. Either the journal finds no room when
 * it reserves before a batch (changes are refused, reads answered, nothing held), or — on a
 * file system that cannot reserve — a seeded commit fails in the middle of a batch (its replies
 * are held until the disk has room). */
static void drive_enospc(sim *s, bool batch_ok) {
    engine *e = s->e;
    if (s->reserve_fault) {
        if (!batch_ok || e->journal_stalled || e->outbox_head != NULL)
            sim_fail("the disk was found full before the batch, yet the batch was held");
        if (!e->journal_full)
            sim_fail("the journal cannot reserve room, yet the engine accepts changes");
        if (--s->stall_batches_left == 0) {
            journal_inject_reserve_error(&s->journal, 0);
            s->enospc_armed = s->reserve_fault = false;
            say(s, "disk has room again");
        }
        return;
    }
    if (batch_ok && e->journal_full)
        sim_fail("the engine refuses changes though the journal found room");
    if (!batch_ok && !e->journal_stalled)
        sim_fail("a batch failed to commit but the engine does not hold its replies");
    if (!batch_ok && !s->enospc_armed)
        sim_fail("the journal still cannot write after the disk has room again");
    if (batch_ok && (e->journal_stalled || e->outbox_head != NULL))
        sim_fail("a batch committed but replies are still held");
    if (e->journal_stalled && s->stall_batches_left == 0) {
        s->stall_batches_left = (uint32_t)prng_range(&s->faults, 1, 20);
        s->n.enospc++;
        say(s, "disk full: the journal cannot write for %u batches", s->stall_batches_left);
    }
    if (s->enospc_armed && e->journal_stalled && --s->stall_batches_left == 0) {
        journal_inject_write_error(&s->journal, 0, 0);
        s->enospc_armed = false;
        say(s, "disk has room again");
    }
    if (!s->enospc_armed && !e->journal_stalled && prng_ppm(&s->faults, s->sc.enospc_ppm)) {
        s->enospc_armed = true;
        if (prng_percent(&s->faults, 50)) {
            journal_inject_reserve_error(&s->journal, ENOSPC);
            s->reserve_fault = true;
            s->stall_batches_left = (uint32_t)prng_range(&s->faults, 1, 20);
            s->n.enospc++;
            say(s, "disk full before the next batch, for %u batches", s->stall_batches_left);
            return;
        }
        uint32_t after = (uint32_t)prng_range(&s->faults, 0, 4);
        journal_inject_write_error(&s->journal, ENOSPC, after);
        say(s, "disk will be full after %u more commits", after);
    }
}

static void run_step(sim *s, bool allow_faults) {
    engine *e = s->e;
    sim_job *jobs[SIM_MAX_JOBS_PER_BATCH];
    advance_clock(s);
    uint32_t n = allow_faults ? batch_size(s) : 0;
    for (uint32_t i = 0; i < n; i++) {
        jobs[i] = new_job(s, (sim_job_kind)prng_weighted(&s->rng, s->sc.weights, JOB_KIND_COUNT));
        int64_t received_ns = s->now_ns - prng_range(&s->rng, 0, s->sc.max_stale_ns);
        jobs[i]->base.received_ns = received_ns > s->started_ns ? received_ns : s->started_ns;
    }
    bool crash = allow_faults && prng_ppm(&s->faults, s->sc.crash_ppm);
    torn_plan torn = {0};
    torn.planned = crash && prng_percent(&s->faults, s->sc.torn_percent) && !e->journal_stalled &&
                   !s->enospc_armed && !journal_has_pending(&s->journal);
    if (torn.planned) {
        torn.segment = s->journal.segment_index;
        torn.start_bytes = s->journal.segment_bytes;
        s->boundary_count = 0;
        s->track_events = true;
    }
    if (s->enospc_armed && s->durable_is_current) { /* this batch may be the one that fails */
        s->durable_hash = state_hash(live_core(s));
        s->durable_restorable = restorable(s);
    }
    s->batch_no++;
    s->n.batches++;
    bool ok = engine_run_batch(e, (engine_job **)jobs, n, s->now_ns);
    s->track_events = false;
    if (e->now_ns < s->now_ns)
        sim_fail("the engine's clock %" PRId64 " is behind the batch time %" PRId64, e->now_ns,
                 s->now_ns);
    /* The snapshot child must be done before the next batch reaps it (without reaping it here):
     * whether it finished in time must not depend on the machine. */
    if (e->pending_snapshot_pid > 0) {
        siginfo_t info;
        if (e->pending_snapshot_pid != s->last_snapshot_pid) {
            s->n.snapshots++;
            say(s, "snapshot at event %" PRIu64, e->pending_snapshot_seq);
        }
        s->last_snapshot_pid = e->pending_snapshot_pid;
        while (waitid(P_PID, (id_t)e->pending_snapshot_pid, &info, WEXITED | WNOWAIT) != 0 &&
               errno == EINTR)
            continue;
    }
    s->durable_is_current = ok;
    drive_enospc(s, ok);
    sim_check_invariants(s, live_core(s), s->batch_no % SIM_FULL_CHECK_EVERY == 0);
    check_waiting_replacements(live_core(s));
    if (ok && s->batch_no % s->sc.replay_every_batches == 0)
        replay_check(s);
    if (crash && torn.planned) {
        torn.end_bytes = s->journal.segment_bytes;
        record_boundary(s, torn.end_bytes - torn.start_bytes);
        torn.usable =
            ok && s->journal.segment_index == torn.segment && torn.end_bytes > torn.start_bytes;
    }
    if (crash) {
        if (torn.usable && !any_safe_boundary(s))
            torn.usable = false;
        if (!torn.usable && !(s->durable_is_current ? restorable(s) : s->durable_restorable)) {
            crash = false; /* deferred: see restorable() */
            s->n.crashes_deferred++;
            say(s, "crash deferred: the state is not restorable under the restrictions");
        }
    }
    if (crash)
        crash_and_recover(s, &torn);
}

static uint64_t count_active(const core *c) {
    uint64_t n = 0;
    for (uint32_t i = 0; i < c->pools.order_high; i++)
        n += c->orders[i].status != 0 && !order_status_is_final(c->orders[i].status);
    return n;
}

/* Lets the exchange finish what it has: the disk frees, time passes, every call is answered. */
static void drain(sim *s) {
    if (s->enospc_armed) {
        journal_inject_write_error(&s->journal, 0, 0);
        journal_inject_reserve_error(&s->journal, 0);
        s->enospc_armed = s->reserve_fault = false;
    }
    int64_t settle_ns = s->sc.venue.ack_delay_ns + s->sc.venue.fill_delay_ns + 1000000;
    for (int i = 0; i < SIM_DRAIN_BATCHES && (s->live_head != NULL || i < 3); i++) {
        s->now_ns += settle_ns;
        s->batch_no++;
        s->n.batches++;
        if (!engine_run_batch(s->e, NULL, 0, s->now_ns))
            sim_fail("the journal still cannot write after the disk freed");
        sim_check_invariants(s, live_core(s), false);
        check_waiting_replacements(live_core(s));
    }
    if (s->live_head != NULL) {
        const sim_job *job = s->live_head;
        const core *c = live_core(s);
        char text[320] = "nothing";
        if (job->base.wait_order != CORE_NO_ORDER)
            describe_order(&c->orders[job->base.wait_order], text, sizeof text);
        sim_fail("job %" PRIu64 " (%s) was never answered; it waits for %s", job->number,
                 job_kind_names[job->kind], text);
    }
    check_quiescent(s, live_core(s));
    sim_check_invariants(s, live_core(s), true);
    replay_check(s);
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    return remove(path);
}

static void remove_tree(const char *dir) {
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* One seed, start to end, in this process. Returns 0 when every check held. */
static int sim_run(uint64_t seed, uint64_t steps_override, const char *dir, bool verbose,
                   const sim_restrictions *restrict_to) {
    static sim s; /* large: three copies of the reference data */
    memset(&s, 0, sizeof s);
    s.seed = seed;
    s.verbose = verbose;
    s.restrict_to = *restrict_to; /* before the scenario: some restrictions shape it */
    current_seed = seed;
    snprintf(s.dir, sizeof s.dir, "%s", dir);
    sim_prng_seed(&s.rng, seed);
    sim_prng_seed(&s.faults, seed ^ 0x5851f42d4c957f2dULL);
    pick_scenario(&s, steps_override);
    s.now_ns = SIM_START_NS + prng_range(&s.rng, 0, 86400) * NANO;
    pick_clearings(&s);
    s.account_capacity = s.sc.account_count + s.sc.openable_accounts;
    if (s.account_capacity > REFDATA_MAX_ACCOUNTS)
        s.account_capacity = REFDATA_MAX_ACCOUNTS;
    s.book_cash = calloc((size_t)s.account_capacity * REFDATA_MAX_CURRENCIES, sizeof *s.book_cash);
    s.book_units = calloc((size_t)s.account_capacity * s.sc.instrument_count, sizeof *s.book_units);
    s.vm_expected = calloc((size_t)s.account_capacity * 2, sizeof *s.vm_expected);
    s.vm_before = s.vm_expected + s.account_capacity;
    s.margin_sell_batch =
        calloc((size_t)s.account_capacity * s.sc.instrument_count, sizeof *s.margin_sell_batch);
    if (s.margin_sell_batch == NULL)
        sim_fail("out of memory");
    if (s.book_cash == NULL || s.book_units == NULL || s.vm_expected == NULL)
        sim_fail("out of memory");
    books_rebuild(&s);
    s.last_retired_completion_ns = INT64_MIN;
    if (verbose)
        print_scenario(&s);
    start_incarnation(&s);
    restore_venue(&s);
    for (uint64_t step = 1; step <= s.sc.steps; step++) {
        shared->step = step;
        run_step(&s, true);
    }
    shared->step = s.sc.steps + 1;
    drain(&s);
    const core *c = live_core(&s);
    printf("sim: seed=%" PRIu64 " ok steps=%" PRIu64 " batches=%" PRIu64 " jobs=%" PRIu64
           " accepted=%" PRIu64 " fills=%" PRIu64 " retired=%" PRIu64 " reused_accounts=%" PRIu64
           " orders=%u active=%" PRIu64 " trades=%u events=%" PRIu64 " crashes=%" PRIu64
           " torn=%" PRIu64 " enospc=%" PRIu64 " refused=%" PRIu64 " snapshots=%" PRIu64
           " damaged=%" PRIu64 " lost=%" PRIu64 " replays=%" PRIu64 " hash=%016" PRIx64 "\n",
           seed, s.sc.steps, s.n.batches, s.n.jobs, s.n.accepted, s.n.fills, s.n.retirements,
           s.n.accounts_reused, c->pools.orders_in_use, count_active(c), c->pools.trades_in_use,
           c->next_seq - 1, s.n.crashes, s.n.torn, s.n.enospc, s.n.refused, s.n.snapshots,
           s.n.snapshots_damaged, s.n.snapshots_lost, s.n.replays, state_hash(c));
    if (verbose) {
        printf("  margin: accepted=%" PRIu64 " futures_fills=%" PRIu64 " clearings=%" PRIu64
               " vm_payments=%" PRIu64 " fees=%" PRIu64 " margin_calls=%" PRIu64 " run_s=%" PRId64
               "\n",
               s.n.margin_accepted, s.n.futures_fills, s.n.clearings, s.n.vm_payments,
               s.n.margin_fees, s.n.margin_calls, (int64_t)((s.now_ns - SIM_START_NS) / NANO));
        printf("  stop order events: placed=%" PRIu64 " triggered=%" PRIu64 " cancelled=%" PRIu64
               " expired=%" PRIu64 " retired=%" PRIu64 "\n",
               s.n.stop_events[0], s.n.stop_events[1], s.n.stop_events[2], s.n.stop_events[3],
               s.n.stop_events[4]);
        printf("  answered ok / submitted:");
        for (int k = 0; k < JOB_KIND_COUNT; k++)
            printf(" %s=%" PRIu64 "/%" PRIu64, job_kind_names[k], s.n.ok_by_kind[k],
                   s.n.by_kind[k]);
        printf("\n  placements by core_error:");
        for (int k = 0; k < CORE_ERROR_COUNT; k++)
            if (s.n.place_errors[k] != 0)
                printf(" %d:%" PRIu64, k, s.n.place_errors[k]);
        printf("\n  crashes deferred by restrictions: %" PRIu64 "\n", s.n.crashes_deferred);
    }
    if (s.e->pending_snapshot_pid > 0)
        waitpid(s.e->pending_snapshot_pid, NULL, 0);
    stop_incarnation(&s);
    refdata_deinit(&s.pristine);
    free(s.facts);
    free(s.book);
    free(s.book_cash);
    free(s.book_units);
    free(s.vm_expected);
    free(s.margin_sell_batch);
    free(s.clearings);
    free(s.retired);
    free(s.gone);
    free(s.trades);
    free(s.pending);
    free(s.boundaries);
    free(s.touched);
    for (int i = 0; i < SCRATCH_ARRAYS; i++) {
        wide **arrays[SCRATCH_ARRAYS] = {&scratch.reserved_cash,  &scratch.expected_cash,
                                         &scratch.reserved_units, &scratch.expected_units,
                                         &scratch.trade_lots,     &scratch.trade_records,
                                         &scratch.account_orders};
        free(*arrays[i]);
        *arrays[i] = NULL;
        scratch_have[i] = 0;
    }
    return 0;
}

/* ---- Driver: one child process per seed ----------------------------------------------------- */

typedef struct options {
    uint64_t first_seed, last_seed;
    bool have_seed, random_seeds;
    double seconds;
    uint64_t steps;
    bool verbose;
    sim_restrictions restrict_to;
} options;

/* SIGINT or SIGTERM: the seed running dies with the signal, the parent removes the data
 * directories and stops. */
static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig) {
    (void)sig;
    stop_requested = 1;
}

static int run_seed_isolated(const options *opt, uint64_t seed, const char *root) {
    char dir[600];
    snprintf(dir, sizeof dir, "%s/seed-%" PRIu64, root, seed);
    shared->step = 0;
    shared->reported = 0;
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("sim: fork");
        return 1;
    }
    if (pid == 0) {
        signal(SIGINT, SIG_DFL);
        signal(SIGTERM, SIG_DFL);
        setvbuf(stdout, NULL, _IOLBF, 0);
        signal(SIGABRT, on_abort_signal);
#if defined(__SANITIZE_ADDRESS__)
        __sanitizer_set_death_callback(report_abort);
#endif
        log_set_level((log_level)(LOG_LEVEL_ERROR + 1)); /* silent: logs carry wall time */
        int rc = sim_run(seed, opt->steps, dir, opt->verbose, &opt->restrict_to);
        fflush(stdout);
        exit(rc);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        continue;
    remove_tree(dir);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (stop_requested && WIFSIGNALED(status))
        return 0; /* interrupted with the rest of the run, not a failure of this seed */
    if (!shared->reported) {
        if (WIFSIGNALED(status))
            printf("sim: FAILED seed=%" PRIu64 " step=%" PRIu64 ": killed by signal %d\n", seed,
                   shared->step, WTERMSIG(status));
        else
            printf("sim: FAILED seed=%" PRIu64 " step=%" PRIu64
                   ": exit status %d (the sanitizer report is above)\n",
                   seed, shared->step, WEXITSTATUS(status));
    }
    printf("sim: reproduce with: make sim SEED=%" PRIu64, seed);
    if (opt->steps)
        printf(" SIM_STEPS=%" PRIu64, opt->steps);
    bool exposed = false;
    for (size_t k = 0; k < SIM_RESTRICTION_COUNT; k++) {
        if (!restriction_on(&opt->restrict_to, k)) {
            printf("%s--expose %s", exposed ? " " : " SIM_FLAGS=\"", restriction_names[k].name);
            exposed = true;
        }
    }
    printf("%s\n", exposed ? "\"" : "");
    fflush(stdout);
    return 1;
}

static void usage(FILE *out) {
    fprintf(out,
            "usage: tinvestd_sim --seed N [--steps S] [--verbose]\n"
            "       tinvestd_sim --seeds A..B [--steps S]\n"
            "       tinvestd_sim --random --seconds T [--steps S]\n"
            "       [--expose NAME] [--expose-known-bugs] [--restrict NAME]  lift one or every\n"
            "       restriction of an open bug, or put a fixed one back; each restriction\n"
            "       keeps the generator away from a known bug:\n");
    for (size_t k = 0; k < SIM_RESTRICTION_COUNT; k++)
        fprintf(out, "         %-24s %s\n", restriction_names[k].name, restriction_names[k].what);
}

static bool parse_u64(const char *text, uint64_t *out) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 0);
    if (errno != 0 || end == text || *end != '\0' || text[0] == '-')
        return false;
    *out = v;
    return true;
}

static int parse_options(int argc, char **argv, options *opt) {
    *opt = (options){0};
    for (size_t k = 0; k < SIM_RESTRICTION_COUNT; k++)
        *restriction_flag(&opt->restrict_to, k) = restriction_names[k].open_bug;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--seed") == 0 && value != NULL) {
            if (!parse_u64(value, &opt->first_seed))
                return -1;
            opt->last_seed = opt->first_seed;
            opt->have_seed = true;
            i++;
        } else if (strcmp(a, "--seeds") == 0 && value != NULL) {
            const char *dots = strstr(value, "..");
            char first[32];
            if (dots == NULL || (size_t)(dots - value) >= sizeof first)
                return -1;
            memcpy(first, value, (size_t)(dots - value));
            first[dots - value] = '\0';
            if (!parse_u64(first, &opt->first_seed) || !parse_u64(dots + 2, &opt->last_seed) ||
                opt->last_seed < opt->first_seed)
                return -1;
            opt->have_seed = true;
            i++;
        } else if (strcmp(a, "--steps") == 0 && value != NULL) {
            if (!parse_u64(value, &opt->steps) || opt->steps == 0)
                return -1;
            i++;
        } else if (strcmp(a, "--seconds") == 0 && value != NULL) {
            opt->seconds = strtod(value, NULL);
            i++;
        } else if (strcmp(a, "--random") == 0) {
            opt->random_seeds = true;
        } else if (strcmp(a, "--help") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--verbose") == 0) {
            opt->verbose = true;
        } else if (strcmp(a, "--expose-known-bugs") == 0) {
            opt->restrict_to = (sim_restrictions){0};
        } else if (strcmp(a, "--expose") == 0 && value != NULL) {
            size_t k = 0;
            while (k < SIM_RESTRICTION_COUNT && strcmp(restriction_names[k].name, value) != 0)
                k++;
            if (k == SIM_RESTRICTION_COUNT)
                return -1;
            *restriction_flag(&opt->restrict_to, k) = false;
            i++;
        } else if (strcmp(a, "--restrict") == 0 && value != NULL) {
            size_t k = 0;
            while (k < SIM_RESTRICTION_COUNT && strcmp(restriction_names[k].name, value) != 0)
                k++;
            if (k == SIM_RESTRICTION_COUNT)
                return -1;
            *restriction_flag(&opt->restrict_to, k) = true;
            i++;
        } else {
            return -1;
        }
    }
    if (opt->have_seed == opt->random_seeds || (opt->random_seeds && opt->seconds <= 0))
        return -1;
    return 0;
}

static double wall_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    options opt;
    if (parse_options(argc, argv, &opt) != 0) {
        usage(stderr);
        return 2;
    }
    shared = mmap(NULL, sizeof *shared, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared == MAP_FAILED) {
        perror("sim: mmap");
        return 1;
    }
    char root[600];
    snprintf(root, sizeof root, "%s/tinvestd-sim-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    if (mkdtemp(root) == NULL) {
        perror("sim: mkdtemp");
        return 1;
    }
    struct sigaction stop = {.sa_handler = on_stop_signal};
    sigaction(SIGINT, &stop, NULL);
    sigaction(SIGTERM, &stop, NULL);
    signal(SIGPIPE, SIG_IGN); /* a closed output must not leave the data directories behind */
    uint64_t seeds = 0, failed = 0;
    if (opt.random_seeds) {
        double until = wall_seconds() + opt.seconds;
        while (!stop_requested && wall_seconds() < until) {
            uint64_t seed;
            if (getrandom(&seed, sizeof seed, 0) != (ssize_t)sizeof seed)
                seed = (uint64_t)time(NULL) * 2654435761u + seeds;
            seeds++;
            failed += (uint64_t)run_seed_isolated(&opt, seed, root);
        }
    } else {
        for (uint64_t seed = opt.first_seed;; seed++) {
            seeds++;
            failed += (uint64_t)run_seed_isolated(&opt, seed, root);
            if (seed == opt.last_seed || stop_requested)
                break;
        }
    }
    remove_tree(root);
    if (seeds > 1 || stop_requested)
        printf("sim: %" PRIu64 " seeds, %" PRIu64 " failed%s\n", seeds, failed,
               stop_requested ? ", interrupted" : "");
    return stop_requested ? 130 : failed == 0 ? 0 : 1;
}
