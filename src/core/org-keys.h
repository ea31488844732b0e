/* SPDX-License-Identifier: Apache-2.0 */
/* An org's key document, orgs/<org>/org.json (docs/FORMAT.md): its data
 * keys wrapped by the master key, which one seals new records, and the one
 * a rotation is moving to. Private to the core. */
#pragma once

#include "store-backend.h"
#include "util.h"

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
/* Through the store (StoreOps load_org_keys / save_org_keys). The loader
 * checks every field and fails with -EBADMSG and a message on anything off;
 * -ENOENT when the org has no keys yet. */
int org_keys_load(Store *st, const char *org, OrgKeys *ret, char **ret_error);
int org_keys_save(Store *st, const char *org, const OrgKeys *k);
