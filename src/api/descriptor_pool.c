#include "api/descriptor_pool.h"

#include <assert.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "google/protobuf/descriptor.pb-c.h"

typedef Google__Protobuf__FileDescriptorProto file_proto;
typedef Google__Protobuf__DescriptorProto message_proto;

/* FileDescriptorSet.file: field 1, length-delimited. */
#define SET_FILE_KEY ((1u << 3) | 2u)
/* Deeper nesting than any contract declares; bounds the recursion over nested messages. */
#define MAX_NESTING 32

/* Reads a base-128 varint of at most 64 bits; false past the end or when it is longer. */
static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *value) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (*p >= end)
            return false;
        uint8_t byte = *(*p)++;
        v |= (uint64_t)(byte & 0x7f) << shift;
        if ((byte & 0x80) == 0) {
            *value = v;
            return true;
        }
    }
    return false;
}

/* "scope.name", or "name" in the empty scope; NULL when out of memory. */
static char *qualify(const char *scope, const char *name) {
    size_t length = strlen(scope) + 1 + strlen(name) + 1;
    char *full = malloc(length);
    if (full != NULL)
        snprintf(full, length, "%s%s%s", scope, scope[0] ? "." : "", name);
    return full;
}

/* Adds scope.name; the pool owns the name from here on, even on failure. */
static int add_symbol(descriptor_pool *pool, char *full, uint32_t file,
                      descriptor_symbol_kind kind) {
    if (full == NULL)
        return -ENOMEM;
    if (pool->symbol_count == pool->symbol_capacity) {
        size_t capacity = pool->symbol_capacity ? pool->symbol_capacity * 2 : 256;
        descriptor_symbol *grown = realloc(pool->symbols, capacity * sizeof *grown);
        if (grown == NULL) {
            free(full);
            return -ENOMEM;
        }
        pool->symbols = grown;
        pool->symbol_capacity = capacity;
    }
    pool->symbols[pool->symbol_count++] =
        (descriptor_symbol){.name = full, .file = file, .kind = kind};
    return 0;
}

static bool named(const char *name) {
    return name != NULL && name[0] != '\0';
}

static int add_message(descriptor_pool *pool, const char *scope, const message_proto *m,
                       uint32_t file, int depth) {
    if (depth > MAX_NESTING || !named(m->name))
        return -EINVAL;
    char *self = qualify(scope, m->name);
    if (self == NULL)
        return -ENOMEM;
    int rc = add_symbol(pool, strdup(self), file, DESCRIPTOR_SYMBOL_MESSAGE);
    for (size_t i = 0; rc == 0 && i < m->n_enum_type; i++)
        rc = named(m->enum_type[i]->name) ? add_symbol(pool, qualify(self, m->enum_type[i]->name),
                                                       file, DESCRIPTOR_SYMBOL_ENUM)
                                          : -EINVAL;
    for (size_t i = 0; rc == 0 && i < m->n_nested_type; i++)
        rc = add_message(pool, self, m->nested_type[i], file, depth + 1);
    free(self);
    return rc;
}

static int add_file_symbols(descriptor_pool *pool, const file_proto *f, uint32_t file) {
    const char *package = f->package != NULL ? f->package : "";
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < f->n_message_type; i++)
        rc = add_message(pool, package, f->message_type[i], file, 0);
    for (size_t i = 0; rc == 0 && i < f->n_enum_type; i++)
        rc = named(f->enum_type[i]->name)
                 ? add_symbol(pool, qualify(package, f->enum_type[i]->name), file,
                              DESCRIPTOR_SYMBOL_ENUM)
                 : -EINVAL;
    for (size_t i = 0; rc == 0 && i < f->n_service; i++) {
        const Google__Protobuf__ServiceDescriptorProto *s = f->service[i];
        if (!named(s->name))
            return -EINVAL;
        char *service = qualify(package, s->name);
        if (service == NULL)
            return -ENOMEM;
        rc = add_symbol(pool, strdup(service), file, DESCRIPTOR_SYMBOL_SERVICE);
        for (size_t j = 0; rc == 0 && j < s->n_method; j++)
            rc = named(s->method[j]->name) ? add_symbol(pool, qualify(service, s->method[j]->name),
                                                        file, DESCRIPTOR_SYMBOL_METHOD)
                                           : -EINVAL;
        free(service);
    }
    return rc;
}

/* One file of the set: its name, its imports (which must come before it, as protoc writes
 * them with --include_imports) and its symbols. */
static int add_file(descriptor_pool *pool, const uint8_t *bytes, size_t size) {
    file_proto *f = google__protobuf__file_descriptor_proto__unpack(NULL, size, bytes);
    if (f == NULL)
        return -EINVAL;
    uint32_t index = pool->file_count;
    descriptor_file *file = &pool->files[index];
    int rc = 0;
    if (!named(f->name) || descriptor_pool_find_file(pool, f->name) >= 0)
        rc = -EINVAL;
    if (rc == 0) {
        file->name = strdup(f->name);
        file->deps = calloc(f->n_dependency ? f->n_dependency : 1, sizeof *file->deps);
        if (file->name == NULL || file->deps == NULL)
            rc = -ENOMEM;
    }
    file->bytes = bytes;
    file->size = size;
    pool->file_count++; /* counted now so that deinit frees what was taken */
    for (size_t i = 0; rc == 0 && i < f->n_dependency; i++) {
        int dep = descriptor_pool_find_file(pool, f->dependency[i]);
        if (dep < 0 || (uint32_t)dep == index)
            rc = -EINVAL;
        else
            file->deps[file->dep_count++] = (uint32_t)dep;
    }
    if (rc == 0)
        rc = add_file_symbols(pool, f, index);
    google__protobuf__file_descriptor_proto__free_unpacked(f, NULL);
    return rc;
}

static int compare_symbols(const void *a, const void *b) {
    return strcmp(((const descriptor_symbol *)a)->name, ((const descriptor_symbol *)b)->name);
}

int descriptor_pool_init(descriptor_pool *pool, const uint8_t *set, size_t size) {
    memset(pool, 0, sizeof *pool);
    /* Count the files first: the table is sized once. */
    size_t count = 0;
    for (const uint8_t *p = set, *end = set + size; p < end; count++) {
        uint64_t key, length;
        if (!read_varint(&p, end, &key) || key != SET_FILE_KEY || !read_varint(&p, end, &length) ||
            length > (uint64_t)(end - p))
            return -EINVAL;
        p += length;
    }
    if (count == 0 || count > UINT32_MAX / 2)
        return -EINVAL;
    pool->files = calloc(count, sizeof *pool->files);
    if (pool->files == NULL)
        return -ENOMEM;
    int rc = 0;
    for (const uint8_t *p = set, *end = set + size; rc == 0 && p < end;) {
        uint64_t key, length;
        bool read = read_varint(&p, end, &key) && read_varint(&p, end, &length);
        assert(read); /* checked by the count above */
        (void)read;
        rc = add_file(pool, p, (size_t)length);
        p += length;
    }
    if (rc == 0) {
        qsort(pool->symbols, pool->symbol_count, sizeof *pool->symbols, compare_symbols);
        for (size_t i = 1; rc == 0 && i < pool->symbol_count; i++)
            if (strcmp(pool->symbols[i - 1].name, pool->symbols[i].name) == 0)
                rc = -EINVAL;
    }
    if (rc != 0)
        descriptor_pool_deinit(pool);
    return rc;
}

void descriptor_pool_deinit(descriptor_pool *pool) {
    for (uint32_t i = 0; i < pool->file_count; i++) {
        free(pool->files[i].name);
        free(pool->files[i].deps);
    }
    for (size_t i = 0; i < pool->symbol_count; i++)
        free(pool->symbols[i].name);
    free(pool->files);
    free(pool->symbols);
    memset(pool, 0, sizeof *pool);
}

int descriptor_pool_find_file(const descriptor_pool *pool, const char *name) {
    for (uint32_t i = 0; i < pool->file_count; i++)
        if (pool->files[i].name != NULL && strcmp(pool->files[i].name, name) == 0)
            return (int)i;
    return -1;
}

const descriptor_symbol *descriptor_pool_find_symbol(const descriptor_pool *pool,
                                                     const char *name) {
    descriptor_symbol key = {.name = (char *)name};
    if (pool->symbol_count == 0)
        return NULL;
    return bsearch(&key, pool->symbols, pool->symbol_count, sizeof *pool->symbols, compare_symbols);
}

size_t descriptor_pool_closure(const descriptor_pool *pool, uint32_t file, uint32_t *out) {
    assert(file < pool->file_count);
    /* Imports always point to earlier files (checked at init), so a walk over the files already
     * written finds every one once. */
    size_t count = 0;
    out[count++] = file;
    for (size_t next = 0; next < count; next++) {
        const descriptor_file *f = &pool->files[out[next]];
        for (uint32_t d = 0; d < f->dep_count; d++) {
            bool seen = false;
            for (size_t k = 0; k < count && !seen; k++)
                seen = out[k] == f->deps[d];
            if (!seen) {
                assert(count < pool->file_count);
                out[count++] = f->deps[d];
            }
        }
    }
    return count;
}
