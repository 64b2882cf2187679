#include "util/clock.h"

#include <stdatomic.h>
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

/* Written before the threads start; afterwards only `sim_now` changes (MAX and STEP). */
static clock_replay_config replay;
static int64_t replay_wall_start_ns; /* CLOCK_MONOTONIC at the start (SPEED) */
static _Atomic int64_t sim_now;

void clock_replay_start(const clock_replay_config *config) {
    replay = *config;
    if (replay.quantum_ns <= 0)
        replay.quantum_ns = 1;
    if (replay.speed_milli <= 0)
        replay.speed_milli = 1000;
    replay_wall_start_ns = clock_monotonic_ns();
    atomic_store(&sim_now, config->start_ns);
}

clock_replay_mode clock_replay_mode_of(void) {
    return replay.mode;
}

int64_t clock_replay_end_ns(void) {
    return replay.end_ns;
}

static int64_t speed_now(void) {
    __int128 elapsed =
        (__int128)(clock_monotonic_ns() - replay_wall_start_ns) * replay.speed_milli / 1000;
    __int128 span = (__int128)replay.end_ns - replay.start_ns;
    if (elapsed > span)
        elapsed = span;
    int64_t quanta = (int64_t)(elapsed / replay.quantum_ns);
    int64_t now = replay.start_ns + quanta * replay.quantum_ns;
    return now < replay.end_ns ? now : replay.end_ns;
}

int64_t clock_broker_ns(void) {
    switch (replay.mode) {
    case CLOCK_REPLAY_OFF:
        return clock_realtime_ns();
    case CLOCK_REPLAY_SPEED:
        return speed_now();
    case CLOCK_REPLAY_MAX:
    case CLOCK_REPLAY_STEP:
        break;
    }
    return atomic_load_explicit(&sim_now, memory_order_acquire);
}

void clock_replay_set(int64_t sim_ns) {
    if (sim_ns > replay.end_ns)
        sim_ns = replay.end_ns;
    if (sim_ns > atomic_load_explicit(&sim_now, memory_order_relaxed))
        atomic_store_explicit(&sim_now, sim_ns, memory_order_release);
}

int64_t clock_replay_wall_deadline_ns(int64_t sim_ns) {
    if (sim_ns > replay.end_ns)
        sim_ns = replay.end_ns;
    if (sim_ns < replay.start_ns)
        sim_ns = replay.start_ns;
    /* The quantum that reaches it, unless it is the end (which the clock reaches exactly). */
    __int128 span = (__int128)sim_ns - replay.start_ns;
    if (sim_ns < replay.end_ns && span % replay.quantum_ns != 0)
        span += replay.quantum_ns - span % replay.quantum_ns;
    /* Rounded up: at that instant the simulated clock has reached it. */
    __int128 wall = (span * 1000 + replay.speed_milli - 1) / replay.speed_milli;
    int64_t mono_deadline = replay_wall_start_ns + (int64_t)wall;
    return clock_realtime_ns() + (mono_deadline - clock_monotonic_ns());
}
