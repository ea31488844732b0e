/* SPDX-License-Identifier: Apache-2.0 */
/* orgvaultctl credential CRED-ID: prints one credential pam_orgvault loaded
 * into this session's keyring (key "orgvault:CRED-ID"), exactly its bytes.
 * No daemon call: the kernel already decided who can read the key. A value
 * is not put on a terminal unless asked (--force): there it would stay in
 * the scrollback and over the shoulder. */

#include <errno.h>
#include <keyutils.h>
#include <string.h>
#include <unistd.h>

#include "ctl.h"

#define CREDENTIAL_ID_MAX 193    /* <org>.<id>.<field> */

static bool credential_id_shape_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > CREDENTIAL_ID_MAX || s[0] == '.' || s[n - 1] == '.' || !strchr(s, '.'))
                return false;
        for (size_t i = 0; i < n; i++)
                if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || strchr("._-", s[i])))
                        return false;
        return !strstr(s, "..");
}

static int write_all(int fd, const char *p, size_t n) {
        while (n > 0) {
                ssize_t w = write(fd, p, n);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                p += w;
                n -= (size_t) w;
        }
        return 0;
}

int verb_credential(Ctl *c) {
        const char *id = c->args[0];
        _cleanup_free_ char *desc = NULL;
        void *value = NULL;
        key_serial_t key;
        long n;
        int r;

        if (!credential_id_shape_valid(id))
                return ctl_fail(CTL_EXIT_USAGE, "\"%s\" is no credential id: <org>.<id> or <org>.<id>.<field>.", id);
        desc = strdup_printf("orgvault:%s", id);
        if (!desc)
                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        key = keyctl_search(KEY_SPEC_SESSION_KEYRING, "user", desc, 0);
        if (key < 0) {
                if (errno == ENOKEY || errno == EKEYREVOKED || errno == EKEYEXPIRED || errno == EACCES)
                        return ctl_fail(CTL_EXIT_NOT_FOUND, "Credential %s is not in this session's keyring "
                                        "(pam_orgvault loads it when the session opens).", id);
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot search the session keyring: %s", strerror(errno));
        }
        if (isatty(STDOUT_FILENO) && !c->force)
                return ctl_fail(CTL_EXIT_USAGE, "Not printing credential %s to a terminal; redirect or pipe "
                                "the output, or pass --force.", id);
        n = keyctl_read_alloc(key, &value);
        if (n < 0)
                return ctl_fail(errno == ENOKEY || errno == EKEYREVOKED || errno == EKEYEXPIRED ? CTL_EXIT_NOT_FOUND
                                                                                                 : CTL_EXIT_FAILURE,
                                "Cannot read credential %s: %s", id, strerror(errno));
        r = write_all(STDOUT_FILENO, value, (size_t) n);
        explicit_bzero(value, (size_t) n);
        free(value);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Cannot write credential %s: %s", id, strerror(-r));
        return CTL_EXIT_OK;
}
