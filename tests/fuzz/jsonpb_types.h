/* Every message type of the contract as a protobuf-c descriptor, for the JSON mapping's tests
 * (tests/unit/test_jsonpb.c, tests/fuzz/fuzz_jsonpb.c): the request and response types of every
 * service our proto files declare, and everything their fields reach. protobuf-c keeps no
 * registry of message types, so the walk starts from the services; test_jsonpb.c checks the
 * result against every message the embedded descriptor set declares, so a type no service
 * reaches cannot be missed without the test saying so (add it to jsonpb_extra_types then). */
#ifndef TINVESTD_TESTS_JSONPB_TYPES_H
#define TINVESTD_TESTS_JSONPB_TYPES_H

#include <stddef.h>

#include <protobuf-c/protobuf-c.h>

#include "admin.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"
#include "health.pb-c.h"
#include "instruments.pb-c.h"
#include "marketdata.pb-c.h"
#include "operations.pb-c.h"
#include "orders.pb-c.h"
#include "reflection_v1.pb-c.h"
#include "reflection_v1alpha.pb-c.h"
#include "replay.pb-c.h"
#include "sandbox.pb-c.h"
#include "signals.pb-c.h"
#include "stoporders.pb-c.h"
#include "users.pb-c.h"

#define JSONPB_TYPES_MAX 1024

static const ProtobufCServiceDescriptor *const jsonpb_services[] = {
    &grpc__health__v1__health__descriptor,
    &tinkoff__public__invest__api__contract__v1__instruments_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__market_data_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__market_data_stream_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__operations_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__operations_stream_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__orders_stream_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__orders_service__descriptor,
    &grpc__reflection__v1__server_reflection__descriptor,
    &grpc__reflection__v1alpha__server_reflection__descriptor,
    &tinvestd__replay__v1__replay_service__descriptor,
    &tinvestd__admin__v1__admin_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__sandbox_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__signal_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__stop_orders_service__descriptor,
    &tinkoff__public__invest__api__contract__v1__users_service__descriptor,
};

/* Message types declared in proto/ that no service's messages reach (none today), and the
 * Timestamp, which is also a top-level JSON value of its own (a string). */
static const ProtobufCMessageDescriptor *const jsonpb_extra_types[] = {
    &google__protobuf__timestamp__descriptor,
};

static void jsonpb_types_add(const ProtobufCMessageDescriptor *d,
                             const ProtobufCMessageDescriptor **out, size_t *n) {
    for (size_t i = 0; i < *n; i++)
        if (out[i] == d)
            return;
    if (*n == JSONPB_TYPES_MAX)
        return;
    out[(*n)++] = d; /* breadth first: out[] is the queue */
}

/* Fills out[] with every type, each once, in a fixed order; returns how many. */
static size_t jsonpb_types_collect(const ProtobufCMessageDescriptor **out) {
    size_t n = 0;
    for (size_t s = 0; s < sizeof jsonpb_services / sizeof *jsonpb_services; s++)
        for (unsigned m = 0; m < jsonpb_services[s]->n_methods; m++) {
            jsonpb_types_add(jsonpb_services[s]->methods[m].input, out, &n);
            jsonpb_types_add(jsonpb_services[s]->methods[m].output, out, &n);
        }
    for (size_t i = 0; i < sizeof jsonpb_extra_types / sizeof *jsonpb_extra_types; i++)
        jsonpb_types_add(jsonpb_extra_types[i], out, &n);
    for (size_t i = 0; i < n; i++)
        for (unsigned f = 0; f < out[i]->n_fields; f++)
            if (out[i]->fields[f].type == PROTOBUF_C_TYPE_MESSAGE)
                jsonpb_types_add(out[i]->fields[f].descriptor, out, &n);
    return n;
}

#endif
