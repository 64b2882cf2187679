/* grpc.health.v1.Health: Check and Watch, on every endpoint, without a token.
 *
 * DESIGN: the server as a whole ("") and every service with a registered method are SERVING
 * while the server runs and NOT_SERVING once it starts stopping; any other name is unknown
 * (Check: NOT_FOUND; Watch: SERVICE_UNKNOWN, as the health protocol says). The only change of
 * status is the stop, so a Watch sends the current status and then, when api_health_shutdown
 * runs, NOT_SERVING and the end of the stream. Watches are counted and bounded
 * (HEALTH_MAX_WATCHES) and kept in a list under a lock for that one broadcast. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/server.h"
#include "api/services.h"
#include "api/stream_call.h"
#include "health.pb-c.h"

typedef Grpc__Health__V1__HealthCheckRequest health_request;

/* Health watches open at once in the process; one more is refused with RESOURCE_EXHAUSTED. */
#define HEALTH_MAX_WATCHES 256
/* Messages a watch may have waiting: the current status and NOT_SERVING, with room to spare. */
#define HEALTH_BACKLOG_MESSAGES 4
/* Service names longer than this are no service of ours. */
#define HEALTH_MAX_NAME_BYTES 256

typedef struct health_watch {
    api_stream *stream;
    api_server *server;
    bool known; /* a service we serve, or "" */
    struct health_watch *next;
    int refs; /* the list's (until the stream closes) and a broadcast's; under watches_lock */
} health_watch;

static pthread_mutex_t watches_lock = PTHREAD_MUTEX_INITIALIZER;
static health_watch *watches;
static int watch_count;

/* Whether `name` is "" or a service with a method registered on `srv`. */
static bool known_service(const api_server *srv, const char *name) {
    if (name[0] == '\0')
        return true;
    size_t length = strlen(name);
    if (length > HEALTH_MAX_NAME_BYTES)
        return false;
    for (size_t i = 0; i < srv->method_count; i++) {
        const char *path = srv->methods[i].path; /* "/package.Service/Method" */
        if (strncmp(path + 1, name, length) == 0 && path[1 + length] == '/')
            return true;
    }
    return false;
}

static grpc_slice encode_status(Grpc__Health__V1__HealthCheckResponse__ServingStatus status) {
    Grpc__Health__V1__HealthCheckResponse out = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    out.status = status;
    size_t size = protobuf_c_message_get_packed_size(&out.base);
    grpc_slice slice = grpc_slice_malloc(size);
    if (protobuf_c_message_pack(&out.base, GRPC_SLICE_START_PTR(slice)) != size)
        abort();
    return slice;
}

static Grpc__Health__V1__HealthCheckResponse__ServingStatus current_status(const api_server *srv) {
    return atomic_load(&srv->shutting_down)
               ? GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING
               : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
}

static void check(api_call *call, const ProtobufCMessage *request) {
    const health_request *in = (const health_request *)request;
    if (!known_service(call->server, in->service)) {
        char text[HEALTH_MAX_NAME_BYTES + 32];
        snprintf(text, sizeof text, "Unknown service: %.*s", HEALTH_MAX_NAME_BYTES, in->service);
        api_reply_status(call, GRPC_STATUS_NOT_FOUND, text);
        return;
    }
    Grpc__Health__V1__HealthCheckResponse out = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__INIT;
    out.status = current_status(call->server);
    api_reply_message(call, &out.base);
}

/* Drops one reference; the last one lets the stream go. The lock is not held. */
static void watch_unref(health_watch *w) {
    pthread_mutex_lock(&watches_lock);
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&watches_lock);
    if (last) {
        api_stream_release(w->stream);
        free(w);
    }
}

static void on_watch_closed(api_stream *stream) {
    health_watch *w = stream->owner;
    pthread_mutex_lock(&watches_lock);
    for (health_watch **at = &watches; *at != NULL; at = &(*at)->next)
        if (*at == w) {
            *at = w->next;
            watch_count--;
            break;
        }
    pthread_mutex_unlock(&watches_lock);
    watch_unref(w);
}

static void watch(api_call *call, const ProtobufCMessage *request) {
    const health_request *in = (const health_request *)request;
    health_watch *w = calloc(1, sizeof *w);
    if (w == NULL)
        abort();
    w->server = call->server;
    w->known = known_service(call->server, in->service);
    w->refs = 1;
    pthread_mutex_lock(&watches_lock);
    bool admitted = watch_count < HEALTH_MAX_WATCHES;
    if (admitted) {
        w->next = watches;
        watches = w;
        watch_count++;
    }
    pthread_mutex_unlock(&watches_lock);
    if (!admitted) {
        free(w);
        char text[128];
        snprintf(text, sizeof text, "Too many health watches: at most %d at once",
                 HEALTH_MAX_WATCHES);
        api_reply_error_message(call, 80001, text);
        return;
    }
    grpc_slice first = encode_status(
        w->known ? current_status(call->server)
                 : GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVICE_UNKNOWN);
    /* The list entry is visible before the stream exists: a broadcast skips it until then. */
    pthread_mutex_lock(&watches_lock);
    w->stream = api_stream_open(call, HEALTH_BACKLOG_MESSAGES, first, 0, NULL, on_watch_closed, w);
    w->refs++; /* this function's, for the check below */
    pthread_mutex_unlock(&watches_lock);
    grpc_slice_unref(first);
    /* A watch that came in as the stop's broadcast ran ends as the others did. */
    if (atomic_load(&w->server->shutting_down))
        api_stream_finish(w->stream, GRPC_STATUS_UNAVAILABLE, 70003, "The server is shutting down",
                          false);
    api_stream_ready(w->stream);
    watch_unref(w);
}

void api_health_shutdown(api_server *srv) {
    health_watch *mine[HEALTH_MAX_WATCHES];
    int count = 0;
    pthread_mutex_lock(&watches_lock);
    for (health_watch *w = watches; w != NULL && count < HEALTH_MAX_WATCHES; w = w->next)
        if (w->server == srv && w->stream != NULL) {
            w->refs++;
            mine[count++] = w;
        }
    pthread_mutex_unlock(&watches_lock);
    grpc_slice not_serving =
        encode_status(GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__NOT_SERVING);
    for (int i = 0; i < count; i++) {
        if (mine[i]->known)
            api_stream_write(mine[i]->stream, not_serving);
        api_stream_finish(mine[i]->stream, GRPC_STATUS_UNAVAILABLE, 70003,
                          "The server is shutting down", false);
        watch_unref(mine[i]);
    }
    grpc_slice_unref(not_serving);
}

static const api_method health_methods[] = {
    {.package = "grpc.health.v1",
     .service = "Health",
     .name = "Check",
     .request_type = &grpc__health__v1__health_check_request__descriptor,
     .handle = check,
     .public_access = true},
    {.package = "grpc.health.v1",
     .service = "Health",
     .name = "Watch",
     .request_type = &grpc__health__v1__health_check_request__descriptor,
     .handle = watch,
     .server_streaming = true,
     .public_access = true},
};

const api_method *api_health_methods(size_t *count) {
    *count = sizeof health_methods / sizeof health_methods[0];
    return health_methods;
}
