#include "api/access.h"

#include "api/server.h"

const account *api_account_checked(api_call *call, const char *account_id, access_need need) {
    const account *acc;
    int code = api_request_account(api_call_refdata(call), call->token, account_id, need, &acc);
    if (code != 0)
        api_reply_error(call, code);
    return acc;
}
