/* The descriptor pool behind server reflection (api/descriptor_pool.h): the set embedded at build
 * time indexes every file, symbol and import of proto/; every registered method is found in it
 * under its path; and bytes that are no valid set are refused whole. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/descriptor_pool.h"
#include "api/services.h"
#include "check.h"

static descriptor_pool pool;

static const char *file_of(const char *symbol, descriptor_symbol_kind kind) {
    const descriptor_symbol *s = descriptor_pool_find_symbol(&pool, symbol);
    if (s == NULL || s->kind != kind)
        return NULL;
    return pool.files[s->file].name;
}

static void test_symbols(void) {
    const char *orders =
        file_of("tinkoff.public.invest.api.contract.v1.OrdersService", DESCRIPTOR_SYMBOL_SERVICE);
    CHECK(orders != NULL && strcmp(orders, "orders.proto") == 0);
    const char *method =
        file_of("tinkoff.public.invest.api.contract.v1.OrdersService.PostOrderAsync",
                DESCRIPTOR_SYMBOL_METHOD);
    CHECK(method != NULL && strcmp(method, "orders.proto") == 0);
    const char *message =
        file_of("tinkoff.public.invest.api.contract.v1.Quotation", DESCRIPTOR_SYMBOL_MESSAGE);
    CHECK(message != NULL && strcmp(message, "common.proto") == 0);
    const char *nested =
        file_of("grpc.health.v1.HealthCheckResponse.ServingStatus", DESCRIPTOR_SYMBOL_ENUM);
    CHECK(nested != NULL && strcmp(nested, "health.proto") == 0);
    CHECK(file_of("google.protobuf.Timestamp", DESCRIPTOR_SYMBOL_MESSAGE) != NULL);
    CHECK(file_of("grpc.reflection.v1alpha.ServerReflection", DESCRIPTOR_SYMBOL_SERVICE) != NULL);
    CHECK(file_of("grpc.reflection.v1.ServerReflection.ServerReflectionInfo",
                  DESCRIPTOR_SYMBOL_METHOD) != NULL);
    CHECK(descriptor_pool_find_symbol(&pool, "tinkoff.public.invest.api.contract.v1.NoSuch") ==
          NULL);
    CHECK(descriptor_pool_find_symbol(&pool, "") == NULL);
    CHECK(descriptor_pool_find_symbol(&pool, "tinkoff") == NULL);
    /* The symbols are sorted and unique: a binary search finds each. */
    for (size_t i = 1; i < pool.symbol_count; i++)
        CHECK(strcmp(pool.symbols[i - 1].name, pool.symbols[i].name) < 0);
}

/* Every registered method, by its path, is a method of the pool: the served tables and the
 * proto files agree, so reflection describes every method a client can call. */
static void test_every_method_is_described(void) {
    size_t count = 0;
    api_method *methods = api_all_methods(&count);
    CHECK(methods != NULL && count > 40);
    for (size_t i = 0; i < count; i++) {
        const api_method *m = &methods[i];
        char symbol[256];
        snprintf(symbol, sizeof symbol, "%s.%s.%s",
                 m->package ? m->package : "tinkoff.public.invest.api.contract.v1", m->service,
                 m->name);
        const descriptor_symbol *s = descriptor_pool_find_symbol(&pool, symbol);
        if (s == NULL || s->kind != DESCRIPTOR_SYMBOL_METHOD)
            fprintf(stderr, "not described: %s\n", symbol);
        CHECK(s != NULL && s->kind == DESCRIPTOR_SYMBOL_METHOD);
    }
    free(methods);
}

static void test_closure(void) {
    int orders = descriptor_pool_find_file(&pool, "orders.proto");
    int common = descriptor_pool_find_file(&pool, "common.proto");
    int timestamp = descriptor_pool_find_file(&pool, "google/protobuf/timestamp.proto");
    CHECK(orders >= 0 && common >= 0 && timestamp >= 0);
    CHECK(descriptor_pool_find_file(&pool, "nosuch.proto") == -1);
    uint32_t *out = calloc(pool.file_count, sizeof *out);
    size_t n = descriptor_pool_closure(&pool, (uint32_t)orders, out);
    CHECK(n >= 3 && n <= pool.file_count);
    CHECK(out[0] == (uint32_t)orders);
    bool has_common = false, has_timestamp = false;
    for (size_t i = 0; i < n; i++) {
        has_common |= out[i] == (uint32_t)common;
        has_timestamp |= out[i] == (uint32_t)timestamp;
        for (size_t j = i + 1; j < n; j++)
            CHECK(out[i] != out[j]);
        /* Closed: every import of a member is a member. */
        const descriptor_file *f = &pool.files[out[i]];
        for (uint32_t d = 0; d < f->dep_count; d++) {
            bool member = false;
            for (size_t k = 0; k < n; k++)
                member |= out[k] == f->deps[d];
            CHECK(member);
        }
    }
    CHECK(has_common && has_timestamp);
    /* A file without imports is its own closure. */
    CHECK_EQ_INT(descriptor_pool_closure(&pool, (uint32_t)timestamp, out), 1);
    free(out);
}

/* A set of the given files' bytes, as FileDescriptorSet.file entries. */
static size_t make_set(uint8_t *out, size_t capacity, const int *files, size_t count) {
    size_t used = 0;
    for (size_t i = 0; i < count; i++) {
        const descriptor_file *f = &pool.files[files[i]];
        if (used + 6 + f->size > capacity)
            abort();
        out[used++] = 0x0A;
        size_t length = f->size;
        do {
            out[used++] = (uint8_t)((length & 0x7f) | (length > 0x7f ? 0x80 : 0));
            length >>= 7;
        } while (length > 0);
        memcpy(out + used, f->bytes, f->size);
        used += f->size;
    }
    return used;
}

static void test_refuses_bad_sets(void) {
    descriptor_pool other;
    static uint8_t buffer[1 << 20];
    int timestamp = descriptor_pool_find_file(&pool, "google/protobuf/timestamp.proto");
    int orders = descriptor_pool_find_file(&pool, "orders.proto");
    int common = descriptor_pool_find_file(&pool, "common.proto");

    CHECK_EQ_INT(descriptor_pool_init(&other, buffer, 0), -EINVAL);
    /* Truncated: the last file's length runs past the end. */
    CHECK_EQ_INT(descriptor_pool_init(&other, api_descriptor_set, api_descriptor_set_size - 1),
                 -EINVAL);
    CHECK(other.files == NULL && other.symbols == NULL);
    /* Another field than FileDescriptorSet.file. */
    static const uint8_t other_field[] = {0x12, 0x00};
    CHECK_EQ_INT(descriptor_pool_init(&other, other_field, sizeof other_field), -EINVAL);
    /* A file that is no FileDescriptorProto. */
    static const uint8_t garbage[] = {0x0A, 0x02, 0xFF, 0xFF};
    CHECK_EQ_INT(descriptor_pool_init(&other, garbage, sizeof garbage), -EINVAL);
    /* An import missing, and one that comes after its importer. */
    int alone[] = {orders};
    size_t size = make_set(buffer, sizeof buffer, alone, 1);
    CHECK_EQ_INT(descriptor_pool_init(&other, buffer, size), -EINVAL);
    int reversed[] = {common, timestamp};
    size = make_set(buffer, sizeof buffer, reversed, 2);
    CHECK_EQ_INT(descriptor_pool_init(&other, buffer, size), -EINVAL);
    /* The same file twice. */
    int twice[] = {timestamp, timestamp};
    size = make_set(buffer, sizeof buffer, twice, 2);
    CHECK_EQ_INT(descriptor_pool_init(&other, buffer, size), -EINVAL);
    /* In order, it is a pool of its own. */
    int ordered[] = {timestamp, common};
    size = make_set(buffer, sizeof buffer, ordered, 2);
    CHECK_EQ_INT(descriptor_pool_init(&other, buffer, size), 0);
    CHECK_EQ_INT(other.file_count, 2);
    CHECK(descriptor_pool_find_symbol(&other, "tinkoff.public.invest.api.contract.v1.Quotation") !=
          NULL);
    descriptor_pool_deinit(&other);
}

int main(void) {
    CHECK_EQ_INT(descriptor_pool_init(&pool, api_descriptor_set, api_descriptor_set_size), 0);
    CHECK(pool.file_count >= 12);
    test_symbols();
    test_every_method_is_described();
    test_closure();
    test_refuses_bad_sets();
    descriptor_pool_deinit(&pool);
    return check_finish("api_descriptor_pool");
}
