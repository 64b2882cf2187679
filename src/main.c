/* tinvestd: a broker core that speaks the T-Invest API, with an embedded exchange.
 *
 * This file is the only one that knows every module: it reads the command line and the
 * configuration, wires the modules together, and turns SIGINT/SIGTERM into a graceful stop. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "api/server.h"
#include "api/marketdata_stream.h"
#include "api/order_streams.h"
#include "api/portfolio_streams.h"
#include "api/services.h"
#include "api/stream_call.h"
#include "config/config.h"
#include "engine/engine.h"
#include "engine/venue_link.h"
#include "api/replay.h"
#include "engine/history_market.h"
#include "history/history_import.h"
#include "http/http_server.h"
#include "replay_setup.h"
#include "settings/settings.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/uuid.h"

#define SHUTDOWN_GRACE_MS 5000

typedef struct options {
    const char *config_path;
    const char *data_dir;
    const char *listen;
    const char *tls_listen;
    const char *sandbox_listen;
    const char *sandbox_tls_listen;
    const char *http_listen;
    const char *https_listen;
    const char *web_dir;
    const char *tls_cert;
    const char *tls_key;
    const char *durability;
    const char *log_level;
    const char *replay;
    const char *speed;
    bool check_only;
} options;

static void usage(FILE *out) {
    fprintf(out,
            "usage: tinvestd --config FILE --data-dir DIR --listen HOST:PORT\n"
            "                [--tls-listen HOST:PORT --tls-cert FILE --tls-key FILE]\n"
            "                [--sandbox-listen HOST:PORT] [--sandbox-tls-listen HOST:PORT]\n"
            "                [--http-listen HOST:PORT] [--https-listen HOST:PORT]\n"
            "                (REST: POST /rest/<package>.<Service>/<Method>, docs/PROTOCOL.md)\n"
            "                [--web-dir DIR] (the dashboard at / of the HTTP listener;\n"
            "                the build's web/ by default, \"\" for none: docs/DASHBOARD.md)\n"
            "                [--durability fsync|none] [--log-level debug|info|warn|error]\n"
            "                [--replay FROM..TO [--speed N|max|step]]\n"
            "                (replays the history in DIR/history: docs/BACKTEST.md)\n"
            "       tinvestd --check --config FILE --data-dir DIR\n"
            "                (replays the journal, prints the state hash and exits)\n"
            "       tinvestd history import --data-dir DIR [--config FILE] FILE...\n"
            "                (imports history archives into DIR/history: docs/HISTORY.md)\n"
            "Port 0 picks a free port; the first line printed names the chosen ports:\n"
            "  listening plaintext=127.0.0.1:41234 tls=127.0.0.1:41235 "
            "sandbox=127.0.0.1:41236 sandbox_tls=127.0.0.1:41237 http=127.0.0.1:41238\n"
            "(a listener not asked for is left out). The sandbox listeners serve the same\n"
            "methods on the tokens' sandbox accounts; TLS ones use --tls-cert/--tls-key.\n");
}

static int parse_options(int argc, char **argv, options *opt) {
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"data-dir", required_argument, NULL, 'd'},
        {"listen", required_argument, NULL, 'l'},
        {"tls-listen", required_argument, NULL, 't'},
        {"tls-cert", required_argument, NULL, 'C'},
        {"tls-key", required_argument, NULL, 'K'},
        {"sandbox-listen", required_argument, NULL, 's'},
        {"sandbox-tls-listen", required_argument, NULL, 'S'},
        {"http-listen", required_argument, NULL, 'H'},
        {"https-listen", required_argument, NULL, 'P'},
        {"web-dir", required_argument, NULL, 'W'},
        {"durability", required_argument, NULL, 'D'},
        {"log-level", required_argument, NULL, 'L'},
        {"help", no_argument, NULL, 'h'},
        {"check", no_argument, NULL, 'k'},
        {"replay", required_argument, NULL, 'R'},
        {"speed", required_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    *opt = (options){.durability = "fsync", .log_level = "info"};
    int c;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c':
            opt->config_path = optarg;
            break;
        case 'd':
            opt->data_dir = optarg;
            break;
        case 'l':
            opt->listen = optarg;
            break;
        case 't':
            opt->tls_listen = optarg;
            break;
        case 's':
            opt->sandbox_listen = optarg;
            break;
        case 'S':
            opt->sandbox_tls_listen = optarg;
            break;
        case 'H':
            opt->http_listen = optarg;
            break;
        case 'P':
            opt->https_listen = optarg;
            break;
        case 'W':
            opt->web_dir = optarg;
            break;
        case 'C':
            opt->tls_cert = optarg;
            break;
        case 'K':
            opt->tls_key = optarg;
            break;
        case 'D':
            opt->durability = optarg;
            break;
        case 'L':
            opt->log_level = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        case 'k':
            opt->check_only = true;
            break;
        case 'R':
            opt->replay = optarg;
            break;
        case 'V':
            opt->speed = optarg;
            break;
        default:
            return -1;
        }
    }
    bool listens = opt->listen != NULL || opt->tls_listen != NULL || opt->sandbox_listen != NULL ||
                   opt->sandbox_tls_listen != NULL;
    if (opt->config_path == NULL || opt->data_dir == NULL || (!opt->check_only && !listens)) {
        fprintf(stderr, "tinvestd: --config, --data-dir and --listen (or --tls-listen, "
                        "--sandbox-listen, --sandbox-tls-listen) are required\n");
        return -1;
    }
    if ((opt->tls_listen != NULL || opt->sandbox_tls_listen != NULL || opt->https_listen != NULL) &&
        (opt->tls_cert == NULL || opt->tls_key == NULL)) {
        fprintf(stderr, "tinvestd: --tls-listen and --sandbox-tls-listen need --tls-cert and "
                        "--tls-key\n");
        return -1;
    }
    if (opt->speed != NULL && opt->replay == NULL) {
        fprintf(stderr, "tinvestd: --speed needs --replay\n");
        return -1;
    }
    if (strcmp(opt->durability, "fsync") != 0 && strcmp(opt->durability, "none") != 0) {
        fprintf(stderr, "tinvestd: --durability must be fsync or none\n");
        return -1;
    }
    return 0;
}

static void set_log_level(const char *name) {
    static const char *const names[] = {"debug", "info", "warn", "error"};
    for (int i = 0; i < 4; i++)
        if (strcmp(name, names[i]) == 0)
            log_set_level((log_level)i);
}

/* Prints "HOST:PORT" for an address whose port may have been 0. */
static void print_endpoint(const char *label, const char *address, int port) {
    const char *colon = strrchr(address, ':');
    int host_len = colon ? (int)(colon - address) : (int)strlen(address);
    printf(" %s=%.*s:%d", label, host_len, address, port);
}

/* The gRPC server's listener for the HTTP front end: an abstract Unix socket no other process
 * guesses by chance (its calls still carry the client's token and pass every check). */
static void internal_listen_address(char *out, size_t size) {
    char id[UUID_TEXT_SIZE];
    uuid_generate_v4(id);
    snprintf(out, size, "unix-abstract:tinvestd-%ld-%s", (long)getpid(), id);
}

/* GET /history-data's questions to the reference data (read-only once loaded). */
static bool http_token_valid(void *ctx, const char *secret, size_t len) {
    return refdata_find_token(ctx, secret, len) != NULL;
}

static bool http_instrument_uid(void *ctx, const char *instrument_id, char uid[37]) {
    const instrument *found = refdata_find_instrument_id(ctx, instrument_id);
    if (found == NULL || found->uid == NULL || strlen(found->uid) != 36)
        return false;
    for (size_t i = 0; i <= 36; i++)
        uid[i] = (char)(found->uid[i] >= 'A' && found->uid[i] <= 'F' ? found->uid[i] - 'A' + 'a'
                                                                     : found->uid[i]);
    return true;
}

/* The dashboard's directory: --web-dir when given ("" serves none), else the build's web output
 * when it was built (TINVESTD_WEB_DIR), else none. */
static const char *dashboard_dir(const options *opt) {
    if (opt->web_dir != NULL)
        return opt->web_dir[0] != '\0' ? opt->web_dir : NULL;
#ifdef TINVESTD_WEB_DIR
    if (access(TINVESTD_WEB_DIR "/index.html", R_OK) == 0)
        return TINVESTD_WEB_DIR;
    log_warn("the dashboard is not built (%s): / is not served", TINVESTD_WEB_DIR);
#endif
    return NULL;
}

/* The HTTP listener and the REST proxy over the served unary methods (api paths are filled in by
 * api_server_start), and the history archives of the data directory's store. */
static http_server *start_http(const options *opt, const tinvestd_config *config,
                               const char *internal_address, const api_method *methods,
                               size_t method_count, char *error, size_t error_size) {
    uint64_t max_candles = HISTORY_DEFAULT_MAX_CANDLES;
    if (history_config_max_candles(opt->config_path, &max_candles) != 0) {
        snprintf(error, error_size, "config: history.max_candles_per_instrument");
        return NULL;
    }
    const char **paths = calloc(method_count ? method_count : 1, sizeof *paths);
    if (paths == NULL) {
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    /* Unary methods first (the REST routes), then the streaming ones (the WebSocket routes). */
    size_t path_count = 0, stream_count = 0;
    for (size_t i = 0; i < method_count; i++)
        if (!methods[i].server_streaming && !methods[i].public_access)
            paths[path_count++] = methods[i].path;
    for (size_t i = 0; i < method_count; i++)
        if (methods[i].server_streaming && !methods[i].public_access)
            paths[path_count + stream_count++] = methods[i].path;
    /* gRPC-web: every method of the API (health and reflection are tooling for gRPC clients). */
    grpc_web_method *web_methods = calloc(method_count ? method_count : 1, sizeof *web_methods);
    if (web_methods == NULL) {
        free(paths);
        snprintf(error, error_size, "out of memory");
        return NULL;
    }
    size_t web_count = 0;
    for (size_t i = 0; i < method_count; i++)
        if (!methods[i].public_access)
            web_methods[web_count++] = (grpc_web_method){
                .path = methods[i].path,
                .server_streaming = methods[i].server_streaming,
                .client_streaming = methods[i].client_streaming,
            };
    http_server_options http_options = {
        .listen_address = opt->http_listen,
        .tls_listen_address = opt->https_listen,
        .tls_cert_path = opt->tls_cert,
        .tls_key_path = opt->tls_key,
        .grpc_target = internal_address,
        .grpc_paths = paths,
        .grpc_path_count = path_count,
        .grpc_web_methods = web_methods,
        .grpc_web_method_count = web_count,
        .stream_paths = paths + path_count,
        .stream_path_count = stream_count,
        .max_body_bytes = (size_t)config->max_message_bytes,
        .history_data_dir = opt->data_dir,
        .history_max_candles = max_candles,
        .token_valid = http_token_valid,
        .instrument_uid = http_instrument_uid,
        .lookup_ctx = (void *)&config->refdata,
        .web_dir = dashboard_dir(opt),
    };
    http_server *front = http_server_start(&http_options, error, error_size);
    free(paths);
    free(web_methods);
    return front;
}

/* Every client connection takes a descriptor, and the server keeps its connection limit below the
 * descriptor limit (api/server.c): the soft limit is raised to the hard one so that the limit
 * configured in limits.max_connections is what counts, not a login default of 1024. */
static void raise_descriptor_limit(void) {
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) != 0 || nofile.rlim_cur >= nofile.rlim_max)
        return;
    rlim_t was = nofile.rlim_cur;
    nofile.rlim_cur = nofile.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &nofile) != 0)
        log_warn("cannot raise the descriptor limit from %llu", (unsigned long long)was);
}

/* Waits for SIGINT or SIGTERM; every few seconds meanwhile, the server's housekeeping (memory
 * of closed connections goes back to the system). */
static int wait_for_stop_signal(api_server *server) {
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    const struct timespec period = {.tv_sec = 5};
    for (;;) {
        int received = sigtimedwait(&signals, NULL, &period);
        if (received > 0)
            return received;
        api_server_housekeeping(server);
    }
}

#define DAY_NS 86400000000000LL

/* --replay and --speed: the broker's clock is the simulated one from here on (util/clock.h). */
static int start_replay_clock(const options *opt, replay_setup *replay, char *error,
                              size_t error_size) {
    api_replay *r = &replay->api;
    if (replay_parse_period(opt->replay, &r->from_ns, &r->to_ns, error, error_size) != 0 ||
        replay_parse_speed(opt->speed != NULL ? opt->speed : "1", &r->mode, &replay->speed_milli,
                           error, error_size) != 0)
        return -1;
    snprintf(r->speed, sizeof r->speed, "%s", opt->speed != NULL ? opt->speed : "1");
    r->data_dir = opt->data_dir;
    snprintf(replay->title, sizeof replay->title, "tinvestd replay %s (speed %s)", opt->replay,
             r->speed);
    r->title = replay->title;
    clock_replay_start(&(clock_replay_config){.mode = r->mode,
                                              .start_ns = r->from_ns,
                                              .end_ns = r->to_ns,
                                              .speed_milli = replay->speed_milli,
                                              .quantum_ns = HISTORY_PATH_STEP_NS});
    return 0;
}

/* After recovery: the replay's history, where the journal left it; the clock starts there. */
static int attach_replay(const options *opt, replay_setup *replay, const tinvestd_config *config,
                         engine *broker, engine_venue_link *venue, char *error, size_t error_size) {
    uint64_t max_candles = HISTORY_DEFAULT_MAX_CANDLES;
    if (history_config_max_candles(opt->config_path, &max_candles) != 0) {
        snprintf(error, error_size, "config: history.max_candles_per_instrument");
        return -1;
    }
    if (replay_setup_load(replay, &config->refdata, opt->data_dir, max_candles, error,
                          error_size) != 0)
        return -1;
    api_replay *r = &replay->api;
    const core_venue_state *printed = &broker->core.venue;
    int64_t start_ns = r->from_ns;
    if (printed->market_print_ns != 0) {
        history_market_resume_after(r->market, printed->market_print_ns,
                                    printed->market_print_instrument);
        if (printed->market_print_ns > start_ns)
            start_ns = printed->market_print_ns < r->to_ns ? printed->market_print_ns : r->to_ns;
    }
    clock_replay_start(&(clock_replay_config){.mode = r->mode,
                                              .start_ns = start_ns,
                                              .end_ns = r->to_ns,
                                              .speed_milli = replay->speed_milli,
                                              .quantum_ns = HISTORY_PATH_STEP_NS});
    broker->step_target_ns = start_ns;
    broker->replay_ended = api_replay_ended;
    broker->replay_ended_ctx = r;
    venue_link_set_history(venue, r->market);
    log_info("replay: %s at speed %s from %s; %llu prints in the period, %u instruments",
             opt->replay, r->speed, start_ns == r->from_ns ? "its start" : "where it stopped",
             (unsigned long long)history_market_total(r->market), replay->source_count);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && strcmp(argv[1], "history") == 0)
        return history_cli_main(argc - 1, argv + 1);
    options opt;
    if (parse_options(argc, argv, &opt) != 0) {
        usage(stderr);
        return 2;
    }
    set_log_level(opt.log_level);
    raise_descriptor_limit();

    /* Block the stop signals before any thread starts, so that only sigwait() sees them. */
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    char error[512];
    static replay_setup replay;
    if (opt.replay != NULL && start_replay_clock(&opt, &replay, error, sizeof error) != 0) {
        fprintf(stderr, "tinvestd: %s\n", error);
        return 2;
    }
    static tinvestd_config config;
    if (config_load(&config, opt.config_path, error, sizeof error) != 0) {
        fprintf(stderr, "tinvestd: config: %s\n", error);
        return 1;
    }
    engine_venue_settings link_settings = settings_venue(&config);
    link_settings.market_follows_history = opt.replay != NULL;
    engine_venue_link *venue =
        venue_link_create(&config.refdata, &link_settings, clock_broker_ns());
    static engine broker;
    core_config broker_config = settings_core(&config);
    /* A replay keeps every order for its whole period, so that its report sees every fill. */
    if (opt.replay != NULL &&
        broker_config.order_retention_ns < replay.api.to_ns - replay.api.from_ns + DAY_NS)
        broker_config.order_retention_ns = replay.api.to_ns - replay.api.from_ns + DAY_NS;
    engine_config engine_settings = {.inbox_capacity = (uint32_t)config.queue_capacity,
                                     .max_batch = 256,
                                     .journal_reserve_bytes =
                                         (uint64_t)config.journal_reserve_bytes};
    static stream_hub hub;
    static order_streams streams;
    if (venue == NULL || engine_init(&broker, &engine_settings, &broker_config, venue) != 0 ||
        stream_hub_init(&hub, config.refdata.token_count, config.streams_per_token_per_method) !=
            0) {
        fprintf(stderr, "tinvestd: cannot start the broker core (out of memory?)\n");
        return 1;
    }
    stream_hub_set_limit(&hub, STREAM_KIND_PORTFOLIO,
                         config.operations_streams_per_token_per_method);
    stream_hub_set_limit(&hub, STREAM_KIND_POSITIONS,
                         config.operations_streams_per_token_per_method);
    order_streams_attach(&streams, &broker, &hub);
    static portfolio_streams account_streams;
    portfolio_streams_attach(&account_streams, &broker, &hub);
    static md_hub market_data_hub;
    if (md_hub_init(&market_data_hub, config.refdata.instrument_count, config.refdata.token_count,
                    config.md_streams_per_token, config.md_subscriptions_per_stream) != 0) {
        fprintf(stderr, "tinvestd: cannot start the broker core (out of memory?)\n");
        return 1;
    }
    bool durable = strcmp(opt.durability, "fsync") == 0;
    if (!durable)
        log_warn("*** --durability none: the journal is written without fdatasync; acknowledged "
                 "orders can be lost in a crash. For backtests only. ***");
    static journal events;
    if (engine_recover(&broker, &events, opt.data_dir,
                       durable ? JOURNAL_SYNC_FSYNC : JOURNAL_SYNC_NONE,
                       (uint64_t)config.snapshot_every_events, error, sizeof error) != 0) {
        fprintf(stderr, "tinvestd: %s\n", error);
        return 1;
    }
    /* The hash of what the journal holds, before the exchange is restored: restoring may add
     * events of its own (a cancel the crash lost, an order that no longer fits a book). */
    log_info("recovered state_hash=%016llx", (unsigned long long)core_state_hash(&broker.core));
    if (opt.check_only) {
        printf("state_hash=%016llx orders=%u events=%llu\n",
               (unsigned long long)core_state_hash(&broker.core), broker.core.pools.orders_in_use,
               (unsigned long long)(broker.core.next_seq - 1));
        engine_deinit(&broker);
        journal_close(&events);
        venue_link_destroy(venue);
        stream_hub_deinit(&hub);
        md_hub_deinit(&market_data_hub);
        config_deinit(&config);
        return 0;
    }
    if (opt.replay != NULL &&
        attach_replay(&opt, &replay, &config, &broker, venue, error, sizeof error) != 0) {
        fprintf(stderr, "tinvestd: %s\n", error);
        return 1;
    }
    venue_link_restore(venue, clock_broker_ns());
    /* The feed starts from the restored exchange: what it printed before is history. */
    static marketdata_streams market_data;
    if (marketdata_streams_attach(&market_data, &broker, &market_data_hub) != 0) {
        fprintf(stderr, "tinvestd: cannot start the market-data feed (out of memory?)\n");
        return 1;
    }
    if (engine_start(&broker) != 0) {
        fprintf(stderr, "tinvestd: cannot start the core thread\n");
        return 1;
    }
    api_stream_pinger_start();
    api_app app = {.engine = &broker,
                   .hub = &hub,
                   .md_hub = &market_data_hub,
                   .replay = opt.replay != NULL ? &replay.api : NULL};
    size_t method_count = 0;
    api_method *methods = api_all_methods(&method_count);
    static api_server server;
    api_server_options server_options = {
        .listen_address = opt.listen,
        .tls_listen_address = opt.tls_listen,
        .sandbox_listen_address = opt.sandbox_listen,
        .sandbox_tls_listen_address = opt.sandbox_tls_listen,
        .tls_cert_path = opt.tls_cert,
        .tls_key_path = opt.tls_key,
    };
    bool http = opt.http_listen != NULL || opt.https_listen != NULL;
    char internal_address[96];
    if (http) {
        server_options.internal_listen_address = internal_address;
        internal_listen_address(internal_address, sizeof internal_address);
    }
    if (methods == NULL || api_server_start(&server, &config, &app, methods, method_count,
                                            &server_options, error, sizeof error) != 0) {
        fprintf(stderr, "tinvestd: %s\n", methods ? error : "out of memory");
        return 1;
    }
    http_server *http_front = NULL;
    if (http && (http_front = start_http(&opt, &config, internal_address, methods, method_count,
                                         error, sizeof error)) == NULL) {
        fprintf(stderr, "tinvestd: %s\n", error);
        return 1;
    }
    printf("listening");
    if (opt.listen != NULL)
        print_endpoint("plaintext", opt.listen, server.plaintext_port);
    if (opt.tls_listen != NULL)
        print_endpoint("tls", opt.tls_listen, server.tls_port);
    if (opt.sandbox_listen != NULL)
        print_endpoint("sandbox", opt.sandbox_listen, server.sandbox_port);
    if (opt.sandbox_tls_listen != NULL)
        print_endpoint("sandbox_tls", opt.sandbox_tls_listen, server.sandbox_tls_port);
    if (opt.http_listen != NULL)
        print_endpoint("http", opt.http_listen, http_server_port(http_front));
    if (opt.https_listen != NULL)
        print_endpoint("https", opt.https_listen, http_server_tls_port(http_front));
    printf("\n");
    fflush(stdout);
    log_info("tinvestd serving %u instruments, %u accounts, %u tokens, %zu methods",
             config.refdata.instrument_count, config.refdata.account_count,
             config.refdata.token_count, method_count);

    int received = wait_for_stop_signal(&server);
    log_info("signal %d: stopping", received);
    engine_close_market(&broker);
    order_streams_shutdown(&hub);
    marketdata_streams_shutdown(&market_data_hub);
    http_server_stop(http_front);
    api_server_stop(&server, SHUTDOWN_GRACE_MS);
    engine_stop(&broker);
    api_stream_pinger_stop();
    log_info("final state_hash=%016llx", (unsigned long long)core_state_hash(&broker.core));
    api_server_destroy(&server);
    engine_deinit(&broker);
    journal_close(&events);
    venue_link_destroy(venue);
    marketdata_streams_detach(&market_data);
    md_hub_deinit(&market_data_hub);
    stream_hub_deinit(&hub);
    free(methods);
    config_deinit(&config);
    if (opt.replay != NULL)
        replay_setup_unload(&replay);
    log_info("stopped");
    return 0;
}
