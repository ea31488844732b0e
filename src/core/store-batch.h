/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit for the files backend: record writes staged while a batch is
 * open are each written to their temp file at once, and made durable
 * together at the commit: every temp file's writeback started, each
 * fsync'd, each renamed into place, and each directory fsync'd once. A
 * caller is told its write is durable only after the commit returned 0.
 * Until then a crash leaves the old file (and a temp leftover, removed at
 * the next load) or, after a rename whose directory entry reached the disk,
 * the new, complete one: never a partial record. Private to the store. */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <jansson.h>

typedef struct StoreBatch StoreBatch;

StoreBatch *store_batch_new(void);
void store_batch_free(StoreBatch *b);
size_t store_batch_pending(const StoreBatch *b);
/* Writes data to a temp file beside path (below dir_fd), to be renamed to
 * path at the commit, after every write staged before it. *ret_st (may be
 * NULL): the temp file's stat, which the rename keeps. */
int store_batch_stage(StoreBatch *b, int dir_fd, const char *path, const void *data, size_t len, mode_t mode,
                      struct stat *ret_st);
/* Makes every staged write durable: 0, or the first error, in which case no
 * staged write may be taken as durable. A failed fsync renames nothing (the
 * temp files are removed). The result of a commit nobody has asked for yet
 * is kept for store_batch_take_result(). */
int store_batch_commit(StoreBatch *b, int dir_fd);
/* The outcome of the commits since the last call (0 when all succeeded),
 * after committing what is still staged; resets it. */
int store_batch_take_result(StoreBatch *b, int dir_fd);
/* data as the file at path: durable now when batch is NULL
 * (write_file_atomic_stat_at), else staged in batch. */
int store_write_file(int dir_fd, StoreBatch *batch, const char *path, const void *data, size_t len, mode_t mode,
                     struct stat *ret_st);
/* doc as its file (compact, sorted keys, a newline): durable now when batch
 * is NULL (write_json_atomic_stat_at), else staged in batch. */
int store_write_json(int dir_fd, StoreBatch *batch, const char *path, json_t *doc, mode_t mode,
                     struct stat *ret_st);
