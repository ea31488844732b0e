/* SPDX-License-Identifier: Apache-2.0 */
/* Where the master key (KEK) comes from: keyfile, credential or passphrase. */
#pragma once

#include "crypto.h"
#include "keyring-cache.h"
#include "ov-error.h"

typedef enum KeyMode { KEY_MODE_KEYFILE, KEY_MODE_CREDENTIAL, KEY_MODE_PASSPHRASE } KeyMode;

const char *key_mode_to_string(KeyMode m);
int key_mode_from_string(const char *s, KeyMode *ret);

/* keyfile: <state>/master.key (32 bytes, 0400), created on first start.
 * credential: $CREDENTIALS_DIRECTORY/orgvault.master-key (32 bytes).
 * passphrase: the cached key from the keyring when its verifier matches
 * <state>/master.json, else NULL with 0 (sealed until unsealed).
 * A key that does not match master.json's verifier gives OV_ERR_SEALED with a
 * clear message and changes nothing. */
int master_key_load(int state_fd, KeyMode mode, KeyringCache *cache, OvKey **ret, OvError *e);
/* passphrase mode: derives with Argon2id from master.json's salt and checks
 * the verifier; on the very first unseal (no master.json) creates it.
 * Wrong passphrase: OV_ERR_ACCESS_DENIED "Wrong passphrase", nothing changed. */
int master_key_unseal(int state_fd, const char *passphrase, size_t len, KeyringCache *cache, OvKey **ret, OvError *e);
