#include "api/admin_request.h"

#include <stdint.h>
#include <stdio.h>

#include "util/money.h"

int api_request_admin_instrument(const refdata *rd, const char *instrument_id,
                                 const instrument **out, const char **message) {
    *message = NULL;
    int code = api_request_instrument(rd, instrument_id, out);
    if (code == 30237)
        *message =
            "Missing parameter: `instrument_id` (an instrument uid, FIGI or TICKER_CLASSCODE)";
    return code;
}

/* One delay given in microseconds, into nanoseconds. */
static int delay_of(int64_t us, const char *refusal, int64_t *out_ns, const char **message) {
    if (us < 0 || us > ADMIN_MAX_DELAY_US) {
        *message = refusal;
        return 30102;
    }
    *out_ns = us * 1000;
    return 0;
}

int api_request_admin_faults(const Tinvestd__Admin__V1__SetExchangeFaultsRequest *in,
                             const api_admin_faults *current, int64_t retention_ns,
                             api_admin_faults *out, const char **message) {
    *message = NULL;
    *out = *current;
    int code = 0;
    if (in->_ack_delay_us_case ==
        TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST___ACK_DELAY_US_ACK_DELAY_US)
        code = delay_of(in->ack_delay_us, "`ack_delay_us` must be 0 to 60000000 microseconds",
                        &out->ack_delay_ns, message);
    if (code == 0 &&
        in->_fill_delay_us_case ==
            TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST___FILL_DELAY_US_FILL_DELAY_US)
        code = delay_of(in->fill_delay_us, "`fill_delay_us` must be 0 to 60000000 microseconds",
                        &out->fill_delay_ns, message);
    if (code != 0)
        return code;
    if (in->_reject_ppm_case ==
        TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST___REJECT_PPM_REJECT_PPM) {
        if (in->reject_ppm < 0 || in->reject_ppm > ADMIN_MAX_REJECT_PPM) {
            *message = "`reject_ppm` must be 0 to 1000000 (orders rejected per million)";
            return 30102;
        }
        out->reject_ppm = (uint32_t)in->reject_ppm;
    }
    /* Both are at most a minute each, so the sum fits. An order's record is reused once its
     * retention has passed; the exchange must have long finished with it by then. */
    if (out->ack_delay_ns + out->fill_delay_ns >= retention_ns) {
        *message = "`ack_delay_us` + `fill_delay_us` must be shorter than the order retention "
                   "(limits.order_history_retention_s)";
        return 30102;
    }
    return 0;
}

int api_request_admin_move_price(const refdata *rd, const Tinvestd__Admin__V1__MovePriceRequest *in,
                                 const instrument **ins, int64_t *price_nano, uint32_t *walk,
                                 const char **message) {
    *price_nano = 0;
    *walk = 0;
    int code = api_request_admin_instrument(rd, in->instrument_id, ins, message);
    if (code != 0)
        return code;
    bool has_price = in->price != NULL && in->price[0] != '\0';
    if (has_price && in->walk != 0) {
        *message = "Give either `price` or `walk`, not both";
        return 30102;
    }
    if (!has_price && in->walk == 0) {
        *message = "Missing parameter: `price` (a decimal) or `walk` (random steps)";
        return 30017;
    }
    if (!has_price) {
        if (in->walk < 1 || in->walk > ADMIN_MAX_WALK_STEPS) {
            *message = "`walk` must be 1 to 1000 steps";
            return 30102;
        }
        *walk = (uint32_t)in->walk;
        return 0;
    }
    if (money_parse_decimal(in->price, price_nano) != 0) {
        *message = "`price` is invalid: not a decimal number such as \"271.5\"";
        return 30018;
    }
    if (*price_nano <= 0)
        return 30100;
    int64_t tick = (*ins)->min_price_increment_nano;
    if (tick > 0 && *price_nano % tick != 0) {
        *message = "`price` is not a multiple of the instrument's minimum price increment";
        return 30078;
    }
    return 0;
}

/* The table's checks give the text of a code that has one of their own (api_request_values). */
static int with_message(int code, const char *message, api_request_values *out) {
    if (code != 0 && message != NULL)
        snprintf(out->message, sizeof out->message, "%s", message);
    return code;
}

int api_request_check_admin_instrument(const ProtobufCMessage *request,
                                       const api_request_context *ctx, api_request_values *out) {
    const char *message;
    int code = api_request_admin_instrument(
        ctx->refdata, ((const Tinvestd__Admin__V1__InstrumentRequest *)request)->instrument_id,
        &out->instrument, &message);
    return with_message(code, message, out);
}

int api_request_check_admin_faults(const ProtobufCMessage *request, const api_request_context *ctx,
                                   api_request_values *out) {
    (void)ctx;
    (void)out;
    api_admin_faults current = {0}, next;
    const char *message;
    int code =
        api_request_admin_faults((const Tinvestd__Admin__V1__SetExchangeFaultsRequest *)request,
                                 &current, INT64_MAX, &next, &message);
    return with_message(code, message, out);
}

int api_request_check_admin_move_price(const ProtobufCMessage *request,
                                       const api_request_context *ctx, api_request_values *out) {
    int64_t price_nano;
    uint32_t walk;
    const char *message = NULL;
    int code = api_request_admin_move_price(ctx->refdata,
                                            (const Tinvestd__Admin__V1__MovePriceRequest *)request,
                                            &out->instrument, &price_nano, &walk, &message);
    return with_message(code, message, out);
}

int api_request_admin_replay_speed(const Tinvestd__Admin__V1__SetReplaySpeedRequest *in,
                                   clock_replay_mode *mode, int64_t *speed_milli,
                                   const char **message) {
    if (in->speed == NULL || in->speed[0] == '\0') {
        *message = "speed is missing: \"max\", \"step\", or how many times real time, e.g. 60";
        return 30102;
    }
    if (clock_replay_parse_speed(in->speed, mode, speed_milli) != 0) {
        *message = "speed: \"max\", \"step\", or how many times real time (above 0, up to "
                   "1000000, at most 3 decimal places), e.g. 60";
        return 30102;
    }
    return 0;
}

int api_request_check_admin_replay_speed(const ProtobufCMessage *request,
                                         const api_request_context *ctx, api_request_values *out) {
    (void)ctx;
    clock_replay_mode mode;
    int64_t speed_milli;
    const char *message = NULL;
    int code = api_request_admin_replay_speed(
        (const Tinvestd__Admin__V1__SetReplaySpeedRequest *)request, &mode, &speed_milli, &message);
    return with_message(code, message, out);
}
