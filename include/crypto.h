/* SPDX-License-Identifier: Apache-2.0 */
/* libsodium glue: record sealing, data-key wrapping, passphrase KDF.
 * The exact byte layouts are in docs/CRYPTO.md (the files that hold the
 * results: docs/FORMAT.md). */
#pragma once

#include "util.h"

#define OV_KEY_BYTES 32
#define OV_FORMAT_VERSION 1      /* org.json, the wrapped-key AD */
#define OV_RECORD_FORMAT 2       /* secret records and their values' AD */

/* A 32-byte key in sodium_malloc'd, mlocked memory. */
typedef struct OvKey {
        unsigned char *bytes;
} OvKey;

int crypto_init(void);                          /* sodium_init(); 0 or -EIO */
OvKey *ov_key_new(void);                        /* zeroed; NULL on ENOMEM */
OvKey *ov_key_new_random(void);
OvKey *ov_key_dup(const OvKey *k);
void ov_key_free(OvKey *k);                     /* wipes */
static inline void ov_key_freep(OvKey **k) { ov_key_free(*k); }
#define _cleanup_key_ _cleanup_(ov_key_freep)

/* Seals a value (the JSON text of its fields) under an org data key, as
 * version `version` of the secret. AD binds format, org, id, type, key id
 * and (format 2) the version; version 0 is format 1's AD, which has no
 * version (read for migration only). Returns base64
 * (sodium_base64_VARIANT_ORIGINAL) nonce and ciphertext, malloc'd. */
int crypto_seal_value(const OvKey *data_key, uint32_t key_id,
                      const char *org, const char *id, const char *type, uint32_t version,
                      const void *plain, size_t plain_len,
                      char **ret_nonce_b64, char **ret_ct_b64);
int crypto_open_value(const OvKey *data_key, uint32_t key_id,
                      const char *org, const char *id, const char *type, uint32_t version,
                      const char *nonce_b64, const char *ct_b64,
                      char **ret_plain, size_t *ret_plain_len);
/* The same with format 1's AD (version 0). */
int crypto_seal_record(const OvKey *data_key, uint32_t key_id,
                       const char *org, const char *id, const char *type,
                       const void *plain, size_t plain_len,
                       char **ret_nonce_b64, char **ret_ct_b64);
/* Opens it; *ret_plain is sodium_malloc'd, NUL-terminated; free it with
 * crypto_free_plain(). -EBADMSG on any mismatch or tampering. */
int crypto_open_record(const OvKey *data_key, uint32_t key_id,
                       const char *org, const char *id, const char *type,
                       const char *nonce_b64, const char *ct_b64,
                       char **ret_plain, size_t *ret_plain_len);
void crypto_free_plain(char *plain);            /* wipes; NULL is fine */
/* Locked memory for size bytes of plaintext (a kept buffer when one is free,
 * else sodium_malloc); NULL on ENOMEM. Free it with crypto_free_plain(). */
char *crypto_alloc_plain(size_t size);

/* Wraps an org data key with the master key (AD: version, org, key id). */
int crypto_wrap_key(const OvKey *master, const char *org, uint32_t key_id, const OvKey *data_key,
                    char **ret_nonce_b64, char **ret_wrapped_b64);
int crypto_unwrap_key(const OvKey *master, const char *org, uint32_t key_id,
                      const char *nonce_b64, const char *wrapped_b64, OvKey **ret);

/* Argon2id (moderate limits) for passphrase mode. */
#define OV_SALT_BYTES 16
int crypto_derive_passphrase_key(const char *passphrase, size_t len, const unsigned char salt[OV_SALT_BYTES],
                                 unsigned long long opslimit, size_t memlimit, OvKey **ret);
/* A verifier that proves a key without revealing it (keyed BLAKE2b). */
int crypto_key_verifier(const OvKey *key, char **ret_b64);
/* The org manifest's MAC (docs/FORMAT.md): BLAKE2b-256 of msg keyed with
 * BLAKE2b-256("orgvault-manifest-key", key = data key); base64. */
int crypto_manifest_mac(const OvKey *data_key, const void *msg, size_t len, char **ret_b64);
/* Short hex fingerprint (16 hex chars) used to name keyring entries. */
int crypto_key_fingerprint(const OvKey *key, char ret[17]);

char *b64_encode(const void *data, size_t len);
int b64_decode(const char *b64, void *buf, size_t buf_len, size_t *ret_len);
