/* The REST proxy's routes (src/http/rest_routes.c): every unary method of the served method
 * table gets a route with the request and reply types of its generated service descriptor, no
 * streaming or unknown path does, lookups need the exact path, and the gRPC status to HTTP status
 * table follows the T-Invest HTTP error table. */
#include <stdlib.h>
#include <string.h>

#include "api/call.h"
#include "api/services.h"
#include "check.h"
#include "http/rest_routes.h"
#include "users.pb-c.h"

#define CONTRACT "/tinkoff.public.invest.api.contract.v1."

static void test_routes_of_served_methods(void) {
    size_t method_count = 0;
    api_method *methods = api_all_methods(&method_count);
    CHECK(methods != NULL);
    const char **paths = calloc(method_count + 2, sizeof *paths);
    char(*owned)[160] = calloc(method_count, sizeof *owned);
    CHECK(paths != NULL && owned != NULL);
    size_t unary = 0;
    for (size_t i = 0; i < method_count; i++) {
        snprintf(owned[i], sizeof owned[i], "/%s.%s/%s",
                 methods[i].package ? methods[i].package : "tinkoff.public.invest.api.contract.v1",
                 methods[i].service, methods[i].name);
        if (!methods[i].server_streaming && !methods[i].public_access)
            paths[unary++] = owned[i];
    }
    size_t given = unary;
    paths[given++] = CONTRACT "UsersService/NoSuchMethod";
    paths[given++] = "/no.such.Service/GetAccounts";
    rest_route *routes = NULL;
    size_t route_count = 0;
    CHECK(rest_routes_build(paths, given, &routes, &route_count) == 0);
    /* Every served unary method has a route; the two unknown paths have none. */
    CHECK_EQ_INT(route_count, unary);
    for (size_t i = 0; i < route_count; i++) {
        CHECK(routes[i].request != NULL && routes[i].reply != NULL);
        /* The request type is the one the server decodes for the method. */
        for (size_t m = 0; m < method_count; m++)
            if (strcmp(owned[m], routes[i].grpc_path) == 0)
                CHECK(methods[m].request_type == routes[i].request);
    }
    const rest_route *accounts =
        rest_routes_find(routes, route_count, "/rest" CONTRACT "UsersService/GetAccounts");
    CHECK(accounts != NULL);
    CHECK(accounts != NULL &&
          accounts->reply ==
              &tinkoff__public__invest__api__contract__v1__get_accounts_response__descriptor);
    CHECK(rest_routes_find(routes, route_count, CONTRACT "UsersService/GetAccounts") == NULL);
    CHECK(rest_routes_find(routes, route_count, "/rest" CONTRACT "UsersService/GetAccount") ==
          NULL);
    CHECK(rest_routes_find(routes, route_count, "/rest" CONTRACT "UsersService/GetAccountsX") ==
          NULL);
    CHECK(rest_routes_find(routes, route_count, "/rest" CONTRACT "UsersService/NoSuchMethod") ==
          NULL);
    CHECK(rest_routes_find(routes, route_count,
                           "/rest" CONTRACT "MarketDataStreamService/MarketDataStream") == NULL);
    CHECK(rest_routes_find(routes, route_count, "/rest") == NULL);
    CHECK(rest_routes_find(routes, route_count, "") == NULL);
    free(routes);
    free(owned);
    free(paths);
    free(methods);
}

static void test_http_status(void) {
    CHECK_EQ_INT(rest_http_status(0), 200);
    CHECK_EQ_INT(rest_http_status(3), 400);
    CHECK_EQ_INT(rest_http_status(16), 401);
    CHECK_EQ_INT(rest_http_status(7), 403);
    CHECK_EQ_INT(rest_http_status(8), 429);
    CHECK_EQ_INT(rest_http_status(13), 500);
    CHECK_EQ_INT(rest_http_status(2), 500);
    CHECK_EQ_INT(rest_http_status(15), 500);
    CHECK_EQ_INT(rest_http_status(12), 501);
    CHECK_EQ_INT(rest_http_status(14), 503);
    CHECK_EQ_INT(rest_http_status(4), 504);
    CHECK_EQ_INT(rest_http_status(9), 400);
    CHECK_EQ_INT(rest_http_status(5), 404);
    /* No status outside gRPC's: 500, never a read outside the table. */
    CHECK_EQ_INT(rest_http_status(17), 500);
    CHECK_EQ_INT(rest_http_status(-1), 500);
}

int main(void) {
    test_routes_of_served_methods();
    test_http_status();
    return check_finish("http rest routes");
}
