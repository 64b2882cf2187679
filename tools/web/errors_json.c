/* Prints the server's own T-Invest error table (src/api/errors_table.c) as JSON, for the
 * dashboard: {"30079": {"message": "…", "grpcStatus": 3, "grpcStatusName": "INVALID_ARGUMENT"},
 * …}, codes in ascending order. Run at build time by cmake/build_web.cmake into
 * <build>/web/assets/errors.json, so the page names each refused code with the very message the
 * server sends and never holds a copy of its own. */
#include <stdio.h>

#include "api/errors.h"

static const char *const status_names[] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

/* A JSON string: quote, backslash and control characters escaped; UTF-8 passes as it is. */
static void put_string(const char *text) {
    putchar('"');
    for (const unsigned char *p = (const unsigned char *)text; *p != '\0'; p++) {
        if (*p == '"' || *p == '\\')
            printf("\\%c", *p);
        else if (*p < 0x20)
            printf("\\u%04x", *p);
        else
            putchar(*p);
    }
    putchar('"');
}

int main(void) {
    size_t count = 0;
    const api_error_entry *entries = api_error_table(&count);
    printf("{");
    for (size_t i = 0; i < count; i++) {
        const api_error_entry *e = &entries[i];
        unsigned status = (unsigned)e->status;
        printf("%s\n  \"%d\": {\"message\": ", i == 0 ? "" : ",", e->code);
        put_string(e->message);
        printf(", \"grpcStatus\": %u, \"grpcStatusName\": ", status);
        put_string(status < sizeof status_names / sizeof status_names[0] ? status_names[status]
                                                                         : "UNKNOWN");
        printf("}");
    }
    printf("\n}\n");
    return ferror(stdout) ? 1 : 0;
}
