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
static _Atomic int64_t anchor_sim_ns, anchor_mono_ns, anchor_speed_milli, anchor_floor_ns;
static _Atomic int64_t sim_now;

/* SPEED counts from `sim_ns`, the exact (unrounded) simulated time at `mono_ns`; readers see it
 * in whole quanta from the period's start, never before `floor_ns` (what readers saw when the
 * anchor was set), so a change of speed neither loses the progress toward the next quantum nor
 * takes the time back. */
typedef struct speed_anchor {
    int64_t sim_ns, mono_ns, speed_milli, floor_ns;
} speed_anchor;

/* SPEED's anchor and the monotonic time read with it, consistent. */
static speed_anchor read_anchor(int64_t *mono_now) {
    for (;;) {
        uint32_t seq = atomic_load_explicit(&anchor_seq, memory_order_acquire);
        if (seq & 1u)
            continue;
        speed_anchor a = {atomic_load_explicit(&anchor_sim_ns, memory_order_relaxed),
                          atomic_load_explicit(&anchor_mono_ns, memory_order_relaxed),
                          atomic_load_explicit(&anchor_speed_milli, memory_order_relaxed),
                          atomic_load_explicit(&anchor_floor_ns, memory_order_relaxed)};
        *mono_now = clock_monotonic_ns();
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&anchor_seq, memory_order_relaxed) == seq)
            return a;
    }
}

/* The exact simulated time of anchor `a` at monotonic time `mono` (at most the end). */
static int64_t exact_at(const speed_anchor *a, int64_t mono) {
    __int128 elapsed = (__int128)(mono - a->mono_ns) * a->speed_milli / 1000;
    if (elapsed < 0)
        elapsed = 0;
    __int128 exact = (__int128)a->sim_ns + elapsed;
    return exact < replay.end_ns ? (int64_t)exact : replay.end_ns;
}

/* The simulated time readers see: whole quanta from the period's start, the end exactly once it
 * is reached, and never before the anchor's floor. */
static int64_t speed_at(const speed_anchor *a, int64_t mono) {
    int64_t exact = exact_at(a, mono);
    if (exact >= replay.end_ns)
        return replay.end_ns;
    int64_t grid = exact;
    if (exact > replay.start_ns)
        grid = replay.start_ns + (exact - replay.start_ns) / replay.quantum_ns * replay.quantum_ns;
    return grid > a->floor_ns ? grid : a->floor_ns;
}

static void write_anchor_begin(void) {
    atomic_fetch_add_explicit(&anchor_seq, 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
}

static void write_anchor_end(int64_t sim_ns, int64_t mono_ns, int64_t speed_milli,
                             int64_t floor_ns) {
    atomic_store_explicit(&anchor_sim_ns, sim_ns, memory_order_relaxed);
    atomic_store_explicit(&anchor_mono_ns, mono_ns, memory_order_relaxed);
    atomic_store_explicit(&anchor_speed_milli, speed_milli, memory_order_relaxed);
    atomic_store_explicit(&anchor_floor_ns, floor_ns, memory_order_relaxed);
    atomic_fetch_add_explicit(&anchor_seq, 1, memory_order_release);
}

void clock_replay_start(const clock_replay_config *config) {
    replay = *config;
    if (replay.quantum_ns <= 0)
        replay.quantum_ns = 1;
    if (replay.speed_milli <= 0)
        replay.speed_milli = 1000;
    write_anchor_begin();
    write_anchor_end(config->start_ns, clock_monotonic_ns(), replay.speed_milli, config->start_ns);
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
    if (old == CLOCK_REPLAY_OFF || mode == CLOCK_REPLAY_OFF ||
        (mode == CLOCK_REPLAY_SPEED && speed_milli <= 0))
        return; /* not a replay, or no speed: nothing to change (the callers refuse it first) */
    /* The anchor is taken inside the change: a reader that read the old anchor validly read its
     * monotonic time before this one, so the time it computed is not after `now`. While the
     * change is under way SPEED's readers wait; afterwards SPEED goes on from `now`, and MAX and
     * STEP stand at `now`. */
    write_anchor_begin();
    int64_t mono = clock_monotonic_ns();
    int64_t now, exact;
    if (old == CLOCK_REPLAY_SPEED) {
        speed_anchor a = {atomic_load_explicit(&anchor_sim_ns, memory_order_relaxed),
                          atomic_load_explicit(&anchor_mono_ns, memory_order_relaxed),
                          atomic_load_explicit(&anchor_speed_milli, memory_order_relaxed),
                          atomic_load_explicit(&anchor_floor_ns, memory_order_relaxed)};
        now = speed_at(&a, mono);
        exact = exact_at(&a, mono);
    } else {
        now = exact = atomic_load_explicit(&sim_now, memory_order_relaxed);
    }
    /* SPEED goes on from the exact time (no progress toward the next quantum is lost), never
     * showing less than `now`; outside SPEED the anchor stands still at `now` (a reader of an old
     * mode sees no jump). */
    if (mode == CLOCK_REPLAY_SPEED)
        write_anchor_end(exact, mono, speed_milli, now);
    else
        write_anchor_end(now, mono, 0, now);
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
    /* The grid point that shows it (speed_at), unless it is the end (reached exactly). */
    __int128 target = sim_ns;
    if (sim_ns < replay.end_ns && sim_ns > replay.start_ns &&
        (sim_ns - replay.start_ns) % replay.quantum_ns != 0)
        target += replay.quantum_ns - (sim_ns - replay.start_ns) % replay.quantum_ns;
    if (target > replay.end_ns)
        target = replay.end_ns;
    __int128 span = target - a.sim_ns;
    if (span < 0 || sim_ns <= a.floor_ns)
        span = 0; /* shown already */
    /* Rounded up: at that instant the simulated clock has reached it. All in 128 bits: a slow
     * speed and a far target give a wall time past int64, which is "never" here. */
    __int128 wall = (span * 1000 + a.speed_milli - 1) / a.speed_milli;
    __int128 deadline = (__int128)clock_realtime_ns() + a.mono_ns + wall - clock_monotonic_ns();
    return deadline > INT64_MAX ? INT64_MAX : (int64_t)deadline;
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
