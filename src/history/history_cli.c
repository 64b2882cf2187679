/* `tinvestd history import --data-dir DIR [--config FILE] FILE...`: the command line of the
 * import. The configuration names the instruments rows may belong to and the cap
 * history.max_candles_per_instrument (docs/CONFIG.md). */
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "history/history_import.h"
#include "history/history_store.h"

static void usage(FILE *out) {
    fprintf(out, "usage: tinvestd history import --data-dir DIR [--config FILE] FILE...\n"
                 "  FILE: T-Invest history archives (ZIP of daily CSV files) or CSV files of\n"
                 "  rows uid;time;open;close;high;low;volume (docs/HISTORY.md)\n");
}

int history_config_max_candles(const char *path, uint64_t *max_candles) {
    json_error_t error;
    json_t *root = json_load_file(path, 0, &error);
    if (root == NULL) {
        fprintf(stderr, "tinvestd: config: %s:%d: %s\n", path, error.line, error.text);
        return -1;
    }
    int rc = 0;
    json_t *history = json_object_get(root, "history");
    json_t *cap = history ? json_object_get(history, "max_candles_per_instrument") : NULL;
    if (history != NULL && !json_is_object(history)) {
        fprintf(stderr, "tinvestd: config: history: must be an object\n");
        rc = -1;
    } else if (cap != NULL) {
        if (!json_is_integer(cap) || json_integer_value(cap) < 1 ||
            json_integer_value(cap) > (json_int_t)(SIZE_MAX / 2 / sizeof(history_candle))) {
            fprintf(stderr,
                    "tinvestd: config: history.max_candles_per_instrument: must be a positive "
                    "integer\n");
            rc = -1;
        } else {
            *max_candles = (uint64_t)json_integer_value(cap);
        }
    }
    json_decref(root);
    return rc;
}

static int import_command(int argc, char **argv) {
    static const struct option longopts[] = {
        {"data-dir", required_argument, NULL, 'd'},
        {"config", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *data_dir = NULL, *config_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        if (c == 'd') {
            data_dir = optarg;
        } else if (c == 'c') {
            config_path = optarg;
        } else if (c == 'h') {
            usage(stdout);
            return 0;
        } else {
            usage(stderr);
            return 2;
        }
    }
    if (data_dir == NULL || optind >= argc) {
        fprintf(stderr, "tinvestd: history import needs --data-dir and at least one file\n");
        usage(stderr);
        return 2;
    }
    history_import_options opt = {
        .data_dir = data_dir,
        .max_candles_per_instrument = HISTORY_DEFAULT_MAX_CANDLES,
        .progress = isatty(fileno(stderr)) == 1,
        .out = stdout,
        .errors = stderr,
    };
    static tinvestd_config config;
    const char **uids = NULL;
    if (config_path != NULL) {
        char error[512];
        if (config_load(&config, config_path, error, sizeof error) != 0) {
            fprintf(stderr, "tinvestd: config: %s\n", error);
            return 2;
        }
        if (history_config_max_candles(config_path, &opt.max_candles_per_instrument) != 0) {
            config_deinit(&config);
            return 2;
        }
        uids = calloc(config.refdata.instrument_count + 1, sizeof *uids);
        if (uids == NULL) {
            config_deinit(&config);
            return 2;
        }
        for (uint32_t i = 0; i < config.refdata.instrument_count; i++)
            uids[i] = config.refdata.instruments[i].uid;
        opt.allowed_uids = uids;
        opt.allowed_count = config.refdata.instrument_count;
    } else {
        fprintf(stderr, "tinvestd: history import without --config: any instrument uid is "
                        "accepted\n");
    }
    int result =
        history_import_files(&opt, (const char *const *)(argv + optind), (size_t)(argc - optind));
    free(uids);
    if (config_path != NULL)
        config_deinit(&config);
    return result;
}

int history_cli_main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "import") == 0)
        return import_command(argc - 1, argv + 1);
    usage(argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
    return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : 2;
}
