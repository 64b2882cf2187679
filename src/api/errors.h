/* T-Invest error codes as the wire shows them: gRPC status, the numeric code as the status
 * details text, and the human message in the `message` trailer. */
#ifndef TINVESTD_API_ERRORS_H
#define TINVESTD_API_ERRORS_H

#include <grpc/status.h>
#include <stddef.h>

typedef struct api_error_entry {
    int code;
    grpc_status_code status;
    const char *message;
} api_error_entry;

/* NULL for a code the catalogue does not know (a programmer error at the call site). */
const api_error_entry *api_error_lookup(int code);
/* The whole table, sorted by code (*count entries; static storage). */
const api_error_entry *api_error_table(size_t *count);

#endif
