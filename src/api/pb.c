#include "api/pb.h"

#include "util/money.h"

void **pb_array(api_call *call, size_t count) {
    return api_call_alloc(call, (count ? count : 1) * sizeof(void *));
}

PB(Quotation) * pb_quotation(api_call *call, int64_t value_nano) {
    PB(Quotation) *q = PB_NEW(call, PB(Quotation), PB_INIT(QUOTATION));
    int64_t units;
    int32_t nano;
    money_to_units_nano(value_nano, &units, &nano);
    q->units = units;
    q->nano = nano;
    return q;
}

PB(MoneyValue) * pb_money(api_call *call, const char *currency, int64_t value_nano) {
    PB(MoneyValue) *m = PB_NEW(call, PB(MoneyValue), PB_INIT(MONEY_VALUE));
    int64_t units;
    int32_t nano;
    money_to_units_nano(value_nano, &units, &nano);
    m->currency = (char *)currency;
    m->units = units;
    m->nano = nano;
    return m;
}

Google__Protobuf__Timestamp *pb_timestamp(api_call *call, int64_t time_ns) {
    Google__Protobuf__Timestamp *t =
        PB_NEW(call, Google__Protobuf__Timestamp, GOOGLE__PROTOBUF__TIMESTAMP__INIT);
    t->seconds = time_ns / 1000000000;
    t->nanos = (int32_t)(time_ns % 1000000000);
    return t;
}

/* Whole seconds go straight into `seconds`: no multiplication, so no time in seconds overflows. */
Google__Protobuf__Timestamp *pb_timestamp_s(api_call *call, int64_t time_s) {
    Google__Protobuf__Timestamp *t =
        PB_NEW(call, Google__Protobuf__Timestamp, GOOGLE__PROTOBUF__TIMESTAMP__INIT);
    t->seconds = time_s;
    return t;
}

const char *api_instrument_type_name(instrument_kind kind) {
    switch (kind) {
    case INSTRUMENT_KIND_SHARE:
        return "share";
    case INSTRUMENT_KIND_BOND:
        return "bond";
    case INSTRUMENT_KIND_ETF:
        return "etf";
    case INSTRUMENT_KIND_FUTURE:
        return "futures";
    case INSTRUMENT_KIND_CURRENCY:
        return "currency";
    case INSTRUMENT_KIND_OPTION:
        return "option";
    }
    return "";
}
