/* Instrument favorites (InstrumentsService GetFavorites, EditFavorites, CreateFavoriteGroup,
 * DeleteFavoriteGroup, GetFavoriteGroups): per user, a default list and the groups the user
 * creates, each a list of instruments.
 *
 * DESIGN: favorites belong to the user, not to the token: every token whose `user_id` is the same
 * shares them. A user is named by the index of the first configured token with that user id (the
 * user's slot), so events and snapshots carry a number that a configuration with the same tokens
 * reads the same way. Every change is one journaled event (CORE_EVENT_FAVORITE_*, numbers 21–24),
 * applied by favorites_apply() from core_apply() live and in replay alike; nothing else changes
 * them, and nothing derived is kept beside them.
 *
 * Memory is fixed at start: two pools, of favorites and of groups, each sized the per-user limit
 * times the number of users, with a free stack each. A removed favorite or a deleted group (with
 * its favorites) gives its records back. The apply takes the top of the free stack, so replay
 * fills the same records; a snapshot writes each user's groups and favorites in their order and
 * loading puts them back through the same inserts (record numbers are never seen outside). Each
 * user's favorites and groups are chained oldest first: a list, a limit or a lookup costs the
 * user's own records, at most the per-user limit. Favorites have no retention: they stay until
 * their user removes them, like the real broker's; the per-user limits bound them. */
#ifndef TINVESTD_CORE_FAVORITES_H
#define TINVESTD_CORE_FAVORITES_H

#include <stdbool.h>
#include <stdint.h>

#include "core/errors.h"
#include "core/events.h"
#include "core/types.h"

struct core;
struct token;

/* Defaults of the two limits (core_config: 0 takes them). */
#define FAVORITES_DEFAULT_PER_USER 1000
#define FAVORITES_DEFAULT_GROUPS_PER_USER 100
/* Instruments one EditFavorites may name (the real API's 30091). */
#define FAVORITES_EDIT_MAX 100
/* A group's name: at most 255 characters, as the contract documents, and (our bound, which keeps
 * a journal record small) at most 255 bytes of UTF-8. */
#define FAVORITE_GROUP_NAME_MAX_CHARS 255
/* The contract's EditFavoritesActionType. */
#define FAVORITES_ACTION_ADD 1
#define FAVORITES_ACTION_DEL 2
/* No group: the user's default list. */
#define FAVORITES_NO_GROUP UINT32_MAX
/* A free record's user. */
#define FAVORITES_FREE UINT32_MAX

typedef struct core_favorite_group {
    uint32_t user;       /* FAVORITES_FREE while the record is free */
    uint32_t prev, next; /* the user's groups, oldest first */
    uint32_t size;       /* favorites in it */
    char id[ORDER_ID_SIZE];
    char color[FAVORITE_COLOR_SIZE];
    char name[FAVORITE_GROUP_NAME_SIZE];
} core_favorite_group;

typedef struct core_favorite {
    uint32_t user;  /* FAVORITES_FREE while the record is free */
    uint32_t group; /* a group record, or FAVORITES_NO_GROUP */
    uint32_t instrument;
    uint32_t prev, next; /* the user's favorites, oldest first */
} core_favorite;

typedef struct core_favorites {
    uint32_t per_user, groups_per_user;
    uint32_t users;      /* token slots (a user's slot is its first token's) */
    uint32_t user_count; /* distinct users */
    uint32_t capacity, group_capacity;
    core_favorite *items;
    core_favorite_group *groups;
    uint32_t *free_items, free_item_count;
    uint32_t *free_groups, free_group_count;
    uint32_t *user_of_token; /* per token: its user's slot */
    /* Per user slot: the chains and their lengths. */
    uint32_t *first, *last, *count;
    uint32_t *group_first, *group_last, *group_count;
} core_favorites;

/* One group as GetFavoriteGroups lists it (a copy). */
typedef struct core_favorite_group_view {
    char id[ORDER_ID_SIZE];
    char color[FAVORITE_COLOR_SIZE];
    char name[FAVORITE_GROUP_NAME_SIZE];
    uint32_t size;
    bool contains; /* holds one of the instruments asked about */
} core_favorite_group_view;

int favorites_init(core_favorites *f, const struct token *tokens, uint32_t token_count,
                   uint32_t per_user, uint32_t groups_per_user);
void favorites_deinit(core_favorites *f);
void favorites_reset(core_favorites *f);

/* A group name and color as CreateFavoriteGroup takes them (any NUL-terminated text). */
bool favorites_group_name_valid(const char *name);
bool favorites_group_color_valid(const char *color);

/* The user slot of a token (the index of the first token with its user id). */
uint32_t favorites_user_of(const struct core *c, const struct token *tok);

/* ---- Commands (core thread) ------------------------------------------------------------------ */

/* CreateFavoriteGroup: 30231 for a name empty, longer than 255 characters or 255 bytes; 30232
 * for a color that is not six hexadecimal digits; the group limit. The new group into `out`. */
core_error core_create_favorite_group(struct core *c, const struct token *tok, const char *name,
                                      const char *color, int64_t now_ns,
                                      core_favorite_group_view *out);
/* DeleteFavoriteGroup: the group and its favorites leave. 30230 for an empty id, 50013 for one
 * the user has no group with. */
core_error core_delete_favorite_group(struct core *c, const struct token *tok, const char *group_id,
                                      int64_t now_ns);
/* EditFavorites: adds (FAVORITES_ACTION_ADD) or removes the `n` instruments in the default list
 * (`group_id` NULL) or in the user's group. All or nothing: every instrument is resolved and the
 * limit checked before the first change. Adding one already there, or removing one that is not,
 * changes nothing. */
core_error core_edit_favorites(struct core *c, const struct token *tok,
                               const char *const *instrument_ids, uint32_t n, int32_t action,
                               const char *group_id, int64_t now_ns);

/* ---- Reads (core thread; copies) ------------------------------------------------------------- */

/* The instruments of the default list (`group_id` NULL) or of a group, oldest first, into `out`
 * (at most `max`); *error is 50013 for an unknown group. Returns the count. */
uint32_t core_list_favorites(const struct core *c, const struct token *tok, const char *group_id,
                             uint32_t *out, uint32_t max, core_error *error);
/* The user's groups, oldest first, into `out` (at most `max`), those named in `excluded` left
 * out; a group's `contains` is set when it holds an instrument whose `wanted` entry is true
 * (`wanted`: per instrument, or NULL). Returns the count. */
uint32_t core_list_favorite_groups(const struct core *c, const struct token *tok,
                                   const bool *wanted, const char *const *excluded,
                                   uint32_t excluded_count, core_favorite_group_view *out,
                                   uint32_t max);

/* ---- Apply side (core_apply) ----------------------------------------------------------------- */

void favorites_apply(struct core *c, const core_event *ev);
bool favorites_event_well_formed(const core_event *ev);
bool favorites_event_fits(const struct core *c, const core_event *ev);
uint64_t favorites_hash(const struct core *c, uint64_t h);
void favorites_check_invariants(const struct core *c);

/* ---- Snapshots --------------------------------------------------------------------------------
 */

/* A group or a favorite as a snapshot holds it: users in slot order, each user's records oldest
 * first; a favorite names its group by the group's place among all groups written (or
 * FAVORITES_NO_GROUP). */
typedef struct favorites_saved_group {
    uint32_t user;
    char id[ORDER_ID_SIZE];
    char color[FAVORITE_COLOR_SIZE];
    char name[FAVORITE_GROUP_NAME_SIZE];
} favorites_saved_group;

typedef struct favorites_saved_item {
    uint32_t user, group, instrument;
} favorites_saved_item;

/* Counts of what favorites_save_* give. */
uint32_t favorites_group_total(const struct core *c);
uint32_t favorites_item_total(const struct core *c);
/* Walks the groups, then the favorites, in saving order: `emit` gets each (allocates nothing). */
int favorites_save_groups(const struct core *c,
                          int (*emit)(void *ctx, const favorites_saved_group *g), void *ctx);
int favorites_save_items(const struct core *c,
                         int (*emit)(void *ctx, const favorites_saved_item *it), void *ctx);
/* Loading (the favorites empty first): puts one back; false when it does not fit (a user or
 * instrument not configured, a limit passed, a text out of form, a group id held twice, a
 * favorite held twice or naming a group not loaded). */
bool favorites_load_group(struct core *c, const favorites_saved_group *g);
bool favorites_load_item(struct core *c, const favorites_saved_item *it);

#endif
