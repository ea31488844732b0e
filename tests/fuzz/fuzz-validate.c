/* SPDX-License-Identifier: Apache-2.0 */
/* Field validation (secret_type_validate) against each shipped type, with
 * the fields object built from the fuzz bytes so that nearly every input
 * reaches the validator rather than dying in a JSON parser:
 *
 *   input   := type-byte entry ( RS entry )*
 *   entry   := key [ US value ]
 *   key     := one byte below 0x10: the type's field of that index;
 *              anything else: the key's raw bytes
 *   value   := GS: a number instead of a string; else the raw bytes
 *
 * RS, US, GS are the ASCII separators 0x1e, 0x1f, 0x1d. Strings are set
 * unchecked, so values may hold NUL, control bytes or broken UTF-8. Besides
 * not crashing, validation must be idempotent: the normalised fields of an
 * accepted value validate again with no error, to the same normalised form. */

#include <stdio.h>
#include <string.h>

#include "fuzz-common.h"
#include "secret-types.h"

#define RS 0x1e
#define US 0x1f
#define GS 0x1d

static TypeRegistry *registry;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        _cleanup_strv_free_ char **errors = NULL;

        fuzz_setup();
        if (type_registry_load(&registry, FUZZ_DATA_DIR, NULL, &errors) < 0 || errors || registry->n_types == 0) {
                fprintf(stderr, "fuzz setup: cannot load the shipped types from %s\n", FUZZ_DATA_DIR);
                abort();
        }
        return 0;
}

static void add_entry(json_t *fields, const SecretType *t, const uint8_t *e, size_t n) {
        const uint8_t *us = memchr(e, US, n);
        size_t key_len = us ? (size_t) (us - e) : n;
        const uint8_t *value = us ? us + 1 : e + n;
        size_t value_len = us ? n - key_len - 1 : 0;
        const char *key = (const char *) e;
        json_t *v;

        if (key_len == 1 && e[0] < 0x10) {
                key = t->fields[e[0] % t->n_fields].id;
                key_len = strlen(key);
        }
        if (value_len > 0 && value[0] == GS)
                v = json_integer((json_int_t) value_len);
        else
                v = json_stringn_nocheck((const char *) value, value_len);
        if (!v)
                abort();
        /* jansson keys are C strings: cut at a NUL as a D-Bus string would. */
        _cleanup_free_ char *k = strndup(key, key_len);
        if (!k)
                abort();
        if (json_object_set_new_nocheck(fields, k, v) < 0)
                abort();
}

/* Validates the normalised fields again: no errors and nothing changes. */
static void check_idempotent(const SecretType *t, json_t *normalized) {
        ValidationResult again = {};

        if (secret_type_validate(t, normalized, &again) < 0)
                abort();
        if (again.n_errors > 0 || !json_equal(again.normalized, normalized)) {
                _cleanup_free_ char *why = validation_errors_to_string(&again);
                fprintf(stderr, "type %s: normalised fields do not validate to themselves: %s\n", t->id,
                        why ? why : "?");
                abort();
        }
        validation_result_clear(&again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_json_ json_t *fields = NULL;
        _cleanup_free_ char *errors = NULL;
        ValidationResult res = {};
        const SecretType *t;

        if (size == 0)
                return 0;
        t = registry->types[data[0] % registry->n_types];
        fields = json_object();
        if (!fields)
                abort();
        for (size_t start = 1; start < size;) {
                const uint8_t *rs = memchr(data + start, RS, size - start);
                size_t end = rs ? (size_t) (rs - data) : size;
                add_entry(fields, t, data + start, end - start);
                start = end + 1;
        }

        if (secret_type_validate(t, fields, &res) < 0)
                abort();
        errors = validation_errors_to_string(&res);
        if (!errors || (res.n_errors == 0) != (res.normalized != NULL))
                abort();
        if (res.normalized)
                check_idempotent(t, res.normalized);
        validation_result_clear(&res);
        return 0;
}
