/* SPDX-License-Identifier: Apache-2.0 */
/* The verbs that read or change one org's secrets without asking for values:
 * list, show, refs, rename, delete. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ctl-output.h"
#include "ctl-tty.h"
#include "ctl-types.h"

static int append_filter(sd_bus_message *m, const char *key, const char *value) {
        if (!value || !*value)
                return 0;
        return sd_bus_message_append(m, "{sv}", key, "s", value);
}

static int compare_refs(const void *a, const void *b) {
        const SecretRef *x = a, *y = b;
        int r = strcasecmp(x->name, y->name);

        return r != 0 ? r : strcmp(x->id, y->id);
}

static void refs_free(SecretRef *l, size_t n) {
        for (size_t i = 0; l && i < n; i++)
                secret_ref_clear(&l[i]);
        free(l);
}

/* ListSecrets with the command line's filters, sorted by name. */
static int list_secrets(Ctl *c, SecretRef **ret, size_t *ret_n) {
        sd_bus_message *m = NULL, *reply = NULL;
        sd_bus_error e = SD_BUS_ERROR_NULL;
        SecretRef *l = NULL;
        size_t n = 0;
        const char *id, *name, *type;
        uint64_t created, updated;
        uint32_t refs;
        int r;

        r = sd_bus_message_new_method_call(c->bus, &m, OV_BUS_NAME, OV_BUS_PATH, OV_BUS_IFACE, "ListSecrets");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", c->org);
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "{sv}");
        if (r >= 0)
                r = append_filter(m, "search", c->n_args > 0 ? c->args[0] : NULL);
        if (r >= 0)
                r = append_filter(m, "type", c->type_filter);
        if (r >= 0)
                r = append_filter(m, "feature", c->feature_filter);
        if (r >= 0 && c->has_due)
                /* --due=0: only what is due already (a window of 0 means no filter). */
                r = sd_bus_message_append(m, "{sv}", "due_within", "t",
                                          c->due_days ? (uint64_t) c->due_days * 86400ULL * 1000000ULL : 1);
        if (r >= 0)
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_call(c->bus, m, 0, &e, &reply);
        sd_bus_message_unref(m);
        if (r < 0) {
                r = ctl_bus_fail(c, &e, r, "listing secrets", "member");
                sd_bus_error_free(&e);
                return r;
        }

        r = sd_bus_message_enter_container(reply, 'a', "(sssttu)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(sssttu)", &id, &name, &type, &created, &updated, &refs)) > 0) {
                SecretRef *nl = reallocarray(l, n + 1, sizeof *nl);
                if (!nl) {
                        r = -ENOMEM;
                        break;
                }
                l = nl;
                l[n++] = (SecretRef) { strdup(id), strdup(name), strdup(type), created, updated, refs };
                if (!l[n - 1].id || !l[n - 1].name || !l[n - 1].type)
                        r = -ENOMEM;
        }
        sd_bus_message_unref(reply);
        if (r < 0) {
                refs_free(l, n);
                return ctl_fail(CTL_EXIT_FAILURE, "Failed to read the list of secrets: %s.", strerror(-r));
        }
        if (n > 1)
                qsort(l, n, sizeof *l, compare_refs);
        *ret = l;
        *ret_n = n;
        return 0;
}

int verb_list(Ctl *c) {
        static const char *const headers[] = { "NAME", "TYPE", "CREATED", "USED BY" };
        _cleanup_table_ Table *t = NULL;
        SecretRef *l = NULL;
        size_t n = 0;
        int r;

        r = ctl_need_org(c);
        if (r == 0)
                r = ctl_check_filters(c);
        if (r > 0)
                return r;
        r = list_secrets(c, &l, &n);
        if (r > 0)
                return r;
        pager_open(c->pager);

        if (c->json != JSON_OFF) {
                _cleanup_json_ json_t *doc = json_array();
                for (size_t i = 0; doc && i < n; i++)
                        if (json_array_append_new(doc, json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "id", l[i].id, "name", l[i].name,
                                                                  "type", l[i].type, "created", (json_int_t) l[i].created,
                                                                  "updated", (json_int_t) l[i].updated, "references",
                                                                  (json_int_t) l[i].refs)) < 0) {
                                json_decref(doc);
                                doc = NULL;
                        }
                refs_free(l, n);
                return json_print(doc, c->json);
        }

        t = table_new(headers, ELEMENTSOF(headers));
        for (size_t i = 0; t && i < n && r == 0; i++) {
                char when[TIME_BUF], count[16];

                snprintf(count, sizeof count, "%" PRIu32, l[i].refs);
                if (table_add(t, l[i].name) < 0 || table_add(t, l[i].type) < 0 ||
                    table_add(t, format_time(when, l[i].created)) < 0 || table_add(t, count) < 0)
                        r = -ENOMEM;
        }
        refs_free(l, n);
        if (!t || r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        table_print(t, c->legend);
        if (c->legend)
                printf("\n%zu secret%s listed.\n", table_rows(t), table_rows(t) == 1 ? "" : "s");
        return 0;
}

/* GetSecret's metadata as a JSON object. */
static int get_secret(Ctl *c, const char *id, json_t **ret) {
        sd_bus_message *reply = NULL;
        int r;

        r = ctl_call(c, "reading a secret's metadata", "member", &reply, "GetSecret", "ss", c->org, id);
        if (r > 0)
                return r;
        r = bus_read_json(reply, ret);
        sd_bus_message_unref(reply);
        if (r < 0 || !json_is_object(*ret))
                return ctl_fail(CTL_EXIT_FAILURE, "Failed to read the secret's metadata: %s.",
                                strerror(r < 0 ? -r : EBADMSG));
        return 0;
}

/* GetSecret of SECRET given as an id or a display name. */
static int get_named_secret(Ctl *c, const char *secret, json_t **ret) {
        SecretRef s = {};
        int r;

        r = ctl_find_secret(c, secret, &s);
        if (r > 0)
                return r;
        r = get_secret(c, s.id, ret);
        secret_ref_clear(&s);
        return r;
}

/* References are (feature, target, added µs) structs. */
static const char *ref_part(json_t *ref, size_t i) {
        return json_string_value(json_array_get(ref, i)) ?: "?";
}

static uint64_t ref_added(json_t *ref) {
        json_t *v = json_array_get(ref, 2);

        return json_is_integer(v) ? (uint64_t) json_integer_value(v) : 0;
}

static void print_reference(FILE *f, json_t *ref) {
        char when[TIME_BUF];

        fprintf(f, "%s %s", ref_part(ref, 0), ref_part(ref, 1));
        if (ref_added(ref) > 0)
                fprintf(f, " (since %s)", format_time(when, ref_added(ref)));
}

/* References as [{"feature", "target", "added"}] for --json. */
static json_t *references_json(json_t *refs) {
        json_t *a = json_array();
        size_t i;
        json_t *v;

        json_array_foreach(refs, i, v)
                if (!a || json_array_append_new(a, json_pack("{s:s,s:s,s:I}", "feature", ref_part(v, 0), "target",
                                                             ref_part(v, 1), "added", (json_int_t) ref_added(v))) < 0) {
                        json_decref(a);
                        return NULL;
                }
        return a;
}

static uint64_t meta_time(json_t *meta, const char *key) {
        json_t *v = json_object_get(meta, key);

        return json_is_integer(v) ? (uint64_t) json_integer_value(v) : 0;
}

int verb_show(Ctl *c) {
        _cleanup_json_ json_t *meta = NULL;
        char when[TIME_BUF];
        json_t *refs, *v, *by;
        size_t i;
        int r;

        r = get_named_secret(c, c->args[0], &meta);
        if (r > 0)
                return r;
        refs = json_object_get(meta, "References");
        pager_open(c->pager);

        if (c->json != JSON_OFF) {
                _cleanup_json_ json_t *doc = json_snake_keys(meta);
                if (doc)
                        json_object_set_new(doc, "references", refs ? references_json(refs) : json_array());
                if (doc)
                        json_object_set_new(doc, "org", json_string(c->org));
                return json_print(doc, c->json);
        }

        v = json_object_get(meta, "Name");
        printf("%s%s%s (%s)\n", ansi_highlight(), json_string_value(v) ?: "?", ansi_normal(),
               json_string_value(json_object_get(meta, "Id")) ?: "?");
        printf("        Org: %s\n", c->org);
        printf("       Type: %s\n", json_string_value(json_object_get(meta, "Type")) ?: "?");
        printf("    Created: %s\n", format_time(when, meta_time(meta, "Created")));
        printf("    Updated: %s\n", format_time(when, meta_time(meta, "Updated")));
        v = json_object_get(meta, "Version");
        if (json_is_integer(v))
                printf("    Version: %" JSON_INTEGER_FORMAT "\n", json_integer_value(v));
        if (meta_time(meta, "Expires") > 0)
                printf("    Expires: %s%s\n", format_time(when, meta_time(meta, "Expires")),
                       json_is_true(json_object_get(meta, "Expired")) ? " (expired; still served)" : "");
        if (meta_time(meta, "RotateBy") > 0)
                printf("  Rotate by: %s\n", format_time(when, meta_time(meta, "RotateBy")));
        by = json_object_get(meta, "LastUsedBy");
        if (meta_time(meta, "LastUsed") == 0)
                printf("  Last used: never\n");
        else
                printf("  Last used: %s%s%s\n", format_time(when, meta_time(meta, "LastUsed")),
                       json_string_value(by) && *json_string_value(by) ? " by " : "", json_string_value(by) ?: "");
        if (json_array_size(refs) == 0)
                printf("    Used by: nothing\n");
        json_array_foreach(refs, i, v) {
                fputs(i == 0 ? "    Used by: " : "             ", stdout);
                print_reference(stdout, v);
                putchar('\n');
        }
        printf("%s      Value: never shown; only the services allowed to use it can read it.%s\n", ansi_grey(),
               ansi_normal());
        return 0;
}

int verb_refs(Ctl *c) {
        static const char *const headers[] = { "FEATURE", "TARGET", "ADDED" };
        _cleanup_json_ json_t *meta = NULL;
        _cleanup_table_ Table *t = NULL;
        json_t *refs, *v;
        size_t i;
        int r;

        r = get_named_secret(c, c->args[0], &meta);
        if (r > 0)
                return r;
        refs = json_object_get(meta, "References");
        pager_open(c->pager);
        if (c->json != JSON_OFF) {
                _cleanup_json_ json_t *doc = refs ? references_json(refs) : json_array();
                return json_print(doc, c->json);
        }

        t = table_new(headers, ELEMENTSOF(headers));
        if (!t)
                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        json_array_foreach(refs, i, v) {
                char when[TIME_BUF];
                if (table_add(t, ref_part(v, 0)) < 0 || table_add(t, ref_part(v, 1)) < 0 ||
                    table_add(t, format_time(when, ref_added(v))) < 0)
                        return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        }
        table_print(t, c->legend);
        if (c->legend)
                printf("\n%zu reference%s listed.\n", table_rows(t), table_rows(t) == 1 ? "" : "s");
        return 0;
}

int verb_rename(Ctl *c) {
        const char *name = c->args[1];
        SecretRef s = {};
        int r;

        if (!display_name_valid(name))
                return ctl_fail(CTL_EXIT_USAGE,
                                "Invalid display name \"%s\": use 1 to %d characters of text, no control characters.",
                                name, OV_NAME_MAX);
        r = ctl_find_secret(c, c->args[0], &s);
        if (r > 0)
                return r;
        r = ctl_call(c, "renaming secrets", "admin", NULL, "RenameSecret", "sss", c->org, s.id, name);
        if (r == 0)
                fprintf(stderr, "Renamed \"%s\" to \"%s\" in org %s; its id stays %s.\n", s.name, name, c->org, s.id);
        secret_ref_clear(&s);
        return r;
}

int verb_delete(Ctl *c) {
        _cleanup_json_ json_t *meta = NULL;
        _cleanup_free_ char *question = NULL;
        SecretRef s = {};
        json_t *refs, *v;
        bool admin = true;
        size_t i;
        int r;

        r = ctl_find_secret(c, c->args[0], &s);
        if (r == 0)
                r = ctl_is_admin(c, &admin);
        if (r == 0 && !admin) {
                /* No confirmation for a call the daemon will refuse (and audit). */
                r = ctl_call(c, "deleting secrets", "admin", NULL, "DeleteSecret", "ssb", c->org, s.id, 0);
                goto out;
        }
        if (r == 0)
                r = get_secret(c, s.id, &meta);
        if (r > 0)
                goto out;

        refs = json_object_get(meta, "References");
        if (json_array_size(refs) > 0) {
                fprintf(stderr, "Secret \"%s\" (%s) is used by:\n", s.name, s.id);
                json_array_foreach(refs, i, v) {
                        fputs("  ", stderr);
                        print_reference(stderr, v);
                        fputc('\n', stderr);
                }
                if (!c->force) {
                        r = ctl_fail(CTL_EXIT_CONFLICT,
                                     "Not deleted: those features would stop working; point them at another secret first, or pass --force.");
                        goto out;
                }
                fprintf(stderr, "Deleting it will make those features stop working.\n");
        }
        if (!c->yes) {
                question = strdup_printf("Delete secret \"%s\" (%s)?", s.name, s.type);
                if (!question) {
                        r = ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
                        goto out;
                }
                if (!ask_yes_no(question)) {
                        r = ctl_fail(CTL_EXIT_CANCELLED, "Not deleted.");
                        goto out;
                }
        }
        r = ctl_call(c, "deleting secrets", "admin", NULL, "DeleteSecret", "ssb", c->org, s.id, (int) c->force);
out:
        secret_ref_clear(&s);
        return r;
}
