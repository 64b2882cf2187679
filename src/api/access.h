/* Account checks shared by every service: does the account exist, and may this token read it or
 * trade on it. Each helper answers the call with the right T-Invest error and returns NULL when
 * the check fails, so a handler reads as a straight line. */
#ifndef TINVESTD_API_ACCESS_H
#define TINVESTD_API_ACCESS_H

#include "api/call.h"
#include "api/request.h"

const account *api_account_checked(api_call *call, const char *account_id, access_need need);

#endif
