/* The reader of the payment calendar's reference-data files (bond_coupons.json, bond_events.json,
 * dividends.json; docs/REFERENCE-DATA.md) into the configuration's calendar. */
#ifndef TINVESTD_CONFIG_CALENDAR_READER_H
#define TINVESTD_CONFIG_CALENDAR_READER_H

#include "config/loader.h"

/* Reads the three files of `reference_dir` (an absent one is no data); each entry must name an
 * instrument of the universe: a bond for coupons and events, a share or an ETF for dividends. */
void config_read_calendar(config_loader *ld);

#endif
