/* SPDX-License-Identifier: Apache-2.0 */
/* The bus side of orgvaultctl: connecting, calling the Manager, turning the
 * D-Bus error names of docs/API.md into one line that says what to do, and
 * resolving --org and SECRET arguments. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bus-open.h"
#include "ctl.h"

int ctl_fail(int code, const char *fmt, ...) {
        va_list ap;

        fflush(stdout);
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
        fputc('\n', stderr);
        return code;
}

int ctl_connect(Ctl *c) {
        const char *address = c->address ?: getenv("ORGVAULT_BUS_ADDRESS");
        int r;

        if (address && *address) {
                r = bus_open(address, "orgvaultctl", &c->bus);
                if (r < 0)
                        return ctl_fail(CTL_EXIT_FAILURE,
                                        "Failed to connect to the bus at %s: %s; check --address or $ORGVAULT_BUS_ADDRESS.",
                                        address, strerror(-r));
                return 0;
        }
        r = bus_open(NULL, "orgvaultctl", &c->bus);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE,
                                "Failed to connect to the system bus: %s; is D-Bus running? Use --address=ADDR for a private bus.",
                                strerror(-r));
        return 0;
}

/* Daemon messages are one line already; make sure of it. */
static void print_one_line(FILE *f, const char *s) {
        for (; s && *s; s++)
                fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
}

static int fail_with(int code, const sd_bus_error *e, const char *prefix, const char *advice) {
        fflush(stdout);
        fputs(prefix, stderr);
        print_one_line(stderr, e->message ?: e->name);
        fprintf(stderr, "%s\n", advice);
        return code;
}

/* After AccessDenied for an org given with --org: the daemon answers the
 * same for an org that does not exist and one the caller has no role in (so
 * orgs can't be probed). When ListOrgs does not show it either, it is "not
 * found" for this caller (exit 5), and the caller's orgs are named. */
static int org_not_yours(const Ctl *c) {
        sd_bus_message *reply = NULL;
        const char *org, *role;
        bool found = false;
        int r;

        if (!c->org || !c->org_arg)
                return 0;
        r = sd_bus_call_method(c->bus, OV_BUS_NAME, OV_BUS_PATH, OV_BUS_IFACE, "ListOrgs", NULL, &reply, "");
        if (r < 0)
                return 0;
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && !found && (r = sd_bus_message_read(reply, "(ss)", &org, &role)) > 0)
                found = strcmp(org, c->org) == 0;
        if (found || r < 0) {
                sd_bus_message_unref(reply);
                return 0;
        }
        sd_bus_message_rewind(reply, true);
        fflush(stdout);
        fprintf(stderr, "No org \"%s\" that you have a role in (it may not exist); ", c->org);
        size_t n = 0;
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &org, &role)) > 0)
                fprintf(stderr, "%s%s (%s)", n++ == 0 ? "your orgs: " : ", ", org, role);
        fprintf(stderr, "%s; check --org.\n", n == 0 ? "you have no role in any org" : "");
        sd_bus_message_unref(reply);
        return CTL_EXIT_NOT_FOUND;
}

int ctl_bus_fail(const Ctl *c, const sd_bus_error *e, int r, const char *doing, const char *role) {
        if (!sd_bus_error_is_set(e))
                return ctl_fail(CTL_EXIT_FAILURE, "Failed %s: %s.", doing, strerror(r < 0 ? -r : EIO));

        if (sd_bus_error_has_name(e, SD_BUS_ERROR_ACCESS_DENIED)) {
                int q = org_not_yours(c);
                if (q > 0)
                        return q;
                if (role && strcmp(role, "root") == 0)
                        return ctl_fail(CTL_EXIT_ACCESS_DENIED,
                                        "Access denied: %s needs root (or a role that holds io.orgvault.vault.manage); run it with sudo.",
                                        doing);
                if (role && c->org)
                        return ctl_fail(CTL_EXIT_ACCESS_DENIED,
                                        "Access denied: %s needs the %s role in org %s; ask an admin of %s for it.",
                                        doing, role, c->org, c->org);
                return ctl_fail(CTL_EXIT_ACCESS_DENIED, "Access denied: %s was refused; ask an org admin for a role.", doing);
        }
        /* These messages say what was not found already ("No secret x in org
         * acme", "Unknown secret type foo"): no prefix repeating it. */
        if (sd_bus_error_has_name(e, "io.orgvault.Vault1.Error.NotFound"))
                return fail_with(CTL_EXIT_NOT_FOUND, e, "", "; see 'orgvaultctl list'.");
        if (sd_bus_error_has_name(e, "io.orgvault.Vault1.Error.UnknownType"))
                return fail_with(CTL_EXIT_NOT_FOUND, e, "", "; see 'orgvaultctl types'.");
        if (sd_bus_error_has_name(e, "io.orgvault.Vault1.Error.NameExists"))
                return strstr(e->message ?: "", " with id ")
                        ? fail_with(CTL_EXIT_CONFLICT, e, "Id taken: ",
                                    "; pick another --id, or leave --id out to derive a free one from the name.")
                        : fail_with(CTL_EXIT_CONFLICT, e, "Name taken: ", "; pick another display name.");
        if (sd_bus_error_has_name(e, "io.orgvault.Vault1.Error.InUse"))
                return fail_with(CTL_EXIT_CONFLICT, e, "In use: ",
                                 "; point those features at another secret first, or pass --force.");
        if (sd_bus_error_has_name(e, "io.orgvault.Vault1.Error.InvalidField"))
                return fail_with(CTL_EXIT_INVALID, e, "Invalid value: ", "; correct it and try again.");
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_INVALID_ARGS))
                return fail_with(CTL_EXIT_INVALID, e, "Invalid argument: ", "; see 'orgvaultctl --help'.");
        if (sd_bus_error_has_name(e, "io.orgvault.Vault1.Error.Sealed"))
                return ctl_fail(CTL_EXIT_SEALED, "The vault is sealed; unseal it first with 'orgvaultctl unseal' (as root).");
        if (sd_bus_error_has_name(e, "io.orgvault.Vault1.Error.StorageFailure"))
                return fail_with(CTL_EXIT_FAILURE, e, "Storage failure: ",
                                 "; nothing was changed, see the daemon's journal (journalctl -u orgvault).");
        if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER,
                                   SD_BUS_ERROR_NO_REPLY, SD_BUS_ERROR_TIMEOUT))
                return fail_with(CTL_EXIT_FAILURE, e, "orgvaultd is not reachable: ",
                                 "; check 'systemctl status orgvault' or --address.");

        fflush(stdout);
        fprintf(stderr, "Failed %s: ", doing);
        print_one_line(stderr, e->message ?: e->name);
        fprintf(stderr, " (%s).\n", e->name);
        return CTL_EXIT_FAILURE;
}

int ctl_call(Ctl *c, const char *doing, const char *role, sd_bus_message **reply,
             const char *method, const char *types, ...) {
        sd_bus_error e = SD_BUS_ERROR_NULL;
        va_list ap;
        int r;

        va_start(ap, types);
        r = sd_bus_call_methodv(c->bus, OV_BUS_NAME, OV_BUS_PATH, OV_BUS_IFACE, method, &e, reply, types, ap);
        va_end(ap);
        if (r < 0) {
                r = ctl_bus_fail(c, &e, r, doing, role);
                sd_bus_error_free(&e);
                return r;
        }
        return 0;
}

static int read_basic_json(sd_bus_message *m, char type, json_t **ret) {
        union {
                const char *s;
                int b;
                uint8_t y;
                int16_t n;
                uint16_t q;
                int32_t i;
                uint32_t u;
                int64_t x;
                uint64_t t;
                double d;
                int h;
        } v;
        int r = sd_bus_message_read_basic(m, type, &v);

        if (r < 0)
                return r;
        switch (type) {
        case 's': case 'o': case 'g': *ret = json_string(v.s); break;
        case 'b': *ret = json_boolean(v.b); break;
        case 'y': *ret = json_integer(v.y); break;
        case 'n': *ret = json_integer(v.n); break;
        case 'q': *ret = json_integer(v.q); break;
        case 'i': *ret = json_integer(v.i); break;
        case 'u': *ret = json_integer(v.u); break;
        case 'x': *ret = json_integer(v.x); break;
        case 't': *ret = json_integer((json_int_t) v.t); break;
        case 'd': *ret = json_real(v.d); break;
        default: *ret = json_null(); break;     /* 'h': no fd is shown */
        }
        return *ret ? 0 : -ENOMEM;
}

/* Dictionary entries: key (basic, shown as a string) and value. */
static int read_dict_json(sd_bus_message *m, const char *contents, json_t *obj) {
        _cleanup_free_ char *inner = strndup(contents + 1, strlen(contents) - 2);
        int r;

        if (!inner)
                return -ENOMEM;
        while ((r = sd_bus_message_enter_container(m, 'e', inner)) > 0) {
                _cleanup_json_ json_t *key = NULL, *value = NULL;
                char buf[32];
                const char *k;

                r = read_basic_json(m, inner[0], &key);
                if (r < 0)
                        return r;
                r = bus_read_json(m, &value);
                if (r < 0)
                        return r;
                if (json_is_string(key))
                        k = json_string_value(key);
                else {
                        snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(key));
                        k = buf;
                }
                if (json_object_set(obj, k, value) < 0)
                        return -ENOMEM;
                r = sd_bus_message_exit_container(m);
                if (r < 0)
                        return r;
        }
        return r;
}

int bus_read_json(sd_bus_message *m, json_t **ret) {
        _cleanup_json_ json_t *j = NULL;
        const char *contents;
        char type;
        int r;

        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        if (r == 0)
                return -ENXIO;
        if (!contents)
                return read_basic_json(m, type, ret);

        r = sd_bus_message_enter_container(m, type, contents);
        if (r < 0)
                return r;
        if (type == 'v') {
                r = bus_read_json(m, &j);
        } else if (type == 'a' && contents[0] == '{') {
                j = json_object();
                r = j ? read_dict_json(m, contents, j) : -ENOMEM;
        } else {
                j = json_array();
                r = j ? 0 : -ENOMEM;
                while (r >= 0 && (r = sd_bus_message_at_end(m, false)) == 0) {
                        json_t *e = NULL;
                        r = bus_read_json(m, &e);
                        if (r >= 0 && json_array_append_new(j, e) < 0)
                                r = -ENOMEM;
                }
        }
        if (r < 0)
                return r;
        r = sd_bus_message_exit_container(m);
        if (r < 0)
                return r;
        *ret = json_incref(j);
        return 0;
}

/* ListOrgs as a vector of org, role, org, role, ... */
static int list_orgs(Ctl *c, char ***ret) {
        sd_bus_message *reply = NULL;
        _cleanup_strv_free_ char **l = NULL;
        const char *org, *role;
        int r;

        r = ctl_call(c, "listing your organizations", NULL, &reply, "ListOrgs", "");
        if (r > 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ss)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ss)", &org, &role)) > 0)
                if (strv_push(&l, org) < 0 || strv_push(&l, role) < 0)
                        r = -ENOMEM;
        sd_bus_message_unref(reply);
        if (r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Failed to read the list of organizations: %s.", strerror(-r));
        *ret = l;
        l = NULL;
        return 0;
}

int ctl_caller_role(Ctl *c, char **ret) {
        _cleanup_strv_free_ char **l = NULL;
        int r = list_orgs(c, &l);

        if (r > 0)
                return r;
        *ret = NULL;
        for (size_t i = 0; l && l[i] && l[i + 1]; i += 2)
                if (strcmp(l[i], c->org) == 0) {
                        *ret = strdup(l[i + 1]);
                        return *ret ? 0 : ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
                }
        return 0;
}

int ctl_need_org(Ctl *c) {
        _cleanup_strv_free_ char **l = NULL;
        size_t n;
        int r;

        if (c->org)
                return 0;
        if (c->org_arg) {
                if (!org_name_valid(c->org_arg))
                        return ctl_fail(CTL_EXIT_USAGE,
                                        "Invalid org name \"%s\": use lower-case letters, digits and '-'.", c->org_arg);
                c->org = strdup(c->org_arg);
                return c->org ? 0 : ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        }

        r = list_orgs(c, &l);
        if (r > 0)
                return r;
        n = strv_length(l) / 2;
        if (n == 0)
                return ctl_fail(CTL_EXIT_ACCESS_DENIED,
                                "You have no role in any organization; ask an org admin to add you to its policy file (orgs.d).");
        if (n > 1) {
                fflush(stdout);
                fputs("You belong to several organizations (", stderr);
                for (size_t i = 0; i < n; i++)
                        fprintf(stderr, "%s%s", i > 0 ? ", " : "", l[2 * i]);
                fputs("); pick one with --org=ORG.\n", stderr);
                return CTL_EXIT_USAGE;
        }
        c->org = strdup(l[0]);
        return c->org ? 0 : ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
}

void secret_ref_clear(SecretRef *s) {
        free(s->id);
        free(s->name);
        free(s->type);
        *s = (SecretRef) {};
}

static int secret_ref_set(SecretRef *s, const char *id, const char *name, const char *type,
                          uint64_t created, uint64_t updated, uint32_t refs) {
        secret_ref_clear(s);
        s->id = strdup(id);
        s->name = strdup(name);
        s->type = strdup(type);
        s->created = created;
        s->updated = updated;
        s->refs = refs;
        return s->id && s->name && s->type ? 0 : -ENOMEM;
}

/* An id wins over a display name: ids never change, names may collide with
 * another secret's id. Names are unique ignoring ASCII case. */
int ctl_find_secret(Ctl *c, const char *what, SecretRef *ret) {
        sd_bus_message *reply = NULL;
        const char *id, *name, *type;
        uint64_t created, updated;
        uint32_t refs;
        bool by_id = false;
        int r;

        r = ctl_need_org(c);
        if (r > 0)
                return r;
        r = ctl_call(c, "listing secrets", "member", &reply, "ListSecrets", "sa{sv}", c->org, 0);
        if (r > 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(sssttu)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sssttu)", &id, &name, &type, &created, &updated, &refs)) > 0) {
                if (strcmp(id, what) == 0) {
                        r = secret_ref_set(ret, id, name, type, created, updated, refs);
                        by_id = true;
                        break;
                }
                if (!ret->id && strcasecmp(name, what) == 0)
                        r = secret_ref_set(ret, id, name, type, created, updated, refs);
        }
        sd_bus_message_unref(reply);
        if (r < 0) {
                secret_ref_clear(ret);
                return ctl_fail(CTL_EXIT_FAILURE, "Failed to read the list of secrets: %s.", strerror(-r));
        }
        if (!by_id && !ret->id)
                return ctl_fail(CTL_EXIT_NOT_FOUND,
                                "No secret \"%s\" in org %s (neither an id nor a display name); see 'orgvaultctl list'.",
                                what, c->org);
        return 0;
}

int ctl_is_admin(Ctl *c, bool *ret) {
        _cleanup_free_ char *role = NULL;
        int r = ctl_caller_role(c, &role);

        if (r > 0)
                return r;
        *ret = !role || strcmp(role, "admin") == 0;
        return 0;
}
