/* The WebSocket streams' routes (src/http/ws_routes.c): every streaming method of the served method
 * table gets a route with its generated request and reply types, MarketDataStream alone takes a
 * stream of requests (read from the embedded descriptor set), unary and unknown paths get none,
 * and lookups need the exact path under /ws (a query string aside). */
#include <stdlib.h>
#include <string.h>

#include "api/call.h"
#include "api/services.h"
#include "check.h"
#include "http/ws_routes.h"
#include "orders.pb-c.h"

#define CONTRACT "/tinkoff.public.invest.api.contract.v1."

static void test_routes_of_served_streams(void) {
    size_t method_count = 0;
    api_method *methods = api_all_methods(&method_count);
    CHECK(methods != NULL);
    const char **paths = calloc(method_count + 3, sizeof *paths);
    char(*owned)[160] = calloc(method_count, sizeof *owned);
    CHECK(paths != NULL && owned != NULL);
    size_t streams = 0;
    for (size_t i = 0; i < method_count; i++) {
        snprintf(owned[i], sizeof owned[i], "/%s.%s/%s",
                 methods[i].package ? methods[i].package : "tinkoff.public.invest.api.contract.v1",
                 methods[i].service, methods[i].name);
        if (methods[i].server_streaming && !methods[i].public_access)
            paths[streams++] = owned[i];
    }
    CHECK(streams >= 6);
    size_t given = streams;
    paths[given++] = CONTRACT "UsersService/GetAccounts"; /* unary: no WebSocket route */
    paths[given++] = CONTRACT "OrdersStreamService/NoSuchStream";
    paths[given++] = "/no.such.Service/OrderStateStream";
    ws_route *routes = NULL;
    size_t route_count = 0;
    CHECK(ws_routes_build(paths, given, &routes, &route_count) == 0);
    CHECK_EQ_INT(route_count, streams);
    size_t client_streaming = 0;
    for (size_t i = 0; i < route_count; i++) {
        CHECK(routes[i].request != NULL && routes[i].reply != NULL);
        for (size_t m = 0; m < method_count; m++)
            if (strcmp(owned[m], routes[i].grpc_path) == 0)
                CHECK(methods[m].request_type == routes[i].request);
        if (routes[i].client_streaming) {
            client_streaming++;
            CHECK(strcmp(routes[i].grpc_path,
                         CONTRACT "MarketDataStreamService/MarketDataStream") == 0);
        }
    }
    CHECK_EQ_INT(client_streaming, 1);
    const ws_route *orders =
        ws_routes_find(routes, route_count, "/ws" CONTRACT "OrdersStreamService/OrderStateStream");
    CHECK(orders != NULL && !orders->client_streaming);
    CHECK(orders != NULL &&
          orders->reply ==
              &tinkoff__public__invest__api__contract__v1__order_state_stream_response__descriptor);
    CHECK(ws_routes_find(routes, route_count,
                         "/ws" CONTRACT "OrdersStreamService/OrderStateStream?x=1") == orders);
    CHECK(ws_routes_find(routes, route_count, CONTRACT "OrdersStreamService/OrderStateStream") ==
          NULL);
    CHECK(ws_routes_find(routes, route_count, "/ws" CONTRACT "OrdersStreamService/OrderState") ==
          NULL);
    CHECK(ws_routes_find(routes, route_count, "/ws" CONTRACT "UsersService/GetAccounts") == NULL);
    CHECK(ws_routes_find(routes, route_count, "/ws/") == NULL);
    free(routes);
    free(paths);
    free(owned);
    free(methods);
}

int main(void) {
    test_routes_of_served_streams();
    return check_finish("http ws routes");
}
