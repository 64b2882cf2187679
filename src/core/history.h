/* The lifecycle of the core's records (history.c): slots, account lists, retirement and the
 * request queue. Internal to the core; core thread only. */
#ifndef TINVESTD_CORE_HISTORY_H
#define TINVESTD_CORE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* Every slot free (core_init, core_reset). */
void history_init_free(core *c);
/* The slot the next accepted order takes, or CORE_NO_ORDER when none is free. */
uint32_t history_peek_free_order(const core *c);
bool history_order_slot_free(const core *c, uint32_t slot);
/* Takes a named free slot (the one an ACCEPTED event records). */
void history_take_order_slot(core *c, uint32_t slot);
/* A free trade record for a fill (acceptance reserved it). */
uint32_t history_take_trade(core *c);
/* Whether a trade record holds a fill (a free one is all zero). */
bool history_trade_in_use(const core_trade *t);

/* Appends the order to its account's list. */
void history_link_account(core *c, core_order *o);
/* The order ended: it joins the FIFO of finished orders and returns its unused trade reservation.
 */
void history_order_finished(core *c, core_order *o);
/* How many finished orders at the FIFO's head have passed the retention by `now_ns` (at most
 * CORE_RETIRE_BATCH_MAX). */
uint32_t history_expired_count(const core *c, int64_t now_ns);
/* Frees the `count` oldest finished orders: trades, index entries, account list, slot. */
void history_retire(core *c, uint32_t count, int64_t now_ns);

/* The by_key index key: account index + client key, a UUID-shaped key lower-cased (UUIDs name the
 * same value in either letter case; other keys stay exact). */
size_t history_key_bytes(uint32_t account_index, const char *key,
                         char out[sizeof(uint32_t) + ORDER_KEY_MAX_LEN]);

/* Records, applies and announces one event (the live path's only way to change state). */
void core_commit_event(core *c, core_event *event);

void history_queue_request(core *c, core_request_kind kind, uint32_t order, int64_t now_ns);

#endif
