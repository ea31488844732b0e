/* SPDX-License-Identifier: Apache-2.0 */
/* Module arguments, the way PAM modules take them: "name" or "name=value",
 * each one argv element; unknown ones are logged and ignored (pam_keyinit(8),
 * pam_systemd_loadkey(8) do the same). Nothing here reads the environment. */

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "pam-options.h"

#define DEBUG(o, log, ud, ...) do { if ((o)->debug) log(ud, LOG_DEBUG, __VA_ARGS__); } while (0)

bool pam_credential_id_plausible(const char *s) {
        size_t n = s ? strlen(s) : 0, parts = 1, part_len = 0;

        if (n == 0 || n > PAM_OV_CREDENTIAL_ID_MAX)
                return false;
        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (c == '.') {
                        if (part_len == 0)
                                return false;
                        parts++;
                        part_len = 0;
                } else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
                        part_len++;
                else
                        return false;
        }
        return part_len > 0 && parts >= 2 && parts <= 3;
}

static const char *option_value(const char *arg, const char *name) {
        size_t n = strlen(name);
        return strncmp(arg, name, n) == 0 && arg[n] == '=' ? arg + n + 1 : NULL;
}

static bool credential_listed(const PamOptions *o, const char *id, size_t n) {
        for (size_t i = 0; i < o->n_credentials; i++)
                if (strlen(o->credentials[i]) == n && memcmp(o->credentials[i], id, n) == 0)
                        return true;
        return false;
}

/* "a,b,c": each plausible id once; the rest logged and counted. */
static int parse_credentials(PamOptions *o, const char *list, PamOptionsLog log, void *ud) {
        const char *p = list;

        if (!*list) {
                log(ud, LOG_WARNING, "Option credentials= lists no credential, ignoring");
                o->n_bad++;
                return 0;
        }
        for (;;) {
                const char *comma = strchr(p, ',');
                size_t n = comma ? (size_t) (comma - p) : strlen(p);
                char id[PAM_OV_CREDENTIAL_ID_MAX + 1];

                if (n == 0 || n > PAM_OV_CREDENTIAL_ID_MAX) {
                        log(ud, LOG_WARNING, "Option credentials= has an empty or overlong entry, ignoring it");
                        o->n_bad++;
                } else {
                        memcpy(id, p, n);
                        id[n] = 0;
                        if (!pam_credential_id_plausible(id)) {
                                log(ud, LOG_WARNING, "Option credentials=: \"%s\" is no credential id "
                                    "(<org>.<id> or <org>.<id>.<field>), ignoring it", id);
                                o->n_bad++;
                        } else if (credential_listed(o, id, n))
                                DEBUG(o, log, ud, "Credential %s listed twice, loading it once", id);
                        else if (o->n_credentials >= PAM_OV_CREDENTIALS_MAX) {
                                log(ud, LOG_WARNING, "More than %d credentials listed, ignoring %s",
                                    PAM_OV_CREDENTIALS_MAX, id);
                                o->n_bad++;
                        } else {
                                char **a = realloc(o->credentials, (o->n_credentials + 2) * sizeof(char *));
                                if (!a)
                                        return -ENOMEM;
                                o->credentials = a;
                                a[o->n_credentials] = strdup(id);
                                if (!a[o->n_credentials])
                                        return -ENOMEM;
                                a[++o->n_credentials] = NULL;
                        }
                }
                if (!comma)
                        return 0;
                p = comma + 1;
        }
}

static int parse_timeout(const char *s, unsigned *ret) {
        uint64_t v = 0;

        if (!*s)
                return -EINVAL;
        for (const char *c = s; *c; c++) {
                if (*c < '0' || *c > '9')
                        return -EINVAL;
                v = v * 10 + (uint64_t) (*c - '0');
                if (v > PAM_OV_TIMEOUT_MAX)
                        return -ERANGE;
        }
        *ret = (unsigned) v;
        return 0;
}

static bool address_valid(const char *s) {
        size_t n = strlen(s);

        if (n == 0 || n > PAM_OV_ADDRESS_MAX)
                return false;
        for (size_t i = 0; i < n; i++)
                if ((unsigned char) s[i] < 0x20 || s[i] == 0x7f)
                        return false;
        return true;
}

int pam_options_parse(int argc, const char **argv, PamOptions *ret, PamOptionsLog log, void *ud) {
        PamOptions o = {};
        const char *v;
        int r = 0;

        /* debug first, so what comes before it is explained too. */
        for (int i = 0; i < argc; i++)
                if (argv[i] && strcmp(argv[i], "debug") == 0)
                        o.debug = true;

        for (int i = 0; i < argc && r >= 0; i++) {
                const char *a = argv[i];

                if (!a)
                        continue;
                if (strcmp(a, "debug") == 0)
                        continue;
                if ((v = option_value(a, "credentials")))
                        r = parse_credentials(&o, v, log, ud);
                else if ((v = option_value(a, "timeout"))) {
                        int q = parse_timeout(v, &o.timeout);
                        if (q < 0) {
                                log(ud, LOG_WARNING, "Option timeout= wants whole seconds from 0 to %u, "
                                    "not \"%.32s\"; the keys get no timeout", PAM_OV_TIMEOUT_MAX, v);
                                o.timeout = 0;
                                o.n_bad++;
                        }
                } else if ((v = option_value(a, "bus"))) {
                        if (!address_valid(v)) {
                                log(ud, LOG_WARNING, "Option bus= wants a D-Bus address, ignoring it");
                                o.n_bad++;
                        } else {
                                char *copy = strdup(v);
                                if (!copy)
                                        r = -ENOMEM;
                                else {
                                        free(o.bus_address);
                                        o.bus_address = copy;
                                }
                        }
                } else if (option_value(a, "socket"))
                        /* The credential socket's name for "a non-default daemon";
                         * this module reaches the daemon over D-Bus. */
                        DEBUG(&o, log, ud, "Option socket= names a credential socket; this module talks "
                              "D-Bus (bus=ADDRESS), ignoring it");
                else {
                        /* The name only: whatever follows '=' is not ours to log. */
                        int n = (int) strcspn(a, "=");
                        log(ud, LOG_WARNING, "Unknown option \"%.*s\", ignoring", n > 64 ? 64 : n, a);
                }
        }
        if (r < 0) {
                pam_options_clear(&o);
                return r;
        }
        *ret = o;
        return 0;
}

void pam_options_clear(PamOptions *o) {
        if (!o)
                return;
        for (size_t i = 0; i < o->n_credentials; i++)
                free(o->credentials[i]);
        free(o->credentials);
        free(o->bus_address);
        *o = (PamOptions) {};
}
