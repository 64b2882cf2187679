/* The served methods of each contract service. The server copies these tables at start. */
#ifndef TINVESTD_API_SERVICES_H
#define TINVESTD_API_SERVICES_H

#include <stdbool.h>
#include <stddef.h>

#include "api/call.h"
#include "api/contract.h"

const api_method *api_users_methods(size_t *count);
const api_method *api_instruments_methods(size_t *count);
const api_method *api_orders_methods(size_t *count);
const api_method *api_operations_methods(size_t *count);
const api_method *api_marketdata_methods(size_t *count);
const api_method *api_order_stream_methods(size_t *count);
const api_method *api_marketdata_stream_methods(size_t *count);
const api_method *api_operations_stream_methods(size_t *count);
const api_method *api_stop_order_methods(size_t *count);
/* GetOperations, GetOperationsByCursor, the reports, their sandbox twins, GetBankAccounts and
 * CurrencyTransfer (api/operations_history_service.c). */
const api_method *api_operations_history_methods(size_t *count);
/* GetBondCoupons, GetBondEvents, GetDividends, GetAccruedInterests (api/calendar_service.c). */
const api_method *api_calendar_methods(size_t *count);
/* Assets, brands, countries, analytics, structured notes (api/assets_service.c). */
const api_method *api_assets_methods(size_t *count);
/* SignalService (api/signals_service.c). */
const api_method *api_signal_methods(size_t *count);
/* InstrumentsService favorites (api/favorites_service.c). */
const api_method *api_favorites_methods(size_t *count);
/* Options, OptionBy, OptionsBy, GetFuturesMargin, Indicatives (api/universe_service.c). */
const api_method *api_universe_methods(size_t *count);

/* tinvestd.admin.v1.AdminService, the operator's (api/admin_service.c). */
const api_method *api_admin_methods(size_t *count);

/* grpc.reflection.v1 and v1alpha ServerReflection (api/reflection.c). */
const api_method *api_reflection_methods(size_t *count);
/* Ends every open reflection stream of `srv` (UNAVAILABLE 70003); called once as the server
 * starts stopping, so that no idle stream holds the stop for its grace period. */
void api_reflection_shutdown(api_server *srv);
/* grpc.health.v1.Health (api/health.c). */
const api_method *api_health_methods(size_t *count);
/* Tells every health watcher of `srv` that it is NOT_SERVING and ends the watches; called once as
 * the server starts stopping. */
void api_health_shutdown(api_server *srv);

/* The opening of the oldest 1-minute (`day` false) or 1-day candle the exchange keeps of the
 * instrument, or NULL (the field absent) before its first trade (api/instruments_service.c;
 * every instrument message carries the two dates). */
Google__Protobuf__Timestamp *api_first_candle_date(api_call *call, const instrument *ins, bool day);

/* Shared by UsersService.GetAccounts and SandboxService.GetSandboxAccounts. */
const ProtobufCMessage *api_accounts_reply(api_call *call, const ProtobufCMessage *request);

/* Every served method of every service, in one table owned by the caller (free()). */
api_method *api_all_methods(size_t *count);

#endif
