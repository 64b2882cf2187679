#include "http/rest_routes.h"

#include <stdlib.h>
#include <string.h>

#include "admin.pb-c.h"
#include "instruments.pb-c.h"
#include "marketdata.pb-c.h"
#include "operations.pb-c.h"
#include "orders.pb-c.h"
#include "replay.pb-c.h"
#include "sandbox.pb-c.h"
#include "signals.pb-c.h"
#include "stoporders.pb-c.h"
#include "users.pb-c.h"

/* Every service of proto/ that the REST proxy or the WebSocket streams may reach (the REST routes
 * take the unary methods, the WebSocket routes the streaming ones: the caller's paths decide).
 * Health and reflection are tooling for gRPC clients, and the real proxies have no route for
 * them. */
static const ProtobufCServiceDescriptor *const services[] = {
    &tinkoff__public__invest__api__contract__v1__instruments_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__market_data_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__market_data_stream_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__operations_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__operations_stream_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__orders_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__orders_stream_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__sandbox_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__signal_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__stop_orders_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__users_service__descriptor,
    &tinvestd__replay__v1__replay_service__descriptor,
    &tinvestd__admin__v1__admin_service__descriptor,
};

const ProtobufCMethodDescriptor *rest_routes_method(const char *grpc_path) {
    if (grpc_path[0] != '/')
        return NULL;
    const char *slash = strchr(grpc_path + 1, '/');
    if (slash == NULL)
        return NULL;
    size_t service_len = (size_t)(slash - grpc_path - 1);
    for (size_t s = 0; s < sizeof services / sizeof services[0]; s++) {
        const ProtobufCServiceDescriptor *service = services[s];
        if (strlen(service->name) != service_len ||
            memcmp(service->name, grpc_path + 1, service_len) != 0)
            continue;
        for (unsigned m = 0; m < service->n_methods; m++)
            if (strcmp(service->methods[m].name, slash + 1) == 0)
                return &service->methods[m];
    }
    return NULL;
}

int rest_routes_build(const char *const *grpc_paths, size_t path_count, rest_route **routes,
                      size_t *route_count) {
    rest_route *out = calloc(path_count ? path_count : 1, sizeof *out);
    if (out == NULL)
        return -1;
    size_t n = 0;
    for (size_t i = 0; i < path_count; i++) {
        const ProtobufCMethodDescriptor *method = rest_routes_method(grpc_paths[i]);
        if (method == NULL || strlen(grpc_paths[i]) >= sizeof out[n].grpc_path)
            continue;
        strcpy(out[n].grpc_path, grpc_paths[i]);
        out[n].request = method->input;
        out[n].reply = method->output;
        n++;
    }
    *routes = out;
    *route_count = n;
    return 0;
}

const rest_route *rest_routes_find(const rest_route *routes, size_t route_count,
                                   const char *request_path) {
    /* The operator's short form: /admin/<Method> is /rest/tinvestd.admin.v1.AdminService/<Method>. */
    size_t admin = strlen(REST_ADMIN_PATH_PREFIX);
    if (strncmp(request_path, REST_ADMIN_PATH_PREFIX, admin) == 0 &&
        strchr(request_path + admin, '/') == NULL) {
        static const char service[] = "/" REST_ADMIN_SERVICE "/";
        for (size_t i = 0; i < route_count; i++)
            if (strncmp(routes[i].grpc_path, service, sizeof service - 1) == 0 &&
                strcmp(routes[i].grpc_path + sizeof service - 1, request_path + admin) == 0)
                return &routes[i];
        return NULL;
    }
    size_t prefix = strlen(REST_PATH_PREFIX);
    if (strncmp(request_path, REST_PATH_PREFIX, prefix) != 0)
        return NULL;
    for (size_t i = 0; i < route_count; i++)
        if (strcmp(routes[i].grpc_path, request_path + prefix) == 0)
            return &routes[i];
    return NULL;
}

/* The statuses the T-Invest HTTP error table lists (INVALID_ARGUMENT 400, UNAUTHENTICATED 401,
 * PERMISSION_DENIED 403, RESOURCE_EXHAUSTED 429, INTERNAL/UNKNOWN/DATA_LOSS 500, UNIMPLEMENTED
 * 501, UNAVAILABLE 503, DEADLINE_EXCEEDED 504); the others as grpc-gateway, the proxy the real
 * REST interface is built with, maps them. */
int rest_http_status(int grpc_status) {
    static const int table[17] = {
        [0] = 200,  /* OK */
        [1] = 499,  /* CANCELLED */
        [2] = 500,  /* UNKNOWN */
        [3] = 400,  /* INVALID_ARGUMENT */
        [4] = 504,  /* DEADLINE_EXCEEDED */
        [5] = 404,  /* NOT_FOUND */
        [6] = 409,  /* ALREADY_EXISTS */
        [7] = 403,  /* PERMISSION_DENIED */
        [8] = 429,  /* RESOURCE_EXHAUSTED */
        [9] = 400,  /* FAILED_PRECONDITION */
        [10] = 409, /* ABORTED */
        [11] = 400, /* OUT_OF_RANGE */
        [12] = 501, /* UNIMPLEMENTED */
        [13] = 500, /* INTERNAL */
        [14] = 503, /* UNAVAILABLE */
        [15] = 500, /* DATA_LOSS */
        [16] = 401, /* UNAUTHENTICATED */
    };
    return grpc_status >= 0 && grpc_status < 17 ? table[grpc_status] : 500;
}
