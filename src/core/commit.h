/* The live path's one way to change state, for the core's command files: records the event
 * (the sink), applies it (core_apply) and announces it to the listener. */
#ifndef TINVESTD_CORE_COMMIT_H
#define TINVESTD_CORE_COMMIT_H

#include "core/core.h"

/* Asserts that the event is applicable; sets its sequence number. */
void core_commit_event(core *c, core_event *event);

#endif
