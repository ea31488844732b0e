/* SPDX-License-Identifier: Apache-2.0 */
/* Status's counts (orgs, secrets, quarantined records) from memory. Anyone
 * may call Status, and it used to scan every org's directory per call: a
 * flood of calls was a flood of directory scans. Now the store's org list,
 * each org's record count and quarantine count are asked at most once per
 * daemon life. That stays right because this process is the state's only
 * writer (the state lock) and its own changes are seen here: a loaded org
 * counts its secrets in memory, and loading one reports what it set aside. */

#include <errno.h>
#include <string.h>

#include "vault-internal.h"

typedef struct CensusOrg {
        char *name;
        bool on_disk;            /* listed by the store (a directory under orgs/) */
        bool records_known;
        unsigned records;        /* files in secrets/ while the org is not loaded */
        bool quarantined_known;
        unsigned quarantined;
} CensusOrg;

struct VaultCensus {
        CensusOrg *orgs;
        size_t n;
        bool listed;             /* the store's orgs were listed: on_disk is known */
        bool quarantined_known;
        unsigned quarantined;    /* every file in quarantine/ */
};

void census_free(VaultCensus *c) {
        if (!c)
                return;
        for (size_t i = 0; i < c->n; i++)
                free(c->orgs[i].name);
        free(c->orgs);
        free(c);
}

static VaultCensus *census(Vault *v) {
        if (!v->census)
                v->census = calloc(1, sizeof(VaultCensus));
        return v->census;
}

static CensusOrg *census_org(VaultCensus *c, const char *name, bool create) {
        for (size_t i = 0; i < c->n; i++)
                if (strcmp(c->orgs[i].name, name) == 0)
                        return &c->orgs[i];
        if (!create)
                return NULL;
        CensusOrg *a = reallocarray(c->orgs, c->n + 1, sizeof(CensusOrg));
        if (!a)
                return NULL;
        c->orgs = a;
        a[c->n] = (CensusOrg) { .name = strdup(name) };
        if (!a[c->n].name)
                return NULL;
        return &a[c->n++];
}

static VaultOrg *loaded_org(Vault *v, const char *name) {
        for (size_t i = 0; i < v->n_orgs; i++)
                if (strcmp(v->orgs[i]->name, name) == 0)
                        return v->orgs[i];
        return NULL;
}

void census_note_quarantined(Vault *v, const char *org, unsigned n) {
        VaultCensus *c = v->census;
        if (!c)
                return;          /* nothing counted yet: the first count reads it */
        if (c->quarantined_known)
                c->quarantined += n;
        CensusOrg *co = census_org(c, org, false);
        if (co && co->quarantined_known)
                co->quarantined += n;
}

static int census_list(Vault *v, VaultCensus *c) {
        _cleanup_strv_free_ char **names = NULL;
        if (c->listed)
                return 0;
        int r = store_op_list_orgs(v->store, &names);
        if (r < 0)
                return r;
        for (char **n = names; *n; n++) {
                CensusOrg *co = census_org(c, *n, true);
                if (!co)
                        return -ENOMEM;
                co->on_disk = true;
        }
        c->listed = true;
        return 0;
}

/* Adds one org's counts to *ret when it exists (a directory, or secrets in memory). */
static int count_org(Vault *v, VaultCensus *c, const char *name, VaultCounts *ret) {
        CensusOrg *co = census_org(c, name, true);
        VaultOrg *o = loaded_org(v, name);
        int r;

        if (!co)
                return -ENOMEM;
        if (!o && !co->records_known) {
                r = store_op_count_secrets(v->store, name, &co->records);
                if (r < 0)
                        return r;
                co->records_known = true;
        }
        if (!co->quarantined_known) {
                co->quarantined = store_op_count_quarantined(v->store, name);
                co->quarantined_known = true;
        }
        unsigned secrets = o ? (unsigned) o->n : co->records;
        /* Like vault_loaded_orgs: a directory, or secrets added since. */
        if (!co->on_disk && secrets == 0)
                return 0;
        ret->orgs++;
        ret->secrets += secrets;
        ret->quarantined += co->quarantined;
        return 0;
}

int vault_counts(Vault *v, char *const *orgs, VaultCounts *ret) {
        VaultCensus *c = census(v);
        VaultCounts counts = {};
        int r;

        if (!c)
                return -ENOMEM;
        r = census_list(v, c);   /* once: which orgs exist */
        if (r < 0)
                return r;
        if (orgs) {
                for (char *const *n = orgs; *n; n++)
                        if ((r = count_org(v, c, *n, &counts)) < 0)
                                return r;
                *ret = counts;
                return 0;
        }

        for (size_t i = 0; i < v->n_orgs; i++)
                if (v->orgs[i]->n > 0 && !census_org(c, v->orgs[i]->name, true))
                        return -ENOMEM;
        for (size_t i = 0; i < c->n; i++)      /* finds its entry: c->orgs stays put */
                if ((r = count_org(v, c, c->orgs[i].name, &counts)) < 0)
                        return r;
        /* Every file of quarantine/, those of orgs without a directory too. */
        if (!c->quarantined_known) {
                c->quarantined = store_op_count_quarantined(v->store, NULL);
                c->quarantined_known = true;
        }
        counts.quarantined = c->quarantined;
        *ret = counts;
        return 0;
}
