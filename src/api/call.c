#include "api/call.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_metrics.h"
#include "api/errors.h"
#include "api/server.h"
#include "util/log.h"

struct api_call_block {
    api_call_block *next;
    max_align_t data[];
};

void *api_call_alloc(api_call *call, size_t size) {
    api_call_block *block = calloc(1, sizeof *block + size);
    if (block == NULL)
        abort();
    block->next = call->blocks;
    call->blocks = block;
    return block->data;
}

char *api_call_strdup(api_call *call, const char *text) {
    size_t len = strlen(text);
    char *copy = api_call_alloc(call, len + 1);
    memcpy(copy, text, len + 1);
    return copy;
}

void api_call_free_scratch(api_call *call) {
    api_call_block *block = call->blocks;
    while (block != NULL) {
        api_call_block *next = block->next;
        free(block);
        block = next;
    }
    call->blocks = NULL;
}

const char *api_call_metadata(const api_call *call, const char *key, size_t *len) {
    for (size_t i = 0; i < call->request_metadata.count; i++) {
        const grpc_metadata *md = &call->request_metadata.metadata[i];
        if (grpc_slice_str_cmp(md->key, key) == 0) {
            *len = GRPC_SLICE_LENGTH(md->value);
            return (const char *)GRPC_SLICE_START_PTR(md->value);
        }
    }
    return NULL;
}

static void add_metadata(api_call *call, const char *key, const char *value) {
    if (call->reply_metadata_count == sizeof call->reply_metadata / sizeof call->reply_metadata[0])
        abort();
    grpc_metadata *md = &call->reply_metadata[call->reply_metadata_count++];
    memset(md, 0, sizeof *md);
    md->key = grpc_slice_from_static_string(key);
    md->value = grpc_slice_from_copied_string(value);
}

static void add_common_metadata(api_call *call) {
    char number[24];
    add_metadata(call, "x-tracking-id", call->tracking_id);
    snprintf(number, sizeof number, "%d", call->rate.limit);
    add_metadata(call, "x-ratelimit-limit", number);
    snprintf(number, sizeof number, "%d", call->rate.remaining);
    add_metadata(call, "x-ratelimit-remaining", number);
    snprintf(number, sizeof number, "%d", call->rate.reset_s);
    add_metadata(call, "x-ratelimit-reset", number);
}

void api_call_destroy(api_call *call) {
    if (call->in_flight) {
        uint32_t token_index = call->token_index;
        atomic_fetch_sub(&call->server->in_flight[token_index], 1);
    }
    for (size_t i = 0; i < call->reply_metadata_count; i++)
        grpc_slice_unref(call->reply_metadata[i].value);
    grpc_slice_unref(call->status_details);
    if (call->reply_payload != NULL)
        grpc_byte_buffer_destroy(call->reply_payload);
    if (call->payload != NULL)
        grpc_byte_buffer_destroy(call->payload);
    if (call->request != NULL)
        protobuf_c_message_free_unpacked(call->request, NULL);
    grpc_metadata_array_destroy(&call->request_metadata);
    if (call->call != NULL)
        grpc_call_unref(call->call);
    api_call_block *block = call->blocks;
    while (block != NULL) {
        api_call_block *next = block->next;
        free(block);
        block = next;
    }
    free(call);
}

static void on_reply_sent(api_tag *tag, bool ok) {
    api_call *call = (api_call *)tag;
    api_metrics_sent(call); /* metrics: latency from receipt */
    api_call_destroy(call);
}

static void start_reply(api_call *call, grpc_op *ops, size_t op_count) {
    call->answered = true;
    call->tag.on_complete = on_reply_sent;
    grpc_call_error rc = grpc_call_start_batch(call->call, ops, op_count, &call->tag, NULL);
    if (rc != GRPC_CALL_OK) {
        /* Only a programming error can make a first reply batch invalid. */
        log_error("grpc_call_start_batch failed (%d) for %s", rc,
                  call->method ? call->method->path : "?");
        abort();
    }
}

void api_reply_message(api_call *call, const ProtobufCMessage *response) {
    if (call->answered)
        abort();
    size_t size = protobuf_c_message_get_packed_size(response);
    grpc_slice slice = grpc_slice_malloc(size);
    protobuf_c_message_pack(response, GRPC_SLICE_START_PTR(slice));
    call->reply_payload = grpc_raw_byte_buffer_create(&slice, 1);
    grpc_slice_unref(slice);
    add_common_metadata(call);
    call->status_details = grpc_empty_slice();
    api_metrics_replied(call, 0); /* metrics: calls by method and code */

    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[0].data.send_initial_metadata.count = call->reply_metadata_count;
    ops[0].data.send_initial_metadata.metadata = call->reply_metadata;
    ops[1].op = GRPC_OP_SEND_MESSAGE;
    ops[1].data.send_message.send_message = call->reply_payload;
    ops[2].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[2].data.send_status_from_server.status = GRPC_STATUS_OK;
    ops[2].data.send_status_from_server.status_details = &call->status_details;
    ops[3].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[3].data.recv_close_on_server.cancelled = &call->client_cancelled;
    start_reply(call, ops, 4);
}

void api_reply_error_message(api_call *call, int code, const char *message) {
    const api_error_entry *entry = api_error_lookup(code);
    if (entry == NULL) {
        log_error("unknown T-Invest error code %d", code);
        abort();
    }
    api_reply_error_status(call, entry->status, code, message != NULL ? message : entry->message);
}

/* An answer of its status alone. Empty initial metadata in the same batch as the status: the
 * HTTP/2 transport then sends one trailers-only header block, so every metadata entry added
 * before arrives in the block clients read. */
static void send_status_only(api_call *call, grpc_status_code status) {
    grpc_op ops[3];
    memset(ops, 0, sizeof ops);
    ops[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    ops[1].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[1].data.send_status_from_server.status = status;
    ops[1].data.send_status_from_server.status_details = &call->status_details;
    ops[1].data.send_status_from_server.trailing_metadata_count = call->reply_metadata_count;
    ops[1].data.send_status_from_server.trailing_metadata = call->reply_metadata;
    ops[2].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    ops[2].data.recv_close_on_server.cancelled = &call->client_cancelled;
    start_reply(call, ops, 3);
}

void api_reply_error_status(api_call *call, grpc_status_code status, int code,
                            const char *message) {
    if (call->answered)
        abort();
    char code_text[16];
    snprintf(code_text, sizeof code_text, "%d", code);
    call->status_details = grpc_slice_from_copied_string(code_text);
    add_metadata(call, "message", message);
    add_common_metadata(call);
    log_debug("%s tracking_id=%s error %d", call->method ? call->method->path : "unmatched",
              call->tracking_id, code);
    api_metrics_replied(call, code); /* metrics: calls by method and code */
    send_status_only(call, status);
}

void api_reply_status(api_call *call, grpc_status_code status, const char *message) {
    if (call->answered)
        abort();
    call->status_details = grpc_slice_from_copied_string(message);
    add_metadata(call, "message", message);
    add_common_metadata(call);
    api_metrics_replied(call, -(int)status); /* metrics: another protocol's status as -status */
    send_status_only(call, status);
}

void api_reply_error(api_call *call, int code) {
    api_reply_error_message(call, code, NULL);
}
