/* Wall and monotonic clocks for the edges of the system, and the broker's clock. core/ and venue/
 * never read a clock: the transport stamps each command with clock_broker_ns() and the core uses
 * that value.
 *
 * The broker's clock is every time the server produces (orders, trades, candles, operations,
 * stream messages, pings). It is the wall clock, or in a replay of history (docs/BACKTEST.md) the
 * simulated time:
 * - SPEED: the simulated time runs `speed` times as fast as the wall clock from where the replay
 *   starts, and moves in whole quanta (the replay's step, 15 s by default): a command received
 *   inside a quantum is stamped with its start, so a client that answers a message within the
 *   quantum acts at the same simulated time run after run;
 * - MAX and STEP: the core thread moves it (clock_replay_set): to each next thing due as soon as
 *   it is idle (MAX), or only up to where a control call told it to go (STEP).
 * It never goes backwards and never passes the replay's end.
 *
 * The mode and the speed may change while the replay runs (clock_replay_set_speed, the
 * operator's SetReplaySpeed): the simulated time goes on from where it stands. */
#ifndef TINVESTD_UTIL_CLOCK_H
#define TINVESTD_UTIL_CLOCK_H

#include <stdint.h>

int64_t clock_realtime_ns(void);
int64_t clock_monotonic_ns(void);

typedef enum {
    CLOCK_REPLAY_OFF = 0, /* the wall clock */
    CLOCK_REPLAY_SPEED,
    CLOCK_REPLAY_MAX,
    CLOCK_REPLAY_STEP,
} clock_replay_mode;

typedef struct clock_replay_config {
    clock_replay_mode mode;
    int64_t start_ns, end_ns; /* the simulated time starts at start_ns and stops at end_ns */
    int64_t speed_milli;      /* SPEED: simulated per wall time, in thousandths (60000 = 60x) */
    int64_t quantum_ns;       /* SPEED: the simulated time moves in steps of this */
} clock_replay_config;

/* Before any thread reads the clock (it may be called again, before threads, to start over at
 * another point: a replay resumed after a restart). */
void clock_replay_start(const clock_replay_config *config);
clock_replay_mode clock_replay_mode_of(void);
int64_t clock_replay_end_ns(void);

/* The broker's clock (above). */
int64_t clock_broker_ns(void);

/* MAX and STEP, on the core thread: the simulated time moves to `sim_ns` (not backwards, not past
 * the end). */
void clock_replay_set(int64_t sim_ns);

/* SPEED: the wall-clock instant (CLOCK_REALTIME) at which the simulated clock reaches `sim_ns`. */
int64_t clock_replay_wall_deadline_ns(int64_t sim_ns);

/* The fastest SPEED: 10^6 times real time, in thousandths. */
#define CLOCK_REPLAY_MAX_SPEED_MILLI 1000000000LL

/* "max", "step", or a factor of real time above 0 with at most 3 decimal places, up to 10^6
 * ("60", "0.5"): 0 with the mode and, for SPEED, the factor in thousandths (0 otherwise); -1 for
 * anything else. */
int clock_replay_parse_speed(const char *text, clock_replay_mode *mode, int64_t *speed_milli);

/* A running replay's mode and speed change from now on (a replay's modes only, `speed_milli`
 * 1 .. CLOCK_REPLAY_MAX_SPEED_MILLI for SPEED): the simulated time stays where it is and goes on
 * in the new way. One writer: the core thread (which moves the clock in MAX and STEP too), or
 * the start before the threads. Readers on other threads never see the time go backwards: the
 * time it goes on from is read inside the change, after any reading of the old speed. */
void clock_replay_set_speed(clock_replay_mode mode, int64_t speed_milli);

/* The speed as text: "max", "step", or the factor without trailing zeros ("60", "0.5"). */
void clock_replay_speed_text(char *out, int size);

#endif
