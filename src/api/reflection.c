/* gRPC server reflection: grpc.reflection.v1.ServerReflection and its twin under
 * grpc.reflection.v1alpha (the same messages on the wire), on every endpoint.
 *
 * DESIGN: ServerReflectionInfo is a bidirectional stream answering each request with one response,
 * in order, from the descriptor pool built once from the set protoc wrote at build time
 * (api/descriptor_pool.h). The service list comes from the server's own method table, so it names
 * exactly what is registered. One request is read at a time: the next read starts after the answer
 * is queued, and a client that does not read its answers fills the stream's bounded queue, which
 * ends the stream (api/stream_call.h). A request that cannot be answered gets an error_response
 * with a gRPC status code, and the stream goes on. Both packages are decoded and encoded with the
 * v1 types, as the wire bytes are identical. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grpc/byte_buffer_reader.h>

#include "api/descriptor_pool.h"
#include "api/server.h"
#include "api/services.h"
#include "api/stream_call.h"
#include "reflection_v1.pb-c.h"
#include "util/log.h"

typedef Grpc__Reflection__V1__ServerReflectionRequest reflection_request;
typedef Grpc__Reflection__V1__ServerReflectionResponse reflection_response;

/* Reflection streams open at once in the process; one more is refused with RESOURCE_EXHAUSTED. */
#define REFLECTION_MAX_STREAMS 64
/* Answers a stream may have waiting for the client to read them. */
#define REFLECTION_BACKLOG_MESSAGES 8
/* Services a list_services answer can name (the contract has about twenty). */
#define REFLECTION_MAX_SERVICES 64
/* Longest symbol or file name looked up; a longer one is answered NOT_FOUND at once. */
#define REFLECTION_MAX_NAME_BYTES 512

static descriptor_pool pool;
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;
static atomic_int open_streams;

static void build_pool(void) {
    int rc = descriptor_pool_init(&pool, api_descriptor_set, api_descriptor_set_size);
    /* The set is written by protoc at build time: failing to read it is a build fault. */
    if (rc != 0) {
        log_error("the embedded descriptor set cannot be read (%d)", rc);
        abort();
    }
}

static const descriptor_pool *the_pool(void) {
    pthread_once(&pool_once, build_pool);
    return &pool;
}

typedef struct reflection_stream {
    api_stream *stream;
    api_server *server;
    grpc_byte_buffer *payload;
    api_tag recv_tag;
    pthread_mutex_t lock;
    int refs;
    struct reflection_stream *next; /* the open streams, under streams_lock */
} reflection_stream;

/* The open streams, for api_reflection_shutdown. */
static pthread_mutex_t streams_lock = PTHREAD_MUTEX_INITIALIZER;
static reflection_stream *streams;

static void stream_ref(reflection_stream *rs) {
    pthread_mutex_lock(&rs->lock);
    rs->refs++;
    pthread_mutex_unlock(&rs->lock);
}

static void stream_unref(reflection_stream *rs) {
    pthread_mutex_lock(&rs->lock);
    bool last = --rs->refs == 0;
    pthread_mutex_unlock(&rs->lock);
    if (!last)
        return;
    if (rs->payload != NULL)
        grpc_byte_buffer_destroy(rs->payload);
    api_stream_release(rs->stream);
    pthread_mutex_destroy(&rs->lock);
    free(rs);
    atomic_fetch_sub(&open_streams, 1);
}

static void on_stream_closed(api_stream *stream) {
    reflection_stream *rs = stream->owner;
    pthread_mutex_lock(&streams_lock);
    for (reflection_stream **at = &streams; *at != NULL; at = &(*at)->next)
        if (*at == rs) {
            *at = rs->next;
            break;
        }
    pthread_mutex_unlock(&streams_lock);
    stream_unref(rs);
}

void api_reflection_shutdown(api_server *srv) {
    reflection_stream *mine[REFLECTION_MAX_STREAMS];
    int count = 0;
    pthread_mutex_lock(&streams_lock);
    for (reflection_stream *rs = streams; rs != NULL && count < REFLECTION_MAX_STREAMS;
         rs = rs->next)
        if (rs->server == srv) {
            stream_ref(rs);
            mine[count++] = rs;
        }
    pthread_mutex_unlock(&streams_lock);
    for (int i = 0; i < count; i++) {
        api_stream_finish(mine[i]->stream, GRPC_STATUS_UNAVAILABLE, 70003,
                          "The server is shutting down", false);
        stream_unref(mine[i]);
    }
}

static grpc_slice pack(const ProtobufCMessage *message) {
    size_t size = protobuf_c_message_get_packed_size(message);
    grpc_slice slice = grpc_slice_malloc(size);
    size_t written = protobuf_c_message_pack(message, GRPC_SLICE_START_PTR(slice));
    if (written != size)
        abort();
    return slice;
}

/* ---- Answers -----------------------------------------------------------------------------------
 */

static void set_error(reflection_response *out, Grpc__Reflection__V1__ErrorResponse *error,
                      grpc_status_code code, const char *message) {
    error->error_code = (int32_t)code;
    error->error_message = (char *)message;
    out->message_response_case =
        GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ERROR_RESPONSE;
    out->error_response = error;
}

/* The fully qualified service of a method path "/package.Service/Method", copied into `out`. */
static void service_of(const api_method *m, char *out, size_t size) {
    const char *start = m->path + 1;
    const char *slash = strchr(start, '/');
    size_t length = slash != NULL ? (size_t)(slash - start) : strlen(start);
    if (length >= size)
        length = size - 1;
    memcpy(out, start, length);
    out[length] = '\0';
}

/* Every service with a registered method, each once, in the table's order. Returns how many;
 * the names are allocated in `names` (the caller frees them). */
static size_t served_services(const api_server *srv, char **names, size_t capacity) {
    size_t count = 0;
    for (size_t i = 0; i < srv->method_count && count < capacity; i++) {
        char service[sizeof srv->methods[i].path];
        service_of(&srv->methods[i], service, sizeof service);
        bool seen = false;
        for (size_t k = 0; k < count && !seen; k++)
            seen = strcmp(names[k], service) == 0;
        if (!seen) {
            names[count] = strdup(service);
            if (names[count] == NULL)
                abort();
            count++;
        }
    }
    return count;
}

/* Answers one request into `out`, then queues it. Allocations live until the answer is packed. */
static void answer(reflection_stream *rs, const reflection_request *in) {
    const descriptor_pool *dp = the_pool();
    reflection_response out = GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__INIT;
    Grpc__Reflection__V1__ErrorResponse error = GRPC__REFLECTION__V1__ERROR_RESPONSE__INIT;
    Grpc__Reflection__V1__FileDescriptorResponse files =
        GRPC__REFLECTION__V1__FILE_DESCRIPTOR_RESPONSE__INIT;
    Grpc__Reflection__V1__ExtensionNumberResponse numbers =
        GRPC__REFLECTION__V1__EXTENSION_NUMBER_RESPONSE__INIT;
    Grpc__Reflection__V1__ListServiceResponse list =
        GRPC__REFLECTION__V1__LIST_SERVICE_RESPONSE__INIT;
    out.valid_host = in->host;
    out.original_request = (reflection_request *)in;

    uint32_t *closure = NULL;
    ProtobufCBinaryData *blobs = NULL;
    char *names[REFLECTION_MAX_SERVICES];
    Grpc__Reflection__V1__ServiceResponse services[REFLECTION_MAX_SERVICES];
    Grpc__Reflection__V1__ServiceResponse *service_ptrs[REFLECTION_MAX_SERVICES];
    size_t service_count = 0;
    char text[REFLECTION_MAX_NAME_BYTES + 64];
    int file = -1;
    const char *wanted = NULL;

    switch (in->message_request_case) {
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_LIST_SERVICES:
        service_count = served_services(rs->server, names, REFLECTION_MAX_SERVICES);
        for (size_t i = 0; i < service_count; i++) {
            services[i] =
                (Grpc__Reflection__V1__ServiceResponse)GRPC__REFLECTION__V1__SERVICE_RESPONSE__INIT;
            services[i].name = names[i];
            service_ptrs[i] = &services[i];
        }
        list.n_service = service_count;
        list.service = service_ptrs;
        out.message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_LIST_SERVICES_RESPONSE;
        out.list_services_response = &list;
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_BY_FILENAME:
        wanted = in->file_by_filename;
        if (strlen(wanted) <= REFLECTION_MAX_NAME_BYTES)
            file = descriptor_pool_find_file(dp, wanted);
        if (file < 0) {
            snprintf(text, sizeof text, "File not found: %.*s", REFLECTION_MAX_NAME_BYTES, wanted);
            set_error(&out, &error, GRPC_STATUS_NOT_FOUND, text);
        }
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_SYMBOL: {
        wanted = in->file_containing_symbol;
        const descriptor_symbol *symbol = NULL;
        if (strlen(wanted) <= REFLECTION_MAX_NAME_BYTES)
            symbol = descriptor_pool_find_symbol(dp, wanted[0] == '.' ? wanted + 1 : wanted);
        if (symbol != NULL) {
            file = (int)symbol->file;
        } else {
            snprintf(text, sizeof text, "Symbol not found: %.*s", REFLECTION_MAX_NAME_BYTES,
                     wanted);
            set_error(&out, &error, GRPC_STATUS_NOT_FOUND, text);
        }
        break;
    }
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_FILE_CONTAINING_EXTENSION:
        /* The contract declares no extensions. */
        set_error(&out, &error, GRPC_STATUS_NOT_FOUND, "Extension not found");
        break;
    case GRPC__REFLECTION__V1__SERVER_REFLECTION_REQUEST__MESSAGE_REQUEST_ALL_EXTENSION_NUMBERS_OF_TYPE: {
        wanted = in->all_extension_numbers_of_type;
        const descriptor_symbol *symbol = NULL;
        if (strlen(wanted) <= REFLECTION_MAX_NAME_BYTES)
            symbol = descriptor_pool_find_symbol(dp, wanted[0] == '.' ? wanted + 1 : wanted);
        if (symbol != NULL && symbol->kind == DESCRIPTOR_SYMBOL_MESSAGE) {
            /* A known message: it has no extensions (the contract declares none). */
            numbers.base_type_name = symbol->name;
            out.message_response_case =
                GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_ALL_EXTENSION_NUMBERS_RESPONSE;
            out.all_extension_numbers_response = &numbers;
        } else {
            snprintf(text, sizeof text, "Type not found: %.*s", REFLECTION_MAX_NAME_BYTES, wanted);
            set_error(&out, &error, GRPC_STATUS_NOT_FOUND, text);
        }
        break;
    }
    default:
        set_error(&out, &error, GRPC_STATUS_INVALID_ARGUMENT,
                  "The request asks for nothing: set one of its message_request fields");
        break;
    }

    if (file >= 0) {
        closure = calloc(dp->file_count, sizeof *closure);
        blobs = calloc(dp->file_count, sizeof *blobs);
        if (closure == NULL || blobs == NULL)
            abort();
        size_t count = descriptor_pool_closure(dp, (uint32_t)file, closure);
        for (size_t i = 0; i < count; i++)
            blobs[i] = (ProtobufCBinaryData){.len = dp->files[closure[i]].size,
                                             .data = (uint8_t *)dp->files[closure[i]].bytes};
        files.n_file_descriptor_proto = count;
        files.file_descriptor_proto = blobs;
        out.message_response_case =
            GRPC__REFLECTION__V1__SERVER_REFLECTION_RESPONSE__MESSAGE_RESPONSE_FILE_DESCRIPTOR_RESPONSE;
        out.file_descriptor_response = &files;
    }
    grpc_slice message = pack(&out.base);
    api_stream_write(rs->stream, message);
    grpc_slice_unref(message);
    free(closure);
    free(blobs);
    for (size_t i = 0; i < service_count; i++)
        free(names[i]);
}

/* ---- Reading the requests ----------------------------------------------------------------------
 */

static void read_next(reflection_stream *rs);

static void on_request(api_tag *tag, bool ok) {
    reflection_stream *rs =
        (reflection_stream *)((char *)tag - offsetof(reflection_stream, recv_tag));
    grpc_byte_buffer *payload = rs->payload;
    rs->payload = NULL;
    if (!ok || payload == NULL) {
        /* The client has sent its last request (or is gone): the stream ends with OK after the
         * answers queued. */
        if (payload != NULL)
            grpc_byte_buffer_destroy(payload);
        if (ok)
            api_stream_finish(rs->stream, GRPC_STATUS_OK, 0, "", false);
        stream_unref(rs);
        return;
    }
    reflection_request *request = NULL;
    grpc_byte_buffer_reader reader;
    if (grpc_byte_buffer_reader_init(&reader, payload)) {
        grpc_slice bytes = grpc_byte_buffer_reader_readall(&reader);
        grpc_byte_buffer_reader_destroy(&reader);
        request = grpc__reflection__v1__server_reflection_request__unpack(
            NULL, GRPC_SLICE_LENGTH(bytes), GRPC_SLICE_START_PTR(bytes));
        grpc_slice_unref(bytes);
    }
    grpc_byte_buffer_destroy(payload);
    if (request == NULL) {
        /* Bytes that are no request: there is no request to echo, so the stream ends. */
        api_stream_finish(rs->stream, GRPC_STATUS_INVALID_ARGUMENT, 30102,
                          "Malformed request: the message could not be decoded", false);
        stream_unref(rs);
        return;
    }
    answer(rs, request);
    grpc__reflection__v1__server_reflection_request__free_unpacked(request, NULL);
    read_next(rs);
    stream_unref(rs); /* this read's reference */
}

static void read_next(reflection_stream *rs) {
    stream_ref(rs);
    grpc_op op;
    memset(&op, 0, sizeof op);
    op.op = GRPC_OP_RECV_MESSAGE;
    op.data.recv_message.recv_message = &rs->payload;
    if (grpc_call_start_batch(rs->stream->call->call, &op, 1, &rs->recv_tag, NULL) != GRPC_CALL_OK)
        stream_unref(rs); /* the call is over */
}

static void server_reflection_info(api_call *call, const ProtobufCMessage *request) {
    if (atomic_fetch_add(&open_streams, 1) >= REFLECTION_MAX_STREAMS) {
        atomic_fetch_sub(&open_streams, 1);
        char text[128];
        snprintf(text, sizeof text, "Too many reflection streams: at most %d at once",
                 REFLECTION_MAX_STREAMS);
        api_reply_error_message(call, 80001, text);
        return;
    }
    reflection_stream *rs = calloc(1, sizeof *rs);
    if (rs == NULL)
        abort();
    rs->server = call->server;
    rs->recv_tag.on_complete = on_request;
    pthread_mutex_init(&rs->lock, NULL);
    rs->refs = 2; /* released when the stream closes; and the first request's handling */
    /* Listed with its stream, under the lock, so that a stop sees either both or neither. */
    pthread_mutex_lock(&streams_lock);
    rs->stream = api_stream_start(call, REFLECTION_BACKLOG_MESSAGES, 0, NULL, on_stream_closed, rs);
    rs->next = streams;
    streams = rs;
    pthread_mutex_unlock(&streams_lock);
    /* A stream that came in as the stop's broadcast ran ends as the others did. */
    if (atomic_load(&rs->server->shutting_down))
        api_stream_finish(rs->stream, GRPC_STATUS_UNAVAILABLE, 70003, "The server is shutting down",
                          false);
    api_stream_ready(rs->stream);
    answer(rs, (const reflection_request *)request);
    read_next(rs);
    stream_unref(rs);
}

#define REFLECTION_METHOD(pkg)                                                                     \
    {                                                                                              \
        .package = pkg, .service = "ServerReflection", .name = "ServerReflectionInfo",             \
        .request_type = &grpc__reflection__v1__server_reflection_request__descriptor,              \
        .handle = server_reflection_info, .server_streaming = true, .client_streaming = true,      \
        .public_access = true                                                                      \
    }
static const api_method reflection_methods[] = {
    REFLECTION_METHOD("grpc.reflection.v1"),
    REFLECTION_METHOD("grpc.reflection.v1alpha"),
};

const api_method *api_reflection_methods(size_t *count) {
    *count = sizeof reflection_methods / sizeof reflection_methods[0];
    return reflection_methods;
}
