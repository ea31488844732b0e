/* SPDX-License-Identifier: Apache-2.0 */
/* Keys in the session keyring. Runs as root inside the PAM stack, before the
 * application changes to the user: the key is made by root (so this process
 * possesses it through the session keyring), then handed to the user and
 * narrowed to read-only, last, because narrowing takes away the setattr
 * permission every earlier step needs. Revoking would need write or setattr
 * too, which the key must not grant; invalidating needs only search. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>

#include "pam-keyring.h"

int session_keyring_check(uid_t uid, key_serial_t *ret, const char **ret_why) {
        key_serial_t session, user_session;
        char *desc = NULL;
        unsigned owner;
        int r;

        session = keyctl_get_keyring_ID(KEY_SPEC_SESSION_KEYRING, 0);
        user_session = keyctl_get_keyring_ID(KEY_SPEC_USER_SESSION_KEYRING, 0);
        if (session < 0 || session == user_session) {
                *ret_why = "there is no session keyring, only the user-session keyring shared by all of the "
                           "user's sessions (put 'session optional pam_keyinit.so force revoke' before pam_orgvault)";
                return -EBUSY;
        }
        /* "keyring;<uid>;<gid>;<perm>;<description>" */
        if (keyctl_describe_alloc(session, &desc) < 0) {
                r = -errno;
                *ret_why = "the session keyring cannot be described";
                return r;
        }
        r = sscanf(desc, "keyring;%u;", &owner);
        free(desc);
        if (r != 1 || owner != uid) {
                *ret_why = "the session keyring is not one made for this session's user (it is shared with "
                           "the process that started the session; put 'session optional pam_keyinit.so force "
                           "revoke' before pam_orgvault)";
                return -EBUSY;
        }
        *ret = session;
        return 0;
}

int session_key_add(const char *credential, const void *value, size_t len, uid_t uid, gid_t gid,
                    unsigned timeout, key_serial_t *ret) {
        char desc[sizeof(PAM_OV_KEY_PREFIX) + 256];
        key_serial_t key;
        int r = 0;

        if ((size_t) snprintf(desc, sizeof(desc), PAM_OV_KEY_PREFIX "%s", credential) >= sizeof(desc))
                return -ENAMETOOLONG;
        /* An existing key of that name is not ours to overwrite: add_key would
         * update it in place and we would not know what we replaced. */
        if (keyctl_search(KEY_SPEC_SESSION_KEYRING, "user", desc, 0) >= 0)
                return -EEXIST;
        key = add_key("user", desc, value, len, KEY_SPEC_SESSION_KEYRING);
        if (key < 0)
                return -errno;
        if (timeout > 0 && keyctl_set_timeout(key, timeout) < 0)
                r = -errno;
        /* The user's quota is charged from here (maxkeys, maxbytes). */
        if (r >= 0 && keyctl_chown(key, uid, gid) < 0)
                r = -errno;
        if (r >= 0 && keyctl_setperm(key, PAM_OV_KEY_PERM) < 0)
                r = -errno;
        if (r < 0) {
                (void) keyctl_invalidate(key);
                return r;
        }
        *ret = key;
        return 0;
}

int session_key_invalidate(key_serial_t key, uid_t uid) {
        if (keyctl_invalidate(key) >= 0)
                return 0;
        if (errno != EACCES)
                return -errno;
        /* Not possessed any more (the application changed session keyring):
         * the user's own search permission still lets us. */
        uid_t old = (uid_t) setfsuid(uid);
        int r = keyctl_invalidate(key) < 0 ? -errno : 0;
        (void) setfsuid(old);
        return r;
}
