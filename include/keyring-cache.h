/* SPDX-License-Identifier: Apache-2.0 */
/* Unwrapped keys cached in the service uid's kernel user keyring, so the
 * next activation after an idle exit starts unsealed without the passphrase.
 * Descriptions: "orgvault:<scope>:<name>", where scope is a hash of the state
 * dir so two vaults of one uid never share entries. */
#pragma once

#include "crypto.h"

typedef struct KeyringCache KeyringCache;

/* timeout_sec == 0 disables the cache. Never fails for keyctl reasons: when
 * the keyring is unusable the cache turns itself off and logs it once. */
KeyringCache *keyring_cache_new(const char *state_dir, unsigned timeout_sec);
void keyring_cache_free(KeyringCache *c);
bool keyring_cache_enabled(const KeyringCache *c);

/* Returns a new key (caller frees) or NULL on a miss. */
OvKey *keyring_cache_get(KeyringCache *c, const char *name);
/* Stores (or replaces) the key and (re)arms its timeout. */
void keyring_cache_put(KeyringCache *c, const char *name, const OvKey *key);
/* Revokes the entry of this name, if any (a data key rotated away). */
void keyring_cache_revoke(KeyringCache *c, const char *name);
/* Revokes every orgvault:<scope>: entry (Seal). */
void keyring_cache_revoke_all(KeyringCache *c);
