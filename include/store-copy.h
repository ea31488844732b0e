/* SPDX-License-Identifier: Apache-2.0 */
/* Moving an org vault between stores (orgvaultd --copy-store): every org's
 * records, key document and usage copied as they are, ciphertext intact, no
 * key needed; then read back from the target and compared. */
#pragma once

#include <stdbool.h>

typedef struct StoreCopyResult {
        unsigned orgs;
        unsigned records;
        unsigned key_documents;
} StoreCopyResult;

/* from/to: a state directory (the files store) or a postgresql:// URI. An
 * org the target already holds records or keys for is refused (-EEXIST,
 * nothing of it written). verify_only: compare, write nothing; a
 * difference is -EBADMSG. *ret_error (may be NULL) says what went wrong. */
int store_copy(const char *from, const char *to, bool verify_only, StoreCopyResult *ret, char **ret_error);
