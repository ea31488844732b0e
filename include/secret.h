/* SPDX-License-Identifier: Apache-2.0 */
/* A secret as the vault holds it and hands it to callers: its metadata in
 * clear, its value sealed (docs/FORMAT.md), its references and last use.
 * The record format and the files are the store's business (src/core). */
#pragma once

#include "util.h"

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

/* An earlier value of a secret, kept for rollback (sealed like the current
 * one, its AD bound to its own version). */
typedef struct SecretValue {
        uint32_t version;
        uint32_t key_id;
        char *nonce;             /* base64 */
        char *ciphertext;        /* base64 */
        uint64_t set;            /* µs since the epoch: when this value was set */
        char *by;                /* who set it: a user name or uid; "" when not known */
} SecretValue;

/* At most this many earlier values per secret (--keep-versions). */
#define OV_VERSIONS_MAX 100
/* Bytes of text naming who set a value. */
#define OV_SET_BY_MAX 256

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
        uint64_t value_set;      /* when the current value was set */
        char *value_by;          /* who set it ("" when not known); never NULL once loaded */
        SecretValue *previous;   /* earlier values, newest first (n_previous below) */
        /* reminders, not kill switches: 0 = none */
        uint64_t expires;        /* µs since the epoch */
        uint64_t rotate_every;   /* µs after value_set */
        Reference *refs;         /* n_refs below */
        /* kept in memory, written lazily to orgs/<org>/usage.json */
        uint64_t last_used;
        char *last_used_by;
        RecordStamp stamp;       /* of its record file, for the org index */
        uint64_t deleted;        /* in the trash: when it was deleted (µs); else 0 */
        /* The counts and flags together, so that the struct fits malloc's
         * 192-byte chunk: a load holds 100,000 of them. */
        uint32_t n_previous;     /* at most OV_VERSIONS_MAX */
        uint32_t n_refs;         /* at most OV_REFERENCES_MAX */
        uint32_t name_slot;      /* in its org's search index (name-index.h); 0: not in one */
        bool legacy_ad;          /* read from a format 1 record: value sealed with format 1's AD */
        /* A loaded secret's id, name, type, nonce, ciphertext and value_by
         * are in one block that starts at id (secret_pack_strings): six
         * allocations each cost a third of their memory in malloc headers
         * and rounding. false: each of them is its own allocation. Code
         * that frees or hands over one of them calls secret_own_strings()
         * first. */
        bool strings_packed;
} Secret;

/* Bounds of a secret's references (feature and target: 1..256 bytes of
 * text without control characters). */
#define OV_REFERENCE_TEXT_MAX 256
#define OV_REFERENCES_MAX 64
bool reference_text_valid(const char *s);

void secret_value_clear(SecretValue *v);
void secret_free(Secret *s);
/* Moves id, name, type, nonce, ciphertext and value_by (all set) into one
 * block; -ENOMEM leaves s as it was. */
int secret_pack_strings(Secret *s);
/* The same from the bytes of each (not NUL-terminated), in that order, for
 * a secret that has none of them yet. */
int secret_set_strings(Secret *s, const char *const str[static 6], const size_t len[static 6]);
/* Gives each of those six its own allocation again, so that it can be freed
 * or handed over alone (before a change to the secret); -ENOMEM leaves s as
 * it was. */
int secret_own_strings(Secret *s);
/* When the value is due for rotation (value_set + rotate_every), 0 = never. */
uint64_t secret_rotate_by(const Secret *s);
static inline void secret_freep(Secret **s) { secret_free(*s); }
#define _cleanup_secret_ _cleanup_(secret_freep)
