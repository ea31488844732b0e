/* SPDX-License-Identifier: Apache-2.0 */
/* Unwrapped keys cached in the service uid's kernel user keyring, so a new
 * activation after an idle exit starts unsealed. Entries are "user" keys
 * named "orgvault:<scope>:<name>", readable only by their uid and possessor,
 * with a timeout. Any keyctl failure turns the cache off (logged once): the
 * vault then works uncached.
 *
 * Possession: add_key() gives a new key no permission for its uid beyond
 * view, so setting its permissions and timeout takes possessor rights, and a
 * process possesses only what its thread, process and session keyrings reach.
 * A systemd service (KeyringMode=private, the default) gets a session keyring
 * not linked to the user keyring, so the cache joins a fresh session keyring
 * of its own and links the user keyring into it, whatever it inherited. */

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

#define PROBE_NAME "probe"

static void cache_break(KeyringCache *c, const char *what, int err) {
        if (c->broken)
                return;
        c->broken = true;
        log_warning_errno(-err, "Kernel keyring cache disabled, %s failed: %m; keys will not survive a restart",
                          what);
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

static char *describe(const KeyringCache *c, const char *name);

/* See the top: a session keyring of our own that links the user keyring. */
static void possess_user_keyring(KeyringCache *c) {
        if (keyctl_join_session_keyring(NULL) < 0)
                cache_break(c, "joining a session keyring", errno);
        else if (keyctl_link(KEY_SPEC_USER_KEYRING, KEY_SPEC_SESSION_KEYRING) < 0)
                cache_break(c, "linking the user keyring", errno);
}

/* Stores a random probe entry and reads it back once at start, so "enabled"
 * (Status's KeyringCache) means a key really was stored and found. */
static void probe(KeyringCache *c) {
        _cleanup_key_ OvKey *k = ov_key_new_random();

        if (!k) {
                cache_break(c, "making a probe key", ENOMEM);
                return;
        }
        keyring_cache_put(c, PROBE_NAME, k);
        _cleanup_key_ OvKey *back = keyring_cache_get(c, PROBE_NAME);
        if (keyring_cache_enabled(c) && (!back || sodium_memcmp(back->bytes, k->bytes, OV_KEY_BYTES) != 0))
                cache_break(c, "reading a probe key back", EIO);
        _cleanup_free_ char *desc = describe(c, PROBE_NAME);
        key_serial_t id = desc ? keyctl_search(KEY_SPEC_USER_KEYRING, "user", desc, 0) : -1;
        if (id >= 0) {
                (void) keyctl_revoke(id);
                (void) keyctl_unlink(id, KEY_SPEC_USER_KEYRING);
        }
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
        if (timeout_sec > 0)
                possess_user_keyring(c);
        if (keyring_cache_enabled(c))
                probe(c);
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

void keyring_cache_revoke(KeyringCache *c, const char *name) {
        /* Runs even with a zero timeout: an earlier run may have cached it. */
        if (!c || c->broken)
                return;
        _cleanup_free_ char *desc = describe(c, name);
        if (!desc)
                return;
        key_serial_t id = keyctl_search(KEY_SPEC_USER_KEYRING, "user", desc, 0);
        if (id < 0) {
                if (!is_miss(errno))
                        cache_break(c, "keyctl_search", errno);
                return;
        }
        /* Revoked, the payload is unreadable at once; unlinked, the entry
         * leaves /proc/keys once the kernel collects it. */
        (void) keyctl_revoke(id);
        (void) keyctl_unlink(id, KEY_SPEC_USER_KEYRING);
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
