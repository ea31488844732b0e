/* SPDX-License-Identifier: Apache-2.0 */
/* Unwrapped keys cached in the service uid's kernel user keyring, so a new
 * activation after an idle exit starts unsealed. Entries are "user" keys
 * named "orgvault:<scope>:<name>", readable only by their uid and possessor,
 * with a timeout. Any keyctl failure turns the cache off (logged once): the
 * vault then works uncached. */

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <keyutils.h>
#include <sodium.h>

#include "keyring-cache.h"
#include "log.h"

#define DESC_PREFIX "orgvault:"
#define SCOPE_HEX 16
/* Possessor and owning uid only: no group or other bits. */
#define CACHE_KEY_PERM (KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ | KEY_USR_WRITE | \
                        KEY_USR_SEARCH | KEY_USR_SETATTR)

struct KeyringCache {
        char prefix[sizeof(DESC_PREFIX) + SCOPE_HEX + 1];   /* "orgvault:<scope>:" */
        unsigned timeout_sec;
        bool broken;                    /* keyctl failed: off for good */
};

static void cache_break(KeyringCache *c, const char *what, int err) {
        if (c->broken)
                return;
        c->broken = true;
        log_warning("Kernel keyring cache disabled, %s failed: %s; keys will not survive a restart",
                    what, strerror(err));
}

/* The scope is derived from the state dir's canonical path so two vaults of
 * one uid never share entries. */
static void scope_of(const char *state_dir, char ret[SCOPE_HEX + 1]) {
        char canon[PATH_MAX];
        unsigned char h[crypto_generichash_BYTES];
        const char *p = realpath(state_dir, canon) ? canon : state_dir;

        crypto_generichash(h, sizeof h, (const unsigned char *) p, strlen(p), NULL, 0);
        sodium_bin2hex(ret, SCOPE_HEX + 1, h, SCOPE_HEX / 2);
}

KeyringCache *keyring_cache_new(const char *state_dir, unsigned timeout_sec) {
        char scope[SCOPE_HEX + 1];

        if (!state_dir)
                return NULL;
        KeyringCache *c = calloc(1, sizeof(KeyringCache));
        if (!c)
                return NULL;
        scope_of(state_dir, scope);
        snprintf(c->prefix, sizeof c->prefix, DESC_PREFIX "%s:", scope);
        c->timeout_sec = timeout_sec;
        /* Probe once so an unusable keyring is reported at start-up (unless
         * the cache is switched off anyway). */
        if (timeout_sec > 0 && keyctl_get_keyring_ID(KEY_SPEC_USER_KEYRING, 0) < 0)
                cache_break(c, "finding the user keyring", errno);
        return c;
}

void keyring_cache_free(KeyringCache *c) {
        free(c);
}

bool keyring_cache_enabled(const KeyringCache *c) {
        return c && !c->broken && c->timeout_sec > 0;
}

/* Errors that only mean "no usable entry", not a broken keyring. */
static bool is_miss(int err) {
        return err == ENOKEY || err == EKEYEXPIRED || err == EKEYREVOKED;
}

static char *describe(const KeyringCache *c, const char *name) {
        if (!name || !*name)
                return NULL;
        return strdup_printf("%s%s", c->prefix, name);
}

OvKey *keyring_cache_get(KeyringCache *c, const char *name) {
        if (!keyring_cache_enabled(c))
                return NULL;
        _cleanup_free_ char *desc = describe(c, name);
        if (!desc)
                return NULL;

        key_serial_t id = keyctl_search(KEY_SPEC_USER_KEYRING, "user", desc, 0);
        if (id < 0) {
                if (!is_miss(errno))
                        cache_break(c, "keyctl_search", errno);
                return NULL;
        }

        _cleanup_key_ OvKey *k = ov_key_new();
        if (!k)
                return NULL;
        long n = keyctl_read(id, (char *) k->bytes, OV_KEY_BYTES);
        if (n < 0) {
                if (!is_miss(errno))
                        cache_break(c, "keyctl_read", errno);
                return NULL;
        }
        if (n != OV_KEY_BYTES)          /* not one of ours: ignore it */
                return NULL;
        OvKey *ret = k;
        k = NULL;
        return ret;
}

void keyring_cache_put(KeyringCache *c, const char *name, const OvKey *key) {
        if (!keyring_cache_enabled(c) || !key)
                return;
        _cleanup_free_ char *desc = describe(c, name);
        if (!desc)
                return;

        /* add_key() replaces the payload of an existing entry of this name. */
        key_serial_t id = add_key("user", desc, key->bytes, OV_KEY_BYTES, KEY_SPEC_USER_KEYRING);
        if (id < 0) {
                cache_break(c, "add_key", errno);
                return;
        }
        if (keyctl_setperm(id, CACHE_KEY_PERM) < 0 || keyctl_set_timeout(id, c->timeout_sec) < 0) {
                int err = errno;
                /* Never leave an entry with default permissions or no timeout. */
                (void) keyctl_revoke(id);
                (void) keyctl_unlink(id, KEY_SPEC_USER_KEYRING);
                cache_break(c, "setting key permissions or timeout", err);
        }
}

/* The description of a key, from "type;uid;gid;perm;description". */
static const char *description_field(const char *d) {
        for (int i = 0; i < 4; i++) {
                d = strchr(d, ';');
                if (!d)
                        return NULL;
                d++;
        }
        return d;
}

void keyring_cache_revoke_all(KeyringCache *c) {
        _cleanup_free_ key_serial_t *ids = NULL;

        /* Runs even with a zero timeout: entries of an earlier run may remain. */
        if (!c || c->broken)
                return;
        long n = keyctl_read_alloc(KEY_SPEC_USER_KEYRING, (void **) &ids);
        if (n < 0) {
                cache_break(c, "reading the user keyring", errno);
                return;
        }

        for (size_t i = 0; i < (size_t) n / sizeof(key_serial_t); i++) {
                _cleanup_free_ char *info = NULL;

                if (keyctl_describe_alloc(ids[i], &info) < 0)
                        continue;       /* gone, expired or not ours to see */
                const char *desc = description_field(info);
                if (strncmp(info, "user;", 5) != 0 || !desc || strncmp(desc, c->prefix, strlen(c->prefix)) != 0)
                        continue;
                (void) keyctl_revoke(ids[i]);
                (void) keyctl_unlink(ids[i], KEY_SPEC_USER_KEYRING);
        }
}
