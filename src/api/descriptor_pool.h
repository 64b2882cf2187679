/* The contract's .proto files as compiled at build time (a FileDescriptorSet embedded in the
 * binary as api_descriptor_set), indexed for server reflection: each file's serialized
 * FileDescriptorProto, its dependencies, and the fully qualified symbols it declares.
 *
 * DESIGN: the pool is built once from the embedded bytes and is read-only afterwards, so any
 * thread may query it without a lock. A file's bytes are a slice of the set, never re-encoded:
 * what a client receives is exactly what protoc wrote. Nothing here is maintained by hand. */
#ifndef TINVESTD_API_DESCRIPTOR_POOL_H
#define TINVESTD_API_DESCRIPTOR_POOL_H

#include <stddef.h>
#include <stdint.h>

/* The FileDescriptorSet of the proto directory with every import (generated: descriptor_set.c). */
extern const unsigned char api_descriptor_set[];
extern const size_t api_descriptor_set_size;

typedef enum descriptor_symbol_kind {
    DESCRIPTOR_SYMBOL_MESSAGE,
    DESCRIPTOR_SYMBOL_ENUM,
    DESCRIPTOR_SYMBOL_SERVICE,
    DESCRIPTOR_SYMBOL_METHOD,
} descriptor_symbol_kind;

typedef struct descriptor_file {
    char *name;           /* "orders.proto", as compiled */
    const uint8_t *bytes; /* its FileDescriptorProto, inside the set given to init */
    size_t size;
    uint32_t *deps; /* indexes of the files it imports */
    uint32_t dep_count;
} descriptor_file;

typedef struct descriptor_symbol {
    char *name; /* "tinkoff.public.invest.api.contract.v1.OrdersService.PostOrder" */
    uint32_t file;
    descriptor_symbol_kind kind;
} descriptor_symbol;

typedef struct descriptor_pool {
    descriptor_file *files;
    uint32_t file_count;
    descriptor_symbol *symbols; /* sorted by name */
    size_t symbol_count, symbol_capacity;
} descriptor_pool;

/* Indexes a serialized FileDescriptorSet; `set` must outlive the pool. Returns 0, -EINVAL for
 * bytes that are no valid set (a file unreadable, an import missing or later than its importer, a
 * symbol declared twice) or -ENOMEM; on failure the pool holds nothing. */
int descriptor_pool_init(descriptor_pool *pool, const uint8_t *set, size_t size);
void descriptor_pool_deinit(descriptor_pool *pool);

/* The index of the file compiled under `name`, or -1. */
int descriptor_pool_find_file(const descriptor_pool *pool, const char *name);
/* The symbol of that fully qualified name (no leading dot), or NULL. */
const descriptor_symbol *descriptor_pool_find_symbol(const descriptor_pool *pool, const char *name);
/* File `file` and everything it imports, transitively, each once, the file itself first. `out`
 * has room for file_count indexes; returns how many were written. */
size_t descriptor_pool_closure(const descriptor_pool *pool, uint32_t file, uint32_t *out);

#endif
