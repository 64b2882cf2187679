/* Writing files so that what is written survives a crash: whole writes, and the replace of a
 * file by a new version (write a temporary file, fsync it, rename it over the old one, fsync the
 * directory — the rename is durable only once its directory is). Used by every file the server
 * keeps besides the journal's appends: snapshots, the instrument pin, the history store. */
#ifndef TINVESTD_UTIL_DURABLE_H
#define TINVESTD_UTIL_DURABLE_H

#include <stddef.h>

/* Writes all of `size` bytes, retrying short writes and EINTR; 0 or -errno. */
int durable_write_all(int fd, const void *data, size_t size);

/* fsync of a directory, so that the entries created or renamed in it survive a crash. */
int durable_sync_dir(const char *dir);

/* Ends the replace of `path` by the temporary file `tmp` (open as `fd`, fully written): fsync,
 * close, rename, then fsync of `dir`. `fd` is closed whatever happens; on a failure before the
 * rename the temporary file is removed. 0 or -errno. */
int durable_replace(int fd, const char *tmp, const char *path, const char *dir);

#endif
