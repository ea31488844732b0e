/* SPDX-License-Identifier: Apache-2.0 */
/* pam_orgvault: at session open, the credentials the session's user may use
 * (as orgvaultd decides, ResolveForUser) become keys "orgvault:<credential>"
 * in the session keyring; at close, exactly those keys are invalidated.
 * It never prompts and never puts a value in the environment, a PAM item or
 * a log line. pam_orgvault(8) is the user's side of this file. */

#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include "pam-keyring.h"
#include "pam-options.h"
#include "pam-vault.h"

#define PUBLIC __attribute__((visibility("default")))
#define DATA_NAME "pam_orgvault:keys"

/* What open_session added, kept with pam_set_data for close_session. */
typedef struct LoadedKeys {
        uid_t uid;
        bool closed;             /* close_session invalidated them */
        size_t n;
        key_serial_t serials[];
} LoadedKeys;

static void invalidate_all(pam_handle_t *pamh, LoadedKeys *k, bool debug) {
        for (size_t i = 0; i < k->n; i++) {
                int r = session_key_invalidate(k->serials[i], k->uid);
                if (r < 0 && r != -ENOKEY && r != -EKEYREVOKED && r != -EKEYEXPIRED)
                        pam_syslog(pamh, LOG_ERR, "Cannot invalidate key %d: %s", (int) k->serials[i], strerror(-r));
                else if (debug)
                        pam_syslog(pamh, LOG_DEBUG, "Key %d invalidated", (int) k->serials[i]);
        }
        k->closed = true;
}

/* pam_end() frees the data. A session that failed to open (a required
 * pam_orgvault, or another module) never sees close_session, so its keys go
 * here; PAM_DATA_SILENT is a forked child's pam_end, which must leave the
 * parent's session alone. */
static void loaded_keys_cleanup(pam_handle_t *pamh, void *data, int error_status) {
        LoadedKeys *k = data;

        if (!(error_status & PAM_DATA_SILENT) && !(error_status & PAM_DATA_REPLACE) && !k->closed)
                invalidate_all(pamh, k, false);
        free(k);
}

__attribute__((format(printf, 3, 4)))
static void log_to_pam(void *userdata, int priority, const char *fmt, ...) {
        va_list ap;

        va_start(ap, fmt);
        pam_vsyslog(userdata, priority, fmt, ap);
        va_end(ap);
}

/* The daemon did not answer at all: asking again would only make the login
 * wait another full call timeout per credential. */
static bool daemon_gone(int r, const sd_bus_error *e) {
        if (sd_bus_error_is_set(e))
                return sd_bus_error_has_names(e, SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT,
                                              SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
                       strncmp(e->name, "org.freedesktop.DBus.Error.Spawn.", 33) == 0;  /* activation failed */
        return r == -ETIMEDOUT || r == -ECONNRESET || r == -ENOTCONN || r == -EPIPE;
}

static const char *bus_error_text(int r, const sd_bus_error *e) {
        if (sd_bus_error_is_set(e)) {
                if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED))
                        return "refused by orgvaultd";
                if (sd_bus_error_has_name(e, "io.orgvault.Vault1.Error.Sealed"))
                        return "the vault is sealed";
                if (daemon_gone(r, e))
                        return "orgvaultd is not reachable";
                return e->message ?: e->name;
        }
        return strerror(-r);
}

/* One credential: ask, add the key, wipe the value. Logs its own failure;
 * *ret_gone tells the caller not to ask for the others. */
static int load_one(pam_handle_t *pamh, sd_bus *bus, const PamOptions *o, const char *user, const char *service,
                    const struct passwd *pw, const char *credential, key_serial_t *ret, bool *ret_gone) {
        sd_bus_error error = SD_BUS_ERROR_NULL;
        char *value = NULL;
        size_t len = 0;
        int r;

        r = pam_vault_resolve(bus, user, service, credential, &value, &len, &error);
        if (r < 0) {
                pam_syslog(pamh, LOG_WARNING, "Credential %s not loaded for %s: %s", credential, user,
                           bus_error_text(r, &error));
                if (o->debug && sd_bus_error_is_set(&error))
                        pam_syslog(pamh, LOG_DEBUG, "Credential %s: %s", credential, error.name);
                *ret_gone = daemon_gone(r, &error);
                sd_bus_error_free(&error);
                return r;
        }
        r = session_key_add(credential, value, len, pw->pw_uid, pw->pw_gid, o->timeout, ret);
        explicit_bzero(value, len);
        free(value);
        if (r < 0) {
                pam_syslog(pamh, LOG_WARNING, "Credential %s not loaded for %s: cannot add its key: %s%s",
                           credential, user, r == -EEXIST ? "a key of that name is already there" : strerror(-r),
                           r == -EDQUOT ? " (the user's key quota, /proc/sys/kernel/keys/maxbytes)" : "");
                return r;
        }
        if (o->debug)
                pam_syslog(pamh, LOG_DEBUG, "Credential %s loaded as key %d", credential, (int) *ret);
        return 0;
}

PUBLIC PAM_EXTERN int pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        PamOptions o = {};
        const char *user = NULL, *service = NULL, *why = NULL;
        const struct passwd *pw;
        key_serial_t session;
        LoadedKeys *k = NULL;
        sd_bus *bus = NULL;
        unsigned failed;
        int r;

        if (pam_options_parse(argc, argv, &o, log_to_pam, pamh) < 0) {
                pam_syslog(pamh, LOG_CRIT, "Out of memory");
                return PAM_BUF_ERR;
        }
        failed = o.n_bad;
        if (o.n_credentials == 0) {
                pam_syslog(pamh, LOG_WARNING, "No credentials= to load");
                r = failed ? PAM_SESSION_ERR : PAM_IGNORE;
                goto out;
        }
        /* pam_get_item, not pam_get_user: never a prompt. */
        if (pam_get_item(pamh, PAM_USER, (const void **) &user) != PAM_SUCCESS || !user || !*user) {
                pam_syslog(pamh, LOG_ERR, "No user for this session; no credential loaded");
                r = PAM_SESSION_ERR;
                goto out;
        }
        if (pam_get_item(pamh, PAM_SERVICE, (const void **) &service) != PAM_SUCCESS || !service)
                service = "";
        pw = pam_modutil_getpwnam(pamh, user);
        if (!pw) {
                pam_syslog(pamh, LOG_ERR, "Unknown user %s; no credential loaded", user);
                r = PAM_SESSION_ERR;
                goto out;
        }
        if (session_keyring_check(pw->pw_uid, &session, &why) < 0) {
                pam_syslog(pamh, LOG_ERR, "Not adding credentials for %s: %s", user, why);
                r = PAM_SESSION_ERR;
                goto out;
        }

        /* A second pam_orgvault line in the same stack: keep the first one's
         * keys in the list too, or replacing the data would forget them. */
        const void *prev_data = NULL;
        const LoadedKeys *prev = pam_get_data(pamh, DATA_NAME, &prev_data) == PAM_SUCCESS ? prev_data : NULL;
        size_t n_prev = prev && !prev->closed ? prev->n : 0;
        k = calloc(1, sizeof(LoadedKeys) + (n_prev + o.n_credentials) * sizeof(key_serial_t));
        if (!k) {
                r = PAM_BUF_ERR;
                goto out;
        }
        k->uid = pw->pw_uid;
        for (size_t i = 0; i < n_prev; i++)
                k->serials[k->n++] = prev->serials[i];
        r = pam_vault_connect(o.bus_address, &bus);
        if (r < 0) {
                for (size_t i = 0; i < o.n_credentials; i++)
                        pam_syslog(pamh, LOG_WARNING, "Credential %s not loaded for %s: orgvaultd is not "
                                   "reachable (%s): %s", o.credentials[i], user,
                                   o.bus_address ?: PAM_OV_SYSTEM_BUS_ADDRESS, strerror(-r));
                failed += (unsigned) o.n_credentials;
        } else {
                bool gone = false;
                for (size_t i = 0; i < o.n_credentials; i++) {
                        if (gone) {
                                pam_syslog(pamh, LOG_WARNING, "Credential %s not loaded for %s: orgvaultd is not "
                                           "reachable", o.credentials[i], user);
                                failed++;
                        } else if (load_one(pamh, bus, &o, user, service, pw, o.credentials[i],
                                            &k->serials[k->n], &gone) < 0)
                                failed++;
                        else
                                k->n++;
                }
        }
        sd_bus_flush_close_unref(bus);

        if (k->n > n_prev) {
                r = pam_set_data(pamh, DATA_NAME, k, loaded_keys_cleanup);
                if (r != PAM_SUCCESS) {
                        invalidate_all(pamh, k, o.debug);
                        free(k);
                        k = NULL;
                        pam_syslog(pamh, LOG_ERR, "Cannot remember the keys: %s", pam_strerror(pamh, r));
                        r = PAM_SESSION_ERR;
                        goto out;
                }
        } else
                free(k);
        k = NULL;
        if (failed > 0)
                pam_syslog(pamh, LOG_ERR, "%u of %zu credentials not loaded for %s", failed,
                           o.n_credentials + o.n_bad, user);
        else if (o.debug)
                pam_syslog(pamh, LOG_DEBUG, "%zu credentials loaded for %s", o.n_credentials, user);
        r = failed > 0 ? PAM_SESSION_ERR : PAM_SUCCESS;
out:
        free(k);
        pam_options_clear(&o);
        return r;
}

PUBLIC PAM_EXTERN int pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv) {
        const void *data = NULL;
        bool debug = false;

        for (int i = 0; i < argc; i++)
                if (argv[i] && strcmp(argv[i], "debug") == 0)
                        debug = true;
        if (pam_get_data(pamh, DATA_NAME, &data) != PAM_SUCCESS || !data)
                return PAM_SUCCESS;     /* nothing was loaded */
        LoadedKeys *k = (LoadedKeys *) data;
        if (!k->closed)
                invalidate_all(pamh, k, debug);
        return PAM_SUCCESS;
}
