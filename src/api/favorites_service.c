/* InstrumentsService favorites: GetFavorites, EditFavorites, CreateFavoriteGroup,
 * DeleteFavoriteGroup, GetFavoriteGroups. The request is checked on the transport thread
 * (api/request.h), the command or the read runs on the core thread (core/favorites.h), and the
 * reply is encoded from the copies it took once the batch is durable. */
#include <string.h>

#include "api/core_errors.h"
#include "api/core_job.h"
#include "api/pb.h"
#include "api/request.h"
#include "api/server.h"
#include "api/services.h"

typedef struct favorites_job {
    api_core_job job; /* must stay first */
    core_error error;
    uint32_t *instruments; /* GetFavorites, EditFavorites: the list as it is now */
    uint32_t instrument_count;
    core_favorite_group_view *groups; /* GetFavoriteGroups; CreateFavoriteGroup: the new one */
    uint32_t group_count;
} favorites_job;

static favorites_job *new_job(api_call *call, bool mutates) {
    favorites_job *job = api_core_job_new(call, sizeof(favorites_job));
    job->job.base.mutates = mutates;
    return job;
}

/* Copies the list of the default list (`group` NULL) or of a group into the call's memory. */
static void copy_list(engine *e, favorites_job *job, const char *group) {
    const core *c = engine_core(e);
    uint32_t max = c->favorites.per_user;
    job->instruments = api_call_alloc(job->job.call, (size_t)max * sizeof *job->instruments);
    job->instrument_count =
        core_list_favorites(c, job->job.call->token, group, job->instruments, max, &job->error);
}

static PB(FavoriteInstrument) * favorite_view(api_call *call, const instrument *ins) {
    PB(FavoriteInstrument) *f = PB_NEW(call, PB(FavoriteInstrument), PB_INIT(FAVORITE_INSTRUMENT));
    f->figi = (char *)ins->figi;
    f->ticker = (char *)ins->ticker;
    f->class_code = (char *)ins->class_code;
    f->isin = (char *)ins->isin;
    f->instrument_type = (char *)api_instrument_type_name(ins->kind);
    f->name = (char *)ins->name;
    f->uid = (char *)ins->uid;
    f->otc_flag = ins->otc;
    f->api_trade_available_flag = ins->api_trade_available;
    f->instrument_kind = (int)ins->kind;
    return f;
}

static PB(FavoriteInstrument) *
    *favorites_view(api_call *call, const favorites_job *job, size_t *count) {
    PB(FavoriteInstrument) **list =
        (PB(FavoriteInstrument) **)pb_array(call, job->instrument_count);
    const refdata *rd = api_call_refdata(call);
    for (uint32_t i = 0; i < job->instrument_count; i++)
        list[i] = favorite_view(call, &rd->instruments[job->instruments[i]]);
    *count = job->instrument_count;
    return list;
}

/* ---- GetFavorites -----------------------------------------------------------------------------
 */

static const char *get_favorites_group(const PB(GetFavoritesRequest) * in) {
    return api_request_favorites_group(
        in->_group_id_case == PB_ENUM(GET_FAVORITES_REQUEST___GROUP_ID_GROUP_ID), in->group_id);
}

static void run_get(engine *e, engine_job *base) {
    favorites_job *job = (favorites_job *)base;
    const PB(GetFavoritesRequest) *in = (const PB(GetFavoritesRequest) *)job->job.call->request;
    copy_list(e, job, get_favorites_group(in));
    engine_finish_after_commit(e, base);
}

static void finish_get(engine *e, engine_job *base) {
    favorites_job *job = (favorites_job *)base;
    if (api_reply_if_failed(&job->job, job->error))
        return;
    api_call *call = job->job.call;
    const PB(GetFavoritesRequest) *in = (const PB(GetFavoritesRequest) *)call->request;
    PB(GetFavoritesResponse) *r =
        PB_NEW(call, PB(GetFavoritesResponse), PB_INIT(GET_FAVORITES_RESPONSE));
    r->favorite_instruments = favorites_view(call, job, &r->n_favorite_instruments);
    const char *group = get_favorites_group(in);
    if (group != NULL) {
        r->_group_id_case = PB_ENUM(GET_FAVORITES_RESPONSE___GROUP_ID_GROUP_ID);
        r->group_id = (char *)group;
    }
    api_reply_message(call, &r->base);
}

static void get_favorites(api_call *call, const ProtobufCMessage *request) {
    int code = api_request_get_favorites((const PB(GetFavoritesRequest) *)request);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    api_core_job_submit(&new_job(call, false)->job, run_get, finish_get);
}

/* ---- EditFavorites ----------------------------------------------------------------------------
 */

static const char *edit_group(const PB(EditFavoritesRequest) * in) {
    return api_request_favorites_group(
        in->_group_id_case == PB_ENUM(EDIT_FAVORITES_REQUEST___GROUP_ID_GROUP_ID), in->group_id);
}

static void run_edit(engine *e, engine_job *base) {
    favorites_job *job = (favorites_job *)base;
    api_call *call = job->job.call;
    const PB(EditFavoritesRequest) *in = (const PB(EditFavoritesRequest) *)call->request;
    const char **ids = api_call_alloc(call, (in->n_instruments + 1) * sizeof *ids);
    for (size_t i = 0; i < in->n_instruments; i++)
        ids[i] = api_request_favorites_instrument_id(in->instruments[i]);
    job->error = core_edit_favorites(engine_core(e), call->token, ids, (uint32_t)in->n_instruments,
                                     (int32_t)in->action_type, edit_group(in), engine_now_ns(e));
    if (job->error == CORE_OK)
        copy_list(e, job, edit_group(in));
    engine_finish_after_commit(e, base);
}

static void finish_edit(engine *e, engine_job *base) {
    favorites_job *job = (favorites_job *)base;
    if (api_reply_if_failed(&job->job, job->error))
        return;
    api_call *call = job->job.call;
    const PB(EditFavoritesRequest) *in = (const PB(EditFavoritesRequest) *)call->request;
    PB(EditFavoritesResponse) *r =
        PB_NEW(call, PB(EditFavoritesResponse), PB_INIT(EDIT_FAVORITES_RESPONSE));
    r->favorite_instruments = favorites_view(call, job, &r->n_favorite_instruments);
    const char *group = edit_group(in);
    if (group != NULL) {
        r->_group_id_case = PB_ENUM(EDIT_FAVORITES_RESPONSE___GROUP_ID_GROUP_ID);
        r->group_id = (char *)group;
    }
    api_reply_message(call, &r->base);
}

static void edit_favorites(api_call *call, const ProtobufCMessage *request) {
    int code = api_request_edit_favorites(api_call_refdata(call),
                                          (const PB(EditFavoritesRequest) *)request);
    if (code == 30102) {
        api_reply_error_message(call, code, API_FAVORITES_ACTION_MESSAGE);
        return;
    }
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    api_core_job_submit(&new_job(call, true)->job, run_edit, finish_edit);
}

/* ---- CreateFavoriteGroup ----------------------------------------------------------------------
 */

static void run_create(engine *e, engine_job *base) {
    favorites_job *job = (favorites_job *)base;
    api_call *call = job->job.call;
    const PB(CreateFavoriteGroupRequest) *in =
        (const PB(CreateFavoriteGroupRequest) *)call->request;
    job->groups = api_call_alloc(call, sizeof *job->groups);
    job->error = core_create_favorite_group(engine_core(e), call->token, in->group_name,
                                            in->group_color, engine_now_ns(e), job->groups);
    engine_finish_after_commit(e, base);
}

static void finish_create(engine *e, engine_job *base) {
    favorites_job *job = (favorites_job *)base;
    if (api_reply_if_failed(&job->job, job->error))
        return;
    api_call *call = job->job.call;
    PB(CreateFavoriteGroupResponse) *r =
        PB_NEW(call, PB(CreateFavoriteGroupResponse), PB_INIT(CREATE_FAVORITE_GROUP_RESPONSE));
    r->group_id = job->groups->id;
    r->group_name = job->groups->name;
    api_reply_message(call, &r->base);
}

static void create_favorite_group(api_call *call, const ProtobufCMessage *request) {
    int code = api_request_create_favorite_group((const PB(CreateFavoriteGroupRequest) *)request);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    api_core_job_submit(&new_job(call, true)->job, run_create, finish_create);
}

/* ---- DeleteFavoriteGroup ----------------------------------------------------------------------
 */

static void run_delete(engine *e, engine_job *base) {
    favorites_job *job = (favorites_job *)base;
    api_call *call = job->job.call;
    const PB(DeleteFavoriteGroupRequest) *in =
        (const PB(DeleteFavoriteGroupRequest) *)call->request;
    job->error =
        core_delete_favorite_group(engine_core(e), call->token, in->group_id, engine_now_ns(e));
    engine_finish_after_commit(e, base);
}

static void finish_delete(engine *e, engine_job *base) {
    favorites_job *job = (favorites_job *)base;
    if (api_reply_if_failed(&job->job, job->error))
        return;
    api_call *call = job->job.call;
    PB(DeleteFavoriteGroupResponse) *r =
        PB_NEW(call, PB(DeleteFavoriteGroupResponse), PB_INIT(DELETE_FAVORITE_GROUP_RESPONSE));
    api_reply_message(call, &r->base);
}

static void delete_favorite_group(api_call *call, const ProtobufCMessage *request) {
    int code = api_request_delete_favorite_group((const PB(DeleteFavoriteGroupRequest) *)request);
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    api_core_job_submit(&new_job(call, true)->job, run_delete, finish_delete);
}

/* ---- GetFavoriteGroups ------------------------------------------------------------------------
 */

static void run_groups(engine *e, engine_job *base) {
    favorites_job *job = (favorites_job *)base;
    api_call *call = job->job.call;
    const PB(GetFavoriteGroupsRequest) *in = (const PB(GetFavoriteGroupsRequest) *)call->request;
    const core *c = engine_core(e);
    const refdata *rd = api_call_refdata(call);
    bool *wanted = NULL;
    if (in->n_instrument_id > 0) {
        /* Unknown ids match nothing. */
        wanted = api_call_alloc(call, (size_t)(rd->instrument_count + 1) * sizeof *wanted);
        memset(wanted, 0, (size_t)(rd->instrument_count + 1) * sizeof *wanted);
        for (size_t i = 0; i < in->n_instrument_id; i++) {
            const instrument *ins = refdata_find_instrument_id(rd, in->instrument_id[i]);
            if (ins != NULL)
                wanted[ins->index] = true;
        }
    }
    uint32_t max = c->favorites.groups_per_user;
    job->groups = api_call_alloc(call, (size_t)max * sizeof *job->groups);
    job->group_count = core_list_favorite_groups(
        c, call->token, wanted, (const char *const *)in->excluded_group_id,
        (uint32_t)in->n_excluded_group_id, job->groups, max);
    engine_finish_after_commit(e, base);
}

static void finish_groups(engine *e, engine_job *base) {
    favorites_job *job = (favorites_job *)base;
    if (api_reply_if_failed(&job->job, CORE_OK))
        return;
    api_call *call = job->job.call;
    const PB(GetFavoriteGroupsRequest) *in = (const PB(GetFavoriteGroupsRequest) *)call->request;
    PB(GetFavoriteGroupsResponse) *r =
        PB_NEW(call, PB(GetFavoriteGroupsResponse), PB_INIT(GET_FAVORITE_GROUPS_RESPONSE));
    r->groups = (PB(GetFavoriteGroupsResponse__FavoriteGroup) **)pb_array(call, job->group_count);
    for (uint32_t i = 0; i < job->group_count; i++) {
        const core_favorite_group_view *g = &job->groups[i];
        PB(GetFavoriteGroupsResponse__FavoriteGroup) *out =
            PB_NEW(call, PB(GetFavoriteGroupsResponse__FavoriteGroup),
                   PB_INIT(GET_FAVORITE_GROUPS_RESPONSE__FAVORITE_GROUP));
        out->group_id = (char *)g->id;
        out->group_name = (char *)g->name;
        out->color = (char *)g->color;
        out->size = (int32_t)g->size;
        if (in->n_instrument_id > 0) {
            out->_contains_instrument_case = PB_ENUM(
                GET_FAVORITE_GROUPS_RESPONSE__FAVORITE_GROUP___CONTAINS_INSTRUMENT_CONTAINS_INSTRUMENT);
            out->contains_instrument = g->contains;
        }
        r->groups[r->n_groups++] = out;
    }
    api_reply_message(call, &r->base);
}

static void get_favorite_groups(api_call *call, const ProtobufCMessage *request) {
    int code = api_request_get_favorite_groups((const PB(GetFavoriteGroupsRequest) *)request);
    if (code == 30102) {
        api_reply_error_message(call, code, API_FAVORITES_EXCLUDED_MESSAGE);
        return;
    }
    if (code != 0) {
        api_reply_error(call, code);
        return;
    }
    api_core_job_submit(&new_job(call, false)->job, run_groups, finish_groups);
}

#define FAVORITES(method, type, fn)                                                                \
    {                                                                                              \
        .service = "InstrumentsService", .name = method, .request_type = &PB_DESC(type),           \
        .handle = fn                                                                               \
    }
static api_method favorites_methods[] = {
    FAVORITES("GetFavorites", get_favorites_request, get_favorites),
    FAVORITES("EditFavorites", edit_favorites_request, edit_favorites),
    FAVORITES("CreateFavoriteGroup", create_favorite_group_request, create_favorite_group),
    FAVORITES("DeleteFavoriteGroup", delete_favorite_group_request, delete_favorite_group),
    FAVORITES("GetFavoriteGroups", get_favorite_groups_request, get_favorite_groups),
};

const api_method *api_favorites_methods(size_t *count) {
    *count = sizeof favorites_methods / sizeof favorites_methods[0];
    return favorites_methods;
}
