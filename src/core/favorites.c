/* Instrument favorites: per-user groups and lists, their events and their checks. */
#include "core/favorites.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/history.h"
#include "util/prng.h"
#include "util/text.h"
#include "util/uuid.h"

#define GROUP_ID_SALT 0xfa70000000000000ULL

/* ---- Pools ----------------------------------------------------------------------------------- */

static void clear_all(core_favorites *f) {
    for (uint32_t i = 0; i < f->capacity; i++) {
        f->items[i] = (core_favorite){.user = FAVORITES_FREE};
        f->free_items[i] = f->capacity - 1 - i; /* record 0 on top */
    }
    f->free_item_count = f->capacity;
    for (uint32_t i = 0; i < f->group_capacity; i++) {
        memset(&f->groups[i], 0, sizeof f->groups[i]);
        f->groups[i].user = FAVORITES_FREE;
        f->free_groups[i] = f->group_capacity - 1 - i;
    }
    f->free_group_count = f->group_capacity;
    for (uint32_t u = 0; u < f->users; u++) {
        f->first[u] = f->last[u] = f->group_first[u] = f->group_last[u] = FAVORITES_NO_GROUP;
        f->count[u] = f->group_count[u] = 0;
    }
}

static bool same_user_id(const token *a, const token *b) {
    const char *x = a->user_id != NULL ? a->user_id : "";
    const char *y = b->user_id != NULL ? b->user_id : "";
    /* A token without a user id is a user of its own. */
    return x[0] != '\0' && strcmp(x, y) == 0;
}

int favorites_init(core_favorites *f, const token *tokens, uint32_t token_count, uint32_t per_user,
                   uint32_t groups_per_user) {
    memset(f, 0, sizeof *f);
    f->per_user = per_user ? per_user : FAVORITES_DEFAULT_PER_USER;
    f->groups_per_user = groups_per_user ? groups_per_user : FAVORITES_DEFAULT_GROUPS_PER_USER;
    f->users = token_count;
    size_t slots = token_count ? token_count : 1;
    f->user_of_token = calloc(slots, sizeof *f->user_of_token);
    if (f->user_of_token == NULL)
        return -ENOMEM;
    for (uint32_t t = 0; t < token_count; t++) {
        f->user_of_token[t] = t;
        for (uint32_t s = 0; s < t; s++)
            if (same_user_id(&tokens[s], &tokens[t])) {
                f->user_of_token[t] = f->user_of_token[s];
                break;
            }
        f->user_count += f->user_of_token[t] == t;
    }
    f->capacity = f->per_user * (f->user_count ? f->user_count : 1);
    f->group_capacity = f->groups_per_user * (f->user_count ? f->user_count : 1);
    f->items = calloc(f->capacity, sizeof *f->items);
    f->groups = calloc(f->group_capacity, sizeof *f->groups);
    f->free_items = calloc(f->capacity, sizeof *f->free_items);
    f->free_groups = calloc(f->group_capacity, sizeof *f->free_groups);
    f->first = calloc(slots, sizeof *f->first);
    f->last = calloc(slots, sizeof *f->last);
    f->count = calloc(slots, sizeof *f->count);
    f->group_first = calloc(slots, sizeof *f->group_first);
    f->group_last = calloc(slots, sizeof *f->group_last);
    f->group_count = calloc(slots, sizeof *f->group_count);
    if (f->items == NULL || f->groups == NULL || f->free_items == NULL || f->free_groups == NULL ||
        f->first == NULL || f->last == NULL || f->count == NULL || f->group_first == NULL ||
        f->group_last == NULL || f->group_count == NULL) {
        favorites_deinit(f);
        return -ENOMEM;
    }
    clear_all(f);
    return 0;
}

void favorites_deinit(core_favorites *f) {
    free(f->items);
    free(f->groups);
    free(f->free_items);
    free(f->free_groups);
    free(f->user_of_token);
    free(f->first);
    free(f->last);
    free(f->count);
    free(f->group_first);
    free(f->group_last);
    free(f->group_count);
    memset(f, 0, sizeof *f);
}

void favorites_reset(core_favorites *f) {
    clear_all(f);
}

uint32_t favorites_user_of(const core *c, const token *tok) {
    /* `tok` may be an endpoint's view of a configured token: the user is the configured one's. */
    uint32_t index = refdata_token_index(c->refdata, tok);
    assert(index < c->refdata->token_count);
    return c->favorites.user_of_token[index];
}

static bool user_valid(const core *c, uint32_t user) {
    const core_favorites *f = &c->favorites;
    return user < f->users && f->user_of_token[user] == user;
}

/* ---- Texts ----------------------------------------------------------------------------------- */

static uint32_t utf8_chars(const char *s, size_t len) {
    uint32_t n = 0;
    for (size_t i = 0; i < len; i++)
        n += ((unsigned char)s[i] & 0xC0) != 0x80;
    return n;
}

/* A name as `len` bytes (an event's borrowed name has no terminator): not empty, no NUL, UTF-8,
 * within both limits. */
static bool name_bytes_valid(const char *name, size_t len) {
    return len > 0 && len < FAVORITE_GROUP_NAME_SIZE && memchr(name, '\0', len) == NULL &&
           text_utf8_valid(name, len) && utf8_chars(name, len) <= FAVORITE_GROUP_NAME_MAX_CHARS;
}

static bool name_valid(const char *name) {
    return name_bytes_valid(name, strnlen(name, FAVORITE_GROUP_NAME_SIZE));
}

static bool color_valid(const char *color) {
    size_t len = strnlen(color, FAVORITE_COLOR_SIZE);
    if (len != FAVORITE_COLOR_SIZE - 1)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = color[i];
        if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f') || (ch >= 'A' && ch <= 'F')))
            return false;
    }
    return true;
}

bool favorites_group_name_valid(const char *name) {
    return strlen(name) < FAVORITE_GROUP_NAME_SIZE && name_valid(name);
}

bool favorites_group_color_valid(const char *color) {
    return strlen(color) < FAVORITE_COLOR_SIZE && color_valid(color);
}

/* A group id as the core keeps it: a UUID in lower case. */
static bool is_group_id(const char *id) {
    size_t len = strnlen(id, ORDER_ID_SIZE);
    if (len != ORDER_ID_SIZE - 1 || !uuid_is_valid(id, len))
        return false;
    for (size_t i = 0; i < len; i++)
        if (id[i] >= 'A' && id[i] <= 'F')
            return false;
    return true;
}

/* A client's group id in the form ids are kept in (lower case); false when it cannot be one. */
static bool canonical_group_id(const char *in, char out[ORDER_ID_SIZE]) {
    size_t len = strlen(in);
    if (len != ORDER_ID_SIZE - 1 || !uuid_is_valid(in, len))
        return false;
    for (size_t i = 0; i <= len; i++)
        out[i] = (char)(in[i] >= 'A' && in[i] <= 'F' ? in[i] - 'A' + 'a' : in[i]);
    return true;
}

/* ---- Lookups --------------------------------------------------------------------------------- */

static uint32_t find_group(const core_favorites *f, uint32_t user, const char *id) {
    for (uint32_t g = f->group_first[user]; g != FAVORITES_NO_GROUP; g = f->groups[g].next)
        if (strcmp(f->groups[g].id, id) == 0)
            return g;
    return FAVORITES_NO_GROUP;
}

static uint32_t find_item(const core_favorites *f, uint32_t user, uint32_t group,
                          uint32_t instrument_index) {
    for (uint32_t s = f->first[user]; s != FAVORITES_NO_GROUP; s = f->items[s].next)
        if (f->items[s].group == group && f->items[s].instrument == instrument_index)
            return s;
    return FAVORITES_NO_GROUP;
}

/* The group an event names: FAVORITES_NO_GROUP for the default list (an empty id), or the
 * record; `*found` false when a non-empty id names no group of the user. */
static uint32_t event_group(const core_favorites *f, const core_event_favorite *e, bool *found) {
    *found = true;
    if (e->group_id[0] == '\0')
        return FAVORITES_NO_GROUP;
    uint32_t g = find_group(f, e->user, e->group_id);
    *found = g != FAVORITES_NO_GROUP;
    return g;
}

/* ---- Inserts and removals (the apply and the snapshot load) ---------------------------------- */

/* `name`: `name_len` bytes, not terminated (the group's record holds the copy). */
static uint32_t insert_group(core_favorites *f, uint32_t user, const char *id, const char *color,
                             const char *name, size_t name_len) {
    assert(name_len < FAVORITE_GROUP_NAME_SIZE);
    assert(f->free_group_count > 0);
    uint32_t g = f->free_groups[--f->free_group_count];
    core_favorite_group *r = &f->groups[g];
    assert(r->user == FAVORITES_FREE);
    memset(r, 0, sizeof *r);
    r->user = user;
    r->next = FAVORITES_NO_GROUP;
    r->prev = f->group_last[user];
    snprintf(r->id, sizeof r->id, "%s", id);
    snprintf(r->color, sizeof r->color, "%s", color);
    memcpy(r->name, name, name_len);
    if (r->prev != FAVORITES_NO_GROUP)
        f->groups[r->prev].next = g;
    else
        f->group_first[user] = g;
    f->group_last[user] = g;
    f->group_count[user]++;
    return g;
}

static void insert_item(core_favorites *f, uint32_t user, uint32_t group,
                        uint32_t instrument_index) {
    assert(f->free_item_count > 0);
    uint32_t s = f->free_items[--f->free_item_count];
    core_favorite *r = &f->items[s];
    assert(r->user == FAVORITES_FREE);
    *r = (core_favorite){.user = user,
                         .group = group,
                         .instrument = instrument_index,
                         .prev = f->last[user],
                         .next = FAVORITES_NO_GROUP};
    if (r->prev != FAVORITES_NO_GROUP)
        f->items[r->prev].next = s;
    else
        f->first[user] = s;
    f->last[user] = s;
    f->count[user]++;
    if (group != FAVORITES_NO_GROUP)
        f->groups[group].size++;
}

static void remove_item(core_favorites *f, uint32_t s) {
    core_favorite *r = &f->items[s];
    uint32_t user = r->user;
    assert(user != FAVORITES_FREE);
    if (r->prev != FAVORITES_NO_GROUP)
        f->items[r->prev].next = r->next;
    else
        f->first[user] = r->next;
    if (r->next != FAVORITES_NO_GROUP)
        f->items[r->next].prev = r->prev;
    else
        f->last[user] = r->prev;
    assert(f->count[user] > 0);
    f->count[user]--;
    if (r->group != FAVORITES_NO_GROUP) {
        assert(f->groups[r->group].size > 0);
        f->groups[r->group].size--;
    }
    *r = (core_favorite){.user = FAVORITES_FREE};
    f->free_items[f->free_item_count++] = s;
}

static void remove_group(core_favorites *f, uint32_t g) {
    core_favorite_group *r = &f->groups[g];
    uint32_t user = r->user;
    assert(user != FAVORITES_FREE);
    for (uint32_t s = f->first[user]; s != FAVORITES_NO_GROUP;) {
        uint32_t next = f->items[s].next;
        if (f->items[s].group == g)
            remove_item(f, s);
        s = next;
    }
    assert(r->size == 0);
    if (r->prev != FAVORITES_NO_GROUP)
        f->groups[r->prev].next = r->next;
    else
        f->group_first[user] = r->next;
    if (r->next != FAVORITES_NO_GROUP)
        f->groups[r->next].prev = r->prev;
    else
        f->group_last[user] = r->prev;
    assert(f->group_count[user] > 0);
    f->group_count[user]--;
    memset(r, 0, sizeof *r);
    r->user = FAVORITES_FREE;
    f->free_groups[f->free_group_count++] = g;
}

/* ---- Apply ----------------------------------------------------------------------------------- */

bool favorites_event_well_formed(const core_event *ev) {
    const core_event_favorite *e = &ev->u.favorite;
    if (ev->order != CORE_NO_ORDER || strnlen(e->group_id, ORDER_ID_SIZE) == ORDER_ID_SIZE)
        return false;
    /* The fields a type does not use are empty, so that an event reads one way only. */
    bool no_terms = e->color[0] == '\0' && e->name_len == 0 && e->name == NULL;
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_FAVORITE_GROUP_CREATED:
        return is_group_id(e->group_id) && color_valid(e->color) && e->name != NULL &&
               name_bytes_valid(e->name, e->name_len) && e->instrument == 0;
    case CORE_EVENT_FAVORITE_GROUP_DELETED:
        return is_group_id(e->group_id) && no_terms && e->instrument == 0;
    case CORE_EVENT_FAVORITE_ADDED:
    case CORE_EVENT_FAVORITE_REMOVED:
        return (e->group_id[0] == '\0' || is_group_id(e->group_id)) && no_terms;
    default:
        return false;
    }
}

bool favorites_event_fits(const core *c, const core_event *ev) {
    const core_favorites *f = &c->favorites;
    const core_event_favorite *e = &ev->u.favorite;
    if (!user_valid(c, e->user))
        return false;
    bool found;
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_FAVORITE_GROUP_CREATED:
        return f->group_count[e->user] < f->groups_per_user && f->free_group_count > 0 &&
               find_group(f, e->user, e->group_id) == FAVORITES_NO_GROUP;
    case CORE_EVENT_FAVORITE_GROUP_DELETED:
        return find_group(f, e->user, e->group_id) != FAVORITES_NO_GROUP;
    case CORE_EVENT_FAVORITE_ADDED: {
        uint32_t g = event_group(f, e, &found);
        return found && e->instrument < c->refdata->instrument_count &&
               f->count[e->user] < f->per_user && f->free_item_count > 0 &&
               find_item(f, e->user, g, e->instrument) == FAVORITES_NO_GROUP;
    }
    case CORE_EVENT_FAVORITE_REMOVED: {
        uint32_t g = event_group(f, e, &found);
        return found && e->instrument < c->refdata->instrument_count &&
               find_item(f, e->user, g, e->instrument) != FAVORITES_NO_GROUP;
    }
    default:
        return false;
    }
}

void favorites_apply(core *c, const core_event *ev) {
    core_favorites *f = &c->favorites;
    const core_event_favorite *e = &ev->u.favorite;
    bool found;
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_FAVORITE_GROUP_CREATED:
        insert_group(f, e->user, e->group_id, e->color, e->name, e->name_len);
        return;
    case CORE_EVENT_FAVORITE_GROUP_DELETED: {
        uint32_t g = find_group(f, e->user, e->group_id);
        assert(g != FAVORITES_NO_GROUP);
        remove_group(f, g);
        return;
    }
    case CORE_EVENT_FAVORITE_ADDED: {
        uint32_t g = event_group(f, e, &found);
        assert(found);
        insert_item(f, e->user, g, e->instrument);
        return;
    }
    case CORE_EVENT_FAVORITE_REMOVED: {
        uint32_t g = event_group(f, e, &found);
        assert(found);
        uint32_t s = find_item(f, e->user, g, e->instrument);
        assert(s != FAVORITES_NO_GROUP);
        remove_item(f, s);
        return;
    }
    default:
        assert(!"not a favorites event");
    }
}

/* ---- Commands -------------------------------------------------------------------------------- */

/* Zero-filled as a whole (an initializer zeroes only the union's first member), so that an
 * event's unused bytes are the same live and after decoding. */
static void favorite_event(core_event *ev, core_event_type type, uint32_t user, int64_t now_ns) {
    memset(ev, 0, sizeof *ev);
    ev->type = type;
    ev->order = CORE_NO_ORDER;
    ev->time_ns = now_ns;
    ev->u.favorite.user = user;
}

static void group_view(const core_favorite_group *g, core_favorite_group_view *out) {
    memset(out, 0, sizeof *out);
    memcpy(out->id, g->id, sizeof out->id);
    memcpy(out->color, g->color, sizeof out->color);
    memcpy(out->name, g->name, sizeof out->name);
    out->size = g->size;
}

core_error core_create_favorite_group(core *c, const token *tok, const char *name,
                                      const char *color, int64_t now_ns,
                                      core_favorite_group_view *out) {
    core_favorites *f = &c->favorites;
    if (name == NULL || !favorites_group_name_valid(name))
        return CORE_ERR_FAVORITE_GROUP_NAME_INVALID;
    if (color == NULL || !favorites_group_color_valid(color))
        return CORE_ERR_FAVORITE_GROUP_COLOR_INVALID;
    uint32_t user = favorites_user_of(c, tok);
    if (f->group_count[user] >= f->groups_per_user || f->free_group_count == 0)
        return CORE_ERR_FAVORITE_GROUPS_LIMIT;
    core_event ev;
    favorite_event(&ev, CORE_EVENT_FAVORITE_GROUP_CREATED, user, now_ns);
    core_event_favorite *e = &ev.u.favorite;
    /* The id comes from the event's number, which never repeats. */
    uint64_t state = c->config.id_seed ^ GROUP_ID_SALT ^ c->next_seq;
    uint64_t hi = prng_splitmix64(&state);
    uuid_format_from_bits(hi, prng_splitmix64(&state), e->group_id);
    snprintf(e->color, sizeof e->color, "%s", color);
    /* Borrowed from the command's caller for as long as the commit encodes and applies it. */
    e->name = name;
    e->name_len = (uint16_t)strlen(name);
    core_commit_event(c, &ev);
    uint32_t g = find_group(f, user, e->group_id);
    assert(g != FAVORITES_NO_GROUP);
    group_view(&f->groups[g], out);
    return CORE_OK;
}

core_error core_delete_favorite_group(core *c, const token *tok, const char *group_id,
                                      int64_t now_ns) {
    if (group_id == NULL || group_id[0] == '\0')
        return CORE_ERR_FAVORITE_GROUP_ID_MISSING;
    uint32_t user = favorites_user_of(c, tok);
    char id[ORDER_ID_SIZE];
    if (!canonical_group_id(group_id, id) ||
        find_group(&c->favorites, user, id) == FAVORITES_NO_GROUP)
        return CORE_ERR_FAVORITE_GROUP_NOT_FOUND;
    core_event ev;
    favorite_event(&ev, CORE_EVENT_FAVORITE_GROUP_DELETED, user, now_ns);
    memcpy(ev.u.favorite.group_id, id, sizeof id);
    core_commit_event(c, &ev);
    return CORE_OK;
}

/* The group a request names: the default list for NULL, else the user's group. */
static core_error resolve_group(const core *c, uint32_t user, const char *group_id,
                                char id[ORDER_ID_SIZE], uint32_t *group) {
    memset(id, 0, ORDER_ID_SIZE);
    *group = FAVORITES_NO_GROUP;
    if (group_id == NULL)
        return CORE_OK;
    if (!canonical_group_id(group_id, id))
        return CORE_ERR_FAVORITE_GROUP_NOT_FOUND;
    *group = find_group(&c->favorites, user, id);
    return *group == FAVORITES_NO_GROUP ? CORE_ERR_FAVORITE_GROUP_NOT_FOUND : CORE_OK;
}

core_error core_edit_favorites(core *c, const token *tok, const char *const *instrument_ids,
                               uint32_t n, int32_t action, const char *group_id, int64_t now_ns) {
    core_favorites *f = &c->favorites;
    if (action != FAVORITES_ACTION_ADD && action != FAVORITES_ACTION_DEL)
        return CORE_ERR_FAVORITES_ACTION_INVALID;
    if (n == 0)
        return CORE_ERR_FAVORITE_INSTRUMENT_MISSING;
    uint32_t user = favorites_user_of(c, tok);
    char id[ORDER_ID_SIZE];
    uint32_t group;
    core_error err = resolve_group(c, user, group_id, id, &group);
    if (err != CORE_OK)
        return err;
    /* Every instrument first: a bad one changes nothing. An instrument named twice counts
     * once. */
    bool seen[REFDATA_MAX_INSTRUMENTS] = {false};
    uint32_t added = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (instrument_ids[i] == NULL || instrument_ids[i][0] == '\0')
            return CORE_ERR_FAVORITE_INSTRUMENT_MISSING;
        const instrument *ins = refdata_find_instrument_id(c->refdata, instrument_ids[i]);
        if (ins == NULL)
            return CORE_ERR_INSTRUMENT_NOT_FOUND;
        assert(ins->index < REFDATA_MAX_INSTRUMENTS);
        if (action == FAVORITES_ACTION_ADD && !seen[ins->index] &&
            find_item(f, user, group, ins->index) == FAVORITES_NO_GROUP)
            added++;
        seen[ins->index] = true;
    }
    if (added > f->per_user - f->count[user] || added > f->free_item_count)
        return CORE_ERR_FAVORITES_LIMIT;
    for (uint32_t i = 0; i < n; i++) {
        const instrument *ins = refdata_find_instrument_id(c->refdata, instrument_ids[i]);
        bool held = find_item(f, user, group, ins->index) != FAVORITES_NO_GROUP;
        if (held == (action == FAVORITES_ACTION_ADD))
            continue; /* already as asked: nothing to record */
        core_event ev;
        favorite_event(&ev,
                       action == FAVORITES_ACTION_ADD ? CORE_EVENT_FAVORITE_ADDED
                                                      : CORE_EVENT_FAVORITE_REMOVED,
                       user, now_ns);
        ev.u.favorite.instrument = ins->index;
        memcpy(ev.u.favorite.group_id, id, sizeof id);
        core_commit_event(c, &ev);
    }
    return CORE_OK;
}

/* ---- Reads ----------------------------------------------------------------------------------- */

uint32_t core_list_favorites(const core *c, const token *tok, const char *group_id, uint32_t *out,
                             uint32_t max, core_error *error) {
    const core_favorites *f = &c->favorites;
    uint32_t user = favorites_user_of(c, tok);
    char id[ORDER_ID_SIZE];
    uint32_t group;
    *error = resolve_group(c, user, group_id, id, &group);
    if (*error != CORE_OK)
        return 0;
    uint32_t n = 0;
    for (uint32_t s = f->first[user]; s != FAVORITES_NO_GROUP && n < max; s = f->items[s].next)
        if (f->items[s].group == group)
            out[n++] = f->items[s].instrument;
    return n;
}

static bool excluded_id(const char *id, const char *const *excluded, uint32_t count) {
    for (uint32_t i = 0; i < count; i++) {
        char canonical[ORDER_ID_SIZE];
        if (excluded[i] != NULL && canonical_group_id(excluded[i], canonical) &&
            strcmp(canonical, id) == 0)
            return true;
    }
    return false;
}

uint32_t core_list_favorite_groups(const core *c, const token *tok, const bool *wanted,
                                   const char *const *excluded, uint32_t excluded_count,
                                   core_favorite_group_view *out, uint32_t max) {
    const core_favorites *f = &c->favorites;
    uint32_t user = favorites_user_of(c, tok);
    uint32_t n = 0;
    for (uint32_t g = f->group_first[user]; g != FAVORITES_NO_GROUP && n < max;
         g = f->groups[g].next) {
        if (excluded_id(f->groups[g].id, excluded, excluded_count))
            continue;
        group_view(&f->groups[g], &out[n]);
        if (wanted != NULL)
            for (uint32_t s = f->first[user]; s != FAVORITES_NO_GROUP && !out[n].contains;
                 s = f->items[s].next)
                out[n].contains = f->items[s].group == g && wanted[f->items[s].instrument];
        n++;
    }
    return n;
}

/* ---- Hash and invariants --------------------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

static uint64_t mix_text(uint64_t h, const char *s) {
    for (; *s != '\0'; s++)
        h = mix(h, (unsigned char)*s);
    return mix(h, 0);
}

/* Over the content in each user's order (never record numbers, which a snapshot load may
 * assign differently). Nothing held: `h` unchanged, so the hash stays comparable with data
 * directories written before favorites. */
uint64_t favorites_hash(const core *c, uint64_t h) {
    const core_favorites *f = &c->favorites;
    for (uint32_t u = 0; u < f->users; u++) {
        if (f->count[u] == 0 && f->group_count[u] == 0)
            continue;
        h = mix(h, 0xfa7ULL << 32 | u);
        for (uint32_t g = f->group_first[u]; g != FAVORITES_NO_GROUP; g = f->groups[g].next)
            h = mix_text(mix_text(mix_text(h, f->groups[g].id), f->groups[g].color),
                         f->groups[g].name);
        for (uint32_t s = f->first[u]; s != FAVORITES_NO_GROUP; s = f->items[s].next) {
            uint32_t g = f->items[s].group;
            h = mix_text(h, g == FAVORITES_NO_GROUP ? "" : f->groups[g].id);
            h = mix(h, f->items[s].instrument);
        }
    }
    return h;
}

void favorites_check_invariants(const core *c) {
    const core_favorites *f = &c->favorites;
    uint32_t items = 0, groups = 0;
    for (uint32_t u = 0; u < f->users; u++) {
        uint32_t n = 0;
        for (uint32_t g = f->group_first[u]; g != FAVORITES_NO_GROUP; g = f->groups[g].next) {
            const core_favorite_group *r = &f->groups[g];
            assert(r->user == u);
            assert(user_valid(c, u));
            assert(is_group_id(r->id) && color_valid(r->color) && name_valid(r->name));
            assert(find_group(f, u, r->id) == g);
            uint32_t size = 0;
            for (uint32_t s = f->first[u]; s != FAVORITES_NO_GROUP; s = f->items[s].next)
                size += f->items[s].group == g;
            assert(size == r->size);
            n++;
        }
        assert(n == f->group_count[u] && n <= f->groups_per_user);
        groups += n;
        n = 0;
        for (uint32_t s = f->first[u]; s != FAVORITES_NO_GROUP; s = f->items[s].next) {
            const core_favorite *r = &f->items[s];
            assert(r->user == u);
            assert(r->instrument < c->refdata->instrument_count);
            assert(r->group == FAVORITES_NO_GROUP || f->groups[r->group].user == u);
            assert(find_item(f, u, r->group, r->instrument) == s);
            n++;
        }
        assert(n == f->count[u] && n <= f->per_user);
        items += n;
    }
    assert(items + f->free_item_count == f->capacity);
    assert(groups + f->free_group_count == f->group_capacity);
}

/* ---- Snapshots ------------------------------------------------------------------------------- */

uint32_t favorites_group_total(const core *c) {
    return c->favorites.group_capacity - c->favorites.free_group_count;
}

uint32_t favorites_item_total(const core *c) {
    return c->favorites.capacity - c->favorites.free_item_count;
}

int favorites_save_groups(const core *c, int (*emit)(void *ctx, const favorites_saved_group *g),
                          void *ctx) {
    const core_favorites *f = &c->favorites;
    for (uint32_t u = 0; u < f->users; u++)
        for (uint32_t g = f->group_first[u]; g != FAVORITES_NO_GROUP; g = f->groups[g].next) {
            favorites_saved_group out;
            memset(&out, 0, sizeof out);
            out.user = u;
            memcpy(out.id, f->groups[g].id, sizeof out.id);
            memcpy(out.color, f->groups[g].color, sizeof out.color);
            memcpy(out.name, f->groups[g].name, sizeof out.name);
            int rc = emit(ctx, &out);
            if (rc != 0)
                return rc;
        }
    return 0;
}

/* The place of group record `g` in saving order. */
static uint32_t saved_place(const core_favorites *f, uint32_t g) {
    uint32_t place = 0;
    for (uint32_t u = 0; u < f->groups[g].user; u++)
        place += f->group_count[u];
    for (uint32_t k = f->group_first[f->groups[g].user]; k != g; k = f->groups[k].next)
        place++;
    return place;
}

int favorites_save_items(const core *c, int (*emit)(void *ctx, const favorites_saved_item *it),
                         void *ctx) {
    const core_favorites *f = &c->favorites;
    for (uint32_t u = 0; u < f->users; u++) {
        /* The first group's place, so that each favorite's costs its own user's groups only. */
        uint32_t base = 0;
        for (uint32_t k = 0; k < u; k++)
            base += f->group_count[k];
        for (uint32_t s = f->first[u]; s != FAVORITES_NO_GROUP; s = f->items[s].next) {
            const core_favorite *r = &f->items[s];
            favorites_saved_item out = {
                .user = u, .group = FAVORITES_NO_GROUP, .instrument = r->instrument};
            if (r->group != FAVORITES_NO_GROUP) {
                out.group = base;
                for (uint32_t k = f->group_first[u]; k != r->group; k = f->groups[k].next)
                    out.group++;
                assert(out.group == saved_place(f, r->group));
            }
            int rc = emit(ctx, &out);
            if (rc != 0)
                return rc;
        }
    }
    return 0;
}

bool favorites_load_group(core *c, const favorites_saved_group *g) {
    core_favorites *f = &c->favorites;
    if (!user_valid(c, g->user) || strnlen(g->id, ORDER_ID_SIZE) == ORDER_ID_SIZE ||
        !is_group_id(g->id) || strnlen(g->color, FAVORITE_COLOR_SIZE) == FAVORITE_COLOR_SIZE ||
        !color_valid(g->color) ||
        strnlen(g->name, FAVORITE_GROUP_NAME_SIZE) == FAVORITE_GROUP_NAME_SIZE ||
        !name_valid(g->name))
        return false;
    /* Users in slot order: a group of an earlier user than the last one loaded is out of order. */
    for (uint32_t u = g->user + 1; u < f->users; u++)
        if (f->group_count[u] != 0)
            return false;
    if (f->group_count[g->user] >= f->groups_per_user || f->free_group_count == 0 ||
        find_group(f, g->user, g->id) != FAVORITES_NO_GROUP)
        return false;
    insert_group(f, g->user, g->id, g->color, g->name, strlen(g->name));
    return true;
}

bool favorites_load_item(core *c, const favorites_saved_item *it) {
    core_favorites *f = &c->favorites;
    if (!user_valid(c, it->user) || it->instrument >= c->refdata->instrument_count ||
        f->count[it->user] >= f->per_user || f->free_item_count == 0)
        return false;
    for (uint32_t u = it->user + 1; u < f->users; u++)
        if (f->count[u] != 0)
            return false;
    uint32_t group = FAVORITES_NO_GROUP;
    if (it->group != FAVORITES_NO_GROUP) {
        /* The group at that place among those loaded, which must be this user's. */
        uint32_t place = 0;
        for (uint32_t u = 0; u < it->user; u++)
            place += f->group_count[u];
        if (it->group < place || it->group - place >= f->group_count[it->user])
            return false;
        group = f->group_first[it->user];
        for (uint32_t k = place; k < it->group; k++)
            group = f->groups[group].next;
    }
    if (find_item(f, it->user, group, it->instrument) != FAVORITES_NO_GROUP)
        return false;
    insert_item(f, it->user, group, it->instrument);
    return true;
}
