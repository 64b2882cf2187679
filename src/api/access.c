#include "api/access.h"

#include "api/server.h"

const account *api_account_checked(api_call *call, const char *account_id, access_need need) {
    if (account_id == NULL || account_id[0] == '\0') {
        api_reply_error(call, 30021);
        return NULL;
    }
    const account *acc = refdata_find_account(&call->server->config->refdata, account_id);
    if (acc == NULL) {
        api_reply_error(call, 50004);
        return NULL;
    }
    access_level level = refdata_access(call->token, acc);
    bool allowed = need == ACCESS_NEED_READ ? level == ACCESS_FULL || level == ACCESS_READ_ONLY
                                            : level == ACCESS_FULL;
    if (!allowed) {
        api_reply_error(call, 40002);
        return NULL;
    }
    return acc;
}
