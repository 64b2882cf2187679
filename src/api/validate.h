/* Checks every string a request carries before any handler sees it.
 *
 * DESIGN: protobuf-c accepts any bytes in a string field and hands them over NUL-terminated, so
 * invalid UTF-8 would be journaled and echoed to clients whose protobuf runtimes then cannot
 * parse the reply, and an embedded NUL would silently cut an id short (two different keys
 * becoming one). The check walks the request's wire bytes guided by the contract's descriptors,
 * because only the wire still shows a string's true length: every string field of every
 * message, nested and repeated ones included, must be valid UTF-8, hold no NUL byte and stay
 * within its length bound. Fields the contract does not declare are skipped, as the decoder
 * skips them. */
#ifndef TINVESTD_API_VALIDATE_H
#define TINVESTD_API_VALIDATE_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Identifiers (account ids, order keys, instrument ids, currencies): the contract's longest is
 * 36 characters, so this bound only stops abuse; fields with a tighter limit of their own (an
 * order key's 36) keep their own code below it. */
#define API_VALIDATE_ID_MAX_BYTES 1024
/* Free text: an account's name, a search query. */
#define API_VALIDATE_TEXT_MAX_BYTES 4096
/* The contract's requests nest three levels deep; a deeper wire is refused, not recursed. */
#define API_VALIDATE_MAX_DEPTH 16

typedef struct api_validate_error {
    int code;          /* the T-Invest code to answer with */
    char message[256]; /* names the field and what is wrong with it */
} api_validate_error;

/* Checks the `len` bytes of a `type` message at `data` (bytes protobuf-c has decoded). True
 * when every string passes; otherwise false, with *error describing the first that fails. */
bool api_validate_request(const ProtobufCMessageDescriptor *type, const uint8_t *data, size_t len,
                          api_validate_error *error);

#endif
