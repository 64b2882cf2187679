/* The checks of tinvestd.replay.v1.ReplayService's requests (api/replay_service.c), without a
 * server, so that the fuzz target reaches them (api/request.h's table). */
#ifndef TINVESTD_API_REPLAY_REQUEST_H
#define TINVESTD_API_REPLAY_REQUEST_H

#include <stdint.h>

#include "api/request.h"
#include "replay.pb-c.h"

/* Advance: exactly one of `by_ms` (at least 1, at most what nanoseconds hold) and `to` (a valid
 * Timestamp). Returns 0 with *by_ns or *to_ns set (the other 0), or the code (30004 neither,
 * 30010 both or a bad `to`) with *message. */
int api_request_replay_advance(const Tinvestd__Replay__V1__AdvanceRequest *in, int64_t *by_ns,
                               int64_t *to_ns, const char **message);

int api_request_check_replay_advance(const ProtobufCMessage *request,
                                     const api_request_context *ctx, api_request_values *out);

#endif
