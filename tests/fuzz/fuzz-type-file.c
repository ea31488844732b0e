/* SPDX-License-Identifier: Apache-2.0 */
/* A secret type file (types.d/<type>.json, shipped or an admin's own):
 * secret_type_load_file on a scratch file, then a validation against the
 * loaded type so its compiled rules run too. */

#include <string.h>

#include "fuzz-common.h"
#include "secret-types.h"

#define TYPE_FILE "type.json"

/* One value that reaches every kind's normalisation: URL scheme and host,
 * a port, a path, case for enums. */
#define SAMPLE_VALUE " HTTPS://Fake.Example.COM:8443/v1/ "

static const char *type_path;

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        fuzz_setup();
        type_path = strdup_printf("%s/%s", fuzz_dir(), TYPE_FILE);
        if (!type_path)
                abort();
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        _cleanup_free_ char *error = NULL;
        _cleanup_json_ json_t *fields = NULL;
        SecretType *t = NULL;
        ValidationResult res = {};

        fuzz_write_file(TYPE_FILE, data, size);
        if (secret_type_load_file(type_path, &t, &error) < 0)
                return 0;

        fields = json_object();
        if (!fields)
                abort();
        for (size_t i = 0; i < t->n_fields; i++) {
                if (!secret_type_field(t, t->fields[i].id) || !field_kind_to_string(t->fields[i].kind))
                        abort();
                if (json_object_set_new(fields, t->fields[i].id, json_string(SAMPLE_VALUE)) < 0)
                        abort();
        }
        if (secret_type_validate(t, fields, &res) == 0) {
                free(validation_errors_to_string(&res));
                validation_result_clear(&res);
        }
        secret_type_free(t);
        return 0;
}
