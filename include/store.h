/* SPDX-License-Identifier: Apache-2.0 */
/* On-disk records: orgs/<org>/secrets/<id>.json and orgs/<org>/org.json,
 * written atomically and durably; broken files go to quarantine/.
 * docs/FORMAT.md documents every field. */
#pragma once

#include "crypto.h"

typedef struct Reference {
        char *feature;           /* e.g. "alerts" */
        char *target;            /* e.g. "sink:ops-channel" */
        uint64_t created;
} Reference;

/* What a record file looked like (stat) when it was read or written. Every
 * write replaces the file (temp file + rename), so a changed record has a new
 * inode and mtime: an unchanged stamp means unchanged content. ino 0: not
 * known (such a secret is left out of the org index). */
typedef struct RecordStamp {
        uint64_t ino;
        uint64_t size;
        int64_t mtime_sec;
        uint32_t mtime_nsec;
} RecordStamp;

typedef struct Secret {
        char *id;
        char *name;
        char *type;
        uint64_t created, updated;
        uint32_t version;        /* 1 at add, +1 per value update */
        /* sealed value */
        uint32_t key_id;
        char *nonce;             /* base64 */
        char *ciphertext;        /* base64 */
        Reference *refs;
        size_t n_refs;
        /* kept in memory, written lazily to orgs/<org>/usage.json */
        uint64_t last_used;
        char *last_used_by;
        RecordStamp stamp;       /* of its record file, for the org index */
} Secret;

/* Bounds of a secret's references (feature and target: 1..256 bytes of
 * text without control characters). */
#define OV_REFERENCE_TEXT_MAX 256
#define OV_REFERENCES_MAX 64
bool reference_text_valid(const char *s);

void secret_free(Secret *s);
static inline void secret_freep(Secret **s) { secret_free(*s); }
#define _cleanup_secret_ _cleanup_(secret_freep)

/* Record <-> JSON. The parser checks every field (types, bounds, id/org
 * validity) and fails with -EBADMSG and a message on anything off. */
json_t *secret_to_json(const Secret *s, const char *org);
int secret_from_json(json_t *j, const char *org, Secret **ret, char **ret_error);
int secret_parse_text(const char *text, size_t len, const char *org, Secret **ret, char **ret_error);
/* The checks secret_from_json makes, on a Secret built another way (the org
 * index): -EBADMSG and a message when a field is off. */
int secret_check(const Secret *s, char **ret_error);

typedef struct OrgKeyEntry {
        uint32_t id;
        uint64_t created;
        char *nonce;             /* base64, wrapping nonce */
        char *wrapped;           /* base64, data key wrapped by the master key */
} OrgKeyEntry;

typedef struct OrgKeys {
        uint32_t current;        /* key id new records are sealed with */
        OrgKeyEntry *keys;
        size_t n_keys;
        uint32_t rotating_to;    /* != 0 while a rotation is under way */
} OrgKeys;

void org_keys_clear(OrgKeys *k);
int org_keys_load(int state_fd, const char *org, OrgKeys *ret, char **ret_error);   /* -ENOENT when absent */
int org_keys_save(int state_fd, const char *org, const OrgKeys *k);

/* Store layout helpers. All paths relative to the state dir fd. */
int store_prepare(int state_fd);                                 /* orgs/, quarantine/ with 0700 */
/* Durable; *ret_stamp (may be NULL) gets the new file's stamp, or zeroes
 * when it cannot be taken. */
int store_save_secret(int state_fd, const char *org, const Secret *s, RecordStamp *ret_stamp);
int store_delete_secret(int state_fd, const char *org, const char *id);    /* unlink + fsync dir */
/* Loads every record of an org. Removes temp leftovers, moves unparsable
 * records to quarantine/<org>.<file>.<usec> and reports each via log;
 * *ret_quarantined counts them. Secrets are returned in an array sorted by
 * id, each with its stamp. A record whose file still has the stamp the org
 * index (below) holds is taken from the index instead of parsed;
 * *ret_index_stale (may be NULL) tells whether the index should be
 * rewritten (missing, unusable, or not matching the files). */
int store_load_org(int state_fd, const char *org, Secret ***ret, size_t *ret_n, unsigned *ret_quarantined,
                   bool *ret_index_stale);
int store_quarantine(int state_fd, const char *org, const char *file_name, const char *reason);
/* Names of orgs that have a directory under orgs/. */
int store_list_orgs(int state_fd, char ***ret);
/* Number of records of an org without parsing them. */
int store_count_secrets(int state_fd, const char *org, unsigned *ret);
unsigned store_count_quarantined(int state_fd);

/* The org index, orgs/<org>/index: a cache of every record of the org with
 * its stamp, so a load reads one file instead of parsing each record
 * (docs/FORMAT.md). Never authoritative: a load trusts an entry only while
 * the record file has the same stamp. by_id must be sorted by id; secrets
 * with an unknown stamp are left out. Written atomically (not on a call's
 * path: the vault writes it when it flushes lazy state). */
int store_save_org_index(int state_fd, const char *org, Secret *const *by_id, size_t n);
/* The index's bytes <-> secrets (sorted by id, with stamps). The parser
 * refuses anything off (checksum, version, org, order, any field) with
 * -EBADMSG and a message. */
int org_index_format(const char *org, Secret *const *by_id, size_t n, uint8_t **ret, size_t *ret_len);
int org_index_parse(const uint8_t *data, size_t len, const char *org, Secret ***ret, size_t *ret_n,
                    char **ret_error);
/* Like org_index_parse, but builds (and checks) only the secrets keep()
 * wants, asked with each entry's id and stamp in order; the others are only
 * walked. */
typedef bool (*org_index_keep_t)(const char *id, const RecordStamp *stamp, void *userdata);
int org_index_parse_some(const uint8_t *data, size_t len, const char *org, org_index_keep_t keep, void *userdata,
                         Secret ***ret, size_t *ret_n, char **ret_error);

/* Lazily written usage: {"<id>": {"last_used": t, "by": s, "created": t}}. */
int store_load_usage(int state_fd, const char *org, json_t **ret);
int store_save_usage(int state_fd, const char *org, json_t *usage);  /* atomic, durable */
