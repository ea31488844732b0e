/* SPDX-License-Identifier: Apache-2.0 */
/* A secret's record file (orgs/<org>/secrets/<id>.json) as read from disk:
 * secret_parse_text, then what the daemon does with an accepted record —
 * write it back (secret_to_json) and open its value with the org key. */

#include <stdio.h>
#include <string.h>

#include "fuzz-common.h"
#include "store.h"

static OvKey *key;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_setup();
        key = fuzz_key();
        return 0;
}

/* The text secret_to_json makes of a record, compact with sorted keys. */
static char *record_text(const Secret *s) {
        _cleanup_json_ json_t *j = secret_to_json(s, FUZZ_ORG);
        if (!j)
                abort();        /* only ENOMEM, and fuzzing has memory */
        char *t = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        if (!t)
                abort();
        return t;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_secret_ Secret *s = NULL, *again = NULL;
        _cleanup_free_ char *error = NULL, *error_again = NULL, *text = NULL, *text_again = NULL;
        char *plain = NULL;
        size_t plain_len = 0;

        if (secret_parse_text((const char *) data, size, FUZZ_ORG, &s, &error) < 0)
                return 0;

        /* What the parser accepts, the writer must write so that the parser
         * reads back the same record: a record rewritten by a rename or a
         * reference change must never turn unreadable. */
        text = record_text(s);
        if (secret_parse_text(text, strlen(text), FUZZ_ORG, &again, &error_again) < 0) {
                fprintf(stderr, "rewritten record refused: %s\n", error_again ? error_again : "?");
                abort();
        }
        text_again = record_text(again);
        if (strcmp(text, text_again) != 0)
                abort();

        if (crypto_open_record(key, s->key_id, FUZZ_ORG, s->id, s->type, s->nonce, s->ciphertext,
                               &plain, &plain_len) == 0) {
                if (plain[plain_len] != 0)
                        abort();
                crypto_free_plain(plain);
        }
        return 0;
}
