/* tinvestctl: the operator's command line for tinvestd (tinvestd.admin.v1.AdminService,
 * docs/PROTOCOL.md "Operator's control surface").
 *
 *   tinvestctl [--target HOST:PORT] [--tls [--ca FILE]] [--token TOKEN] [--timeout-s N]
 *              <command> [args]
 *
 * Commands: stats; halt ID; resume ID; faults [--ack-delay-us N] [--fill-delay-us N]
 * [--reject-ppm N]; price ID PRICE; price ID --walk N; snapshot; step MS; speed X.
 *
 * The token comes from --token or the environment variable TINVESTD_ADMIN_TOKEN. The answer is
 * printed as JSON (proto3 JSON mapping, src/jsonpb). Exit codes: 0 the server answered, 1 the
 * server refused (its T-Invest code and message are printed on stderr) or could not be reached,
 * 2 a usage error.
 *
 * DESIGN: one unary gRPC call through the C-core client API and a completion queue it plucks;
 * the request is built from the generated descriptors of proto/admin.proto, so the command line
 * knows no wire format of its own. */
#include <errno.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "admin.pb-c.h"
#include "jsonpb/jsonpb.h"
#include "replay.pb-c.h"

#define DEFAULT_TARGET "127.0.0.1:50051"
#define DEFAULT_TIMEOUT_S 30
#define SERVICE_PATH "/tinvestd.admin.v1.AdminService/"
#define EXIT_REFUSED 1
#define EXIT_USAGE 2

typedef struct options {
    const char *target, *token, *ca_path;
    bool tls;
    long timeout_s;
} options;

static void usage(void) {
    fprintf(stderr,
            "usage: tinvestctl [--target HOST:PORT] [--tls [--ca FILE]] [--token TOKEN]\n"
            "                  [--timeout-s N] <command> [args]\n"
            "commands:\n"
            "  stats                              live statistics\n"
            "  halt ID                            halt trading in an instrument (uid, FIGI or\n"
            "                                     TICKER_CLASSCODE)\n"
            "  resume ID                          resume trading\n"
            "  faults [--ack-delay-us N] [--fill-delay-us N] [--reject-ppm N]\n"
            "                                     set (or, without options, show) the exchange's\n"
            "                                     latency and reject model\n"
            "  price ID PRICE | price ID --walk N move the market maker's price, or walk it\n"
            "  snapshot                           write a snapshot now\n"
            "  step MS                            a replay in step mode: the clock goes MS on\n"
            "  speed X                            a replay's speed from now on: max, step, or a\n"
            "                                     factor of real time (as --speed)\n"
            "the token: --token or TINVESTD_ADMIN_TOKEN; the default target " DEFAULT_TARGET "\n");
}

/* A whole decimal number into *out; false for anything else. */
static bool parse_long(const char *text, long long *out) {
    if (text == NULL || *text == '\0')
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (errno != 0 || *end != '\0')
        return false;
    *out = v;
    return true;
}

/* ---- The requests ---------------------------------------------------------------------------- */

typedef struct command {
    const char *method;
    ProtobufCMessage *request;
    const ProtobufCMessageDescriptor *reply;
} command;

static Tinvestd__Admin__V1__InstrumentRequest instrument_request =
    TINVESTD__ADMIN__V1__INSTRUMENT_REQUEST__INIT;
static Tinvestd__Admin__V1__SetExchangeFaultsRequest faults_request =
    TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST__INIT;
static Tinvestd__Admin__V1__MovePriceRequest move_request =
    TINVESTD__ADMIN__V1__MOVE_PRICE_REQUEST__INIT;
static Tinvestd__Admin__V1__GetStatsRequest stats_request =
    TINVESTD__ADMIN__V1__GET_STATS_REQUEST__INIT;
static Tinvestd__Admin__V1__TakeSnapshotRequest snapshot_request =
    TINVESTD__ADMIN__V1__TAKE_SNAPSHOT_REQUEST__INIT;
static Tinvestd__Replay__V1__AdvanceRequest advance_request =
    TINVESTD__REPLAY__V1__ADVANCE_REQUEST__INIT;
static Tinvestd__Admin__V1__SetReplaySpeedRequest speed_request =
    TINVESTD__ADMIN__V1__SET_REPLAY_SPEED_REQUEST__INIT;

static bool faults_command(int argc, char **argv, command *out) {
    for (int i = 0; i < argc; i += 2) {
        long long v;
        if (i + 1 >= argc || !parse_long(argv[i + 1], &v)) {
            fprintf(stderr, "tinvestctl: %s needs a whole number\n", argv[i]);
            return false;
        }
        if (strcmp(argv[i], "--ack-delay-us") == 0) {
            faults_request._ack_delay_us_case =
                TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST___ACK_DELAY_US_ACK_DELAY_US;
            faults_request.ack_delay_us = v;
        } else if (strcmp(argv[i], "--fill-delay-us") == 0) {
            faults_request._fill_delay_us_case =
                TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST___FILL_DELAY_US_FILL_DELAY_US;
            faults_request.fill_delay_us = v;
        } else if (strcmp(argv[i], "--reject-ppm") == 0) {
            faults_request._reject_ppm_case =
                TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST___REJECT_PPM_REJECT_PPM;
            faults_request.reject_ppm = v;
        } else {
            fprintf(stderr, "tinvestctl: faults: unknown option %s\n", argv[i]);
            return false;
        }
    }
    *out = (command){"SetExchangeFaults", &faults_request.base,
                     &tinvestd__admin__v1__exchange_faults__descriptor};
    return true;
}

static bool price_command(int argc, char **argv, command *out) {
    move_request.instrument_id = argv[0];
    if (argc == 2 && strncmp(argv[1], "--", 2) != 0) {
        move_request.price = argv[1];
    } else if (argc == 3 && strcmp(argv[1], "--walk") == 0) {
        long long steps;
        if (!parse_long(argv[2], &steps) || steps < 1 || steps > INT32_MAX) {
            fprintf(stderr, "tinvestctl: price --walk needs a positive whole number\n");
            return false;
        }
        move_request.walk = (int32_t)steps;
    } else {
        return false;
    }
    *out = (command){"MovePrice", &move_request.base,
                     &tinvestd__admin__v1__instrument_state__descriptor};
    return true;
}

/* The command's request, or false (a usage error, already explained or for usage()). */
static bool command_of(int argc, char **argv, command *out) {
    if (argc < 1)
        return false;
    const char *name = argv[0];
    int n = argc - 1;
    char **args = argv + 1;
    if (strcmp(name, "stats") == 0 && n == 0) {
        *out = (command){"GetStats", &stats_request.base, &tinvestd__admin__v1__stats__descriptor};
        return true;
    }
    if ((strcmp(name, "halt") == 0 || strcmp(name, "resume") == 0) && n == 1) {
        instrument_request.instrument_id = args[0];
        *out = (command){name[0] == 'h' ? "HaltTrading" : "ResumeTrading", &instrument_request.base,
                         &tinvestd__admin__v1__instrument_state__descriptor};
        return true;
    }
    if (strcmp(name, "faults") == 0)
        return faults_command(n, args, out);
    if (strcmp(name, "price") == 0 && (n == 2 || n == 3))
        return price_command(n, args, out);
    if (strcmp(name, "snapshot") == 0 && n == 0) {
        *out = (command){"TakeSnapshot", &snapshot_request.base,
                         &tinvestd__admin__v1__take_snapshot_response__descriptor};
        return true;
    }
    if (strcmp(name, "step") == 0 && n == 1) {
        long long ms;
        if (!parse_long(args[0], &ms) || ms < 1) {
            fprintf(stderr, "tinvestctl: step needs a positive number of milliseconds\n");
            return false;
        }
        advance_request.by_ms = ms;
        *out = (command){"Advance", &advance_request.base,
                         &tinvestd__replay__v1__replay_state__descriptor};
        return true;
    }
    if (strcmp(name, "speed") == 0 && n == 1) {
        /* Checked by the server (30102 names the forms), as every other argument's range is. */
        speed_request.speed = args[0];
        *out = (command){"SetReplaySpeed", &speed_request.base,
                         &tinvestd__replay__v1__replay_state__descriptor};
        return true;
    }
    return false;
}

/* ---- The call -------------------------------------------------------------------------------- */

typedef struct call_result {
    grpc_status_code status;
    char *details; /* grpc-message: the T-Invest code */
    char *message; /* the `message` trailer */
    grpc_byte_buffer *reply;
} call_result;

static char *slice_text(grpc_slice s) {
    size_t len = GRPC_SLICE_LENGTH(s);
    char *text = malloc(len + 1);
    if (text == NULL)
        abort();
    memcpy(text, GRPC_SLICE_START_PTR(s), len);
    text[len] = '\0';
    return text;
}

static char *trailer(const grpc_metadata_array *md, const char *key) {
    for (size_t i = 0; i < md->count; i++)
        if (grpc_slice_str_cmp(md->metadata[i].key, key) == 0)
            return slice_text(md->metadata[i].value);
    return NULL;
}

static grpc_channel *open_channel(const options *opt) {
    grpc_channel_credentials *creds;
    if (opt->tls) {
        char *roots = NULL;
        if (opt->ca_path != NULL) {
            FILE *f = fopen(opt->ca_path, "rb");
            if (f == NULL) {
                fprintf(stderr, "tinvestctl: %s: %s\n", opt->ca_path, strerror(errno));
                return NULL;
            }
            roots = calloc(1, 1 << 20);
            size_t n = roots != NULL ? fread(roots, 1, (1 << 20) - 1, f) : 0;
            fclose(f);
            if (n == 0) {
                fprintf(stderr, "tinvestctl: %s: empty or unreadable\n", opt->ca_path);
                free(roots);
                return NULL;
            }
        }
        creds = grpc_ssl_credentials_create(roots, NULL, NULL, NULL);
        free(roots);
    } else {
        creds = grpc_insecure_credentials_create();
    }
    grpc_channel *channel = grpc_channel_create(opt->target, creds, NULL);
    grpc_channel_credentials_release(creds);
    return channel;
}

static int call_once(const options *opt, const command *cmd, call_result *out) {
    grpc_channel *channel = open_channel(opt);
    if (channel == NULL)
        return -1;
    grpc_completion_queue *queue = grpc_completion_queue_create_for_pluck(NULL);
    char path[128];
    snprintf(path, sizeof path, SERVICE_PATH "%s", cmd->method);
    grpc_slice method = grpc_slice_from_copied_string(path);
    gpr_timespec deadline = gpr_time_add(gpr_now(GPR_CLOCK_REALTIME),
                                         gpr_time_from_seconds(opt->timeout_s, GPR_TIMESPAN));
    grpc_call *call = grpc_channel_create_call(channel, NULL, GRPC_PROPAGATE_DEFAULTS, queue,
                                               method, NULL, deadline, NULL);
    grpc_slice_unref(method);

    size_t size = protobuf_c_message_get_packed_size(cmd->request);
    grpc_slice bytes = grpc_slice_malloc(size);
    protobuf_c_message_pack(cmd->request, GRPC_SLICE_START_PTR(bytes));
    grpc_byte_buffer *request = grpc_raw_byte_buffer_create(&bytes, 1);
    grpc_slice_unref(bytes);

    char bearer[512];
    snprintf(bearer, sizeof bearer, "Bearer %s", opt->token);
    grpc_metadata auth = {.key = grpc_slice_from_static_string("authorization"),
                          .value = grpc_slice_from_copied_string(bearer)};
    grpc_metadata_array initial, trailing;
    grpc_metadata_array_init(&initial);
    grpc_metadata_array_init(&trailing);
    grpc_slice details = grpc_empty_slice();
    out->reply = NULL;

    grpc_op ops[6];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = 1;
    ops[0].data.send_initial_metadata.metadata = &auth;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = request;
    ops[2].op = GRPC_OP_SEND_CLOSE_FROM_CLIENT;
    ops[3].op = GRPC_OP_RECV_INITIAL_METADATA;
    ops[3].data.recv_initial_metadata.recv_initial_metadata = &initial;
    ops[4].op = GRPC_OP_RECV_MESSAGE;
    ops[4].data.recv_message.recv_message = &out->reply;
    ops[5].op = GRPC_OP_RECV_STATUS_ON_CLIENT;
    ops[5].data.recv_status_on_client.trailing_metadata = &trailing;
    ops[5].data.recv_status_on_client.status = &out->status;
    ops[5].data.recv_status_on_client.status_details = &details;
    int rc = 0;
    if (grpc_call_start_batch(call, ops, 6, (void *)1, NULL) != GRPC_CALL_OK) {
        rc = -1;
    } else {
        grpc_event ev =
            grpc_completion_queue_pluck(queue, (void *)1, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        rc = ev.type == GRPC_OP_COMPLETE && ev.success ? 0 : -1;
    }
    out->details = slice_text(details);
    out->message = trailer(&trailing, "message");
    if (out->message == NULL)
        out->message = trailer(&initial, "message");

    grpc_slice_unref(details);
    grpc_slice_unref(auth.value);
    grpc_metadata_array_destroy(&initial);
    grpc_metadata_array_destroy(&trailing);
    grpc_byte_buffer_destroy(request);
    grpc_call_unref(call);
    grpc_completion_queue_shutdown(queue);
    while (
        grpc_completion_queue_pluck(queue, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
        GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(queue);
    grpc_channel_destroy(channel);
    return rc;
}

static int print_reply(const command *cmd, grpc_byte_buffer *reply) {
    grpc_byte_buffer_reader reader;
    if (reply == NULL || !grpc_byte_buffer_reader_init(&reader, reply)) {
        fprintf(stderr, "tinvestctl: the server sent no answer\n");
        return EXIT_REFUSED;
    }
    grpc_slice bytes = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    ProtobufCMessage *msg = protobuf_c_message_unpack(cmd->reply, NULL, GRPC_SLICE_LENGTH(bytes),
                                                      GRPC_SLICE_START_PTR(bytes));
    grpc_slice_unref(bytes);
    if (msg == NULL) {
        fprintf(stderr, "tinvestctl: the answer does not decode as %s\n", cmd->reply->name);
        return EXIT_REFUSED;
    }
    jsonpb_error err;
    json_t *json = jsonpb_encode_json(msg, 0, &err);
    protobuf_c_message_free_unpacked(msg, NULL);
    char *text = json != NULL ? json_dumps(json, JSON_INDENT(2)) : NULL;
    json_decref(json);
    if (text == NULL) {
        fprintf(stderr, "tinvestctl: the answer cannot be written as JSON: %s\n", err.text);
        return EXIT_REFUSED;
    }
    printf("%s\n", text);
    free(text);
    return 0;
}

int main(int argc, char **argv) {
    options opt = {.target = DEFAULT_TARGET,
                   .token = getenv("TINVESTD_ADMIN_TOKEN"),
                   .timeout_s = DEFAULT_TIMEOUT_S};
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *flag = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        long long n;
        if (strcmp(flag, "--tls") == 0) {
            opt.tls = true;
        } else if (strcmp(flag, "--help") == 0) {
            usage();
            return 0;
        } else if (value == NULL) {
            fprintf(stderr, "tinvestctl: %s needs a value\n", flag);
            return EXIT_USAGE;
        } else if (strcmp(flag, "--target") == 0) {
            opt.target = value, i++;
        } else if (strcmp(flag, "--token") == 0) {
            opt.token = value, i++;
        } else if (strcmp(flag, "--ca") == 0) {
            opt.ca_path = value, i++;
        } else if (strcmp(flag, "--timeout-s") == 0 && parse_long(value, &n) && n > 0 &&
                   n <= 86400) {
            opt.timeout_s = (long)n, i++;
        } else {
            fprintf(stderr, "tinvestctl: unknown option or bad value: %s\n", flag);
            usage();
            return EXIT_USAGE;
        }
    }
    command cmd;
    if (!command_of(argc - i, argv + i, &cmd)) {
        usage();
        return EXIT_USAGE;
    }
    if (opt.token == NULL || opt.token[0] == '\0') {
        fprintf(stderr, "tinvestctl: no admin token: give --token or set TINVESTD_ADMIN_TOKEN\n");
        return EXIT_USAGE;
    }
    if (strlen(opt.token) > 400) {
        fprintf(stderr, "tinvestctl: the token is too long\n");
        return EXIT_USAGE;
    }
    grpc_init();
    call_result result = {0};
    int rc = call_once(&opt, &cmd, &result);
    int exit_code;
    if (rc != 0) {
        fprintf(stderr, "tinvestctl: the call to %s failed\n", opt.target);
        exit_code = EXIT_REFUSED;
    } else if (result.status != GRPC_STATUS_OK) {
        /* The server's refusal: status, T-Invest code (grpc-message) and its text. */
        fprintf(stderr, "tinvestctl: refused: status %d, code %s: %s\n", (int)result.status,
                result.details, result.message != NULL ? result.message : "");
        exit_code = EXIT_REFUSED;
    } else {
        exit_code = print_reply(&cmd, result.reply);
    }
    if (result.reply != NULL)
        grpc_byte_buffer_destroy(result.reply);
    free(result.details);
    free(result.message);
    grpc_shutdown();
    return exit_code;
}
