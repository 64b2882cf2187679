/* The import: files and ZIP members to rows, rows to each instrument's candles, candles merged
 * into the store (history_import.h). */
#include "history/history_import.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zip.h>

#include "history/history.h"
#include "history/history_store.h"

#define SOURCE_NAME_MAX 512
#define PROGRESS_EVERY_ROWS 65536u

typedef struct pending {
    char uid[HISTORY_UID_LEN + 1];
    history_entry *entries;
    size_t count, capacity;
    history_dedup_result dedup;
    history_gaps gaps;
    history_merge_result merge;
    size_t stored;
    bool over_cap; /* more rows than the cap: refused, the rest not kept */
    bool written;
} pending;

typedef struct importer {
    const history_import_options *opt;
    char (*sources)[SOURCE_NAME_MAX]; /* "file" or "file:member", by index */
    size_t source_count, source_capacity;
    pending *instruments;
    size_t instrument_count, instrument_capacity;
    size_t last_hit;
    uint64_t errors, rows;
    bool progress_line; /* a progress line is on the terminal, unfinished */
} importer;

static void clear_progress(importer *im) {
    if (im->progress_line) {
        fputs("\r\033[K", im->opt->errors);
        im->progress_line = false;
    }
}

static void report(importer *im, const char *format, ...) __attribute__((format(printf, 2, 3)));
static void report(importer *im, const char *format, ...) {
    im->errors++;
    if (im->errors > HISTORY_IMPORT_MAX_REPORTED_ERRORS)
        return;
    clear_progress(im);
    va_list args;
    va_start(args, format);
    vfprintf(im->opt->errors, format, args);
    va_end(args);
    fputc('\n', im->opt->errors);
}

static void progress(importer *im, const char *name, size_t done, size_t total) {
    if (!im->opt->progress)
        return;
    if (total > 0)
        fprintf(im->opt->errors, "\r\033[K%s: %zu/%zu members, %llu rows", name, done, total,
                (unsigned long long)im->rows);
    else
        fprintf(im->opt->errors, "\r\033[K%s: %llu rows", name, (unsigned long long)im->rows);
    im->progress_line = true;
}

static void progress_done(importer *im) {
    if (im->opt->progress && im->progress_line) {
        fputc('\n', im->opt->errors);
        im->progress_line = false;
    }
}

static bool grow(void **items, size_t *capacity, size_t need, size_t size) {
    if (need <= *capacity)
        return true;
    size_t next = *capacity < 16 ? 16 : *capacity * 2;
    while (next < need)
        next *= 2;
    void *bigger = realloc(*items, next * size);
    if (bigger == NULL)
        return false;
    *items = bigger;
    *capacity = next;
    return true;
}

static int add_source(importer *im, const char *file, const char *member, uint32_t *index) {
    if (im->source_count >= UINT32_MAX || !grow((void **)&im->sources, &im->source_capacity,
                                                im->source_count + 1, sizeof *im->sources))
        return -ENOMEM;
    char *name = im->sources[im->source_count];
    if (member != NULL)
        snprintf(name, SOURCE_NAME_MAX, "%s:%s", file, member);
    else
        snprintf(name, SOURCE_NAME_MAX, "%s", file);
    *index = (uint32_t)im->source_count++;
    return 0;
}

static bool allowed(const importer *im, const char *uid) {
    if (im->opt->allowed_uids == NULL)
        return true;
    for (size_t i = 0; i < im->opt->allowed_count; i++)
        if (strcasecmp(im->opt->allowed_uids[i], uid) == 0)
            return true;
    return false;
}

/* The pending candles of `uid` (lower case), made on first sight; NULL when out of room. */
static pending *instrument_for(importer *im, const char *uid) {
    if (im->instrument_count > 0 && strcmp(im->instruments[im->last_hit].uid, uid) == 0)
        return &im->instruments[im->last_hit];
    for (size_t i = 0; i < im->instrument_count; i++)
        if (strcmp(im->instruments[i].uid, uid) == 0) {
            im->last_hit = i;
            return &im->instruments[i];
        }
    if (im->instrument_count == HISTORY_IMPORT_MAX_INSTRUMENTS ||
        !grow((void **)&im->instruments, &im->instrument_capacity, im->instrument_count + 1,
              sizeof *im->instruments))
        return NULL;
    pending *p = &im->instruments[im->instrument_count];
    *p = (pending){0};
    memcpy(p->uid, uid, sizeof p->uid);
    im->last_hit = im->instrument_count++;
    return p;
}

/* A member named <uid>_<YYYYMMDD>.csv holds that instrument's rows only: its uid, else NULL. */
static bool member_uid(const char *member, char uid[HISTORY_UID_LEN + 1]) {
    const char *base = strrchr(member, '/');
    base = base ? base + 1 : member;
    size_t len = strlen(base);
    if (len != HISTORY_UID_LEN + 1 + 8 + 4 || base[HISTORY_UID_LEN] != '_' ||
        strcmp(base + len - 4, ".csv") != 0 || !history_uid_valid(base, HISTORY_UID_LEN))
        return false;
    for (size_t i = 0; i < 8; i++)
        if (base[HISTORY_UID_LEN + 1 + i] < '0' || base[HISTORY_UID_LEN + 1 + i] > '9')
            return false;
    for (size_t i = 0; i < HISTORY_UID_LEN; i++)
        uid[i] = (char)(base[i] >= 'A' && base[i] <= 'F' ? base[i] - 'A' + 'a' : base[i]);
    uid[HISTORY_UID_LEN] = '\0';
    return true;
}

static void lower_uid(char *uid) {
    for (char *c = uid; *c; c++)
        if (*c >= 'A' && *c <= 'F')
            *c = (char)(*c - 'A' + 'a');
}

/* Checks and keeps one line's row. Returns 0, or -ENOMEM. */
static int take_row(importer *im, uint32_t source, uint32_t line, const char *text, size_t len,
                    const char *expected_uid) {
    const char *where = im->sources[source];
    history_row row;
    history_row_status status = history_row_parse(text, len, &row);
    if (status == HISTORY_ROW_BLANK)
        return 0;
    im->rows++;
    if (status != HISTORY_ROW_OK) {
        report(im, "%s:%u: %s", where, line, history_row_status_text(status));
        return 0;
    }
    lower_uid(row.uid);
    if (expected_uid != NULL && strcmp(row.uid, expected_uid) != 0) {
        report(im, "%s:%u: instrument %s in a member named for %s", where, line, row.uid,
               expected_uid);
        return 0;
    }
    if (!allowed(im, row.uid)) {
        report(im, "%s:%u: instrument %s is not an instrument of the configuration", where, line,
               row.uid);
        return 0;
    }
    pending *p = instrument_for(im, row.uid);
    if (p == NULL) {
        report(im, "%s:%u: more than %u instruments in one import", where, line,
               HISTORY_IMPORT_MAX_INSTRUMENTS);
        return 0;
    }
    if (p->count >= im->opt->max_candles_per_instrument) {
        if (!p->over_cap)
            report(im,
                   "%s:%u: instrument %s: more than history.max_candles_per_instrument (%llu) "
                   "rows",
                   where, line, row.uid, (unsigned long long)im->opt->max_candles_per_instrument);
        p->over_cap = true; /* the import is refused; the rows are not kept */
        return 0;
    }
    if (!grow((void **)&p->entries, &p->capacity, p->count + 1, sizeof *p->entries))
        return -ENOMEM;
    p->entries[p->count++] = (history_entry){row.candle, source, line};
    return 0;
}

/* Splits `len` bytes into lines and takes each. */
static int take_text(importer *im, uint32_t source, const char *text, size_t len,
                     const char *expected_uid, const char *name, size_t done, size_t total) {
    uint32_t line = 0;
    size_t start = 0;
    if (memchr(text, '\0', len) != NULL) {
        report(im, "%s: not a text file (it holds NUL bytes)", im->sources[source]);
        return 0;
    }
    while (start < len) {
        const char *end = memchr(text + start, '\n', len - start);
        size_t line_len = end ? (size_t)(end - (text + start)) : len - start;
        if (line == UINT32_MAX) {
            report(im, "%s: too many lines", im->sources[source]);
            return 0;
        }
        int rc = take_row(im, source, ++line, text + start, line_len, expected_uid);
        if (rc != 0)
            return rc;
        if (total == 0 && line % PROGRESS_EVERY_ROWS == 0)
            progress(im, name, done, total);
        start += line_len + 1;
    }
    return 0;
}

static int import_zip_member(importer *im, const char *file, zip_t *archive, zip_uint64_t index,
                             size_t total) {
    zip_stat_t st;
    if (zip_stat_index(archive, index, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME) ||
        !(st.valid & ZIP_STAT_SIZE)) {
        report(im, "%s: member %llu: %s", file, (unsigned long long)index, zip_strerror(archive));
        return 0;
    }
    size_t name_len = strlen(st.name);
    if (name_len > 0 && st.name[name_len - 1] == '/')
        return 0; /* a directory entry */
    uint32_t source;
    if (add_source(im, file, st.name, &source) != 0)
        return -ENOMEM;
    if (name_len < 4 || strcmp(st.name + name_len - 4, ".csv") != 0) {
        report(im, "%s: not a .csv member", im->sources[source]);
        return 0;
    }
    if (st.size > HISTORY_IMPORT_MAX_FILE_BYTES) {
        report(im, "%s: larger than %llu bytes", im->sources[source],
               (unsigned long long)HISTORY_IMPORT_MAX_FILE_BYTES);
        return 0;
    }
    char *text = malloc(st.size > 0 ? (size_t)st.size : 1);
    if (text == NULL)
        return -ENOMEM;
    zip_file_t *member = zip_fopen_index(archive, index, 0);
    zip_int64_t got = member ? zip_fread(member, text, st.size) : -1;
    int rc = 0;
    if (got < 0 || (zip_uint64_t)got != st.size) {
        report(im, "%s: cannot be read: %s", im->sources[source],
               member ? zip_file_strerror(member) : zip_strerror(archive));
    } else {
        char uid[HISTORY_UID_LEN + 1];
        bool named = member_uid(st.name, uid);
        rc = take_text(im, source, text, (size_t)st.size, named ? uid : NULL, file,
                       (size_t)index + 1, total);
    }
    if (member != NULL && zip_fclose(member) != 0 && rc == 0)
        report(im, "%s: damaged (CRC or length)", im->sources[source]);
    free(text);
    return rc;
}

static int import_zip(importer *im, const char *file) {
    int zip_error = 0;
    zip_t *archive = zip_open(file, ZIP_RDONLY | ZIP_CHECKCONS, &zip_error);
    if (archive == NULL) {
        zip_error_t error;
        zip_error_init_with_code(&error, zip_error);
        report(im, "%s: not a readable ZIP archive: %s", file, zip_error_strerror(&error));
        zip_error_fini(&error);
        return 0;
    }
    zip_int64_t count = zip_get_num_entries(archive, 0);
    int rc = 0;
    for (zip_int64_t i = 0; rc == 0 && i < count; i++) {
        rc = import_zip_member(im, file, archive, (zip_uint64_t)i, (size_t)count);
        progress(im, file, (size_t)i + 1, (size_t)count);
    }
    zip_discard(archive);
    return rc;
}

static int import_csv(importer *im, const char *file, FILE *in) {
    uint32_t source;
    if (add_source(im, file, NULL, &source) != 0)
        return -ENOMEM;
    size_t capacity = 1 << 20, len = 0;
    char *text = malloc(capacity);
    if (text == NULL)
        return -ENOMEM;
    for (;;) {
        if (len == capacity) {
            if (capacity >= HISTORY_IMPORT_MAX_FILE_BYTES) {
                report(im, "%s: larger than %llu bytes", file,
                       (unsigned long long)HISTORY_IMPORT_MAX_FILE_BYTES);
                free(text);
                return 0;
            }
            char *bigger = realloc(text, capacity * 2);
            if (bigger == NULL) {
                free(text);
                return -ENOMEM;
            }
            text = bigger;
            capacity *= 2;
        }
        size_t n = fread(text + len, 1, capacity - len, in);
        len += n;
        if (n == 0)
            break;
    }
    int rc = 0;
    if (ferror(in))
        report(im, "%s: read error", file);
    else
        rc = take_text(im, source, text, len, NULL, file, 0, 0);
    free(text);
    progress(im, file, 0, 0);
    return rc;
}

/* A ZIP archive starts with a local file header or, when empty, the end of the directory. */
static int import_file(importer *im, const char *file) {
    FILE *in = fopen(file, "rb");
    if (in == NULL) {
        report(im, "%s: %s", file, strerror(errno));
        return 0;
    }
    unsigned char magic[4] = {0};
    size_t n = fread(magic, 1, sizeof magic, in);
    bool zip = n == 4 && magic[0] == 'P' && magic[1] == 'K' &&
               ((magic[2] == 3 && magic[3] == 4) || (magic[2] == 5 && magic[3] == 6));
    int rc;
    if (zip) {
        fclose(in);
        rc = import_zip(im, file);
    } else {
        rewind(in);
        rc = import_csv(im, file, in);
        fclose(in);
    }
    progress_done(im);
    return rc;
}

static void on_conflict(void *ctx, const history_entry *first, const history_entry *other) {
    importer *im = ctx;
    report(im, "%s:%u: a second candle for the minute of %s:%u, with other values",
           im->sources[other->source], other->line, im->sources[first->source], first->line);
}

/* Sorts, removes repeated minutes, counts gaps. */
static void prepare(importer *im, pending *p) {
    history_entries_sort(p->entries, p->count);
    p->dedup = history_entries_dedup(p->entries, p->count, on_conflict, im);
    p->count = p->dedup.kept;
}

/* Merges one instrument with its store file and writes the temporary file. Returns 0, 1 when
 * refused (reported) or 2 on a store error (reported). */
static int stage(importer *im, pending *p) {
    const history_import_options *opt = im->opt;
    char error[1024];
    history_candle *incoming = malloc((p->count > 0 ? p->count : 1) * sizeof *incoming);
    if (incoming == NULL)
        return 2;
    for (size_t i = 0; i < p->count; i++)
        incoming[i] = p->entries[i].candle;
    p->gaps = history_count_gaps(incoming, p->count);
    history_reader stored;
    int rc = history_reader_open(&stored, opt->data_dir, p->uid, opt->max_candles_per_instrument,
                                 error, sizeof error);
    if (rc != 0 && rc != -ENOENT) {
        report(im, "store: %s", error);
        free(incoming);
        return rc == -EFBIG ? 1 : 2;
    }
    p->stored = stored.count;
    size_t capacity = stored.count + p->count;
    if (capacity > opt->max_candles_per_instrument)
        capacity = (size_t)opt->max_candles_per_instrument;
    history_candle *merged = malloc((capacity > 0 ? capacity : 1) * sizeof *merged);
    int result = 0;
    history_merge_status status = merged == NULL
                                      ? HISTORY_MERGE_FULL
                                      : history_merge(stored.candles, stored.count, incoming,
                                                      p->count, merged, capacity, &p->merge);
    if (merged == NULL) {
        result = 2;
    } else if (status == HISTORY_MERGE_CONFLICT) {
        const history_entry *e = &p->entries[p->merge.conflict_index];
        report(im, "%s:%u: the store holds this minute of %s with other values",
               im->sources[e->source], e->line, p->uid);
        result = 1;
    } else if (status == HISTORY_MERGE_FULL) {
        report(im,
               "%s: more than history.max_candles_per_instrument (%llu) candles with the "
               "store's",
               p->uid, (unsigned long long)opt->max_candles_per_instrument);
        result = 1;
    } else if (p->merge.added > 0) {
        rc = history_store_write_temp(opt->data_dir, p->uid, merged, p->merge.count, error,
                                      sizeof error);
        if (rc != 0) {
            report(im, "store: %s", error);
            result = 2;
        } else {
            p->written = true;
        }
    }
    history_reader_close(&stored);
    free(merged);
    free(incoming);
    return result;
}

static void summary(importer *im) {
    FILE *out = im->opt->out;
    for (size_t i = 0; i < im->instrument_count; i++) {
        const pending *p = &im->instruments[i];
        fprintf(out,
                "%s: %zu distinct minutes read, %zu new, %zu already stored, %zu repeated rows "
                "dropped, "
                "%llu gaps (%llu missing minutes inside days), %zu in the store\n",
                p->uid, p->count, p->merge.added, p->merge.already_stored, p->dedup.identical,
                (unsigned long long)p->gaps.runs, (unsigned long long)p->gaps.minutes,
                p->merge.count);
    }
}

static void discard_all(importer *im) {
    for (size_t i = 0; i < im->instrument_count; i++)
        if (im->instruments[i].written)
            history_store_discard(im->opt->data_dir, im->instruments[i].uid);
}

/* Renames every staged file into place, then makes the renames durable. */
static int commit_all(importer *im) {
    char error[1024];
    for (size_t i = 0; i < im->instrument_count; i++) {
        if (!im->instruments[i].written)
            continue;
        if (history_store_commit(im->opt->data_dir, im->instruments[i].uid, error, sizeof error) !=
            0) {
            report(im, "store: %s", error);
            discard_all(im);
            return 2;
        }
        im->instruments[i].written = false;
    }
    bool renamed = false;
    for (size_t i = 0; i < im->instrument_count; i++)
        renamed = renamed || im->instruments[i].merge.added > 0;
    if (renamed && history_store_sync_dir(im->opt->data_dir, error, sizeof error) != 0) {
        report(im, "store: %s", error);
        return 2;
    }
    return 0;
}

static int run(importer *im, const char *const *files, size_t file_count) {
    for (size_t i = 0; i < file_count; i++)
        if (import_file(im, files[i]) != 0) {
            report(im, "out of memory");
            return 2;
        }
    for (size_t i = 0; i < im->instrument_count; i++)
        prepare(im, &im->instruments[i]);
    if (im->errors > 0)
        return 1;
    int result = 0;
    for (size_t i = 0; i < im->instrument_count && result == 0; i++)
        result = stage(im, &im->instruments[i]);
    if (result != 0) {
        discard_all(im);
        return result;
    }
    result = commit_all(im);
    if (result == 0)
        summary(im);
    return result;
}

int history_import_files(const history_import_options *opt, const char *const *files,
                         size_t file_count) {
    importer im = {.opt = opt};
    int result = run(&im, files, file_count);
    clear_progress(&im);
    if (im.errors > HISTORY_IMPORT_MAX_REPORTED_ERRORS)
        fprintf(opt->errors, "... and %llu more errors\n",
                (unsigned long long)(im.errors - HISTORY_IMPORT_MAX_REPORTED_ERRORS));
    if (result != 0)
        fprintf(opt->errors, "history import: %llu error%s; the store is unchanged\n",
                (unsigned long long)im.errors, im.errors == 1 ? "" : "s");
    for (size_t i = 0; i < im.instrument_count; i++)
        free(im.instruments[i].entries);
    free(im.instruments);
    free(im.sources);
    return result;
}
