#include "api/server.h"

#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "api/validate.h"
#include "util/clock.h"
#include "util/log.h"

#define CONTRACT_PACKAGE "tinkoff.public.invest.api.contract.v1"
/* Calls of one method that gRPC can hand over without waiting for the queue thread to re-arm. */
#define PENDING_CALLS_PER_METHOD 8
#define PENDING_UNMATCHED_CALLS 2

typedef struct unmatched_call {
    api_call base; /* must stay first: the tag is base.tag */
    grpc_call_details details;
} unmatched_call;

static void arm_registered(api_server *srv, api_method *method);
static void arm_unmatched(api_server *srv);

static api_call *call_new(api_server *srv, api_method *method, size_t size) {
    api_call *call = calloc(1, size);
    if (call == NULL)
        abort();
    call->server = srv;
    call->method = method;
    call->status_details = grpc_empty_slice();
    grpc_metadata_array_init(&call->request_metadata);
    return call;
}

static bool authenticate(api_call *call) {
    size_t len = 0;
    const char *value = api_call_metadata(call, "authorization", &len);
    static const char bearer[] = "Bearer ";
    if (value == NULL || len <= sizeof bearer - 1 ||
        strncasecmp(value, bearer, sizeof bearer - 1) != 0)
        return false;
    const char *secret = value + sizeof bearer - 1;
    call->token =
        refdata_find_token(&call->server->config->refdata, secret, len - (sizeof bearer - 1));
    return call->token != NULL;
}

/* Decodes the request and checks its strings (api/validate.h) while the wire bytes are still
 * at hand; answers the call itself and returns false when either fails. */
static bool decode_request(api_call *call) {
    static const char undecodable[] = "Malformed request: the message could not be decoded";
    grpc_byte_buffer_reader reader;
    if (call->payload == NULL || !grpc_byte_buffer_reader_init(&reader, call->payload)) {
        api_reply_error_message(call, 30102, undecodable);
        return false;
    }
    grpc_slice bytes = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    call->request = protobuf_c_message_unpack(
        call->method->request_type, NULL, GRPC_SLICE_LENGTH(bytes), GRPC_SLICE_START_PTR(bytes));
    api_validate_error invalid = {.code = 30102};
    bool valid = call->request != NULL &&
                 api_validate_request(call->method->request_type, GRPC_SLICE_START_PTR(bytes),
                                      GRPC_SLICE_LENGTH(bytes), &invalid);
    grpc_slice_unref(bytes);
    if (!valid)
        api_reply_error_message(call, invalid.code,
                                call->request == NULL ? undecodable : invalid.message);
    return valid;
}

/* The sandbox knows only sandbox accounts, as the real sandbox host knows none of the broker's:
 * a SandboxService request naming any other account is answered as for an unknown account. One
 * check here covers every sandbox method. */
static bool names_broker_account_in_sandbox(const api_call *call) {
    const ProtobufCFieldDescriptor *field = call->method->sandbox_account_field;
    if (field == NULL)
        return false;
    const char *account_id = *(char *const *)((const char *)call->request + field->offset);
    const account *acc = refdata_find_account(&call->server->config->refdata, account_id);
    return acc != NULL && !acc->sandbox;
}

/* The `account_id` string field of a SandboxService request, looked up once at start. */
static const ProtobufCFieldDescriptor *sandbox_account_field_of(const api_method *m) {
    if (strcmp(m->service, "SandboxService") != 0)
        return NULL;
    const ProtobufCFieldDescriptor *field =
        protobuf_c_message_descriptor_get_field_by_name(m->request_type, "account_id");
    bool usable = field != NULL && field->type == PROTOBUF_C_TYPE_STRING &&
                  field->label != PROTOBUF_C_LABEL_REPEATED;
    return usable ? field : NULL;
}

static void on_registered_call(api_tag *tag, bool ok) {
    api_call *call = (api_call *)tag;
    api_server *srv = call->server;
    if (!ok) {
        /* The server is shutting down and this pending request was never matched. */
        api_call_destroy(call);
        return;
    }
    if (!atomic_load(&srv->shutting_down))
        arm_registered(srv, call->method);
    call->received_ns = clock_realtime_ns();
    uuid_generate_v4(call->tracking_id);
    call->rate.reset_s = 60;
    if (!authenticate(call)) {
        api_reply_error(call, 40003);
        return;
    }
    uint32_t token_index = (uint32_t)(call->token - srv->config->refdata.tokens);
    if (!ratelimit_take(&srv->limiter, token_index, call->method->index,
                        call->method->rate_limit_per_minute, call->received_ns / 1000000000,
                        &call->rate)) {
        api_reply_error(call, 80002);
        return;
    }
    if (!decode_request(call))
        return;
    log_debug("%s tracking_id=%s", call->method->path, call->tracking_id);
    if (names_broker_account_in_sandbox(call)) {
        api_reply_error(call, 50004);
        return;
    }
    call->method->handle(call, call->request);
}

static void arm_registered(api_server *srv, api_method *method) {
    api_call *call = call_new(srv, method, sizeof *call);
    call->tag.on_complete = on_registered_call;
    grpc_call_error rc = grpc_server_request_registered_call(
        srv->server, method->registration, &call->call, &call->deadline, &call->request_metadata,
        &call->payload, srv->queue, srv->queue, &call->tag);
    if (rc != GRPC_CALL_OK) {
        log_error("cannot request calls of %s: %d", method->path, rc);
        api_call_destroy(call);
    }
}

static void on_unmatched_call(api_tag *tag, bool ok) {
    unmatched_call *pending = (unmatched_call *)tag;
    api_call *call = &pending->base;
    api_server *srv = call->server;
    if (ok && !atomic_load(&srv->shutting_down))
        arm_unmatched(srv);
    if (!ok) {
        grpc_call_details_destroy(&pending->details);
        api_call_destroy(call);
        return;
    }
    uuid_generate_v4(call->tracking_id);
    call->rate.reset_s = 60;
    char path[160];
    size_t len = GRPC_SLICE_LENGTH(pending->details.method);
    if (len >= sizeof path)
        len = sizeof path - 1;
    memcpy(path, GRPC_SLICE_START_PTR(pending->details.method), len);
    path[len] = '\0';
    log_info("unimplemented method %s tracking_id=%s", path, call->tracking_id);
    grpc_call_details_destroy(&pending->details);
    api_reply_error(call, 12001);
}

static void arm_unmatched(api_server *srv) {
    unmatched_call *pending = (unmatched_call *)call_new(srv, NULL, sizeof *pending);
    grpc_call_details_init(&pending->details);
    pending->base.tag.on_complete = on_unmatched_call;
    grpc_call_error rc = grpc_server_request_call(
        srv->server, &pending->base.call, &pending->details, &pending->base.request_metadata,
        srv->queue, srv->queue, &pending->base.tag);
    if (rc != GRPC_CALL_OK) {
        grpc_call_details_destroy(&pending->details);
        api_call_destroy(&pending->base);
    }
}

static void on_server_shutdown(api_tag *tag, bool ok) {
    api_server *srv = (api_server *)((char *)tag - offsetof(api_server, shutdown_tag));
    grpc_completion_queue_shutdown(srv->queue);
}

static void *queue_thread_main(void *arg) {
    api_server *srv = arg;
    for (;;) {
        grpc_event ev =
            grpc_completion_queue_next(srv->queue, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN)
            break;
        if (ev.type == GRPC_OP_COMPLETE) {
            api_tag *tag = ev.tag;
            tag->on_complete(tag, ev.success != 0);
        }
    }
    pthread_mutex_lock(&srv->shutdown_lock);
    srv->shutdown_complete = true;
    pthread_cond_broadcast(&srv->shutdown_done);
    pthread_mutex_unlock(&srv->shutdown_lock);
    return NULL;
}

static char *read_file(const char *path, char *error, size_t error_size) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        snprintf(error, error_size, "cannot open %s", path);
        return NULL;
    }
    char *text = NULL;
    size_t size = 0, used = 0;
    for (;;) {
        if (used + 4096 + 1 > size) {
            size = size ? size * 2 : 16384;
            char *grown = realloc(text, size);
            if (grown == NULL) {
                free(text);
                fclose(f);
                snprintf(error, error_size, "out of memory reading %s", path);
                return NULL;
            }
            text = grown;
        }
        size_t got = fread(text + used, 1, 4096, f);
        used += got;
        if (got < 4096)
            break;
    }
    fclose(f);
    text[used] = '\0';
    return text;
}

static int add_listeners(api_server *srv, const api_server_options *options, char *error,
                         size_t error_size) {
    if (options->listen_address != NULL) {
        grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
        srv->plaintext_port =
            grpc_server_add_http2_port(srv->server, options->listen_address, creds);
        grpc_server_credentials_release(creds);
        if (srv->plaintext_port == 0) {
            snprintf(error, error_size, "cannot listen on %s", options->listen_address);
            return -1;
        }
    }
    if (options->tls_listen_address != NULL) {
        char *cert = read_file(options->tls_cert_path, error, error_size);
        char *key = cert ? read_file(options->tls_key_path, error, error_size) : NULL;
        if (key == NULL) {
            free(cert);
            return -1;
        }
        grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = cert};
        grpc_server_credentials *creds = grpc_ssl_server_credentials_create_ex(
            NULL, &pair, 1, GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE, NULL);
        srv->tls_port =
            creds ? grpc_server_add_http2_port(srv->server, options->tls_listen_address, creds) : 0;
        if (creds != NULL)
            grpc_server_credentials_release(creds);
        free(cert);
        free(key);
        if (srv->tls_port == 0) {
            snprintf(error, error_size, "cannot listen with TLS on %s (check certificate and key)",
                     options->tls_listen_address);
            return -1;
        }
    }
    return 0;
}

static void register_methods(api_server *srv) {
    for (size_t i = 0; i < srv->method_count; i++) {
        api_method *m = &srv->methods[i];
        m->index = (uint32_t)i;
        snprintf(m->path, sizeof m->path, "/%s.%s/%s", CONTRACT_PACKAGE, m->service, m->name);
        char rule[96];
        snprintf(rule, sizeof rule, "%s/%s", m->service, m->name);
        m->rate_limit_per_minute = config_rate_limit_for(srv->config, rule);
        m->sandbox_account_field = sandbox_account_field_of(m);
        m->registration = grpc_server_register_method(srv->server, m->path, NULL,
                                                      GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    }
}

static grpc_server *create_grpc_server(const tinvestd_config *config) {
    grpc_arg args[4];
    memset(args, 0, sizeof args);
    args[0].type = GRPC_ARG_INTEGER;
    args[0].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[0].value.integer = (int)config->max_message_bytes;
    /* Bots keep long-lived streams with keepalive pings; never punish them with GOAWAY. */
    args[1].type = GRPC_ARG_INTEGER;
    args[1].key = GRPC_ARG_HTTP2_MAX_PING_STRIKES;
    args[1].value.integer = 0;
    args[2].type = GRPC_ARG_INTEGER;
    args[2].key = GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS;
    args[2].value.integer = 1000;
    args[3].type = GRPC_ARG_INTEGER;
    args[3].key = GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS;
    args[3].value.integer = 1;
    grpc_channel_args channel_args = {.num_args = 4, .args = args};
    return grpc_server_create(&channel_args, NULL);
}

int api_server_start(api_server *srv, const tinvestd_config *config, api_app *app,
                     api_method *methods, size_t method_count, const api_server_options *options,
                     char *error, size_t error_size) {
    memset(srv, 0, sizeof *srv);
    srv->config = config;
    srv->app = app;
    srv->methods = methods;
    srv->method_count = method_count;
    atomic_init(&srv->shutting_down, false);
    pthread_mutex_init(&srv->shutdown_lock, NULL);
    pthread_cond_init(&srv->shutdown_done, NULL);
    if (ratelimit_init(&srv->limiter, config->refdata.token_count, (uint32_t)method_count) != 0) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    grpc_init();
    srv->server = create_grpc_server(config);
    srv->queue = grpc_completion_queue_create_for_next(NULL);
    grpc_server_register_completion_queue(srv->server, srv->queue, NULL);
    register_methods(srv);
    if (add_listeners(srv, options, error, error_size) != 0)
        return -1;
    grpc_server_start(srv->server);
    for (size_t i = 0; i < method_count; i++)
        for (int k = 0; k < PENDING_CALLS_PER_METHOD; k++)
            arm_registered(srv, &methods[i]);
    for (int k = 0; k < PENDING_UNMATCHED_CALLS; k++)
        arm_unmatched(srv);
    if (pthread_create(&srv->queue_thread, NULL, queue_thread_main, srv) != 0) {
        snprintf(error, error_size, "cannot start the completion-queue thread");
        return -1;
    }
    srv->queue_thread_started = true;
    return 0;
}

static bool wait_for_shutdown(api_server *srv, int timeout_ms) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += timeout_ms / 1000;
    until.tv_nsec += (long)(timeout_ms % 1000) * 1000000;
    if (until.tv_nsec >= 1000000000) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000;
    }
    pthread_mutex_lock(&srv->shutdown_lock);
    while (!srv->shutdown_complete)
        if (pthread_cond_timedwait(&srv->shutdown_done, &srv->shutdown_lock, &until) != 0)
            break;
    bool done = srv->shutdown_complete;
    pthread_mutex_unlock(&srv->shutdown_lock);
    return done;
}

void api_server_stop(api_server *srv, int grace_ms) {
    if (srv->server == NULL || atomic_exchange(&srv->shutting_down, true))
        return;
    srv->shutdown_tag.on_complete = on_server_shutdown;
    grpc_server_shutdown_and_notify(srv->server, srv->queue, &srv->shutdown_tag);
    if (!srv->queue_thread_started)
        return;
    if (!wait_for_shutdown(srv, grace_ms)) {
        log_warn("calls still running after %d ms; cancelling them", grace_ms);
        grpc_server_cancel_all_calls(srv->server);
        wait_for_shutdown(srv, 60000);
    }
    pthread_join(srv->queue_thread, NULL);
    srv->queue_thread_started = false;
}

void api_server_destroy(api_server *srv) {
    if (srv->server != NULL) {
        if (!atomic_load(&srv->shutting_down))
            api_server_stop(srv, 0);
        grpc_server_destroy(srv->server);
        grpc_completion_queue_destroy(srv->queue);
        srv->server = NULL;
        grpc_shutdown();
    }
    ratelimit_deinit(&srv->limiter);
    pthread_mutex_destroy(&srv->shutdown_lock);
    pthread_cond_destroy(&srv->shutdown_done);
}
