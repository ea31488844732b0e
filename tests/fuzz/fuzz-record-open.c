/* SPDX-License-Identifier: Apache-2.0 */
/* Decryption of the base64 strings a record or org.json carries, with a
 * fixed key: crypto_open_record (a record's value) and crypto_unwrap_key (an
 * org data key). Input: "<nonce>\n<ciphertext>"; the seeds hold strings the
 * real code sealed under the fuzz key, so mutations reach the tag check. */

#include <string.h>

#include "fuzz-common.h"

#define FUZZ_ID "ops-slack"
#define FUZZ_TYPE "slack-webhook"

static OvKey *key;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_setup();
        key = fuzz_key();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *input = fuzz_strndup(data, size);
        _cleanup_key_ OvKey *data_key = NULL;
        char *ct = strchr(input, '\n'), *plain = NULL;
        size_t plain_len = 0;

        if (ct)
                *ct++ = 0;
        else
                ct = input + strlen(input);

        if (crypto_open_record(key, 1, FUZZ_ORG, FUZZ_ID, FUZZ_TYPE, input, ct, &plain, &plain_len) == 0) {
                if (plain[plain_len] != 0)
                        abort();
                crypto_free_plain(plain);
        }
        if (crypto_unwrap_key(key, FUZZ_ORG, 1, input, ct, &data_key) == 0 && !data_key)
                abort();
        return 0;
}
