/* One instrument's year of minute candles as T-Invest's history archive (docs/HISTORY.md): a ZIP
 * made in memory, one member `<uid>_<YYYYMMDD>.csv` per UTC day that has candles, rows
 * `uid;YYYY-MM-DDTHH:MM:SSZ;open;close;high;low;volume;` with the prices as their shortest exact
 * decimals (money_format_decimal). What `GET /history-data` answers (docs/PROTOCOL.md).
 *
 * DESIGN: the members' text is made day by day from the store reader's candles and handed to
 * libzip, which owns it; the archive is written into a memory source and copied out once. No
 * file is touched, so a failure leaves nothing behind. */
#ifndef TINVESTD_HTTP_HISTORY_ARCHIVE_H
#define TINVESTD_HTTP_HISTORY_ARCHIVE_H

#include <stddef.h>

#include "history/history_store.h"

/* The years an archive may be asked for: the store's minutes are UTC seconds since 1970, and a
 * year of four digits is what the official address takes. */
#define HISTORY_ARCHIVE_MIN_YEAR 1970
#define HISTORY_ARCHIVE_MAX_YEAR 9999

/* The archive of `uid`'s candles (from `reader`) opening in the UTC year `year`. On 0, `*zip`
 * (malloc'd, the caller frees) holds `*zip_len` bytes and `*candles` the rows written. Returns
 * -ENOENT when the year has no candle (nothing allocated), -ENOMEM, or -EIO when libzip fails. */
int history_archive_build(const history_reader *reader, const char *uid, int year, char **zip,
                          size_t *zip_len, size_t *candles);

/* Parses a year as the address gives it: 4 decimal digits within the bounds above. Returns 0, or
 * -EINVAL. */
int history_archive_parse_year(const char *text, int *year);

#endif
