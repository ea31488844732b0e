/* SPDX-License-Identifier: Apache-2.0 */
/* The files backend's org manifest, orgs/<org>/manifest.json (its fields
 * are vault-manifest.c's business, docs/FORMAT.md), and the quarantine of a
 * record the manifest refuses, live or in the trash. */

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "log.h"
#include "store.h"

#define MANIFEST_FILE_MAX (64 * 1024 * 1024)

int store_load_manifest(int state_fd, const char *org, char **ret_text, size_t *ret_len) {
        _cleanup_free_ char *path = NULL;

        if (!org_name_valid(org))
                return -EINVAL;
        path = strdup_printf("orgs/%s/manifest.json", org);
        if (!path)
                return -ENOMEM;
        return read_file_at(state_fd, path, MANIFEST_FILE_MAX, ret_text, ret_len);
}

int store_write_manifest(int state_fd, StoreBatch *batch, const char *org, const char *text, size_t len) {
        if (!org_name_valid(org))
                return -EINVAL;
        _cleanup_free_ char *path = strdup_printf("orgs/%s/manifest.json", org);
        if (!path)
                return -ENOMEM;
        return store_write_file(state_fd, batch, path, text, len, 0600, NULL);
}

int store_save_manifest(int state_fd, const char *org, const char *text, size_t len) {
        return store_write_manifest(state_fd, NULL, org, text, len);
}

int store_quarantine_record(int state_fd, const char *org, const Secret *s, const char *reason) {
        if (!org_name_valid(org) || !secret_id_valid(s->id))
                return -EINVAL;
        if (!s->deleted) {
                _cleanup_free_ char *name = strdup_printf("%s.json", s->id);
                return name ? store_quarantine(state_fd, org, name, reason) : -ENOMEM;
        }
        _cleanup_free_ char *src = strdup_printf("orgs/%s/trash/%s.%" PRIu64 ".json", org, s->id, s->deleted);
        _cleanup_free_ char *dst = strdup_printf("quarantine/%s.trash.%s.%" PRIu64 ".json.%" PRIu64, org, s->id,
                                                 s->deleted, now_usec());
        _cleanup_free_ char *dir = strdup_printf("orgs/%s/trash", org);
        if (!src || !dst || !dir)
                return -ENOMEM;
        if (renameat(state_fd, src, state_fd, dst) < 0)
                return -errno;
        log_warning("Quarantined trash entry %s as %s: %s", src, dst, reason);
        int r = fsync_dir_at(state_fd, "quarantine");
        return r < 0 ? r : fsync_dir_at(state_fd, dir);
}
