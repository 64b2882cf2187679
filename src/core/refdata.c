#include "core/refdata.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct refdata_strings {
    struct refdata_strings *next;
    char text[];
};

void refdata_init(refdata *rd) {
    memset(rd, 0, sizeof *rd);
}

void refdata_deinit(refdata *rd) {
    struct refdata_strings *block = rd->strings;
    while (block != NULL) {
        struct refdata_strings *next = block->next;
        free(block);
        block = next;
    }
    rd->strings = NULL;
}

const char *refdata_intern(refdata *rd, const char *text) {
    size_t len = strlen(text);
    struct refdata_strings *block = malloc(sizeof *block + len + 1);
    if (block == NULL)
        return NULL;
    memcpy(block->text, text, len + 1);
    block->next = rd->strings;
    rd->strings = block;
    return block->text;
}

/* Equal and not empty: an identifier the configuration leaves empty matches nothing. */
static bool same(const char *a, const char *b) {
    return a != NULL && b != NULL && a[0] != '\0' && strcmp(a, b) == 0;
}

const token *refdata_find_token(const refdata *rd, const char *secret, size_t len) {
    for (uint32_t i = 0; i < rd->token_count; i++) {
        const token *tok = &rd->tokens[i];
        if (strlen(tok->secret) == len && memcmp(tok->secret, secret, len) == 0)
            return tok;
    }
    return NULL;
}

uint32_t refdata_account_count(const refdata *rd) {
    return __atomic_load_n(&rd->account_count, __ATOMIC_ACQUIRE);
}

int32_t refdata_account_status(const account *acc) {
    return __atomic_load_n(&acc->status, __ATOMIC_ACQUIRE);
}

void refdata_publish_account(refdata *rd) {
    __atomic_store_n(&rd->account_count, rd->account_count + 1, __ATOMIC_RELEASE);
}

void refdata_set_account_status(account *acc, int32_t status) {
    __atomic_store_n(&acc->status, status, __ATOMIC_RELEASE);
}

void refdata_begin_account_update(account *acc) {
    __atomic_store_n(&acc->version, acc->version + 1, __ATOMIC_RELAXED);
    __atomic_thread_fence(__ATOMIC_RELEASE);
}

void refdata_end_account_update(account *acc) {
    __atomic_store_n(&acc->version, acc->version + 1, __ATOMIC_RELEASE);
}

/* Whether slot `acc` holds the open account `id`: the id and status read under one even version
 * (a slot being rewritten counts as not holding it). */
static bool slot_holds(const account *acc, const char *id) {
    for (;;) {
        uint32_t before = __atomic_load_n(&acc->version, __ATOMIC_ACQUIRE);
        if (before & 1)
            return false;
        const char *slot_id = __atomic_load_n(&acc->id, __ATOMIC_ACQUIRE);
        bool match = same(slot_id, id);
        bool open = refdata_account_status(acc) != ACCOUNT_STATUS_CLOSED;
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&acc->version, __ATOMIC_RELAXED) == before)
            return match && open;
    }
}

const account *refdata_find_account(const refdata *rd, const char *id) {
    uint32_t count = refdata_account_count(rd);
    for (uint32_t i = 0; i < count; i++)
        if (slot_holds(&rd->accounts[i], id))
            return &rd->accounts[i];
    return NULL;
}

const instrument *refdata_find_by_figi(const refdata *rd, const char *figi) {
    for (uint32_t i = 0; i < rd->instrument_count; i++)
        if (same(rd->instruments[i].figi, figi))
            return &rd->instruments[i];
    return NULL;
}

const instrument *refdata_find_by_uid(const refdata *rd, const char *uid) {
    for (uint32_t i = 0; i < rd->instrument_count; i++)
        if (same(rd->instruments[i].uid, uid))
            return &rd->instruments[i];
    return NULL;
}

const instrument *refdata_find_by_position_uid(const refdata *rd, const char *position_uid) {
    for (uint32_t i = 0; i < rd->instrument_count; i++)
        if (same(rd->instruments[i].position_uid, position_uid))
            return &rd->instruments[i];
    return NULL;
}

const instrument *refdata_find_by_ticker(const refdata *rd, const char *ticker,
                                         const char *class_code) {
    for (uint32_t i = 0; i < rd->instrument_count; i++)
        if (same(rd->instruments[i].ticker, ticker) &&
            same(rd->instruments[i].class_code, class_code))
            return &rd->instruments[i];
    return NULL;
}

const instrument *refdata_find_instrument_id(const refdata *rd, const char *instrument_id) {
    const instrument *found = refdata_find_by_uid(rd, instrument_id);
    if (found == NULL)
        found = refdata_find_by_figi(rd, instrument_id);
    if (found == NULL) {
        /* "TICKER_CLASSCODE": the class code never contains '_', the ticker may. */
        const char *sep = strrchr(instrument_id, '_');
        if (sep != NULL && sep != instrument_id && (size_t)(sep - instrument_id) < 64) {
            char ticker[64];
            memcpy(ticker, instrument_id, (size_t)(sep - instrument_id));
            ticker[sep - instrument_id] = '\0';
            found = refdata_find_by_ticker(rd, ticker, sep + 1);
        }
    }
    return found;
}

const currency_rate *refdata_find_currency_rate(const refdata *rd, const char *currency) {
    for (uint32_t i = 0; i < rd->currency_rate_count; i++)
        if (strcasecmp(rd->currency_rates[i].currency, currency) == 0)
            return &rd->currency_rates[i];
    return NULL;
}

const token *refdata_token_configured(const token *tok) {
    return tok->view == TOKEN_VIEW_ALL ? tok : tok->configured;
}

uint32_t refdata_token_index(const refdata *rd, const token *tok) {
    const token *configured = refdata_token_configured(tok);
    assert(configured >= rd->tokens && configured < rd->tokens + rd->token_count);
    return (uint32_t)(configured - rd->tokens);
}

bool refdata_token_sees(const token *tok, const account *acc) {
    switch (tok->view) {
    case TOKEN_VIEW_BROKER:
        return !acc->sandbox;
    case TOKEN_VIEW_SANDBOX:
        return acc->sandbox;
    case TOKEN_VIEW_ALL:
        break;
    }
    return true;
}

void refdata_token_view_init(token *view, const token *configured, token_view kind) {
    assert(configured->view == TOKEN_VIEW_ALL && kind != TOKEN_VIEW_ALL);
    memset(view, 0, sizeof *view);
    view->secret = configured->secret;
    view->user_id = configured->user_id;
    view->name = configured->name;
    view->view = kind;
    view->configured = configured;
}

access_level refdata_access(const token *tok, const account *acc) {
    if (!refdata_token_sees(tok, acc))
        return ACCESS_NONE;
    uint8_t level = refdata_token_configured(tok)->access[acc->index];
    return level == ACCESS_NONE_UNSPECIFIED ? ACCESS_NONE : (access_level)level;
}

void refdata_publish_first_candles(instrument *ins, int64_t first_1min_ns, int64_t first_1day_ns) {
    __atomic_store_n(&ins->first_1min_candle_ns, first_1min_ns, __ATOMIC_RELEASE);
    __atomic_store_n(&ins->first_1day_candle_ns, first_1day_ns, __ATOMIC_RELEASE);
}

void refdata_first_candles(const instrument *ins, int64_t *first_1min_ns, int64_t *first_1day_ns) {
    *first_1min_ns = __atomic_load_n(&ins->first_1min_candle_ns, __ATOMIC_ACQUIRE);
    *first_1day_ns = __atomic_load_n(&ins->first_1day_candle_ns, __ATOMIC_ACQUIRE);
}
