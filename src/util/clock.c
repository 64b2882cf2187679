#include "util/clock.h"

#include <time.h>

static int64_t read_clock_ns(clockid_t id) {
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t clock_realtime_ns(void) {
    return read_clock_ns(CLOCK_REALTIME);
}

int64_t clock_monotonic_ns(void) {
    return read_clock_ns(CLOCK_MONOTONIC);
}
