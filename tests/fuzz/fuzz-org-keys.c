/* SPDX-License-Identifier: Apache-2.0 */
/* An org's key file (orgs/<org>/org.json) as read from disk: org_keys_load
 * on a scratch state dir, then unwrapping each key with the fixed master key. */

#include <sys/stat.h>

#include "fuzz-common.h"
#include "org-keys.h"

static OvKey *master;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_setup();
        master = fuzz_key();
        if (mkdir_p_at(fuzz_dir_fd(), "orgs/" FUZZ_ORG, 0700) < 0)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL;
        OrgKeys k = {};

        fuzz_write_file("orgs/" FUZZ_ORG "/org.json", data, size);
        static Store *st;
        if (!st && store_files_new(fuzz_dir_fd(), &st) < 0)
                abort();
        if (org_keys_load(st, FUZZ_ORG, &k, &error) < 0)
                return 0;
        for (size_t i = 0; i < k.n_keys; i++) {
                _cleanup_key_ OvKey *data_key = NULL;
                (void) crypto_unwrap_key(master, FUZZ_ORG, k.keys[i].id, k.keys[i].nonce, k.keys[i].wrapped,
                                         &data_key);
        }
        org_keys_clear(&k);
        return 0;
}
