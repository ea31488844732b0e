/* SPDX-License-Identifier: Apache-2.0 */
/* The session keyring side of pam_orgvault: is it this session's own, and
 * adding and invalidating the module's keys in it. */
#pragma once

#include <keyutils.h>
#include <stdbool.h>
#include <sys/types.h>

#define PAM_OV_KEY_PREFIX "orgvault:"

/* The possessor and the user may view, read and search; nothing else, so no
 * one can change, re-link, re-permission or hand the key on. */
#define PAM_OV_KEY_PERM (KEY_POS_VIEW | KEY_POS_READ | KEY_POS_SEARCH | \
                         KEY_USR_VIEW | KEY_USR_READ | KEY_USR_SEARCH)

/* 0 when the calling process's session keyring is a fresh one of uid's
 * (pam_keyinit's, or systemd's KeyringMode=private one): a real session
 * keyring, not the user-session keyring it falls back to, owned by uid.
 * -EBUSY otherwise, with *ret_why saying what it is instead (static text). */
int session_keyring_check(uid_t uid, key_serial_t *ret, const char **ret_why);

/* Adds a "user" key described "orgvault:<credential>" to the session
 * keyring, gives it to uid:gid with PAM_OV_KEY_PERM and the timeout (0:
 * none). On failure nothing is left behind. Returns 0 or -errno. */
int session_key_add(const char *credential, const void *value, size_t len, uid_t uid, gid_t gid,
                    unsigned timeout, key_serial_t *ret);

/* Invalidates a key this module added: it can no longer be read and the
 * kernel unlinks it from every keyring. Possession gives the search
 * permission that takes; when the caller no longer possesses it, the user's
 * permission is used (setfsuid to uid). 0, or -errno (-ENOKEY: already gone). */
int session_key_invalidate(key_serial_t key, uid_t uid);
