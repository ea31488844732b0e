/* SPDX-License-Identifier: Apache-2.0 */
/* The verbs of a secret's life: trash, restore, purge (the org's trash). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "ctl-output.h"
#include "ctl-tty.h"

typedef struct Trashed {
        char *id, *name, *type;
        uint64_t deleted;
        uint32_t refs;
} Trashed;

static void trashed_free(Trashed *l, size_t n) {
        for (size_t i = 0; l && i < n; i++) {
                free(l[i].id);
                free(l[i].name);
                free(l[i].type);
        }
        free(l);
}

/* ListTrash of c->org. */
static int list_trash(Ctl *c, Trashed **ret, size_t *ret_n) {
        sd_bus_message *reply = NULL;
        const char *id, *name, *type;
        uint64_t deleted;
        uint32_t refs;
        Trashed *l = NULL;
        size_t n = 0;
        int r;

        r = ctl_need_org(c);
        if (r > 0)
                return r;
        r = ctl_call(c, "listing the trash", "member", &reply, "ListTrash", "s", c->org);
        if (r > 0)
                return r;
        r = sd_bus_message_enter_container(reply, 'a', "(ssstu)");
        while (r >= 0 && (r = sd_bus_message_read(reply, "(ssstu)", &id, &name, &type, &deleted, &refs)) > 0) {
                Trashed *nl = reallocarray(l, n + 1, sizeof *nl);
                if (!nl) {
                        r = -ENOMEM;
                        break;
                }
                l = nl;
                l[n++] = (Trashed) { strdup(id), strdup(name), strdup(type), deleted, refs };
                if (!l[n - 1].id || !l[n - 1].name || !l[n - 1].type)
                        r = -ENOMEM;
        }
        sd_bus_message_unref(reply);
        if (r < 0) {
                trashed_free(l, n);
                return ctl_fail(CTL_EXIT_FAILURE, "Failed to read the trash: %s.", strerror(-r));
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

/* The trash entry SECRET names, by id first, then by display name. */
static int find_trashed(Ctl *c, const char *what, Trashed **ret_list, size_t *ret_n, const Trashed **ret) {
        Trashed *l = NULL;
        size_t n = 0;
        int r = list_trash(c, &l, &n);
        if (r > 0)
                return r;
        const Trashed *found = NULL;
        for (size_t i = 0; i < n && !found; i++)
                if (strcmp(l[i].id, what) == 0)
                        found = &l[i];
        for (size_t i = 0; i < n && !found; i++)
                if (strcasecmp(l[i].name, what) == 0)
                        found = &l[i];
        if (!found) {
                trashed_free(l, n);
                return ctl_fail(CTL_EXIT_NOT_FOUND, "No secret \"%s\" in the trash of org %s; see 'orgvaultctl trash'.",
                                what, c->org);
        }
        *ret_list = l;
        *ret_n = n;
        *ret = found;
        return 0;
}

int verb_trash(Ctl *c) {
        static const char *const headers[] = { "NAME", "ID", "TYPE", "DELETED", "USED BY" };
        _cleanup_table_ Table *t = NULL;
        Trashed *l = NULL;
        size_t n = 0;
        int r;

        r = list_trash(c, &l, &n);
        if (r > 0)
                return r;
        pager_open(c->pager);
        if (c->json != JSON_OFF) {
                _cleanup_json_ json_t *doc = json_array();
                for (size_t i = 0; doc && i < n; i++)
                        if (json_array_append_new(doc, json_pack("{s:s,s:s,s:s,s:I,s:I}", "id", l[i].id, "name",
                                                                  l[i].name, "type", l[i].type, "deleted",
                                                                  (json_int_t) l[i].deleted, "references",
                                                                  (json_int_t) l[i].refs)) < 0) {
                                json_decref(doc);
                                doc = NULL;
                        }
                trashed_free(l, n);
                return json_print(doc, c->json);
        }
        t = table_new(headers, ELEMENTSOF(headers));
        for (size_t i = 0; t && i < n && r == 0; i++) {
                char when[TIME_BUF], count[16];
                snprintf(count, sizeof count, "%" PRIu32, l[i].refs);
                if (table_add(t, l[i].name) < 0 || table_add(t, l[i].id) < 0 || table_add(t, l[i].type) < 0 ||
                    table_add(t, format_time(when, l[i].deleted)) < 0 || table_add(t, count) < 0)
                        r = -ENOMEM;
        }
        trashed_free(l, n);
        if (!t || r < 0)
                return ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
        table_print(t, c->legend);
        if (c->legend)
                printf("\n%zu secret%s in the trash.\n", table_rows(t), table_rows(t) == 1 ? "" : "s");
        return 0;
}

int verb_restore(Ctl *c) {
        const Trashed *s = NULL;
        Trashed *l = NULL;
        size_t n = 0;
        int r;

        r = find_trashed(c, c->args[0], &l, &n, &s);
        if (r > 0)
                return r;
        r = ctl_call(c, "restoring secrets", "admin", NULL, "RestoreSecret", "ss", c->org, s->id);
        if (r == 0 && c->json == JSON_OFF)
                printf("Restored \"%s\" (%s)%s.\n", s->name, s->id,
                       s->refs > 0 ? " with its references: the features using it are served again" : "");
        trashed_free(l, n);
        return r;
}

int verb_purge(Ctl *c) {
        _cleanup_free_ char *question = NULL;
        const Trashed *s = NULL;
        Trashed *l = NULL;
        bool admin = true;
        size_t n = 0;
        int r;

        r = find_trashed(c, c->args[0], &l, &n, &s);
        if (r == 0)
                r = ctl_is_admin(c, &admin);
        if (r == 0 && !admin) {
                /* No confirmation for a call the daemon will refuse (and audit). */
                r = ctl_call(c, "purging secrets", "admin", NULL, "PurgeSecret", "ss", c->org, s->id);
                goto out;
        }
        if (r > 0)
                goto out;
        if (!c->yes) {
                question = strdup_printf("Destroy secret \"%s\" (%s) and all its versions for good?", s->name, s->id);
                if (!question) {
                        r = ctl_fail(CTL_EXIT_FAILURE, "Out of memory.");
                        goto out;
                }
                if (!ask_yes_no(question)) {
                        r = ctl_fail(CTL_EXIT_CANCELLED, "Not purged.");
                        goto out;
                }
        }
        r = ctl_call(c, "purging secrets", "admin", NULL, "PurgeSecret", "ss", c->org, s->id);
out:
        trashed_free(l, n);
        return r;
}
