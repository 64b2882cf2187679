/* The checks of AdminService's requests (api/admin_request.c): each code at its bound, the
 * fields left out keeping the values in force, and nothing decided past a refusal. */
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "one_share.h"
#include "api/admin_request.h"

#define NANO 1000000000LL

static refdata rd;

typedef Tinvestd__Admin__V1__SetExchangeFaultsRequest faults_request;

static faults_request faults_of(bool ack, int64_t ack_us, bool fill, int64_t fill_us, bool ppm,
                                int64_t reject_ppm) {
    faults_request in = TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST__INIT;
    if (ack) {
        in._ack_delay_us_case =
            TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST___ACK_DELAY_US_ACK_DELAY_US;
        in.ack_delay_us = ack_us;
    }
    if (fill) {
        in._fill_delay_us_case =
            TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST___FILL_DELAY_US_FILL_DELAY_US;
        in.fill_delay_us = fill_us;
    }
    if (ppm) {
        in._reject_ppm_case = TINVESTD__ADMIN__V1__SET_EXCHANGE_FAULTS_REQUEST___REJECT_PPM_REJECT_PPM;
        in.reject_ppm = reject_ppm;
    }
    return in;
}

static void test_faults(void) {
    const api_admin_faults current = {.ack_delay_ns = 1000, .fill_delay_ns = 2000, .reject_ppm = 3};
    const int64_t retention = 600 * NANO;
    api_admin_faults out;
    const char *message;
    faults_request none = faults_of(false, 0, false, 0, false, 0);
    CHECK_EQ_INT(api_request_admin_faults(&none, &current, retention, &out, &message), 0);
    CHECK(memcmp(&out, &current, sizeof out) == 0); /* nothing given: the values in force */

    faults_request all = faults_of(true, ADMIN_MAX_DELAY_US, true, 0, true, ADMIN_MAX_REJECT_PPM);
    CHECK_EQ_INT(api_request_admin_faults(&all, &current, retention, &out, &message), 0);
    CHECK_EQ_INT(out.ack_delay_ns, ADMIN_MAX_DELAY_US * 1000);
    CHECK_EQ_INT(out.fill_delay_ns, 0);
    CHECK_EQ_INT(out.reject_ppm, 1000000);

    faults_request bad[] = {
        faults_of(true, -1, false, 0, false, 0),
        faults_of(true, ADMIN_MAX_DELAY_US + 1, false, 0, false, 0),
        faults_of(false, 0, true, INT64_MIN, false, 0),
        faults_of(false, 0, true, INT64_MAX, false, 0),
        faults_of(false, 0, false, 0, true, -1),
        faults_of(false, 0, false, 0, true, ADMIN_MAX_REJECT_PPM + 1),
        faults_of(true, 5, false, 0, true, INT64_MAX),
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        message = NULL;
        CHECK_EQ_INT(api_request_admin_faults(&bad[i], &current, retention, &out, &message), 30102);
        CHECK(message != NULL && message[0] == '`');
    }
    /* The two delays together stay below the order retention. */
    faults_request both = faults_of(true, 30000000, true, 30000000, false, 0);
    CHECK_EQ_INT(api_request_admin_faults(&both, &current, 60 * NANO, &out, &message), 30102);
    CHECK_EQ_INT(api_request_admin_faults(&both, &current, 60 * NANO + 1, &out, &message), 0);
}

static int move(const char *id, const char *price, int32_t walk, int64_t *price_nano,
                uint32_t *steps) {
    Tinvestd__Admin__V1__MovePriceRequest in = TINVESTD__ADMIN__V1__MOVE_PRICE_REQUEST__INIT;
    in.instrument_id = (char *)id;
    in.price = (char *)price;
    in.walk = walk;
    const instrument *ins;
    const char *message;
    return api_request_admin_move_price(&rd, &in, &ins, price_nano, steps, &message);
}

static void test_move_price(void) {
    int64_t price;
    uint32_t steps;
    CHECK_EQ_INT(move("uid-0", "101.25", 0, &price, &steps), 0);
    CHECK_EQ_INT(price, 101250000000LL);
    CHECK_EQ_INT(steps, 0);
    CHECK_EQ_INT(move("FIGI0", "", 1000, &price, &steps), 0);
    CHECK_EQ_INT(steps, 1000);
    CHECK_EQ_INT(move("AAA_TQBR", "", 1, &price, &steps), 0);
    CHECK_EQ_INT(move("", "1", 0, &price, &steps), 30237);
    CHECK_EQ_INT(move("nothing", "1", 0, &price, &steps), 50002);
    CHECK_EQ_INT(move("uid-0", "", 0, &price, &steps), 30017);
    CHECK_EQ_INT(move("uid-0", "100", 3, &price, &steps), 30102);
    CHECK_EQ_INT(move("uid-0", "", 1001, &price, &steps), 30102);
    CHECK_EQ_INT(move("uid-0", "", -1, &price, &steps), 30102);
    CHECK_EQ_INT(move("uid-0", "1e3", 0, &price, &steps), 30018);
    CHECK_EQ_INT(move("uid-0", "99999999999999999999", 0, &price, &steps), 30018);
    CHECK_EQ_INT(move("uid-0", "0", 0, &price, &steps), 30100);
    CHECK_EQ_INT(move("uid-0", "-1", 0, &price, &steps), 30100);
    CHECK_EQ_INT(move("uid-0", "100.005", 0, &price, &steps), 30078); /* step 0.01 */
}

static void test_instrument(void) {
    const instrument *ins;
    const char *message;
    CHECK_EQ_INT(api_request_admin_instrument(&rd, "uid-0", &ins, &message), 0);
    CHECK(ins == &rd.instruments[0]);
    CHECK_EQ_INT(api_request_admin_instrument(&rd, "", &ins, &message), 30237);
    CHECK(message != NULL);
    CHECK_EQ_INT(api_request_admin_instrument(&rd, NULL, &ins, &message), 30237);
    CHECK_EQ_INT(api_request_admin_instrument(&rd, "FIGI1", &ins, &message), 50002);
}

int main(void) {
    one_share_refdata(&rd, 1000);
    test_faults();
    test_move_price();
    test_instrument();
    return check_finish("api_admin_request");
}
