/* The REST proxy's routes: `POST /rest/<package>.<Service>/<Method>` for each unary method the
 * gRPC server serves, with the protobuf-c descriptors of its request and reply.
 *
 * DESIGN: the routes are made from the paths of the served methods (the caller's method table)
 * and the generated service descriptors, which name each method's input and output type; no
 * route is written by hand, so a method added to a served service is reachable over REST as it
 * is. */
#ifndef TINVESTD_HTTP_REST_ROUTES_H
#define TINVESTD_HTTP_REST_ROUTES_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#define REST_PATH_PREFIX "/rest"
/* The operator's service (tinvestd.admin.v1.AdminService) also at POST /admin/<Method>. */
#define REST_ADMIN_PATH_PREFIX "/admin/"
#define REST_ADMIN_SERVICE "tinvestd.admin.v1.AdminService"

typedef struct rest_route {
    /* "/tinkoff.public.invest.api.contract.v1.UsersService/GetAccounts" (the gRPC path; the REST
     * path is REST_PATH_PREFIX followed by it). */
    char grpc_path[160];
    const ProtobufCMessageDescriptor *request;
    const ProtobufCMessageDescriptor *reply;
} rest_route;

/* Makes a route for each gRPC path ("/package.Service/Method") whose service has a generated
 * descriptor naming that method; other paths are left out. Returns 0 and a malloc'd array in
 * *routes (the caller frees it), or -1 when memory runs out. */
int rest_routes_build(const char *const *grpc_paths, size_t path_count, rest_route **routes,
                      size_t *route_count);

/* The generated descriptor of the method at `grpc_path` ("/package.Service/Method") among the
 * services the HTTP front ends may reach, or NULL (the WebSocket routes use it too). */
const ProtobufCMethodDescriptor *rest_routes_method(const char *grpc_path);

/* The route of a request path ("/rest/package.Service/Method"), or NULL. */
const rest_route *rest_routes_find(const rest_route *routes, size_t route_count,
                                   const char *request_path);

/* The HTTP status the REST proxy answers for a gRPC status code (docs/PROTOCOL.md, "REST"). */
int rest_http_status(int grpc_status);

#endif
