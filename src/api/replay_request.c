#include "api/replay_request.h"

#include "api/contract.h"

int api_request_replay_advance(const Tinvestd__Replay__V1__AdvanceRequest *in, int64_t *by_ns,
                               int64_t *to_ns, const char **message) {
    *by_ns = *to_ns = 0;
    if (in->to != NULL && in->by_ms != 0) {
        *message = "Give either `by_ms` or `to`, not both";
        return 30010;
    }
    if (in->to != NULL) {
        int code = pb_timestamp_to_ns_code(in->to, 30010, 30010, to_ns);
        if (code != 0)
            *message = "`to` is not a valid time";
        return code;
    }
    if (in->by_ms <= 0 || in->by_ms > INT64_MAX / 1000000) {
        *message = "Give `by_ms` (at least 1 ms) or `to`: how far the clock goes";
        return 30004;
    }
    *by_ns = in->by_ms * 1000000;
    return 0;
}

int api_request_check_replay_advance(const ProtobufCMessage *request,
                                     const api_request_context *ctx, api_request_values *out) {
    (void)ctx;
    (void)out;
    int64_t by_ns, to_ns;
    const char *message;
    return api_request_replay_advance((const Tinvestd__Replay__V1__AdvanceRequest *)request, &by_ns,
                                      &to_ns, &message);
}
