#include "util/clock.h"

#include <stdatomic.h>
#include <stdio.h>
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

/* Written before the threads start: the period and the quantum. The mode, the speed and where
 * SPEED counts from change at run time (clock_replay_set_speed, one writer): the mode is one
 * atomic; SPEED's anchor (the simulated and the monotonic time it counts from, and the factor) is
 * read as a whole under a sequence count (odd while it changes), so a reader never mixes an old
 * anchor with a new factor. `sim_now` is MAX's and STEP's time. */
static clock_replay_config replay;
static _Atomic int replay_mode;
static _Atomic uint32_t anchor_seq;
static _Atomic int64_t anchor_sim_ns, anchor_mono_ns, anchor_speed_milli;
static _Atomic int64_t sim_now;

typedef struct speed_anchor {
    int64_t sim_ns, mono_ns, speed_milli;
} speed_anchor;

/* SPEED's anchor and the monotonic time read with it, consistent. */
static speed_anchor read_anchor(int64_t *mono_now) {
    for (;;) {
        uint32_t seq = atomic_load_explicit(&anchor_seq, memory_order_acquire);
        if (seq & 1u)
            continue;
        speed_anchor a = {atomic_load_explicit(&anchor_sim_ns, memory_order_relaxed),
                          atomic_load_explicit(&anchor_mono_ns, memory_order_relaxed),
                          atomic_load_explicit(&anchor_speed_milli, memory_order_relaxed)};
        *mono_now = clock_monotonic_ns();
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&anchor_seq, memory_order_relaxed) == seq)
            return a;
    }
}

/* The simulated time of anchor `a` at monotonic time `mono`: whole quanta from the anchor. */
static int64_t speed_at(const speed_anchor *a, int64_t mono) {
    __int128 elapsed = (__int128)(mono - a->mono_ns) * a->speed_milli / 1000;
    __int128 span = (__int128)replay.end_ns - a->sim_ns;
    if (elapsed > span)
        elapsed = span;
    if (elapsed < 0)
        elapsed = 0;
    int64_t quanta = (int64_t)(elapsed / replay.quantum_ns);
    int64_t now = a->sim_ns + quanta * replay.quantum_ns;
    return now < replay.end_ns ? now : replay.end_ns;
}

static void write_anchor_begin(void) {
    atomic_fetch_add_explicit(&anchor_seq, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void write_anchor_end(int64_t sim_ns, int64_t mono_ns, int64_t speed_milli) {
    atomic_store_explicit(&anchor_sim_ns, sim_ns, memory_order_relaxed);
    atomic_store_explicit(&anchor_mono_ns, mono_ns, memory_order_relaxed);
    atomic_store_explicit(&anchor_speed_milli, speed_milli, memory_order_relaxed);
    atomic_fetch_add_explicit(&anchor_seq, 1, memory_order_release);
}

void clock_replay_start(const clock_replay_config *config) {
    replay = *config;
    if (replay.quantum_ns <= 0)
        replay.quantum_ns = 1;
    if (replay.speed_milli <= 0)
        replay.speed_milli = 1000;
    write_anchor_begin();
    write_anchor_end(config->start_ns, clock_monotonic_ns(), replay.speed_milli);
    atomic_store(&sim_now, config->start_ns);
    atomic_store(&replay_mode, (int)config->mode);
}

clock_replay_mode clock_replay_mode_of(void) {
    return (clock_replay_mode)atomic_load_explicit(&replay_mode, memory_order_acquire);
}

int64_t clock_replay_end_ns(void) {
    return replay.end_ns;
}

static int64_t speed_now(void) {
    int64_t mono;
    speed_anchor a = read_anchor(&mono);
    return speed_at(&a, mono);
}

int64_t clock_broker_ns(void) {
    switch (clock_replay_mode_of()) {
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

void clock_replay_set_speed(clock_replay_mode mode, int64_t speed_milli) {
    clock_replay_mode old = clock_replay_mode_of();
    if (old == CLOCK_REPLAY_OFF || mode == CLOCK_REPLAY_OFF)
        return; /* not a replay: nothing to change (the callers refuse it first) */
    /* The anchor is taken inside the change: a reader that read the old anchor validly read its
     * monotonic time before this one, so the time it computed is not after `now`. While the
     * change is under way SPEED's readers wait; afterwards SPEED goes on from `now`, and MAX and
     * STEP stand at `now`. */
    write_anchor_begin();
    int64_t mono = clock_monotonic_ns();
    int64_t now;
    if (old == CLOCK_REPLAY_SPEED) {
        speed_anchor a = {atomic_load_explicit(&anchor_sim_ns, memory_order_relaxed),
                          atomic_load_explicit(&anchor_mono_ns, memory_order_relaxed),
                          atomic_load_explicit(&anchor_speed_milli, memory_order_relaxed)};
        now = speed_at(&a, mono);
    } else {
        now = atomic_load_explicit(&sim_now, memory_order_relaxed);
    }
    /* Outside SPEED the anchor stands still at `now` (a reader of an old mode sees no jump). */
    write_anchor_end(now, mono, mode == CLOCK_REPLAY_SPEED ? speed_milli : 0);
    clock_replay_set(now);
    atomic_store_explicit(&replay_mode, (int)mode, memory_order_release);
}

int64_t clock_replay_wall_deadline_ns(int64_t sim_ns) {
    int64_t mono_unused;
    speed_anchor a = read_anchor(&mono_unused);
    if (a.speed_milli <= 0)
        return INT64_MAX; /* not running: no instant reaches it */
    if (sim_ns > replay.end_ns)
        sim_ns = replay.end_ns;
    if (sim_ns < a.sim_ns)
        sim_ns = a.sim_ns;
    /* The quantum that reaches it, unless it is the end (which the clock reaches exactly). */
    __int128 span = (__int128)sim_ns - a.sim_ns;
    if (sim_ns < replay.end_ns && span % replay.quantum_ns != 0)
        span += replay.quantum_ns - span % replay.quantum_ns;
    /* Rounded up: at that instant the simulated clock has reached it. */
    __int128 wall = (span * 1000 + a.speed_milli - 1) / a.speed_milli;
    int64_t mono_deadline = a.mono_ns + (int64_t)wall;
    return clock_realtime_ns() + (mono_deadline - clock_monotonic_ns());
}

int clock_replay_parse_speed(const char *text, clock_replay_mode *mode, int64_t *speed_milli) {
    if (text == NULL)
        return -1;
    if (text[0] == 'm' && text[1] == 'a' && text[2] == 'x' && text[3] == '\0') {
        *mode = CLOCK_REPLAY_MAX;
        *speed_milli = 0;
        return 0;
    }
    if (text[0] == 's' && text[1] == 't' && text[2] == 'e' && text[3] == 'p' && text[4] == '\0') {
        *mode = CLOCK_REPLAY_STEP;
        *speed_milli = 0;
        return 0;
    }
    int64_t whole = 0, milli = 0;
    int places = -1;
    const char *p = text;
    for (; *p != '\0'; p++) {
        if (*p == '.' && places < 0 && p != text) {
            places = 0;
        } else if (*p >= '0' && *p <= '9' && places < 3) {
            if (places < 0) {
                if (whole > CLOCK_REPLAY_MAX_SPEED_MILLI / 1000)
                    break;
                whole = whole * 10 + (*p - '0');
            } else {
                milli = milli * 10 + (*p - '0');
                places++;
            }
        } else {
            break;
        }
    }
    while (places > 0 && places < 3) {
        milli *= 10;
        places++;
    }
    int64_t total = whole * 1000 + milli;
    if (*p != '\0' || p == text || total <= 0 || total > CLOCK_REPLAY_MAX_SPEED_MILLI)
        return -1;
    *mode = CLOCK_REPLAY_SPEED;
    *speed_milli = total;
    return 0;
}

void clock_replay_speed_text(char *out, int size) {
    clock_replay_mode mode = clock_replay_mode_of();
    if (mode == CLOCK_REPLAY_MAX || mode == CLOCK_REPLAY_STEP || mode == CLOCK_REPLAY_OFF) {
        snprintf(out, (size_t)size, "%s",
                 mode == CLOCK_REPLAY_MAX    ? "max"
                 : mode == CLOCK_REPLAY_STEP ? "step"
                                             : "live");
        return;
    }
    int64_t mono;
    int64_t milli = read_anchor(&mono).speed_milli;
    if (milli % 1000 == 0) {
        snprintf(out, (size_t)size, "%lld", (long long)(milli / 1000));
        return;
    }
    int64_t fraction = milli % 1000;
    int digits = 3;
    while (fraction % 10 == 0) {
        fraction /= 10;
        digits--;
    }
    snprintf(out, (size_t)size, "%lld.%0*lld", (long long)(milli / 1000), digits,
             (long long)fraction);
}
