/* SPDX-License-Identifier: Apache-2.0 */
/* The vault-wide verbs: status, seal, unseal, rotate-keys. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "ctl-output.h"
#include "ctl-tty.h"

int verb_status(Ctl *c) {
        static const char *const labels[][2] = {
                { "Version", "Version" },   { "Sealed", "Sealed" },   { "KeyMode", "Key mode" },
                { "Orgs", "Orgs" },         { "Secrets", "Secrets" }, { "Quarantined", "Quarantined" },
                { "KeyringCache", "Keyring cache" }, { "StoreKind", "Store kind" }, { "Store", "Store" },
                { "PolicyProblems", "Policy problems" },
        };
        _cleanup_json_ json_t *st = NULL;
        _cleanup_strv_free_ char **problems = NULL;
        sd_bus_message *reply = NULL;
        const char *key;
        json_t *v;
        int r;

        r = ctl_call(c, "reading the vault's status", NULL, &reply, "Status", "");
        if (r > 0)
                return r;
        r = bus_read_json(reply, &st);
        sd_bus_message_unref(reply);
        if (r < 0 || !json_is_object(st))
                return ctl_fail(CTL_EXIT_FAILURE, "Failed to read the vault's status: %s.", strerror(r < 0 ? -r : EBADMSG));
        if (c->json != JSON_OFF) {
                _cleanup_json_ json_t *doc = json_snake_keys(st);
                return json_print(doc, c->json);
        }

        /* The daemon shows policy problems only to whoever manages the vault
         * (they name files): say so rather than print an empty list. */
        v = json_object_get(st, "PolicyProblems");
        if (v && json_is_false(json_object_get(st, "PolicyProblemsVisible"))) {
                json_object_set_new(st, "PolicyProblems", json_string("visible to root only (sudo orgvaultctl status)"));
        } else if (json_is_array(v)) {
                size_t np = json_array_size(v);
                _cleanup_free_ char *line = np == 0 ? strdup("none") : strdup_printf("%zu problem%s:", np, np == 1 ? "" : "s");
                if (!line)
                        return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
                _cleanup_json_ json_t *list = json_incref(v);
                json_object_set_new(st, "PolicyProblems", json_string(line));
                for (size_t i = 0; i < np; i++) {
                        _cleanup_free_ char *item = strdup_printf("  %s", json_string_value(json_array_get(list, i)) ?: "?");
                        if (!item || strv_push(&problems, item) < 0)
                                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
                }
        }
        json_object_del(st, "PolicyProblemsVisible");

        /* The known keys in a fixed order with readable labels, then any others. */
        for (size_t i = 0; i < ELEMENTSOF(labels); i++) {
                v = json_object_get(st, labels[i][0]);
                if (!v)
                        continue;
                printf("%15s: ", labels[i][1]);
                if (json_is_boolean(v))
                        printf("%s\n", json_is_true(v) ? "yes" : "no");
                else if (json_is_string(v))
                        printf("%s\n", json_string_value(v));
                else if (json_is_integer(v))
                        printf("%" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
                else
                        json_print(v, JSON_SHORT);
                json_object_del(st, labels[i][0]);
        }
        for (char **p = problems; p && *p; p++)
                printf("%15s  %s\n", "", *p);
        json_object_foreach(st, key, v) {
                printf("%15s: ", key);
                json_print(v, JSON_SHORT);
        }
        return 0;
}

int verb_seal(Ctl *c) {
        return ctl_call(c, "sealing the vault", "root", NULL, "Seal", "");
}

int verb_unseal(Ctl *c) {
        _cleanup_close_ int tty = tty_open();
        _cleanup_(free_secret_stringp) char *pass = NULL;
        sd_bus_message *m = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        int r;

        if (tty < 0)
                return ctl_fail(CTL_EXIT_USAGE, "unseal asks the passphrase on a terminal, and there is none; run it from one.");
        r = tty_read_line(tty, "Vault passphrase (input is not shown): ", true, &pass);
        if (r == -ECANCELED)
                return ctl_fail(CTL_EXIT_CANCELLED, "Cancelled; the vault stays sealed.");
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Failed to read the passphrase: %s.", strerror(-r));

        r = sd_bus_message_new_method_call(c->bus, &m, OV_BUS_NAME, OV_BUS_PATH, OV_BUS_IFACE, "Unseal");
        if (r >= 0)
                r = sd_bus_message_sensitive(m);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", pass);
        if (r >= 0)
                /* Argon2id (MODERATE) can outlast sd-bus's 25 s default on a slow or
                 * emulated host; the daemon would unseal while we reported a timeout. */
                r = sd_bus_call(c->bus, m, 300 * 1000000ULL, &e, NULL);
        sd_bus_message_unref(m);
        if (r < 0) {
                r = ctl_bus_fail(c, &e, r, "unsealing the vault", "root");
                sd_bus_error_free(&e);
                return r;
        }
        return 0;
}

int verb_rotate_keys(Ctl *c) {
        int r = ctl_need_org(c);

        if (r > 0)
                return r;
        r = ctl_call(c, "rotating an org's keys", "admin", NULL, "RotateKeys", "s", c->org);
        if (r == 0)
                fprintf(stderr, "Gave org %s a new data key and re-sealed its secrets with it.\n",
                        c->org);
        return r;
}
