/* SPDX-License-Identifier: Apache-2.0 */
/* An org index (orgs/<org>/index) as read from disk. The input is the
 * index without its trailing BLAKE2b-256: the harness appends the right sum,
 * so the fuzzer explores the entries rather than the checksum (the unit test
 * flips every byte of a real index for that). Then what the daemon does with
 * an accepted index: write it again (org_index_format), which must give back
 * the very same bytes, and load the org with it in place (store_load_org
 * over a scratch state dir holding one record). */

#include <string.h>
#include <sodium.h>

#include "fuzz-common.h"
#include "store.h"

#define SUM_BYTES crypto_generichash_BYTES

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        Secret s = {
                .id = (char *) "ops-slack",
                .name = (char *) "Ops Slack",
                .type = (char *) "slack-webhook",
                .created = 1714000000000000,
                .updated = 1714000000000000,
                .version = 1,
                .key_id = 1,
                .nonce = (char *) "DPc9RHEfTBRL5pWcD67Qbm/fwccxzibx",
                .ciphertext = (char *) "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd",
        };

        fuzz_setup();
        if (store_save_secret(fuzz_dir_fd(), FUZZ_ORG, &s, NULL) < 0)
                abort();
        return 0;
}

static void free_secrets(Secret **a, size_t n) {
        for (size_t i = 0; i < n; i++)
                secret_free(a[i]);
        free(a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ uint8_t *file = malloc(size + SUM_BYTES), *again = NULL;
        _cleanup_free_ char *error = NULL;
        Secret **secrets = NULL;
        size_t n = 0, again_len = 0;
        unsigned quarantined = 0;
        bool stale = false;

        if (!file)
                abort();
        if (size > 0)
                memcpy(file, data, size);
        crypto_generichash(file + size, SUM_BYTES, file, size, NULL, 0);

        /* As given, the sum is almost always wrong: refused, nothing leaks. */
        if (org_index_parse(data, size, FUZZ_ORG, &secrets, &n, NULL) == 0)
                free_secrets(secrets, n);
        if (org_index_parse(file, size + SUM_BYTES, FUZZ_ORG, &secrets, &n, &error) < 0)
                return 0;

        /* The format is canonical: an accepted index is what the writer
         * makes of what it holds, byte for byte. */
        if (org_index_format(FUZZ_ORG, secrets, n, &again, &again_len) < 0)
                abort();
        if (again_len != size + SUM_BYTES || memcmp(again, file, again_len) != 0)
                abort();
        free_secrets(secrets, n);

        fuzz_write_file("orgs/" FUZZ_ORG "/index", file, size + SUM_BYTES);
        if (store_load_org(fuzz_dir_fd(), FUZZ_ORG, &secrets, &n, &quarantined, &stale) < 0)
                abort();
        /* Whatever the index says, it can only stand in for the one record
         * file there is. */
        if (n != 1 || strcmp(secrets[0]->id, "ops-slack") != 0 || quarantined != 0)
                abort();
        free_secrets(secrets, n);
        return 0;
}
