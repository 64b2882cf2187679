/* Favorites in the core: users shared by their tokens, the default list and groups, every
 * refusal and that it changes nothing, the per-user limits and the room a deletion frees, replay
 * of the recorded events into the same state, the events' encoding, what replay refuses, and a
 * snapshot written and loaded (and what a load refuses). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/core.h"
#include "core/event_codec.h"
#include "engine/snapshot.h"
#include "one_share.h"

#define NANO 1000000000LL
#define MAX_EVENTS 4096
#define T0 (1700000000LL * NANO)

static refdata rd;
static core_event recorded[MAX_EVENTS];
static int recorded_count;

/* A recorded event outlives its commit: the name it borrows is copied (each event has a place). */
static char recorded_names[MAX_EVENTS][FAVORITE_GROUP_NAME_SIZE];

static void record(void *ctx, const core_event *ev) {
    if (recorded_count == MAX_EVENTS)
        return;
    core_event *kept = &recorded[recorded_count];
    *kept = *ev;
    if (core_event_borrows_text(ev)) {
        memcpy(recorded_names[recorded_count], ev->u.favorite.name, ev->u.favorite.name_len);
        kept->u.favorite.name = recorded_names[recorded_count];
    }
    recorded_count++;
}

/* Two instruments; tokens 0 and 1 of user "u1", token 2 of user "u2", token 3 without a user. */
static void make_refdata(void) {
    one_share_refdata(&rd, 1000);
    rd.instruments[1] = rd.instruments[0];
    rd.instruments[1].index = 1;
    rd.instruments[1].figi = "FIGI1";
    rd.instruments[1].ticker = "BBB";
    rd.instruments[1].uid = "uid-1";
    rd.instrument_count = 2;
    rd.tokens[0].user_id = "u1";
    rd.tokens[1] = rd.tokens[0];
    rd.tokens[1].secret = "second";
    rd.tokens[2] = rd.tokens[0];
    rd.tokens[2].secret = "other";
    rd.tokens[2].user_id = "u2";
    rd.tokens[3] = rd.tokens[0];
    rd.tokens[3].secret = "nobody";
    rd.tokens[3].user_id = NULL;
    rd.token_count = 4;
}

static core_config make_config(void) {
    return (core_config){.refdata = &rd,
                         .max_orders = 64,
                         .max_trades = 128,
                         .order_retention_ns = 3600 * NANO,
                         .max_orders_per_account = 64,
                         .max_trades_per_order = 8,
                         .id_seed = 5,
                         .max_stop_orders = 16,
                         .max_stop_orders_per_account = 8,
                         .max_favorites_per_user = 3,
                         .max_favorite_groups_per_user = 2};
}

static void init_core(core *c, bool recording) {
    core_config cfg = make_config();
    CHECK(core_init(c, &cfg) == 0);
    if (recording) {
        c->sink = (core_event_sink){.append = record};
        recorded_count = 0;
    }
}

static const token *tok(int i) {
    return &rd.tokens[i];
}

static uint32_t list(const core *c, int t, const char *group, uint32_t out[8], core_error *err) {
    return core_list_favorites(c, tok(t), group, out, 8, err);
}

static core_error edit(core *c, int t, const char *id0, const char *id1, int32_t action,
                       const char *group) {
    const char *ids[2] = {id0, id1};
    return core_edit_favorites(c, tok(t), ids, id1 != NULL ? 2 : 1, action, group, T0);
}

static void test_users_and_default_list(void) {
    core c;
    init_core(&c, true);
    CHECK_EQ_INT(favorites_user_of(&c, tok(0)), 0);
    CHECK_EQ_INT(favorites_user_of(&c, tok(1)), 0);
    CHECK_EQ_INT(favorites_user_of(&c, tok(2)), 2);
    CHECK_EQ_INT(favorites_user_of(&c, tok(3)), 3);
    CHECK_EQ_INT(c.favorites.user_count, 3);
    uint32_t out[8];
    core_error err;
    CHECK_EQ_INT(list(&c, 0, NULL, out, &err), 0);
    CHECK_EQ_INT(err, CORE_OK);
    /* By figi and by uid; the second token of the user sees them, another user does not. */
    CHECK_EQ_INT(edit(&c, 0, "FIGI1", "uid-0", FAVORITES_ACTION_ADD, NULL), CORE_OK);
    CHECK_EQ_INT(recorded_count, 2);
    CHECK_EQ_INT(list(&c, 1, NULL, out, &err), 2);
    CHECK_EQ_INT(out[0], 1);
    CHECK_EQ_INT(out[1], 0);
    CHECK_EQ_INT(list(&c, 2, NULL, out, &err), 0);
    CHECK_EQ_INT(list(&c, 3, NULL, out, &err), 0);
    /* Again: nothing to record. The same instrument twice in one request: once. */
    CHECK_EQ_INT(edit(&c, 1, "FIGI0", NULL, FAVORITES_ACTION_ADD, NULL), CORE_OK);
    CHECK_EQ_INT(recorded_count, 2);
    CHECK_EQ_INT(edit(&c, 2, "FIGI0", "uid-0", FAVORITES_ACTION_ADD, NULL), CORE_OK);
    CHECK_EQ_INT(recorded_count, 3);
    CHECK_EQ_INT(list(&c, 2, NULL, out, &err), 1);
    /* Refusals change nothing: an unknown instrument after a good one, an empty id, no
     * instrument, an action outside the contract. */
    CHECK_EQ_INT(edit(&c, 0, "FIGI0", "nope", FAVORITES_ACTION_DEL, NULL),
                 CORE_ERR_INSTRUMENT_NOT_FOUND);
    CHECK_EQ_INT(edit(&c, 0, "FIGI0", "", FAVORITES_ACTION_DEL, NULL),
                 CORE_ERR_FAVORITE_INSTRUMENT_MISSING);
    CHECK_EQ_INT(core_edit_favorites(&c, tok(0), NULL, 0, FAVORITES_ACTION_ADD, NULL, T0),
                 CORE_ERR_FAVORITE_INSTRUMENT_MISSING);
    CHECK_EQ_INT(edit(&c, 0, "FIGI0", NULL, 0, NULL), CORE_ERR_FAVORITES_ACTION_INVALID);
    CHECK_EQ_INT(edit(&c, 0, "FIGI0", NULL, 3, NULL), CORE_ERR_FAVORITES_ACTION_INVALID);
    CHECK_EQ_INT(recorded_count, 3);
    CHECK_EQ_INT(list(&c, 0, NULL, out, &err), 2);
    /* Remove; removing what is not there records nothing. */
    CHECK_EQ_INT(edit(&c, 0, "uid-1", NULL, FAVORITES_ACTION_DEL, NULL), CORE_OK);
    CHECK_EQ_INT(edit(&c, 0, "uid-1", NULL, FAVORITES_ACTION_DEL, NULL), CORE_OK);
    CHECK_EQ_INT(recorded_count, 4);
    CHECK_EQ_INT(list(&c, 0, NULL, out, &err), 1);
    CHECK_EQ_INT(out[0], 0);
    core_check_invariants(&c);
    core_deinit(&c);
}

static void test_groups(void) {
    core c;
    init_core(&c, true);
    core_favorite_group_view g, h;
    char long_name[300];
    memset(long_name, 'x', sizeof long_name);
    long_name[256] = '\0';
    CHECK_EQ_INT(core_create_favorite_group(&c, tok(0), "", "aa0000", T0, &g),
                 CORE_ERR_FAVORITE_GROUP_NAME_INVALID);
    CHECK_EQ_INT(core_create_favorite_group(&c, tok(0), long_name, "aa0000", T0, &g),
                 CORE_ERR_FAVORITE_GROUP_NAME_INVALID);
    /* 128 two-byte letters: 128 characters, but 256 bytes (our bound). Bad UTF-8. */
    char wide[300] = "";
    for (int i = 0; i < 128; i++)
        strcat(wide, "я");
    CHECK_EQ_INT(core_create_favorite_group(&c, tok(0), wide, "aa0000", T0, &g),
                 CORE_ERR_FAVORITE_GROUP_NAME_INVALID);
    CHECK_EQ_INT(core_create_favorite_group(&c, tok(0), "\xff\xfe", "aa0000", T0, &g),
                 CORE_ERR_FAVORITE_GROUP_NAME_INVALID);
    const char *bad_colors[] = {"", "aa000", "aa00000", "gg0000", "#aa000", " aa000"};
    for (size_t i = 0; i < sizeof bad_colors / sizeof bad_colors[0]; i++)
        CHECK_EQ_INT(core_create_favorite_group(&c, tok(0), "ok", bad_colors[i], T0, &g),
                     CORE_ERR_FAVORITE_GROUP_COLOR_INVALID);
    CHECK_EQ_INT(recorded_count, 0);
    long_name[255] = '\0';
    CHECK_EQ_INT(core_create_favorite_group(&c, tok(0), long_name, "AbCdEf", T0, &g), CORE_OK);
    CHECK_EQ_INT(strlen(g.id), 36);
    CHECK(strcmp(g.color, "AbCdEf") == 0);
    CHECK_EQ_INT(strlen(g.name), 255);
    CHECK_EQ_INT(core_create_favorite_group(&c, tok(1), "Вторая", "000000", T0, &h), CORE_OK);
    CHECK(strcmp(g.id, h.id) != 0);
    /* Two per user. */
    core_favorite_group_view x;
    CHECK_EQ_INT(core_create_favorite_group(&c, tok(0), "third", "000000", T0, &x),
                 CORE_ERR_FAVORITE_GROUPS_LIMIT);
    CHECK_EQ_INT(core_create_favorite_group(&c, tok(2), "other's", "000000", T0, &x), CORE_OK);

    /* A group's list is its own; the id in upper case names it too. */
    char upper[ORDER_ID_SIZE];
    for (size_t i = 0; i < sizeof upper; i++)
        upper[i] = (char)(g.id[i] >= 'a' && g.id[i] <= 'f' ? g.id[i] - 'a' + 'A' : g.id[i]);
    CHECK_EQ_INT(edit(&c, 1, "FIGI0", "FIGI1", FAVORITES_ACTION_ADD, upper), CORE_OK);
    CHECK_EQ_INT(edit(&c, 0, "FIGI1", NULL, FAVORITES_ACTION_ADD, h.id), CORE_OK);
    uint32_t out[8];
    core_error err;
    CHECK_EQ_INT(list(&c, 0, g.id, out, &err), 2);
    CHECK_EQ_INT(list(&c, 0, NULL, out, &err), 0);
    /* Another user's group, an unknown one, one that is no UUID. */
    CHECK_EQ_INT(list(&c, 2, g.id, out, &err), 0);
    CHECK_EQ_INT(err, CORE_ERR_FAVORITE_GROUP_NOT_FOUND);
    CHECK_EQ_INT(edit(&c, 2, "FIGI0", NULL, FAVORITES_ACTION_ADD, g.id),
                 CORE_ERR_FAVORITE_GROUP_NOT_FOUND);
    CHECK_EQ_INT(edit(&c, 0, "FIGI0", NULL, FAVORITES_ACTION_ADD, "x"),
                 CORE_ERR_FAVORITE_GROUP_NOT_FOUND);
    CHECK_EQ_INT(core_delete_favorite_group(&c, tok(2), g.id, T0),
                 CORE_ERR_FAVORITE_GROUP_NOT_FOUND);
    CHECK_EQ_INT(core_delete_favorite_group(&c, tok(0), "", T0),
                 CORE_ERR_FAVORITE_GROUP_ID_MISSING);

    /* The groups, with contains and exclusions. */
    bool wanted[2] = {false, true};
    core_favorite_group_view views[4];
    CHECK_EQ_INT(core_list_favorite_groups(&c, tok(1), wanted, NULL, 0, views, 4), 2);
    CHECK(strcmp(views[0].id, g.id) == 0 && views[0].size == 2 && views[0].contains);
    CHECK(strcmp(views[1].id, h.id) == 0 && views[1].size == 1 && views[1].contains);
    wanted[1] = false;
    wanted[0] = true;
    const char *excluded[] = {"junk", upper};
    CHECK_EQ_INT(core_list_favorite_groups(&c, tok(1), wanted, excluded, 2, views, 4), 1);
    CHECK(strcmp(views[0].id, h.id) == 0 && !views[0].contains);

    /* Limit: 3 favorites per user over all lists (it holds 3). Then a deletion frees the
     * group's two and its place. */
    CHECK_EQ_INT(edit(&c, 0, "FIGI0", NULL, FAVORITES_ACTION_ADD, NULL), CORE_ERR_FAVORITES_LIMIT);
    int before = recorded_count;
    CHECK_EQ_INT(core_delete_favorite_group(&c, tok(1), upper, T0), CORE_OK);
    CHECK_EQ_INT(recorded_count, before + 1);
    CHECK_EQ_INT(list(&c, 0, g.id, out, &err), 0);
    CHECK_EQ_INT(err, CORE_ERR_FAVORITE_GROUP_NOT_FOUND);
    CHECK_EQ_INT(edit(&c, 0, "FIGI0", "FIGI1", FAVORITES_ACTION_ADD, NULL), CORE_OK);
    CHECK_EQ_INT(core_create_favorite_group(&c, tok(0), "again", "123456", T0, &x), CORE_OK);
    CHECK_EQ_INT(c.favorites.count[0], 3);
    core_check_invariants(&c);

    /* Replay: the recorded events into a fresh core give the same state. */
    core r;
    init_core(&r, false);
    for (int i = 0; i < recorded_count; i++) {
        CHECK(core_event_applicable(&r, &recorded[i]));
        core_apply(&r, &recorded[i]);
    }
    CHECK(core_state_hash(&r) == core_state_hash(&c));
    /* The hash covers favorites: a core without them hashes differently. */
    core fresh;
    init_core(&fresh, false);
    CHECK(core_state_hash(&fresh) != core_state_hash(&c));
    core_deinit(&fresh);
    CHECK_EQ_INT(core_list_favorite_groups(&r, tok(0), NULL, NULL, 0, views, 4), 2);
    CHECK(strcmp(views[0].id, h.id) == 0 && strcmp(views[1].name, "again") == 0);
    core_check_invariants(&r);

    /* Each event encodes and decodes to itself. */
    for (int i = 0; i < recorded_count; i++) {
        uint8_t bytes[EVENT_CODEC_MAX_BYTES];
        CHECK(event_codec_valid(&recorded[i]));
        size_t n = event_codec_encode(&recorded[i], bytes);
        core_event back;
        CHECK_EQ_INT(
            event_codec_decode((uint16_t)recorded[i].type, recorded[i].seq, bytes, n, &back), 0);
        CHECK(event_codec_equal(&back, &recorded[i]));
        if (n > 1)
            CHECK(event_codec_decode((uint16_t)recorded[i].type, recorded[i].seq, bytes, n - 1,
                                     &back) != 0);
    }

    /* What replay refuses. */
    core_event ev = {.type = CORE_EVENT_FAVORITE_ADDED, .order = CORE_NO_ORDER, .seq = r.next_seq};
    ev.u.favorite.user = 0;
    ev.u.favorite.instrument = 0;
    CHECK(!core_event_applicable(&r, &ev)); /* held already */
    ev.u.favorite.user = 2;
    CHECK(core_event_applicable(&r, &ev));
    ev.u.favorite.user = 1; /* not a user's slot: token 1 is user 0's */
    CHECK(!core_event_applicable(&r, &ev));
    ev.u.favorite.user = 4; /* no such token */
    CHECK(!core_event_applicable(&r, &ev));
    ev.u.favorite.user = 2;
    ev.u.favorite.instrument = 2; /* no such instrument */
    CHECK(!core_event_applicable(&r, &ev));
    ev.u.favorite.instrument = 0;
    strcpy(ev.u.favorite.group_id, h.id); /* user 0's group */
    CHECK(!core_event_applicable(&r, &ev));
    ev.u.favorite.group_id[0] = '\0';
    ev.u.favorite.name = "x"; /* a field the type does not use */
    ev.u.favorite.name_len = 1;
    CHECK(!core_event_applicable(&r, &ev));
    ev.u.favorite.name_len = 0;
    CHECK(!core_event_applicable(&r, &ev)); /* an empty name is NULL */
    ev.u.favorite.name = NULL;
    ev.order = 0;
    CHECK(!core_event_applicable(&r, &ev));
    ev.order = CORE_NO_ORDER;
    ev.type = CORE_EVENT_FAVORITE_REMOVED;
    CHECK(!core_event_applicable(&r, &ev)); /* user 2 holds FIGI0 in the default list... */
    ev.u.favorite.instrument = 1;
    CHECK(!core_event_applicable(&r, &ev)); /* ...but not FIGI1 */
    ev.type = CORE_EVENT_FAVORITE_GROUP_CREATED;
    ev.u.favorite.instrument = 0;
    ev.u.favorite.user = 0;
    strcpy(ev.u.favorite.group_id, "0b7d1d4e-6a0d-4d3e-9d6e-3b0a4b1f2c3d");
    strcpy(ev.u.favorite.color, "ffffff");
    ev.u.favorite.name = "third";
    ev.u.favorite.name_len = 5;
    CHECK(!core_event_applicable(&r, &ev)); /* user 0 holds two groups */
    ev.u.favorite.user = 3;
    CHECK(core_event_applicable(&r, &ev));
    strcpy(ev.u.favorite.color, "fffff");
    CHECK(!core_event_applicable(&r, &ev));
    strcpy(ev.u.favorite.color, "ffffff");
    strcpy(ev.u.favorite.group_id, "0B7D1D4E-6A0D-4D3E-9D6E-3B0A4B1F2C3D");
    CHECK(!core_event_applicable(&r, &ev)); /* ids are kept in lower case */
    ev.type = CORE_EVENT_FAVORITE_GROUP_DELETED;
    strcpy(ev.u.favorite.group_id, h.id);
    ev.u.favorite.color[0] = '\0';
    ev.u.favorite.name = NULL;
    ev.u.favorite.name_len = 0;
    ev.u.favorite.user = 0;
    CHECK(core_event_applicable(&r, &ev));
    ev.u.favorite.user = 2;
    CHECK(!core_event_applicable(&r, &ev));

    core_deinit(&r);
    core_deinit(&c);
}

/* Snapshot format 9: written and loaded, the same state; records out of place refused. */
static void test_snapshot(void) {
    core c;
    init_core(&c, false);
    core_favorite_group_view g, h;
    CHECK_EQ_INT(core_create_favorite_group(&c, tok(0), "one", "aa0000", T0, &g), CORE_OK);
    CHECK_EQ_INT(core_create_favorite_group(&c, tok(2), "two", "bb0000", T0, &h), CORE_OK);
    CHECK_EQ_INT(edit(&c, 0, "FIGI1", NULL, FAVORITES_ACTION_ADD, g.id), CORE_OK);
    CHECK_EQ_INT(edit(&c, 0, "FIGI0", NULL, FAVORITES_ACTION_ADD, NULL), CORE_OK);
    CHECK_EQ_INT(edit(&c, 2, "FIGI0", "FIGI1", FAVORITES_ACTION_ADD, h.id), CORE_OK);
    CHECK_EQ_INT(edit(&c, 3, "FIGI1", NULL, FAVORITES_ACTION_ADD, NULL), CORE_OK);
    /* Record numbers that differ from a fresh fill's: a removal frees one in the middle. */
    CHECK_EQ_INT(edit(&c, 0, "FIGI1", NULL, FAVORITES_ACTION_DEL, g.id), CORE_OK);
    CHECK_EQ_INT(edit(&c, 0, "FIGI0", NULL, FAVORITES_ACTION_ADD, g.id), CORE_OK);
    char dir[256];
    snprintf(dir, sizeof dir, "%s/tinvestd-fav-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ_INT(snapshot_write(&c, dir), 0);
    core l;
    init_core(&l, false);
    char error[256] = "";
    CHECK(snapshot_load(&l, dir, error, sizeof error) > 0);
    CHECK(core_state_hash(&l) == core_state_hash(&c));
    core_check_invariants(&l);
    uint32_t out[8];
    core_error err;
    CHECK_EQ_INT(list(&l, 1, g.id, out, &err), 1);
    CHECK_EQ_INT(out[0], 0);
    CHECK_EQ_INT(list(&l, 2, h.id, out, &err), 2);
    /* And the next change applies to both alike. */
    CHECK_EQ_INT(edit(&c, 3, "FIGI0", NULL, FAVORITES_ACTION_ADD, NULL), CORE_OK);
    CHECK_EQ_INT(edit(&l, 3, "FIGI0", NULL, FAVORITES_ACTION_ADD, NULL), CORE_OK);
    CHECK(core_state_hash(&l) == core_state_hash(&c));

    /* Loading refuses what does not fit. */
    core e;
    init_core(&e, false);
    favorites_saved_group sg = {.user = 2};
    strcpy(sg.id, h.id);
    strcpy(sg.color, "bb0000");
    strcpy(sg.name, "two");
    CHECK(favorites_load_group(&e, &sg));
    sg.user = 0; /* users in slot order */
    CHECK(!favorites_load_group(&e, &sg));
    sg.user = 2; /* the same id twice */
    CHECK(!favorites_load_group(&e, &sg));
    sg.user = 1; /* not a user's slot */
    CHECK(!favorites_load_group(&e, &sg));
    favorites_saved_item it = {.user = 2, .group = 1, .instrument = 0};
    CHECK(!favorites_load_item(&e, &it)); /* no second group */
    it.group = 0;
    CHECK(favorites_load_item(&e, &it));
    CHECK(!favorites_load_item(&e, &it)); /* twice */
    it.instrument = 2;
    CHECK(!favorites_load_item(&e, &it));
    it = (favorites_saved_item){.user = 0, .group = FAVORITES_NO_GROUP, .instrument = 0};
    CHECK(!favorites_load_item(&e, &it)); /* user 0 after user 2 */
    core_check_invariants(&e);

    core_deinit(&e);
    core_deinit(&l);
    core_deinit(&c);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

int main(void) {
    make_refdata();
    test_users_and_default_list();
    test_groups();
    test_snapshot();
    return check_finish("test_core_favorites");
}
