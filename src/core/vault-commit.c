/* SPDX-License-Identifier: Apache-2.0 */
/* Group commit, the vault's half (vault.h, "Group commit"): while it is on,
 * the store stages record writes, and a change's manifest is written once
 * per org at the commit, staged after every record of the batch, so one
 * commit makes N records and one manifest per org durable with one fsync
 * per directory, and the manifest is renamed after the records it names. */

#include <errno.h>
#include <string.h>

#include "vault-internal.h"

int vault_set_group_commit(Vault *v, bool on) {
        int r = store_op_set_group_commit(v->store, on);
        v->group_commit = on && r >= 0;
        return r;
}

bool vault_commit_pending(Vault *v) { return v->manifests_pending || store_op_pending(v->store) > 0; }

void org_manifest_at_commit(Vault *v, VaultOrg *o) {
        o->manifest_at_commit = true;
        v->manifests_pending = true;
}

/* Each org's manifest, staged behind its records (or, if staging can't be
 * had, written once they are durable: the store commits first). */
static void stage_manifests(Vault *v) {
        bool was = v->group_commit;

        (void) store_op_set_group_commit(v->store, true);
        for (size_t i = 0; i < v->n_orgs; i++) {
                VaultOrg *o = v->orgs[i];
                if (!o->manifest_at_commit)
                        continue;
                o->manifest_at_commit = false;
                OvError e = {};
                /* As org_update_manifest: a record newer than its manifest is
                 * accepted, so a failure only delays protection. */
                if (org_write_manifest(v, o, &e) < 0)
                        log_warning("Org %s: %s (retried later)", o->name, e.message);
        }
        v->manifests_pending = false;
        (void) store_op_set_group_commit(v->store, was);
}

int vault_commit(Vault *v) {
        if (v->manifests_pending)
                stage_manifests(v);
        int r = store_op_commit(v->store);
        if (r >= 0)
                return 0;
        log_error("A group commit failed: %s; reloading every org from the store", strerror(-r));
        (void) vault_flush_usage(v);
        for (size_t i = 0; i < v->n_orgs; i++)
                org_free(v->orgs[i]);
        v->n_orgs = 0;
        return r;
}
