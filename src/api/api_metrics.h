/* The server's metrics of calls (docs/METRICS.md): calls by method and T-Invest code, each
 * method's latency from receipt to the reply sent, PostOrderAsync's stages, open streams.
 *
 * DESIGN: the families are registered in metrics_default() by api_metrics_init (api_server_start
 * calls it with the method table, before the completion-queue thread starts). A method is its
 * table index; a call without a method (an unmatched path) is the last value "unmatched". Before
 * the init every hook is a no-op. */
#ifndef TINVESTD_API_API_METRICS_H
#define TINVESTD_API_API_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "api/call.h"

/* How many streams the backlog figures of /metrics name (the slowest first). */
#define API_METRICS_SLOWEST_STREAMS 5

/* Returns 0 (also when already done) or a negative errno. `methods` must outlive the registry's
 * use (labels are their paths). */
int api_metrics_init(const api_method *methods, size_t count);
void api_metrics_deinit(void);

/* A call's reply is started: counted under its method and `code` (0: OK; a gRPC status of another
 * protocol is -status). */
void api_metrics_replied(const api_call *call, int code);
/* gRPC reports the reply sent: the call's latency since call->received_mono_ns. */
void api_metrics_sent(const api_call *call);
/* PostOrderAsync's reply is written: receipt → decided → durable → now (CLOCK_MONOTONIC times
 * copied before the reply started: the call and its job may be gone once it has). A time of 0
 * (refused before the core, finished outside a release) observes nothing. */
void api_metrics_post_order_async(int64_t received_ns, int64_t decided_ns, int64_t durable_ns);
void api_metrics_stream_opened(const api_call *call);
void api_metrics_stream_closed(const api_call *call);

/* For tests that drive the families without gRPC calls: the same observations by method index
 * (`count` of api_metrics_init for "unmatched"). */
void api_metrics_count_call(uint32_t method_index, int code, int64_t latency_ns);
void api_metrics_count_post_order_async(int64_t accept_ns, int64_t durable_ns, int64_t reply_ns);

#endif
