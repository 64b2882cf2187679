/* The WebSocket streams' routes: `/ws/<package>.<Service>/<Method>` for each streaming method the
 * gRPC server serves, with the protobuf-c descriptors of its request and reply and whether the
 * client sends one request or many.
 *
 * DESIGN: as the REST routes (rest_routes.h), the routes are made from the paths of the served
 * methods and the generated service descriptors, never by hand; whether a method takes a stream
 * of requests (MarketDataStream) or one (the server-streaming methods) is read from the
 * contract's own descriptor set embedded in the binary (`client_streaming` of its
 * MethodDescriptorProto), so a streaming method added to a served service gets its WebSocket
 * route as it is. */
#ifndef TINVESTD_HTTP_WS_ROUTES_H
#define TINVESTD_HTTP_WS_ROUTES_H

#include <stdbool.h>
#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#define WS_PATH_PREFIX "/ws"

typedef struct ws_route {
    /* "/tinkoff.public.invest.api.contract.v1.OrdersStreamService/OrderStateStream" (the gRPC
     * path; the WebSocket path is WS_PATH_PREFIX followed by it). */
    char grpc_path[160];
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *reply;
    /* The client sends a stream of requests (bidirectional); otherwise exactly one. */
    bool client_streaming;
} ws_route;

/* Makes a route for each gRPC path of a streaming method ("/package.Service/Method") that a
 * generated service descriptor names and the embedded descriptor set declares as server
 * streaming; other paths are left out. Returns 0 and a malloc'd array in *routes (the caller frees
 * it), or -1 when memory runs out or the descriptor set does not read. */
int ws_routes_build(const char *const *grpc_paths, size_t path_count, ws_route **routes,
                    size_t *route_count);

/* The route of a request path ("/ws/package.Service/Method", a query string after it ignored), or
 * NULL. */
const ws_route *ws_routes_find(const ws_route *routes, size_t route_count,
                               const char *request_path);

#endif
