/* The checks of tinvestd.admin.v1.AdminService's requests (api/admin_service.c), without a
 * server, so that the fuzz target reaches them (api/request.h's table).
 *
 * Each returns 0 with the values the handler acts on, or a T-Invest code with *message (NULL:
 * the catalogue's text). What needs the exchange's state (a price inside the instrument's limits)
 * is checked on the core thread. */
#ifndef TINVESTD_API_ADMIN_REQUEST_H
#define TINVESTD_API_ADMIN_REQUEST_H

#include <stdbool.h>
#include <stdint.h>

#include "admin.pb-c.h"
#include "api/request.h"
#include "util/clock.h"

/* The longest ack or fill delay the operator may set (60 s), and the most steps one walk takes.
 * Delays are also held below the order retention (the configuration's own rule). */
#define ADMIN_MAX_DELAY_US 60000000LL
#define ADMIN_MAX_WALK_STEPS 1000
#define ADMIN_MAX_REJECT_PPM 1000000

/* An instrument by uid, FIGI or TICKER_CLASSCODE: 30237 none given, 50002 unknown. */
int api_request_admin_instrument(const refdata *rd, const char *instrument_id,
                                 const instrument **out, const char **message);

/* SetExchangeFaults: the fields given, each checked (30102: a negative delay, a delay over
 * ADMIN_MAX_DELAY_US, ack + fill reaching `retention_ns`, reject_ppm outside 0 .. 1 000 000). The
 * fields left out keep `current`'s values in *out. */
typedef struct api_admin_faults {
    int64_t ack_delay_ns, fill_delay_ns;
    uint32_t reject_ppm;
} api_admin_faults;
int api_request_admin_faults(const Tinvestd__Admin__V1__SetExchangeFaultsRequest *in,
                             const api_admin_faults *current, int64_t retention_ns,
                             api_admin_faults *out, const char **message);

/* MovePrice: the instrument, then exactly one of `price` (30017 neither, 30102 both; 30018 not a
 * decimal, 30100 not positive, 30078 off the instrument's price step) and `walk` (30102 outside
 * 1 .. ADMIN_MAX_WALK_STEPS). *walk is 0 for a price. */
int api_request_admin_move_price(const refdata *rd, const Tinvestd__Admin__V1__MovePriceRequest *in,
                                 const instrument **ins, int64_t *price_nano, uint32_t *walk,
                                 const char **message);

/* SetReplaySpeed: `speed` as --speed takes it (clock_replay_parse_speed): 30102 none given or
 * anything else, with a message naming the forms. */
int api_request_admin_replay_speed(const Tinvestd__Admin__V1__SetReplaySpeedRequest *in,
                                   clock_replay_mode *mode, int64_t *speed_milli,
                                   const char **message);

int api_request_check_admin_instrument(const ProtobufCMessage *request,
                                       const api_request_context *ctx, api_request_values *out);
int api_request_check_admin_faults(const ProtobufCMessage *request, const api_request_context *ctx,
                                   api_request_values *out);
int api_request_check_admin_move_price(const ProtobufCMessage *request,
                                       const api_request_context *ctx, api_request_values *out);
int api_request_check_admin_replay_speed(const ProtobufCMessage *request,
                                         const api_request_context *ctx, api_request_values *out);

#endif
