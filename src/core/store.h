/* SPDX-License-Identifier: Apache-2.0 */
/* The store: where an org's records, keys and usage live durably. Private to
 * the core (the vault is its only user). Today one backend, files in the
 * state dir (docs/FORMAT.md): orgs/<org>/secrets/<id>.json, orgs/<org>/org.json,
 * orgs/<org>/usage.json and orgs/<org>/index, every write atomic and durable
 * (temp file, fsync, rename, fsync dir); broken files go to quarantine/.
 *
 * The first section is the whole boundary the vault uses: everything that
 * must survive a crash goes through these calls, and nothing else touches
 * the disk. The second section is how the file backend does it. */
#pragma once

#include "crypto.h"
#include "secret.h"
#include "store-batch.h"

/* ---- Durable operations (the store boundary) ---------------------------
 * All return 0 or a negative errno. Paths are relative to state_fd. */

int store_prepare(int state_fd);                                 /* orgs/, quarantine/ with 0700 */

/* Loads every record of an org. Removes temp leftovers, moves unparsable
 * records to quarantine/<org>.<file>.<usec> and reports each via log;
 * *ret_quarantined counts them. Secrets are returned in an array sorted by
 * id, each with its stamp. A record whose file still has the stamp the org
 * index (below) holds is taken from the index instead of parsed;
 * *ret_index_stale (may be NULL) tells whether the index should be
 * rewritten (missing, unusable, or not matching the files). */
int store_load_org(int state_fd, const char *org, Secret ***ret, size_t *ret_n, unsigned *ret_quarantined,
                   bool *ret_index_stale);

/* Durable; *ret_stamp (may be NULL) gets the new file's stamp, or zeroes
 * when it cannot be taken. */
int store_save_secret(int state_fd, const char *org, const Secret *s, RecordStamp *ret_stamp);
/* The same, or with batch, staged: written now, durable once the batch's
 * commit returned 0 (store-batch.h). */
int store_write_secret(int state_fd, StoreBatch *batch, const char *org, const Secret *s, RecordStamp *ret_stamp);
int store_delete_secret(int state_fd, const char *org, const char *id);    /* unlink + fsync dir */

/* The trash (orgs/<org>/trash/<id>.<deleted µs>.json): a deleted record
 * kept unchanged, at most one entry per id. Trashing moves the live record
 * there (removing the entry `replaces` of the same id, 0 = none, once the
 * move is durable); restoring moves it back and fails with -EEXIST when a
 * live record has the id; purging unlinks it. All durable. Loading returns
 * the entries sorted by id, each with Secret.deleted set; broken files go
 * to quarantine. store_save_trashed rewrites an entry (key rotation). */
int store_trash_secret(int state_fd, const char *org, const char *id, uint64_t deleted, uint64_t replaces);
int store_restore_secret(int state_fd, const char *org, const char *id, uint64_t deleted, RecordStamp *ret_stamp);
int store_purge_trashed(int state_fd, const char *org, const char *id, uint64_t deleted);
int store_save_trashed(int state_fd, const char *org, const Secret *s);
int store_load_trash(int state_fd, const char *org, Secret ***ret, size_t *ret_n, unsigned *ret_quarantined);

/* The org manifest (orgs/<org>/manifest.json): its text, -ENOENT when
 * absent; saving is durable. A record the
 * manifest refuses goes to quarantine/ from where it lies (secrets/ or,
 * with s->deleted, trash/). */
int store_load_manifest(int state_fd, const char *org, char **ret_text, size_t *ret_len);
int store_save_manifest(int state_fd, const char *org, const char *text, size_t len);
/* The same, or with batch, staged after what is staged already: renamed
 * after those records at the commit, so it never names a version the disk
 * doesn't have (store-batch.h). */
int store_write_manifest(int state_fd, StoreBatch *batch, const char *org, const char *text, size_t len);
int store_quarantine_record(int state_fd, const char *org, const Secret *s, const char *reason);

/* The org's key document (org.json; its fields are org-keys.c's business):
 * -ENOENT when absent, -EBADMSG when it is not JSON. Saving is durable. */
int store_load_org_keys(int state_fd, const char *org, json_t **ret);
int store_save_org_keys(int state_fd, const char *org, json_t *doc);

/* Lazily written usage: {"<id>": {"last_used": t, "by": s, "created": t}}.
 * Absent usage loads as an empty object. */
int store_load_usage(int state_fd, const char *org, json_t **ret);
int store_save_usage(int state_fd, const char *org, json_t *usage);  /* atomic, durable */

/* A load cache of every record of the org (by_id sorted by id); losing it
 * loses nothing. Not on a call's path: the vault writes it when it flushes
 * lazy state. */
int store_save_org_index(int state_fd, const char *org, Secret *const *by_id, size_t n);

/* Names of orgs that have records, keys or usage (a directory under orgs/). */
int store_list_orgs(int state_fd, char ***ret);
/* Number of records of an org without parsing them. */
int store_count_secrets(int state_fd, const char *org, unsigned *ret);
/* Files in quarantine/, all of them or (org non-NULL) those of one org. */
unsigned store_count_quarantined(int state_fd, const char *org);

/* ---- The file backend's formats -------------------------------------- */

/* Record <-> JSON. The parser checks every field (types, bounds, id/org
 * validity) and fails with -EBADMSG and a message on anything off. */
json_t *secret_to_json(const Secret *s, const char *org);
int secret_from_json(json_t *j, const char *org, Secret **ret, char **ret_error);
int secret_parse_text(const char *text, size_t len, const char *org, Secret **ret, char **ret_error);
/* The checks secret_from_json makes, on a Secret built another way (the org
 * index): -EBADMSG and a message when a field is off. */
int secret_check(const Secret *s, char **ret_error);

int store_quarantine(int state_fd, const char *org, const char *file_name, const char *reason);

/* The org index, orgs/<org>/index: a cache of every record of the org with
 * its stamp, so a load reads one file instead of parsing each record
 * (docs/FORMAT.md). Never authoritative: a load trusts an entry only while
 * the record file has the same stamp. Secrets with an unknown stamp are
 * left out. The index's bytes <-> secrets (sorted by id, with stamps): the
 * parser refuses anything off (checksum, version, org, order, any field)
 * with -EBADMSG and a message. */
int org_index_format(const char *org, Secret *const *by_id, size_t n, uint8_t **ret, size_t *ret_len);
int org_index_parse(const uint8_t *data, size_t len, const char *org, Secret ***ret, size_t *ret_n,
                    char **ret_error);
/* Like org_index_parse, but builds (and checks) only the secrets keep()
 * wants, asked with each entry's id and stamp in order; the others are only
 * walked. */
typedef bool (*org_index_keep_t)(const char *id, const RecordStamp *stamp, void *userdata);
int org_index_parse_some(const uint8_t *data, size_t len, const char *org, org_index_keep_t keep, void *userdata,
                         Secret ***ret, size_t *ret_n, char **ret_error);
