#include "engine/snapshot.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/history.h"
#include "util/clock.h"
#include "util/crc32c.h"
#include "util/durable.h"
#include "util/log.h"

#define SNAPSHOT_MAGIC "TINVSNAP"

/* Header: magic, version, sizes of the record types (a snapshot from another build is refused),
 * the counts, the sequence number, then the sections and a trailing CRC32C of the sections. */
typedef struct snapshot_header {
    char magic[8];
    uint32_t version;
    uint32_t order_size, trade_size, cash_size, position_size;
    uint32_t order_high, trade_high, finished_count, account_count, instrument_count;
    uint32_t configured_account_count, opened_account_count;
    uint64_t seq;
} snapshot_header;

/* Format 6: after the core's sections, the candle store: this header, the per-instrument array
 * (ring counts; heads as they were) and then each ring's candles oldest first, rings in
 * instrument-major, interval-minor order. All of it inside the trailing CRC. */
typedef struct snapshot_candles_header {
    uint32_t candle_size, instrument_size, instrument_count;
    int32_t utc_offset_s;
    uint32_t retention[CANDLES_INTERVALS];
} snapshot_candles_header;

/* Format 7: after the candles, the stop orders: this header, the records up to their high-water
 * mark, the FIFO of finished ones from its head, and each instrument's last price (which the
 * trades derive, and the trades before the snapshot are not replayed). Inside the trailing CRC. */
typedef struct snapshot_stops_header {
    uint32_t record_size, high, finished_count, instrument_count;
} snapshot_stops_header;

/* Format 8: after the stop orders, the operations held (core/operations.h): this header, then the
 * records numbered first .. next - 1 in order. Inside the trailing CRC. */
typedef struct snapshot_operations_header {
    uint32_t operation_size, reserved;
    uint64_t opening_count, first, next;
} snapshot_operations_header;

/* Format 9: after the operations, the favorites (core/favorites.h): this header, the groups, then
 * the favorites, each user's in their order (favorites_saved_group / _item). Inside the CRC. */
typedef struct snapshot_favorites_header {
    uint32_t group_size, item_size, group_count, item_count;
} snapshot_favorites_header;

/* Format 10: after the favorites, where the market's prints stand (a replay of history resumes
 * after the newest one): core_venue_state.market_print_ns and market_print_instrument. */
typedef struct snapshot_market {
    int64_t print_ns;
    uint32_t print_instrument, reserved;
} snapshot_market;

/* Format 11: after the print position, the operator's halts (core_venue_state.halted): this
 * header, then one byte (0 or 1) per instrument of the snapshot. */
typedef struct snapshot_halts_header {
    uint32_t instrument_count, reserved;
} snapshot_halts_header;

/* Format 12: after the halts, the margin state: this header, then per account slot the futures
 * records of the snapshot's instruments (margin_future), accounts in slot order. */
typedef struct snapshot_margin_header {
    uint32_t record_size, account_count, instrument_count, reserved;
    int64_t last_clearing_ns;
} snapshot_margin_header;

static uint64_t margin_section_size(uint32_t account_count, uint32_t instrument_count) {
    return sizeof(snapshot_margin_header) +
           (uint64_t)account_count * instrument_count * sizeof(margin_future);
}

size_t snapshot_margin_bytes(const core *c, uint32_t instrument_count) {
    return (size_t)margin_section_size(c->accounts.capacity, instrument_count);
}

typedef struct section {
    const void *data;
    size_t size;
} section;

#define SECTION_COUNT 17

/* Where each section lives in `c` and how long it is, for the counts a header gives: the one
 * layout writing and loading (and the size check) share. Orders and trades are written up to
 * their high-water marks; free slots among them are recognised by their zero status. The FIFO
 * of finished orders is a ring: written from its head in (up to) two parts, loaded as one run
 * from slot 0. */
static size_t sections_of(const core *c, const snapshot_header *h, bool writing,
                          section out[SECTION_COUNT]) {
    const ledger *lg = &c->ledger;
    out[0] = (section){c->orders, (size_t)h->order_high * sizeof(core_order)};
    out[1] = (section){c->trades, (size_t)h->trade_high * sizeof(core_trade)};
    out[2] = (section){lg->cash,
                       (size_t)lg->account_count * REFDATA_MAX_CURRENCIES * sizeof(ledger_cash)};
    /* Written with the configuration's instrument count; a snapshot of fewer instruments (the
     * universe grew since, engine/universe.h) is read with its own and spread out afterwards
     * (spread_positions). */
    out[3] = (section){lg->positions,
                       (size_t)lg->account_count * h->instrument_count * sizeof(ledger_position)};
    out[4] = (section){c->venue.random_state, sizeof c->venue.random_state};
    out[5] = (section){c->venue.mm_reference_nano, (size_t)h->instrument_count * sizeof(int64_t)};
    out[6] = (section){c->accounts.opened,
                       (size_t)h->opened_account_count * sizeof(core_opened_account)};
    out[7] = (section){c->accounts.closed, c->accounts.capacity};
    uint32_t head = writing ? c->pools.finished_head : 0;
    uint32_t first = h->finished_count;
    if (head + first > c->config.max_orders)
        first = c->config.max_orders - head;
    out[8] = (section){c->finished + head, (size_t)first * sizeof *c->finished};
    out[9] = (section){c->finished, (size_t)(h->finished_count - first) * sizeof *c->finished};
    out[10] = (section){&c->venue.last_exchange_order_id, sizeof c->venue.last_exchange_order_id};
    out[11] = (section){&c->venue.last_trade_id, sizeof c->venue.last_trade_id};
    /* Each account's lists of orders: the links live in the order records, their ends here, so
     * that loading needs no sort to put them back. */
    size_t per_account = (size_t)c->accounts.capacity * sizeof(uint32_t);
    out[12] = (section){c->account_first, per_account};
    out[13] = (section){c->account_last, per_account};
    out[14] = (section){c->active_first, per_account};
    out[15] = (section){c->active_last, per_account};
    out[16] = (section){c->account_orders, per_account};
    size_t total = 0;
    for (int i = 0; i < SECTION_COUNT; i++)
        total += out[i].size;
    return total;
}

static int write_checked(int fd, const void *data, size_t size, uint32_t *crc) {
    *crc = crc32c_update(*crc, data, size);
    return durable_write_all(fd, data, size);
}

static snapshot_candles_header candles_header_of(const candle_store *s) {
    snapshot_candles_header ch;
    memset(&ch, 0, sizeof ch);
    ch.candle_size = sizeof(candle);
    ch.instrument_size = sizeof(candles_instrument);
    ch.instrument_count = s->instrument_count;
    ch.utc_offset_s = s->config.utc_offset_s;
    memcpy(ch.retention, s->config.retention, sizeof ch.retention);
    return ch;
}

/* Only the candles held, straight from the rings (the forked child allocates nothing). */
static int write_candles(int fd, const candle_store *s, uint32_t *crc) {
    snapshot_candles_header ch = candles_header_of(s);
    int rc = write_checked(fd, &ch, sizeof ch, crc);
    if (rc == 0)
        rc = write_checked(fd, s->instruments, (size_t)s->instrument_count * sizeof *s->instruments,
                           crc);
    for (uint32_t i = 0; rc == 0 && i < s->instrument_count; i++)
        for (int k = 0; rc == 0 && k < CANDLES_INTERVALS; k++) {
            const candle *run[2];
            uint32_t n[2];
            candles_ring_runs(s, i, (candle_interval)k, run, n);
            for (int r = 0; rc == 0 && r < 2; r++)
                rc = write_checked(fd, run[r], (size_t)n[r] * sizeof(candle), crc);
        }
    return rc;
}

static int write_operations(int fd, const core *c, uint32_t *crc) {
    const operation_store *s = &c->operations;
    snapshot_operations_header oh = {.operation_size = sizeof(core_operation),
                                     .opening_count = s->opening_count,
                                     .first = s->first,
                                     .next = s->next};
    int rc = write_checked(fd, &oh, sizeof oh, crc);
    const core_operation *run[2];
    uint32_t n[2];
    operations_runs(c, run, n);
    for (int r = 0; rc == 0 && r < 2; r++)
        rc = write_checked(fd, run[r], (size_t)n[r] * sizeof(core_operation), crc);
    return rc;
}

/* Records gathered into a buffer on the stack and written a buffer at a time (the forked child
 * allocates nothing). */
typedef struct favorites_writer {
    int fd;
    uint32_t *crc;
    size_t used;
    uint8_t buffer[16384];
} favorites_writer;

static int favorites_put(favorites_writer *w, const void *record, size_t size) {
    if (w->used + size > sizeof w->buffer) {
        int rc = write_checked(w->fd, w->buffer, w->used, w->crc);
        w->used = 0;
        if (rc != 0)
            return rc;
    }
    memcpy(w->buffer + w->used, record, size);
    w->used += size;
    return 0;
}

static int emit_group(void *ctx, const favorites_saved_group *g) {
    return favorites_put(ctx, g, sizeof *g);
}

static int emit_item(void *ctx, const favorites_saved_item *it) {
    return favorites_put(ctx, it, sizeof *it);
}

static int write_favorites(int fd, const core *c, uint32_t *crc) {
    snapshot_favorites_header fh = {.group_size = sizeof(favorites_saved_group),
                                    .item_size = sizeof(favorites_saved_item),
                                    .group_count = favorites_group_total(c),
                                    .item_count = favorites_item_total(c)};
    int rc = write_checked(fd, &fh, sizeof fh, crc);
    favorites_writer w = {.fd = fd, .crc = crc};
    if (rc == 0)
        rc = favorites_save_groups(c, emit_group, &w);
    if (rc == 0)
        rc = favorites_save_items(c, emit_item, &w);
    if (rc == 0 && w.used > 0)
        rc = write_checked(fd, w.buffer, w.used, crc);
    return rc;
}

static int write_stops(int fd, const core *c, uint32_t *crc) {
    const core_stop_book *b = &c->stops;
    snapshot_stops_header sh = {.record_size = sizeof(core_stop_order),
                                .high = b->high,
                                .finished_count = b->finished_count,
                                .instrument_count = c->refdata->instrument_count};
    int rc = write_checked(fd, &sh, sizeof sh, crc);
    if (rc == 0)
        rc = write_checked(fd, b->records, (size_t)b->high * sizeof *b->records, crc);
    uint32_t first = b->finished_count;
    if (b->finished_head + first > b->capacity)
        first = b->capacity - b->finished_head;
    if (rc == 0)
        rc = write_checked(fd, b->finished + b->finished_head, (size_t)first * sizeof(uint32_t),
                           crc);
    if (rc == 0)
        rc = write_checked(fd, b->finished, (size_t)(b->finished_count - first) * sizeof(uint32_t),
                           crc);
    if (rc == 0)
        rc = write_checked(fd, b->last_price_nano, (size_t)sh.instrument_count * sizeof(int64_t),
                           crc);
    return rc;
}

/* The size of the stop orders' part written at `offset`; false when it cannot be this build's
 * (torn, damaged, or a pool larger than this configuration's: refused as a changed one). */
static bool stops_size_of(const core *c, int fd, off_t offset, uint64_t *size, bool *too_large) {
    snapshot_stops_header sh;
    *too_large = false;
    if (pread(fd, &sh, sizeof sh, offset) != (ssize_t)sizeof sh ||
        sh.record_size != sizeof(core_stop_order) ||
        sh.instrument_count > c->refdata->instrument_count || sh.finished_count > sh.high)
        return false;
    if (sh.high > c->stops.capacity) {
        *too_large = true;
        return false;
    }
    *size = sizeof sh + (uint64_t)sh.high * sizeof(core_stop_order) +
            (uint64_t)sh.finished_count * sizeof(uint32_t) +
            (uint64_t)sh.instrument_count * sizeof(int64_t);
    return true;
}

int snapshot_write(const core *c, const char *dir) {
    char tmp[600], path[600];
    uint64_t seq = c->next_seq - 1;
    snprintf(tmp, sizeof tmp, "%s/snapshot-%020llu.tmp", dir, (unsigned long long)seq);
    snprintf(path, sizeof path, "%s/snapshot-%020llu.snap", dir, (unsigned long long)seq);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        return -errno;
    snapshot_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, SNAPSHOT_MAGIC, 8);
    h.version = SNAPSHOT_FORMAT_VERSION;
    h.order_size = sizeof(core_order);
    h.trade_size = sizeof(core_trade);
    h.cash_size = sizeof(ledger_cash);
    h.position_size = sizeof(ledger_position);
    h.order_high = c->pools.order_high;
    h.trade_high = c->pools.trade_high;
    h.finished_count = c->pools.finished_count;
    h.account_count = c->ledger.account_count;
    h.instrument_count = c->ledger.instrument_count;
    h.configured_account_count = c->accounts.configured_count;
    h.opened_account_count = c->accounts.opened_count;
    h.seq = seq;
    section parts[SECTION_COUNT];
    sections_of(c, &h, true, parts);
    uint32_t crc = crc32c_update(0, &h, sizeof h);
    int rc = durable_write_all(fd, &h, sizeof h);
    for (int i = 0; rc == 0 && i < SECTION_COUNT; i++) {
        crc = crc32c_update(crc, parts[i].data, parts[i].size);
        rc = durable_write_all(fd, parts[i].data, parts[i].size);
    }
    if (rc == 0)
        rc = write_candles(fd, &c->candles, &crc);
    if (rc == 0)
        rc = write_stops(fd, c, &crc);
    if (rc == 0)
        rc = write_operations(fd, c, &crc);
    if (rc == 0)
        rc = write_favorites(fd, c, &crc);
    snapshot_market market = {.print_ns = c->venue.market_print_ns,
                              .print_instrument = c->venue.market_print_instrument};
    if (rc == 0)
        rc = write_checked(fd, &market, sizeof market, &crc);
    snapshot_halts_header halts = {.instrument_count = h.instrument_count};
    if (rc == 0)
        rc = write_checked(fd, &halts, sizeof halts, &crc);
    if (rc == 0)
        rc = write_checked(fd, c->venue.halted, h.instrument_count, &crc);
    snapshot_margin_header margin = {.record_size = sizeof(margin_future),
                                     .account_count = c->accounts.capacity,
                                     .instrument_count = h.instrument_count,
                                     .last_clearing_ns = c->margin.last_clearing_ns};
    if (rc == 0)
        rc = write_checked(fd, &margin, sizeof margin, &crc);
    for (uint32_t a = 0; rc == 0 && a < c->accounts.capacity; a++)
        rc = write_checked(fd, &c->margin.futures[(size_t)a * c->margin.instrument_count],
                           (size_t)h.instrument_count * sizeof(margin_future), &crc);
    if (rc == 0)
        rc = durable_write_all(fd, &crc, sizeof crc);
    if (rc != 0) {
        close(fd);
        unlink(tmp);
        return rc;
    }
    /* The rename is durable only once the directory is: until then the snapshot does not
     * count, and the journal segments it covers must stay. */
    return durable_replace(fd, tmp, path, dir);
}

pid_t snapshot_start(const core *c, const char *dir) {
    pid_t pid = fork();
    if (pid == 0)
        _exit(snapshot_write(c, dir) == 0 ? 0 : 1);
    return pid;
}

/* The newest snapshot's sequence number and path; 0 when there is none. */
static uint64_t newest_snapshot(const char *dir, uint64_t below, char *path, size_t size) {
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    uint64_t best = 0;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        unsigned long long seq;
        char tail[8];
        if (sscanf(entry->d_name, "snapshot-%20llu.%4s", &seq, tail) == 2 &&
            strcmp(tail, "snap") == 0 && seq > best && seq < below)
            best = seq;
    }
    closedir(d);
    if (best != 0)
        snprintf(path, size, "%s/snapshot-%020llu.snap", dir, (unsigned long long)best);
    return best;
}

#define PREFETCH_AHEAD 16 /* inserts in flight: enough to cover a memory miss */

/* The same bytes the core hashes (a UUID key in lower case), or a loaded order would sit where
 * no lookup finds it. */
static uint64_t key_hash(const core_order *o) {
    char bytes[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
    size_t len = history_key_bytes(o->account, o->key, bytes);
    return order_index_hash(bytes, len);
}

/* The three entries an order makes, hashed ahead of their inserts. */
typedef struct pending_entries {
    uint32_t slot;
    bool has_number;
    uint64_t key, intent, number;
} pending_entries;

static void prefetch_order(const core_order *o) {
    const char *p = (const char *)o;
    for (size_t offset = 0; offset < sizeof *o; offset += 64)
        __builtin_prefetch(p + offset);
}

static void insert_pending(core *c, const pending_entries *p) {
    order_index_insert_new(&c->by_key, p->key, p->slot);
    order_index_insert_new(&c->by_order_id, p->intent, p->slot);
    if (p->has_number)
        order_index_insert_new(&c->by_order_id, p->number, p->slot);
}

/* One pass over the order slots, a pipeline of three stages so that the cache misses of many
 * orders overlap instead of following one another: an order's record is prefetched
 * 2 x PREFETCH_AHEAD slots ahead; PREFETCH_AHEAD orders ahead of their inserts, its keys are
 * hashed and the index entries they land on prefetched; then the entries are written. (Every
 * step touches memory no other step has in the cache: 368-byte records of up to millions of
 * orders, and two tables of tens of MiB.) */
void snapshot_rebuild_indexes(core *c) {
    order_index_clear(&c->by_key);
    order_index_clear(&c->by_order_id);
    pending_entries ring[PREFETCH_AHEAD];
    uint32_t queued = 0, high = c->pools.order_high;
    for (uint32_t s = 0; s < high; s++) {
        if (s + 2 * PREFETCH_AHEAD < high)
            prefetch_order(&c->orders[s + 2 * PREFETCH_AHEAD]);
        const core_order *o = &c->orders[s];
        if (o->status == 0)
            continue;
        pending_entries *p = &ring[queued % PREFETCH_AHEAD];
        if (queued >= PREFETCH_AHEAD)
            insert_pending(c, p);
        *p = (pending_entries){.slot = s,
                               .has_number = o->exchange_order_id != 0,
                               .key = key_hash(o),
                               .intent = order_index_hash(o->intent_id, strlen(o->intent_id))};
        order_index_prefetch(&c->by_key, p->key);
        order_index_prefetch(&c->by_order_id, p->intent);
        if (p->has_number) {
            p->number = order_index_hash(o->exchange_id_text, strlen(o->exchange_id_text));
            order_index_prefetch(&c->by_order_id, p->number);
        }
        queued++;
    }
    for (uint32_t i = queued > PREFETCH_AHEAD ? queued - PREFETCH_AHEAD : 0; i < queued; i++)
        insert_pending(c, &ring[i % PREFETCH_AHEAD]);
}

/* Reads `size` bytes at `offset` into `to` and folds them into `crc`, a few MiB at a time so
 * that the CRC runs over bytes still in the cache. */
static bool read_checked(int fd, off_t offset, void *to, size_t size, uint32_t *crc) {
    uint8_t *p = to;
    while (size > 0) {
        size_t chunk = size < (4u << 20) ? size : (4u << 20);
        ssize_t n = pread(fd, p, chunk, offset);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        *crc = crc32c_update(*crc, p, (size_t)n);
        p += n;
        offset += n;
        size -= (size_t)n;
    }
    return true;
}

/* Whether the trailing CRC32C matches everything before it, read in chunks without loading. */
static bool whole_file_checksum_ok(int fd, off_t size) {
    if (size < (off_t)(sizeof(snapshot_header) + sizeof(uint32_t)))
        return false;
    uint8_t chunk[64 * 1024];
    uint32_t crc = 0, stored = 0;
    off_t body = size - (off_t)sizeof stored;
    for (off_t at = 0; at < body;) {
        size_t want = body - at < (off_t)sizeof chunk ? (size_t)(body - at) : sizeof chunk;
        ssize_t n = pread(fd, chunk, want, at);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        crc = crc32c_update(crc, chunk, (size_t)n);
        at += n;
    }
    return pread(fd, &stored, sizeof stored, body) == (ssize_t)sizeof stored && stored == crc;
}

static bool read_stops(core *c, int fd, off_t *offset, uint32_t *crc) {
    core_stop_book *b = &c->stops;
    snapshot_stops_header sh;
    if (!read_checked(fd, *offset, &sh, sizeof sh, crc) || sh.high > b->capacity ||
        sh.finished_count > sh.high || sh.instrument_count > c->refdata->instrument_count)
        return false;
    *offset += (off_t)sizeof sh;
    size_t records = (size_t)sh.high * sizeof *b->records;
    size_t finished = (size_t)sh.finished_count * sizeof(uint32_t);
    size_t prices = (size_t)sh.instrument_count * sizeof(int64_t);
    bool ok =
        read_checked(fd, *offset, b->records, records, crc) &&
        read_checked(fd, *offset + (off_t)records, b->finished, finished, crc) &&
        read_checked(fd, *offset + (off_t)(records + finished), b->last_price_nano, prices, crc);
    *offset += (off_t)(records + finished + prices);
    b->high = sh.high;
    b->finished_head = 0;
    b->finished_count = sh.finished_count;
    return ok;
}

typedef enum { LOAD_OK, LOAD_SKIPPED, LOAD_REFUSED, LOAD_DAMAGED } load_result;

/* The positions were read as rows of `held` instruments, the snapshot's count; the ledger's rows
 * are of its own (larger or equal) count. Spread from the last row so that no row is overwritten
 * before it has moved, and clear the positions of the instruments added since. */
static void spread_positions(ledger *lg, uint32_t held) {
    assert(held <= lg->instrument_count);
    if (held == lg->instrument_count)
        return;
    for (uint32_t a = lg->account_count; a-- > 0;) {
        ledger_position *row = &lg->positions[(size_t)a * lg->instrument_count];
        memmove(row, &lg->positions[(size_t)a * held], (size_t)held * sizeof *row);
        memset(row + held, 0, (size_t)(lg->instrument_count - held) * sizeof *row);
    }
}

typedef enum { CANDLES_FIT, CANDLES_CHANGED, CANDLES_TORN } candles_fit;

/* Whether the candle store written at `offset` fits this configuration, and its size. Reads
 * (outside the CRC, which the load computes again) the header and the ring counts. */
static candles_fit candles_fit_of(const core *c, int fd, off_t offset, uint64_t *size) {
    const candle_store *s = &c->candles;
    snapshot_candles_header ch, want = candles_header_of(s);
    if (pread(fd, &ch, sizeof ch, offset) != (ssize_t)sizeof ch)
        return CANDLES_TORN;
    /* Fewer instruments than configured: the universe grew since (instruments are only ever
     * appended); the new ones start without candles. */
    if (ch.instrument_count <= s->instrument_count)
        want.instrument_count = ch.instrument_count;
    if (memcmp(&ch, &want, sizeof ch) != 0)
        return CANDLES_CHANGED;
    uint64_t held = 0;
    off_t at = offset + (off_t)sizeof ch;
    for (uint32_t i = 0; i < ch.instrument_count; i++) {
        candles_instrument ci;
        if (pread(fd, &ci, sizeof ci, at) != (ssize_t)sizeof ci)
            return CANDLES_TORN;
        at += (off_t)sizeof ci;
        for (int k = 0; k < CANDLES_INTERVALS; k++) {
            if (ci.count[k] > s->config.retention[k])
                return CANDLES_TORN; /* damage: counted as a torn file, an older one may serve */
            held += ci.count[k];
        }
    }
    *size = sizeof ch + (uint64_t)ch.instrument_count * sizeof(candles_instrument) +
            held * sizeof(candle);
    return CANDLES_FIT;
}

static bool read_candles(candle_store *s, int fd, off_t *offset, uint32_t *crc) {
    snapshot_candles_header ch;
    if (!read_checked(fd, *offset, &ch, sizeof ch, crc) ||
        ch.instrument_count > s->instrument_count) /* changed since candles_fit_of read it */
        return false;
    size_t array = (size_t)ch.instrument_count * sizeof *s->instruments;
    bool ok = read_checked(fd, *offset + (off_t)sizeof ch, s->instruments, array, crc);
    *offset += (off_t)(sizeof ch + array);
    for (uint32_t i = 0; ok && i < ch.instrument_count; i++)
        for (int k = 0; ok && k < CANDLES_INTERVALS; k++) {
            uint32_t n = s->instruments[i].count[k];
            if (n > s->config.retention[k]) /* changed since candles_fit_of read it */
                return false;
            size_t bytes = (size_t)n * sizeof(candle);
            ok = read_checked(fd, *offset, candles_ring_storage(s, i, (candle_interval)k), bytes,
                              crc);
            *offset += (off_t)bytes;
        }
    candles_loaded(s);
    return ok;
}

typedef enum { OPERATIONS_FIT, OPERATIONS_CHANGED, OPERATIONS_TORN } operations_fit;

/* Whether the operations section at `offset` fits this configuration (the same opening balances,
 * no more records than the ring holds), and its size. */
static operations_fit operations_fit_of(const core *c, int fd, off_t offset, uint64_t *size) {
    const operation_store *s = &c->operations;
    snapshot_operations_header oh;
    if (pread(fd, &oh, sizeof oh, offset) != (ssize_t)sizeof oh ||
        oh.operation_size != sizeof(core_operation) || oh.first > oh.next)
        return OPERATIONS_TORN;
    if (oh.opening_count != s->opening_count || oh.next - oh.first > s->capacity)
        return OPERATIONS_CHANGED;
    *size = sizeof oh + (oh.next - oh.first) * sizeof(core_operation);
    return OPERATIONS_FIT;
}

static bool read_operations(core *c, int fd, off_t *offset, uint32_t *crc) {
    snapshot_operations_header oh;
    if (!read_checked(fd, *offset, &oh, sizeof oh, crc))
        return false;
    *offset += (off_t)sizeof oh;
    if (oh.first > oh.next || oh.next - oh.first > c->operations.capacity)
        return false;
    core_operation *run[2];
    uint32_t n[2];
    operations_load_runs(c, oh.first, oh.next, run, n);
    for (int r = 0; r < 2; r++) {
        size_t bytes = (size_t)n[r] * sizeof(core_operation);
        if (!read_checked(fd, *offset, run[r], bytes, crc))
            return false;
        *offset += (off_t)bytes;
    }
    return true;
}

typedef enum { FAVORITES_FIT, FAVORITES_CHANGED, FAVORITES_TORN } favorites_fit;

/* Whether the favorites section at `offset` is this build's and fits the pools, and its size. */
static favorites_fit favorites_fit_of(const core *c, int fd, off_t offset, uint64_t *size) {
    snapshot_favorites_header fh;
    if (pread(fd, &fh, sizeof fh, offset) != (ssize_t)sizeof fh ||
        fh.group_size != sizeof(favorites_saved_group) ||
        fh.item_size != sizeof(favorites_saved_item))
        return FAVORITES_TORN;
    if (fh.group_count > c->favorites.group_capacity || fh.item_count > c->favorites.capacity)
        return FAVORITES_CHANGED;
    *size = sizeof fh + (uint64_t)fh.group_count * sizeof(favorites_saved_group) +
            (uint64_t)fh.item_count * sizeof(favorites_saved_item);
    return FAVORITES_FIT;
}

/* Each record goes back through favorites_load_*, which refuses one that does not fit. */
static bool read_favorites(core *c, int fd, off_t *offset, uint32_t *crc) {
    snapshot_favorites_header fh;
    if (!read_checked(fd, *offset, &fh, sizeof fh, crc) ||
        fh.group_count > c->favorites.group_capacity || fh.item_count > c->favorites.capacity)
        return false;
    *offset += (off_t)sizeof fh;
    for (uint32_t i = 0; i < fh.group_count; i++) {
        favorites_saved_group g;
        if (!read_checked(fd, *offset, &g, sizeof g, crc) || !favorites_load_group(c, &g))
            return false;
        *offset += (off_t)sizeof g;
    }
    favorites_saved_item chunk[512];
    for (uint32_t i = 0; i < fh.item_count;) {
        uint32_t n = fh.item_count - i < 512 ? fh.item_count - i : 512;
        if (!read_checked(fd, *offset, chunk, n * sizeof chunk[0], crc))
            return false;
        for (uint32_t k = 0; k < n; k++)
            if (!favorites_load_item(c, &chunk[k]))
                return false;
        *offset += (off_t)(n * sizeof chunk[0]);
        i += n;
    }
    return true;
}

/* Reads one snapshot straight into the core's pools (no second copy of a file that can be
 * gigabytes), checking its CRC on the way. LOAD_SKIPPED and LOAD_REFUSED leave the core as it
 * was; LOAD_DAMAGED (the CRC failed after the pools were written) leaves it for core_reset(). */
static load_result load_file(core *c, const char *path, char *error, size_t error_size) {
    int64_t started_ns = clock_monotonic_ns();
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        return LOAD_SKIPPED;
    struct stat st;
    snapshot_header h;
    bool ok = fstat(fd, &st) == 0 && pread(fd, &h, sizeof h, 0) == (ssize_t)sizeof h;
    ok = ok && memcmp(h.magic, SNAPSHOT_MAGIC, 8) == 0 &&
         (h.version == SNAPSHOT_FORMAT_VERSION || h.version == SNAPSHOT_FORMAT_VERSION_NO_MARGIN ||
          h.version == SNAPSHOT_FORMAT_VERSION_NO_HALTS ||
          h.version == SNAPSHOT_FORMAT_VERSION_NO_MARKET_PRINTS ||
          h.version == SNAPSHOT_FORMAT_VERSION_NO_FAVORITES ||
          h.version == SNAPSHOT_FORMAT_VERSION_NO_OPERATIONS ||
          h.version == SNAPSHOT_FORMAT_VERSION_NO_STOP_ORDERS ||
          h.version == SNAPSHOT_FORMAT_VERSION_NO_CANDLES) &&
         h.order_size == sizeof(core_order) && h.trade_size == sizeof(core_trade) &&
         h.cash_size == sizeof(ledger_cash) && h.position_size == sizeof(ledger_position);
    if (ok &&
        (h.account_count != c->ledger.account_count ||
         h.configured_account_count != c->accounts.configured_count ||
         h.configured_account_count + h.opened_account_count > h.account_count ||
         h.instrument_count > c->ledger.instrument_count || h.order_high > c->config.max_orders ||
         h.trade_high > c->config.max_trades || h.finished_count > h.order_high)) {
        /* A header that does not fit is a changed configuration only if the file is intact: a
         * flipped bit in its counts is damage, and an older snapshot may still serve. */
        bool intact = whole_file_checksum_ok(fd, st.st_size);
        close(fd);
        if (!intact)
            return LOAD_SKIPPED;
        snprintf(error, error_size,
                 "snapshot %s does not fit the configuration (accounts, instruments removed, or "
                 "limits changed)",
                 path);
        return LOAD_REFUSED;
    }
    section parts[SECTION_COUNT];
    size_t core_size = ok ? sections_of(c, &h, false, parts) : 0;
    uint64_t candles_size = 0, stops_size = 0, operations_size = 0, favorites_size = 0;
    bool has_candles = h.version >= SNAPSHOT_FORMAT_VERSION_NO_STOP_ORDERS;
    bool has_stops = h.version >= SNAPSHOT_FORMAT_VERSION_NO_OPERATIONS;
    bool has_operations = h.version >= SNAPSHOT_FORMAT_VERSION_NO_FAVORITES;
    bool has_favorites = h.version >= SNAPSHOT_FORMAT_VERSION_NO_MARKET_PRINTS;
    bool has_market = h.version >= SNAPSHOT_FORMAT_VERSION_NO_HALTS;
    uint64_t market_size = has_market ? sizeof(snapshot_market) : 0;
    bool has_halts = h.version >= SNAPSHOT_FORMAT_VERSION_NO_MARGIN;
    if (has_halts)
        market_size += sizeof(snapshot_halts_header) + h.instrument_count;
    bool has_margin = h.version >= SNAPSHOT_FORMAT_VERSION;
    if (has_margin)
        market_size += margin_section_size(c->accounts.capacity, h.instrument_count);
    if (ok && has_candles) {
        candles_fit fit = candles_fit_of(c, fd, (off_t)(sizeof h + core_size), &candles_size);
        if (fit == CANDLES_CHANGED) {
            bool intact = whole_file_checksum_ok(fd, st.st_size);
            close(fd);
            if (!intact)
                return LOAD_SKIPPED;
            snprintf(error, error_size,
                     "snapshot %s does not fit the configuration (candle retention or the "
                     "exchange's UTC offset changed)",
                     path);
            return LOAD_REFUSED;
        }
        ok = fit == CANDLES_FIT;
    }
    if (ok && has_stops) {
        bool too_large;
        ok = stops_size_of(c, fd, (off_t)(sizeof h + core_size + candles_size), &stops_size,
                           &too_large);
        if (too_large) {
            bool intact = whole_file_checksum_ok(fd, st.st_size);
            close(fd);
            if (!intact)
                return LOAD_SKIPPED;
            snprintf(error, error_size,
                     "snapshot %s does not fit the configuration (it holds more stop orders than "
                     "limits.max_stop_orders)",
                     path);
            return LOAD_REFUSED;
        }
    }
    if (ok && has_operations) {
        operations_fit fit = operations_fit_of(
            c, fd, (off_t)(sizeof h + core_size + candles_size + stops_size), &operations_size);
        if (fit == OPERATIONS_CHANGED) {
            bool intact = whole_file_checksum_ok(fd, st.st_size);
            close(fd);
            if (!intact)
                return LOAD_SKIPPED;
            snprintf(error, error_size,
                     "snapshot %s does not fit the configuration (accounts' opening cash or "
                     "limits.max_operations changed)",
                     path);
            return LOAD_REFUSED;
        }
        ok = fit == OPERATIONS_FIT;
    }
    if (ok && has_favorites) {
        favorites_fit fit = favorites_fit_of(
            c, fd, (off_t)(sizeof h + core_size + candles_size + stops_size + operations_size),
            &favorites_size);
        if (fit == FAVORITES_CHANGED) {
            bool intact = whole_file_checksum_ok(fd, st.st_size);
            close(fd);
            if (!intact)
                return LOAD_SKIPPED;
            snprintf(error, error_size,
                     "snapshot %s does not fit the configuration (it holds more favorites or "
                     "favorite groups than limits.max_favorites_per_user or "
                     "limits.max_favorite_groups_per_user allow)",
                     path);
            return LOAD_REFUSED;
        }
        ok = fit == FAVORITES_FIT;
    }
    if (!ok || (uint64_t)st.st_size != sizeof h + core_size + candles_size + stops_size +
                                           operations_size + favorites_size + market_size +
                                           sizeof(uint32_t)) {
        close(fd);
        return LOAD_SKIPPED; /* torn or foreign: nothing was written into the core */
    }
    c->pools.order_high = h.order_high;
    c->pools.trade_high = h.trade_high;
    c->pools.finished_head = 0;
    c->pools.finished_count = h.finished_count;
    c->accounts.opened_count = h.opened_account_count;
    uint32_t crc = crc32c_update(0, &h, sizeof h), stored = 0;
    off_t offset = sizeof h;
    for (int i = 0; ok && i < SECTION_COUNT; i++) {
        ok = read_checked(fd, offset, (void *)parts[i].data, parts[i].size, &crc);
        offset += (off_t)parts[i].size;
    }
    if (ok)
        spread_positions(&c->ledger, h.instrument_count);
    if (ok && has_candles)
        ok = read_candles(&c->candles, fd, &offset, &crc);
    if (ok && has_stops)
        ok = read_stops(c, fd, &offset, &crc);
    if (ok && has_operations)
        ok = read_operations(c, fd, &offset, &crc);
    if (ok && has_favorites)
        ok = read_favorites(c, fd, &offset, &crc);
    if (ok && has_market) {
        snapshot_market market;
        ok = read_checked(fd, offset, &market, sizeof market, &crc) && market.print_ns >= 0 &&
             market.reserved == 0 &&
             (market.print_ns == 0 ? market.print_instrument == 0
                                   : market.print_instrument < h.instrument_count);
        offset += (off_t)sizeof market;
        c->venue.market_print_ns = market.print_ns;
        c->venue.market_print_instrument = market.print_instrument;
    }
    if (ok && has_halts) {
        snapshot_halts_header halts;
        ok = read_checked(fd, offset, &halts, sizeof halts, &crc) &&
             halts.instrument_count == h.instrument_count && halts.reserved == 0;
        offset += (off_t)sizeof halts;
        ok = ok && read_checked(fd, offset, c->venue.halted, h.instrument_count, &crc);
        offset += (off_t)h.instrument_count;
        for (uint32_t i = 0; ok && i < h.instrument_count; i++)
            ok = c->venue.halted[i] <= 1;
    }
    if (ok && has_margin) {
        snapshot_margin_header margin;
        ok = read_checked(fd, offset, &margin, sizeof margin, &crc) &&
             margin.record_size == sizeof(margin_future) &&
             margin.account_count == c->accounts.capacity &&
             margin.instrument_count == h.instrument_count && margin.reserved == 0 &&
             margin.last_clearing_ns >= 0;
        offset += (off_t)sizeof margin;
        c->margin.last_clearing_ns = ok ? margin.last_clearing_ns : 0;
        size_t row = (size_t)h.instrument_count * sizeof(margin_future);
        for (uint32_t a = 0; ok && a < c->accounts.capacity; a++) {
            ok = read_checked(
                fd, offset, &c->margin.futures[(size_t)a * c->margin.instrument_count], row, &crc);
            offset += (off_t)row;
        }
    }
    ok = ok && pread(fd, &stored, sizeof stored, offset) == (ssize_t)sizeof stored && stored == crc;
    close(fd);
    if (!ok)
        return LOAD_DAMAGED;
    if (!candles_valid(&c->candles))
        return LOAD_DAMAGED;
    int64_t read_ns = clock_monotonic_ns();
    c->next_seq = h.seq + 1;
    core_history_rebuild(c);
    /* The checksum says the file is as written, not that what was written fits together: records
     * that do not are damage, as a checksum that fails. */
    if (!core_records_valid(c) || !stop_orders_rebuild(c) || !operations_loaded(c))
        return LOAD_DAMAGED;
    snapshot_rebuild_indexes(c);
    if (!core_indexes_valid(c))
        return LOAD_DAMAGED;
    /* A replay that follows keeps no index up (core.indexes_deferred): it starts from empty
     * ones, and recovery builds and checks them again from the orders it leaves. */
    if (c->indexes_deferred) {
        order_index_clear(&c->by_key);
        order_index_clear(&c->by_order_id);
    }
    core_publish_accounts(c);
    core_publish_candles(c);
    log_info("snapshot: %s read and checked in %.0f ms, indexes rebuilt in %.0f ms", path,
             (read_ns - started_ns) / 1e6, (clock_monotonic_ns() - read_ns) / 1e6);
    return LOAD_OK;
}

int64_t snapshot_load(core *c, const char *dir, char *error, size_t error_size) {
    char path[600];
    error[0] = '\0';
    for (uint64_t below = UINT64_MAX;;) {
        uint64_t seq = newest_snapshot(dir, below, path, sizeof path);
        if (seq == 0)
            return 0;
        load_result result = load_file(c, path, error, error_size);
        if (result == LOAD_OK) {
            log_info("snapshot: loaded %s (%u orders)", path, c->pools.orders_in_use);
            return (int64_t)seq;
        }
        if (result == LOAD_REFUSED)
            return -1;
        if (result == LOAD_DAMAGED)
            core_reset(c);
        log_warn("snapshot: %s is incomplete or damaged; trying an older one", path);
        below = seq;
    }
}

void snapshot_prune(const char *dir, uint64_t keep_seq) {
    DIR *d = opendir(dir);
    if (d == NULL)
        return;
    struct dirent *entry;
    while ((entry = readdir(d)) != NULL) {
        unsigned long long seq;
        char tail[8];
        if (sscanf(entry->d_name, "snapshot-%20llu.%4s", &seq, tail) == 2 && seq < keep_seq) {
            char path[600];
            snprintf(path, sizeof path, "%s/%s", dir, entry->d_name);
            unlink(path);
        }
    }
    closedir(d);
}
