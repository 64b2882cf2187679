/* Wall and monotonic clocks for the edges of the system. core/ and venue/ never read a clock:
 * the transport stamps each command with clock_realtime_ns() and the core uses that value. */
#ifndef TINVESTD_UTIL_CLOCK_H
#define TINVESTD_UTIL_CLOCK_H

#include <stdint.h>

int64_t clock_realtime_ns(void);
int64_t clock_monotonic_ns(void);

#endif
