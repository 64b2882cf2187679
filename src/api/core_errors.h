/* The one mapping from the core's typed errors to what a client sees: the T-Invest code, and,
 * where the catalogue's text says less than we know, a more specific message. The gRPC status
 * follows from the code (errors_table.c). */
#ifndef TINVESTD_API_CORE_ERRORS_H
#define TINVESTD_API_CORE_ERRORS_H

#include "api/call.h"
#include "core/errors.h"

typedef struct api_core_error {
    int code;
    const char *message; /* NULL: the catalogue's message for the code */
} api_core_error;

const api_core_error *api_core_error_of(core_error error);
int api_core_error_code(core_error error);

/* Answers the call with the error's code, status and message. */
void api_reply_core_error(api_call *call, core_error error);

#endif
