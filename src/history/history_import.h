/* `tinvestd history import`: T-Invest's yearly history archives (ZIPs of daily CSV files) and
 * plain CSV files of the same rows into the history store (docs/HISTORY.md).
 *
 * DESIGN: every row of every file is read and checked first, then each instrument's candles are
 * sorted, repeated minutes removed, merged with its stored file and written to a temporary file;
 * only when all of that succeeded for every instrument are the temporary files renamed into place.
 * Any error leaves the store as it was. */
#ifndef TINVESTD_HISTORY_IMPORT_H
#define TINVESTD_HISTORY_IMPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Errors printed one a line; past this many, only their count. */
#define HISTORY_IMPORT_MAX_REPORTED_ERRORS 50
/* The largest CSV file or ZIP member read (a year of one instrument's minutes is ~25 MB). */
#define HISTORY_IMPORT_MAX_FILE_BYTES (512ull << 20)
/* Distinct instruments in one import when no configuration names them. */
#define HISTORY_IMPORT_MAX_INSTRUMENTS 4096u

typedef struct history_import_options {
    const char *data_dir;
    /* The instruments rows may name (the configuration's uids); NULL: any well-formed uid. */
    const char *const *allowed_uids;
    size_t allowed_count;
    uint64_t max_candles_per_instrument;
    bool progress; /* one updating line a file on `errors` */
    FILE *out;     /* the summary */
    FILE *errors;  /* errors and progress */
} history_import_options;

/* Returns 0 when everything was imported, 1 when the input was refused (errors printed, the store
 * unchanged), 2 when the store could not be read or written (likewise unchanged). */
int history_import_files(const history_import_options *opt, const char *const *files,
                         size_t file_count);

/* history.max_candles_per_instrument of the configuration file into *max_candles when it is
 * there (left as it is otherwise). 0, or -1 with the reason printed. */
int history_config_max_candles(const char *path, uint64_t *max_candles);

/* `history ...` of the command line: argv[0] is "history". Returns the exit status. */
int history_cli_main(int argc, char **argv);

#endif
