#include "refbook/signals.h"

#include <stddef.h>
#include <strings.h>

const refbook_strategy *refbook_find_strategy(const refbook_signals *s, const char *uid) {
    if (uid == NULL || uid[0] == '\0')
        return NULL;
    for (uint32_t i = 0; i < s->strategy_count; i++)
        if (strcasecmp(s->strategies[i].uid, uid) == 0)
            return &s->strategies[i];
    return NULL;
}

const refbook_signal *refbook_find_signal(const refbook_signals *s, const char *uid) {
    if (uid == NULL || uid[0] == '\0')
        return NULL;
    for (uint32_t i = 0; i < s->signal_count; i++)
        if (strcasecmp(s->signals[i].uid, uid) == 0)
            return &s->signals[i];
    return NULL;
}

static bool state_selected(const refbook_signal *signal, int32_t state) {
    bool active = signal->close_s == 0;
    switch (state) {
    case REFBOOK_SIGNAL_STATE_ALL:
        return true;
    case REFBOOK_SIGNAL_STATE_CLOSED:
        return !active;
    default:
        return active;
    }
}

bool refbook_signal_selected(const refbook_signals *s, const refbook_signal *signal,
                             const refbook_signal_filter *f) {
    const refbook_strategy *strategy = &s->strategies[signal->strategy];
    if (f->signal_id != NULL && strcasecmp(signal->uid, f->signal_id) != 0)
        return false;
    if (f->strategy_id != NULL && strcasecmp(strategy->uid, f->strategy_id) != 0)
        return false;
    if (f->strategy_type != 0 && strategy->type != f->strategy_type)
        return false;
    if (f->by_instrument && signal->instrument != f->instrument)
        return false;
    if (signal->create_s < f->from_s || signal->create_s > f->to_s)
        return false;
    if (f->direction != 0 && signal->direction != f->direction)
        return false;
    return state_selected(signal, f->state);
}

void refbook_signals_count(refbook_signals *s) {
    for (uint32_t i = 0; i < s->strategy_count; i++)
        s->strategies[i].active_signals = s->strategies[i].total_signals = 0;
    for (uint32_t i = 0; i < s->signal_count; i++) {
        refbook_strategy *strategy = &s->strategies[s->signals[i].strategy];
        strategy->total_signals++;
        if (s->signals[i].close_s == 0)
            strategy->active_signals++;
    }
}
