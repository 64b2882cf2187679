#include "api/server.h"

#include <errno.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/sync.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "api/api_metrics.h"
#include "api/request.h"
#include "api/services.h"
#include "engine/engine_metrics.h"
#include "util/clock.h"
#include "util/log.h"

#define CONTRACT_PACKAGE "tinkoff.public.invest.api.contract.v1"
/* Calls of one method that gRPC can hand over without waiting for the queue thread to re-arm. */
#define PENDING_CALLS_PER_METHOD 8
#define PENDING_UNMATCHED_CALLS 2
/* What HPACK counts for one header besides its name and value (RFC 7541, 4.1); the per-call
 * header limit counts the same way as gRPC's own. */
#define METADATA_ENTRY_OVERHEAD_BYTES 32
/* gRPC's own header limit is this many times limits.max_metadata_bytes: a header block between
 * the two reaches the server and gets a clear error for its call, while C-core 1.51 closes the
 * whole connection for a block over its own limit. */
#define METADATA_TRANSPORT_FACTOR 8
/* Pending connections the kernel queues for each listener. C-core accepts everything queued in
 * one go before it closes any refused connection, so this bounds the descriptors a burst takes
 * beyond limits.max_connections. While the server is full the queue is shortened to one
 * (THROTTLED_LISTEN_BACKLOG), so that a flood of connections cannot keep one accept round going. */
#define LISTEN_BACKLOG 64
#define THROTTLED_LISTEN_BACKLOG 0
/* Descriptors kept free for everything that is not a client connection: listeners, the journal
 * and snapshots, gRPC's own event and timer descriptors, and one burst of refused connections
 * per listener. limits.max_connections is lowered at start to fit under the descriptor limit with
 * this much to spare. */
#define FD_RESERVE_INTERNAL 64
/* The reserve: FD_RESERVE_INTERNAL plus one listen queue per listener asked for (up to five:
 * plaintext and TLS of each endpoint, and the HTTP front end's internal one). */
static int fd_reserve_for(const api_server_options *options) {
    const char *addresses[] = {options->listen_address, options->tls_listen_address,
                               options->sandbox_listen_address, options->sandbox_tls_listen_address,
                               options->internal_listen_address};
    int listeners = 0;
    for (size_t i = 0; i < sizeof addresses / sizeof addresses[0]; i++)
        listeners += addresses[i] != NULL;
    return FD_RESERVE_INTERNAL + listeners * LISTEN_BACKLOG;
}
#define MAX_LISTENERS 16
/* Descriptors the connection table can tell apart; a larger descriptor limit is used only up to
 * this (the table takes 8 bytes per descriptor of address space, touched only where used). */
#define FD_TRACKED_MAX (1 << 20)
/* A full connection table looks for closed connections at most this often, so a flood of
 * refused connections costs one descriptor scan per period, not one per connection. */
#define CONNECTION_SWEEP_INTERVAL_NS 50000000LL
/* The C-core version whose socket-mutator layout the connection limit was checked against
 * (gRPC 1.51). Newer C-cores enforce the limit themselves through CHANNEL_ARG_MAX_CONNECTIONS. */
#define VERIFIED_CORE_VERSION_PREFIX "29."
/* GRPC_ARG_MAX_ALLOWED_INCOMING_CONNECTIONS of newer C-cores; 1.51 ignores it. */
#define CHANNEL_ARG_MAX_CONNECTIONS "grpc.max_allowed_incoming_connections"

typedef struct unmatched_call {
    api_call base; /* must stay first: the tag is base.tag */
    grpc_call_details details;
} unmatched_call;

static void arm_registered(api_server *srv, api_method *method, api_endpoint endpoint);
static void arm_unmatched(api_server *srv, api_endpoint endpoint);

/* gRPC C-core calls a socket mutator (channel argument GRPC_ARG_SOCKET_MUTATOR, public) for every
 * listening socket it creates and every connection it accepts, before it uses them. The object's
 * layout is not in the installed headers, so it is mirrored here from C-core's socket_mutator.h;
 * api_server_start uses it only on the C-core version it was checked against. The hook must
 * always return true: on false C-core abandons the socket's listener for good. */
typedef enum {
    API_FD_CLIENT_CONNECTION,
    API_FD_SERVER_LISTENER,
    API_FD_SERVER_CONNECTION,
} api_fd_usage;

typedef struct api_socket_info {
    int fd;
    api_fd_usage usage;
} api_socket_info;

typedef struct api_socket_mutator api_socket_mutator;

typedef struct api_socket_mutator_vtable {
    bool (*mutate_fd)(int fd, api_socket_mutator *mutator);
    int (*compare)(api_socket_mutator *a, api_socket_mutator *b);
    void (*destroy)(api_socket_mutator *mutator);
    bool (*mutate_fd_2)(const api_socket_info *info, api_socket_mutator *mutator);
} api_socket_mutator_vtable;

struct api_socket_mutator {
    const api_socket_mutator_vtable *vtable;
    gpr_refcount refcount;
};

/* Accepted connections, known by descriptor. C-core tells nobody when it closes a connection, so
 * each descriptor's socket inode is kept: a descriptor number handed out again, or a descriptor
 * that no longer holds the same socket, means the connection it held is closed. */
typedef struct api_connections api_connections;

struct api_connections {
    api_socket_mutator base; /* must stay first: C-core passes &base */
    pthread_mutex_t lock;
    ino_t *inode_by_fd; /* 0: no tracked connection on this descriptor */
    int fd_capacity;    /* the descriptor limit */
    int fd_reserve;     /* descriptors kept for the server itself (fd_reserve_for) */
    int fd_high;        /* one past the highest descriptor ever tracked: where sweeps stop */
    int open, max;
    int64_t last_sweep_ns;
    int listener_fds[MAX_LISTENERS];
    int listener_count;
    bool throttled; /* listen queues shortened while full */
    uint64_t refused;
};

static api_call *call_new(api_server *srv, api_method *method, api_endpoint endpoint, size_t size) {
    api_call *call = calloc(1, size);
    if (call == NULL)
        abort();
    call->server = srv;
    call->method = method;
    call->endpoint = endpoint;
    call->status_details = grpc_empty_slice();
    grpc_metadata_array_init(&call->request_metadata);
    return call;
}

/* The accounts a call sees: its sandbox accounts on the sandbox endpoint and in SandboxService
 * (which the broker's endpoint serves too, as before there was a sandbox endpoint), its broker
 * accounts otherwise. */
static api_endpoint view_of(const api_call *call) {
    bool sandbox = call->endpoint == API_ENDPOINT_SANDBOX ||
                   (call->method != NULL && call->method->sandbox_service);
    return sandbox ? API_ENDPOINT_SANDBOX : API_ENDPOINT_BROKER;
}

/* Finds the call's token and gives the call that token's view (call->token). */
static bool authenticate(api_call *call) {
    size_t len = 0;
    const char *value = api_call_metadata(call, "authorization", &len);
    static const char bearer[] = "Bearer ";
    if (value == NULL || len <= sizeof bearer - 1 ||
        strncasecmp(value, bearer, sizeof bearer - 1) != 0)
        return false;
    const char *secret = value + sizeof bearer - 1;
    const refdata *rd = api_call_refdata(call);
    const token *configured = refdata_find_token(rd, secret, len - (sizeof bearer - 1));
    if (configured == NULL)
        return false;
    call->token_index = refdata_token_index(rd, configured);
    call->token = &call->server->token_views[view_of(call)][call->token_index];
    return true;
}

/* Decodes the request and checks its strings (api/request.h) while the wire bytes are still at
 * hand; answers the call itself and returns false when either fails. */
static bool decode_request(api_call *call) {
    api_validate_error invalid = {.code = 30102};
    grpc_byte_buffer_reader reader;
    if (call->payload == NULL || !grpc_byte_buffer_reader_init(&reader, call->payload)) {
        api_reply_error_message(call, 30102, "Malformed request: the message could not be decoded");
        return false;
    }
    grpc_slice bytes = grpc_byte_buffer_reader_readall(&reader);
    grpc_byte_buffer_reader_destroy(&reader);
    call->request = api_request_decode(call->method->request_type, GRPC_SLICE_START_PTR(bytes),
                                       GRPC_SLICE_LENGTH(bytes), &invalid);
    grpc_slice_unref(bytes);
    if (call->request == NULL)
        api_reply_error_message(call, invalid.code, invalid.message);
    return call->request != NULL;
}

/* Header bytes as HPACK counts them, for the per-call limit. */
static size_t metadata_bytes(const api_call *call) {
    size_t total = 0;
    for (size_t i = 0; i < call->request_metadata.count; i++) {
        const grpc_metadata *md = &call->request_metadata.metadata[i];
        total += GRPC_SLICE_LENGTH(md->key) + GRPC_SLICE_LENGTH(md->value) +
                 METADATA_ENTRY_OVERHEAD_BYTES;
    }
    return total;
}

/* Counts a unary call against its token's in-flight cap; false when the token is at the cap. The
 * count is returned when the call is destroyed (api_call_destroy). */
static bool enter_in_flight(api_call *call, uint32_t token_index) {
    api_server *srv = call->server;
    int cap = srv->config->max_unary_calls_in_flight_per_token;
    if (atomic_fetch_add(&srv->in_flight[token_index], 1) >= cap) {
        atomic_fetch_sub(&srv->in_flight[token_index], 1);
        return false;
    }
    call->in_flight = true;
    return true;
}

/* Everything decided from the headers alone, before the request message is read: header size,
 * token, in-flight cap and rate limit. Answers the call and returns false when it is refused. */
/* The header size and the token: checked on every call before its method is looked at, served
 * or not. Answers the call and returns false when it is refused. */
static bool admit_headers(api_call *call) {
    api_server *srv = call->server;
    size_t header_bytes = metadata_bytes(call);
    if (header_bytes > (size_t)srv->config->max_metadata_bytes) {
        char text[160];
        snprintf(text, sizeof text,
                 "Request headers of %zu bytes exceed the limit of %d bytes "
                 "(limits.max_metadata_bytes)",
                 header_bytes, srv->config->max_metadata_bytes);
        api_reply_error_message(call, 30102, text);
        return false;
    }
    if (!authenticate(call)) {
        api_reply_error(call, 40003);
        return false;
    }
    return true;
}

/* A call of a method served without a token: only its header size is checked, and it reports
 * no rate budget. */
static bool admit_public_call(api_call *call) {
    call->rate = (api_rate_info){.limit = RATELIMIT_UNLIMITED_REPORTED,
                                 .remaining = RATELIMIT_UNLIMITED_REPORTED,
                                 .reset_s = 0};
    size_t header_bytes = metadata_bytes(call);
    if (header_bytes > (size_t)call->server->config->max_metadata_bytes) {
        char text[160];
        snprintf(text, sizeof text,
                 "Request headers of %zu bytes exceed the limit of %d bytes "
                 "(limits.max_metadata_bytes)",
                 header_bytes, call->server->config->max_metadata_bytes);
        api_reply_error_message(call, 30102, text);
        return false;
    }
    return true;
}

/* Compares in time that depends on the lengths only, not on where the texts first differ. */
static bool same_secret(const char *given, size_t given_len, const char *secret) {
    size_t len = strlen(secret);
    unsigned char diff = given_len != len;
    for (size_t i = 0; i < len; i++)
        diff |= (unsigned char)(secret[i] ^ (i < given_len ? given[i] : 0));
    return diff == 0;
}

/* A call of the operator's service: the admin token, and nothing else, admits it. A trading
 * token is refused as any wrong token is; the operator spends no client's budget. */
static bool admit_admin_call(api_call *call) {
    if (!admit_public_call(call))
        return false;
    const char *secret = api_call_config(call)->admin_token;
    if (secret == NULL) {
        api_reply_error_message(call, 40003,
                                "The operator's service is closed: no admin token is configured "
                                "(admin.token)");
        return false;
    }
    size_t len = 0;
    const char *value = api_call_metadata(call, "authorization", &len);
    static const char bearer[] = "Bearer ";
    if (value == NULL || len <= sizeof bearer - 1 ||
        strncasecmp(value, bearer, sizeof bearer - 1) != 0 ||
        !same_secret(value + sizeof bearer - 1, len - (sizeof bearer - 1), secret)) {
        api_reply_error_message(call, 40003, "The admin token is missing or invalid");
        return false;
    }
    return true;
}

static bool admit_call(api_call *call) {
    api_server *srv = call->server;
    if (call->method->public_access)
        return admit_public_call(call);
    if (call->method->admin_access)
        return admit_admin_call(call);
    if (!admit_headers(call))
        return false;
    uint32_t token_index = call->token_index;
    if (!call->method->server_streaming && !enter_in_flight(call, token_index)) {
        char text[160];
        snprintf(text, sizeof text,
                 "Too many requests in flight: at most %d unary calls per token at once "
                 "(limits.max_unary_calls_in_flight_per_token)",
                 srv->config->max_unary_calls_in_flight_per_token);
        api_reply_error_message(call, 80002, text);
        return false;
    }
    if (!ratelimit_take(&srv->limiter, token_index, call->method->rate_bucket,
                        call->method->rate_limit_per_minute, call->received_ns / 1000000000,
                        &call->rate)) {
        api_reply_error(call, 80002);
        return false;
    }
    return true;
}

static void on_request_received(api_tag *tag, bool ok) {
    api_call *call = (api_call *)tag;
    if (!ok) {
        /* The call was cancelled before its message arrived: nobody is left to answer. */
        api_call_destroy(call);
        return;
    }
    if (!decode_request(call))
        return;
    log_debug("%s tracking_id=%s", call->method->path, call->tracking_id);
    /* The sandbox knows only sandbox accounts, as the real sandbox host knows none of the
     * broker's: a SandboxService request naming any other account is answered as for an unknown
     * account. One check here covers every sandbox method. */
    if (api_request_names_broker_account(call->method->sandbox_account_field, call->request,
                                         api_call_refdata(call))) {
        api_reply_error(call, 50004);
        return;
    }
    call->method->handle(call, call->request);
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
        arm_registered(srv, call->method, call->endpoint);
    call->received_ns = clock_broker_ns();
    call->received_mono_ns = clock_monotonic_ns(); /* metrics: latency */
    uuid_generate_v4(call->tracking_id);
    call->rate.reset_s = 60;
    if (!admit_call(call))
        return;
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &call->payload;
    call->tag.on_complete = on_request_received;
    if (grpc_call_start_batch(call->call, &op, 1, &call->tag, NULL) != GRPC_CALL_OK) {
        /* Only a programming error can make this first receive invalid. */
        log_error("cannot read the request of %s", call->method->path);
        abort();
    }
}

static void arm_registered(api_server *srv, api_method *method, api_endpoint endpoint) {
    api_call *call = call_new(srv, method, endpoint, sizeof *call);
    call->tag.on_complete = on_registered_call;
    grpc_call_error rc = grpc_server_request_registered_call(
        srv->servers[endpoint], method->registration[endpoint], &call->call, &call->deadline,
        &call->request_metadata, NULL, srv->queue, srv->queue, &call->tag);
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
        arm_unmatched(srv, call->endpoint);
    if (!ok) {
        grpc_call_details_destroy(&pending->details);
        api_call_destroy(call);
        return;
    }
    uuid_generate_v4(call->tracking_id);
    call->received_mono_ns = clock_monotonic_ns(); /* metrics: latency */
    /* No method, so no budget is spent or exhausted: a client that retries on the rate headers
     * (the official Python SDK's retrying client sleeps x-ratelimit-reset) does not wait. */
    call->rate = (api_rate_info){.limit = RATELIMIT_UNLIMITED_REPORTED,
                                 .remaining = RATELIMIT_UNLIMITED_REPORTED,
                                 .reset_s = 0};
    /* Authentication comes before the method is looked at, as on the real API: without a valid
     * token even an unknown method answers 40003. */
    if (!admit_headers(call)) {
        grpc_call_details_destroy(&pending->details);
        return;
    }
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

static void arm_unmatched(api_server *srv, api_endpoint endpoint) {
    unmatched_call *pending = (unmatched_call *)call_new(srv, NULL, endpoint, sizeof *pending);
    grpc_call_details_init(&pending->details);
    pending->base.tag.on_complete = on_unmatched_call;
    grpc_call_error rc = grpc_server_request_call(
        srv->servers[endpoint], &pending->base.call, &pending->details,
        &pending->base.request_metadata, srv->queue, srv->queue, &pending->base.tag);
    if (rc != GRPC_CALL_OK) {
        grpc_call_details_destroy(&pending->details);
        api_call_destroy(&pending->base);
    }
}

/* Listening again on a listening socket only changes the length of its queue. The lock is held. */
static void set_listen_queues(api_connections *c, int backlog) {
    for (int i = 0; i < c->listener_count; i++)
        if (listen(c->listener_fds[i], backlog) != 0)
            log_warn("cannot set the listen queue to %d: %s", backlog, strerror(errno));
    c->throttled = backlog == THROTTLED_LISTEN_BACKLOG;
}

/* Refuses a connection C-core has already accepted: it still creates the connection, whose first
 * read then finds the socket shut and closes it. The lock is held. */
static void refuse_connection(api_connections *c, int fd, const char *why) {
    if (!c->throttled)
        set_listen_queues(c, THROTTLED_LISTEN_BACKLOG);
    struct linger abort_on_close = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &abort_on_close, sizeof abort_on_close);
    shutdown(fd, SHUT_RDWR);
    c->refused++;
    if (c->refused == 1 || c->refused % 1000 == 0)
        log_warn("connection refused (%s): %d open, limit %d; %llu refused so far", why, c->open,
                 c->max, (unsigned long long)c->refused);
}

static bool fd_holds(int fd, ino_t inode) {
    struct stat st;
    return fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) && st.st_ino == inode;
}

/* Forgets connections whose descriptor no longer holds their socket. Returns how many. The lock
 * is held. */
static int sweep_closed(api_connections *c) {
    int closed = 0;
    for (int fd = 0; fd < c->fd_high; fd++)
        if (c->inode_by_fd[fd] != 0 && !fd_holds(fd, c->inode_by_fd[fd])) {
            c->inode_by_fd[fd] = 0;
            closed++;
        }
    c->open -= closed;
    return closed;
}

static void admit_connection(api_connections *c, int fd) {
    pthread_mutex_lock(&c->lock);
    if (fd >= c->fd_capacity - c->fd_reserve / 2) {
        /* Descriptors are nearly gone whatever holds them: one more accept could fail with
         * EMFILE, which would stop the listener for good. */
        refuse_connection(c, fd, "descriptors nearly exhausted");
        pthread_mutex_unlock(&c->lock);
        return;
    }
    if (c->inode_by_fd[fd] != 0) {
        /* The kernel handed this number out again: the connection that had it is closed. */
        c->inode_by_fd[fd] = 0;
        c->open--;
    }
    int64_t now_ns = clock_monotonic_ns();
    if (c->open >= c->max && now_ns - c->last_sweep_ns >= CONNECTION_SWEEP_INTERVAL_NS) {
        c->last_sweep_ns = now_ns;
        if (sweep_closed(c) > 0)
            malloc_trim(0); /* closed connections' buffers go back to the system */
    }
    struct stat st;
    if (c->open >= c->max) {
        refuse_connection(c, fd, "limits.max_connections");
    } else if (fstat(fd, &st) == 0 && st.st_ino != 0) {
        c->inode_by_fd[fd] = st.st_ino;
        c->open++;
        if (fd >= c->fd_high)
            c->fd_high = fd + 1;
        if (c->throttled)
            set_listen_queues(c, LISTEN_BACKLOG);
    }
    pthread_mutex_unlock(&c->lock);
}

static bool on_socket(const api_socket_info *info, api_socket_mutator *mutator) {
    api_connections *c = (api_connections *)mutator;
    if (info->usage == API_FD_SERVER_CONNECTION) {
        admit_connection(c, info->fd);
    } else if (info->usage == API_FD_SERVER_LISTENER) {
        pthread_mutex_lock(&c->lock);
        if (c->listener_count < MAX_LISTENERS)
            c->listener_fds[c->listener_count++] = info->fd;
        pthread_mutex_unlock(&c->lock);
    }
    return true;
}

static bool on_socket_legacy(int fd, api_socket_mutator *mutator) {
    return true;
}

static int compare_mutators(api_socket_mutator *a, api_socket_mutator *b) {
    return a == b ? 0 : a < b ? -1 : 1;
}

/* The table lives as long as the server; gRPC's references to it never free it. */
static void keep_mutator(api_socket_mutator *mutator) {}

static const api_socket_mutator_vtable connection_mutator_vtable = {
    .mutate_fd = on_socket_legacy,
    .compare = compare_mutators,
    .destroy = keep_mutator,
    .mutate_fd_2 = on_socket,
};

static void *mutator_arg_copy(void *p) {
    return p;
}

static void mutator_arg_destroy(void *p) {}

static int mutator_arg_compare(void *a, void *b) {
    return a == b ? 0 : a < b ? -1 : 1;
}

static const grpc_arg_pointer_vtable mutator_arg_vtable = {
    .copy = mutator_arg_copy, .destroy = mutator_arg_destroy, .cmp = mutator_arg_compare};

/* The connection table, or NULL when this C-core is not the one whose layout was checked (the
 * limit is then passed to it as CHANNEL_ARG_MAX_CONNECTIONS alone). */
static api_connections *connections_create(int max_connections, int fd_limit, int fd_reserve) {
    const char *version = grpc_version_string();
    if (strncmp(version, VERIFIED_CORE_VERSION_PREFIX, strlen(VERIFIED_CORE_VERSION_PREFIX)) != 0) {
        log_warn("gRPC core %s: connections are not counted by tinvestd (checked on %s*)", version,
                 VERIFIED_CORE_VERSION_PREFIX);
        return NULL;
    }
    api_connections *c = calloc(1, sizeof *c);
    if (c != NULL)
        c->inode_by_fd = calloc((size_t)fd_limit, sizeof *c->inode_by_fd);
    if (c == NULL || c->inode_by_fd == NULL) {
        log_warn("out of memory for the connection table: connections are not counted");
        free(c);
        return NULL;
    }
    c->base.vtable = &connection_mutator_vtable;
    gpr_ref_init(&c->base.refcount, 1);
    pthread_mutex_init(&c->lock, NULL);
    c->fd_capacity = fd_limit;
    c->max = max_connections;
    c->fd_reserve = fd_reserve;
    return c;
}

static void connections_destroy(api_connections *c) {
    if (c == NULL)
        return;
    if (c->refused > 0)
        log_info("%llu connections were refused over the limits", (unsigned long long)c->refused);
    pthread_mutex_destroy(&c->lock);
    free(c->inode_by_fd);
    free(c);
}

/* C-core listens with the kernel's largest queue; a shorter one bounds how many connections one
 * accept round can take (see LISTEN_BACKLOG). */
static void shorten_listen_queues(api_connections *c) {
    pthread_mutex_lock(&c->lock);
    set_listen_queues(c, LISTEN_BACKLOG);
    pthread_mutex_unlock(&c->lock);
}

/* How many connections fit under the descriptor limit with `fd_reserve` to spare. */
static int connections_that_fit(int configured, int fd_reserve, int *fd_limit) {
    struct rlimit nofile;
    if (getrlimit(RLIMIT_NOFILE, &nofile) != 0 || nofile.rlim_cur == RLIM_INFINITY ||
        nofile.rlim_cur > (rlim_t)FD_TRACKED_MAX)
        nofile.rlim_cur = FD_TRACKED_MAX;
    *fd_limit = (int)nofile.rlim_cur;
    int fit = *fd_limit - fd_reserve;
    if (fit < 1)
        fit = 1;
    if (configured > fit) {
        log_warn("limits.max_connections %d lowered to %d: the descriptor limit is %d and %d "
                 "descriptors are kept for the server itself",
                 configured, fit, *fd_limit, fd_reserve);
        return fit;
    }
    return configured;
}

/* One endpoint's server has shut down; the last one shuts the completion queue down. */
static void on_server_shutdown(api_tag *tag, bool ok) {
    api_server *srv = ((api_server_shutdown *)tag)->server;
    if (atomic_fetch_sub(&srv->servers_running, 1) == 1)
        grpc_completion_queue_shutdown(srv->queue);
}

static void *queue_thread_main(void *arg) {
    api_server *srv = arg;
    pthread_setname_np(pthread_self(), "transport");
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

/* Binds one listener; returns its port, or 0 with a reason in `error`. */
static int add_plaintext_listener(grpc_server *server, const char *address, char *error,
                                  size_t error_size) {
    grpc_server_credentials *creds = grpc_insecure_server_credentials_create();
    int port = grpc_server_add_http2_port(server, address, creds);
    grpc_server_credentials_release(creds);
    if (port == 0)
        snprintf(error, error_size, "cannot listen on %s", address);
    return port;
}

static int add_tls_listener(grpc_server *server, const char *address,
                            const api_server_options *options, char *error, size_t error_size) {
    char *cert = read_file(options->tls_cert_path, error, error_size);
    char *key = cert ? read_file(options->tls_key_path, error, error_size) : NULL;
    if (key == NULL) {
        free(cert);
        return 0;
    }
    grpc_ssl_pem_key_cert_pair pair = {.private_key = key, .cert_chain = cert};
    grpc_server_credentials *creds = grpc_ssl_server_credentials_create_ex(
        NULL, &pair, 1, GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE, NULL);
    int port = creds ? grpc_server_add_http2_port(server, address, creds) : 0;
    if (creds != NULL)
        grpc_server_credentials_release(creds);
    free(cert);
    free(key);
    if (port == 0)
        snprintf(error, error_size, "cannot listen with TLS on %s (check certificate and key)",
                 address);
    return port;
}

/* The plaintext and TLS listeners of one endpoint; a NULL address is not listened on. */
static int add_listeners(api_server *srv, api_endpoint endpoint, const char *plaintext,
                         const char *tls, const api_server_options *options, int *plaintext_port,
                         int *tls_port, char *error, size_t error_size) {
    grpc_server *server = srv->servers[endpoint];
    if (plaintext != NULL &&
        (*plaintext_port = add_plaintext_listener(server, plaintext, error, error_size)) == 0)
        return -1;
    if (tls != NULL && (*tls_port = add_tls_listener(server, tls, options, error, error_size)) == 0)
        return -1;
    return 0;
}

static void register_methods(api_server *srv) {
    for (size_t i = 0; i < srv->method_count; i++) {
        api_method *m = &srv->methods[i];
        m->index = (uint32_t)i;
        snprintf(m->path, sizeof m->path, "/%s.%s/%s", m->package ? m->package : CONTRACT_PACKAGE,
                 m->service, m->name);
        char rule[96];
        snprintf(rule, sizeof rule, "%s/%s", m->service, m->name);
        rate_limit_scope scope;
        m->rate_limit_per_minute = config_rate_limit_for(srv->config, rule, &scope);
        m->rate_bucket = m->index;
        m->rate_shared = scope == RATE_SCOPE_SERVICE;
        for (size_t j = 0; m->rate_shared && j < i; j++)
            if (srv->methods[j].rate_shared && strcmp(srv->methods[j].service, m->service) == 0) {
                m->rate_bucket = srv->methods[j].rate_bucket;
                break;
            }
        m->sandbox_account_field = api_request_sandbox_account_field(m->service, m->request_type);
        m->sandbox_service = strcmp(m->service, "SandboxService") == 0;
        /* Without the payload: the call is admitted on its headers before its message is read
         * (admit_call). Every endpoint serves every method. */
        for (int e = 0; e < API_ENDPOINT_COUNT; e++)
            m->registration[e] = srv->servers[e] == NULL
                                     ? NULL
                                     : grpc_server_register_method(srv->servers[e], m->path, NULL,
                                                                   GRPC_SRM_PAYLOAD_NONE, 0);
    }
}

static grpc_arg int_arg(const char *key, int value) {
    grpc_arg arg;
    memset(&arg, 0, sizeof arg);
    arg.type = GRPC_ARG_INTEGER;
    arg.key = (char *)key;
    arg.value.integer = value;
    return arg;
}

static grpc_arg pointer_arg(const char *key, void *value, const grpc_arg_pointer_vtable *vtable) {
    grpc_arg arg;
    memset(&arg, 0, sizeof arg);
    arg.type = GRPC_ARG_POINTER;
    arg.key = (char *)key;
    arg.value.pointer.p = value;
    arg.value.pointer.vtable = vtable;
    return arg;
}

static grpc_server *create_grpc_server(api_server *srv, int max_connections) {
    const tinvestd_config *config = srv->config;
    grpc_arg args[10];
    size_t n = 0;
    args[n++] = int_arg(GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH, (int)config->max_message_bytes);
    /* Bots keep long-lived streams with keepalive pings; never punish them with GOAWAY. */
    args[n++] = int_arg(GRPC_ARG_HTTP2_MAX_PING_STRIKES, 0);
    args[n++] = int_arg(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS, 1000);
    args[n++] = int_arg(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
    args[n++] =
        int_arg(GRPC_ARG_MAX_CONCURRENT_STREAMS, config->max_concurrent_streams_per_connection);
    args[n++] =
        int_arg(GRPC_ARG_MAX_METADATA_SIZE, config->max_metadata_bytes * METADATA_TRANSPORT_FACTOR);
    args[n++] = int_arg(CHANNEL_ARG_MAX_CONNECTIONS, max_connections);
    args[n++] =
        pointer_arg(GRPC_ARG_RESOURCE_QUOTA, srv->memory_quota, grpc_resource_quota_arg_vtable());
    if (srv->connections != NULL)
        args[n++] =
            pointer_arg(GRPC_ARG_SOCKET_MUTATOR, &srv->connections->base, &mutator_arg_vtable);
    grpc_channel_args channel_args = {.num_args = n, .args = args};
    return grpc_server_create(&channel_args, NULL);
}

/* Each configured token as each endpoint's calls see it (api_call.token). */
static int init_token_views(api_server *srv) {
    const refdata *rd = &srv->config->refdata;
    size_t count = rd->token_count ? rd->token_count : 1;
    static const token_view kinds[API_ENDPOINT_COUNT] = {
        [API_ENDPOINT_BROKER] = TOKEN_VIEW_BROKER, [API_ENDPOINT_SANDBOX] = TOKEN_VIEW_SANDBOX};
    for (int e = 0; e < API_ENDPOINT_COUNT; e++) {
        srv->token_views[e] = calloc(count, sizeof *srv->token_views[e]);
        if (srv->token_views[e] == NULL)
            return -1;
        for (uint32_t t = 0; t < rd->token_count; t++)
            refdata_token_view_init(&srv->token_views[e][t], &rd->tokens[t], kinds[e]);
    }
    return 0;
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
    atomic_init(&srv->servers_running, 0);
    pthread_mutex_init(&srv->shutdown_lock, NULL);
    pthread_cond_init(&srv->shutdown_done, NULL);
    srv->in_flight = calloc(config->refdata.token_count ? config->refdata.token_count : 1,
                            sizeof *srv->in_flight);
    if (srv->in_flight == NULL ||
        ratelimit_init(&srv->limiter, config->refdata.token_count, (uint32_t)method_count) != 0) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    if (init_token_views(srv) != 0) {
        snprintf(error, error_size, "out of memory");
        return -1;
    }
    /* Metrics (docs/METRICS.md): the call families and the engine's, registered once per
     * process in metrics_default(), before any thread observes. */
    if (api_metrics_init(methods, method_count) != 0 ||
        engine_metrics_init(&config->refdata) != 0) {
        snprintf(error, error_size, "cannot set up the metrics");
        return -1;
    }
    int fd_limit = 0;
    int fd_reserve = fd_reserve_for(options);
    int max_connections = connections_that_fit(config->max_connections, fd_reserve, &fd_limit);
    grpc_init();
    srv->connections = connections_create(max_connections, fd_limit, fd_reserve);
    /* Everything gRPC buffers for connections and calls (read buffers, headers, messages, call
     * state) is charged to this quota; near it, gRPC refuses new connections and reclaims
     * memory from the busiest ones. */
    srv->memory_quota = grpc_resource_quota_create("tinvestd");
    grpc_resource_quota_resize(srv->memory_quota, (size_t)config->max_memory_bytes);
    srv->queue = grpc_completion_queue_create_for_next(NULL);
    /* The broker's endpoint always has its server (a configuration may leave both its listeners
     * out only when the sandbox has one); the sandbox's only when it listens. Both servers share
     * the connection table and the memory quota, so the limits hold for the process. */
    bool sandbox =
        options->sandbox_listen_address != NULL || options->sandbox_tls_listen_address != NULL;
    for (int e = 0; e < API_ENDPOINT_COUNT; e++) {
        if (e == API_ENDPOINT_SANDBOX && !sandbox)
            continue;
        srv->servers[e] = create_grpc_server(srv, max_connections);
        grpc_server_register_completion_queue(srv->servers[e], srv->queue, NULL);
    }
    register_methods(srv);
    if (add_listeners(srv, API_ENDPOINT_BROKER, options->listen_address,
                      options->tls_listen_address, options, &srv->plaintext_port, &srv->tls_port,
                      error, error_size) != 0 ||
        (sandbox && add_listeners(srv, API_ENDPOINT_SANDBOX, options->sandbox_listen_address,
                                  options->sandbox_tls_listen_address, options, &srv->sandbox_port,
                                  &srv->sandbox_tls_port, error, error_size) != 0))
        return -1;
    /* The HTTP front end's way in (src/http): a plaintext listener of the broker's endpoint on an
     * abstract Unix socket, so its calls pass the same checks as any client's. */
    if (options->internal_listen_address != NULL &&
        add_plaintext_listener(srv->servers[API_ENDPOINT_BROKER], options->internal_listen_address,
                               error, error_size) == 0)
        return -1;
    if (srv->connections != NULL)
        shorten_listen_queues(srv->connections);
    log_info("limits: %d connections (descriptor limit %d), %d streams per connection, %lld bytes "
             "of transport memory, %d header bytes per call, %d unary calls in flight per token",
             max_connections, fd_limit, config->max_concurrent_streams_per_connection,
             (long long)config->max_memory_bytes, config->max_metadata_bytes,
             config->max_unary_calls_in_flight_per_token);
    for (int e = 0; e < API_ENDPOINT_COUNT; e++) {
        if (srv->servers[e] == NULL)
            continue;
        grpc_server_start(srv->servers[e]);
        atomic_fetch_add(&srv->servers_running, 1);
        for (size_t i = 0; i < method_count; i++)
            for (int k = 0; k < PENDING_CALLS_PER_METHOD; k++)
                arm_registered(srv, &methods[i], (api_endpoint)e);
        for (int k = 0; k < PENDING_UNMATCHED_CALLS; k++)
            arm_unmatched(srv, (api_endpoint)e);
    }
    int threads = config->transport_threads;
    for (int i = 0; i < threads && i < API_MAX_QUEUE_THREADS; i++) {
        if (pthread_create(&srv->queue_threads[i], NULL, queue_thread_main, srv) != 0) {
            snprintf(error, error_size, "cannot start the completion-queue threads");
            return -1;
        }
        srv->queue_thread_count++;
    }
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

void api_server_housekeeping(api_server *srv) {
    api_connections *c = srv->connections;
    int closed = 1; /* untracked connections: trim every period */
    if (c != NULL) {
        pthread_mutex_lock(&c->lock);
        c->last_sweep_ns = clock_monotonic_ns();
        closed = sweep_closed(c);
        pthread_mutex_unlock(&c->lock);
    }
    if (closed > 0)
        malloc_trim(0);
}

void api_server_stop(api_server *srv, int grace_ms) {
    if (srv->servers[API_ENDPOINT_BROKER] == NULL || atomic_exchange(&srv->shutting_down, true))
        return;
    /* Health watchers learn NOT_SERVING before the listeners close; reflection streams end. */
    api_health_shutdown(srv);
    api_reflection_shutdown(srv);
    for (int e = 0; e < API_ENDPOINT_COUNT; e++) {
        if (srv->servers[e] == NULL)
            continue;
        srv->shutdown_tags[e] =
            (api_server_shutdown){.tag.on_complete = on_server_shutdown, .server = srv};
        grpc_server_shutdown_and_notify(srv->servers[e], srv->queue, &srv->shutdown_tags[e].tag);
    }
    if (srv->queue_thread_count == 0)
        return;
    if (!wait_for_shutdown(srv, grace_ms)) {
        log_warn("calls still running after %d ms; cancelling them", grace_ms);
        for (int e = 0; e < API_ENDPOINT_COUNT; e++)
            if (srv->servers[e] != NULL)
                grpc_server_cancel_all_calls(srv->servers[e]);
        wait_for_shutdown(srv, 60000);
    }
    for (int i = 0; i < srv->queue_thread_count; i++)
        pthread_join(srv->queue_threads[i], NULL);
    srv->queue_thread_count = 0;
}

void api_server_destroy(api_server *srv) {
    if (srv->servers[API_ENDPOINT_BROKER] != NULL) {
        if (!atomic_load(&srv->shutting_down))
            api_server_stop(srv, 0);
        for (int e = 0; e < API_ENDPOINT_COUNT; e++) {
            if (srv->servers[e] != NULL)
                grpc_server_destroy(srv->servers[e]);
            srv->servers[e] = NULL;
        }
        grpc_completion_queue_destroy(srv->queue);
        grpc_resource_quota_unref(srv->memory_quota);
        srv->memory_quota = NULL;
        grpc_shutdown();
        connections_destroy(srv->connections);
        srv->connections = NULL;
    }
    ratelimit_deinit(&srv->limiter);
    free(srv->in_flight);
    srv->in_flight = NULL;
    for (int e = 0; e < API_ENDPOINT_COUNT; e++) {
        free(srv->token_views[e]);
        srv->token_views[e] = NULL;
    }
    pthread_mutex_destroy(&srv->shutdown_lock);
    pthread_cond_destroy(&srv->shutdown_done);
}
