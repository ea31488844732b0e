/* SPDX-License-Identifier: Apache-2.0 */
/* Secret types as data (one JSON file per type in policy/types.d/) and the field validator. */
#pragma once

#include <regex.h>
#include "util.h"

typedef enum FieldKind { FIELD_URL, FIELD_SECRET, FIELD_TEXT, FIELD_ENUM } FieldKind;

/* A POSIX ERE with the message shown when it fires. The pattern is checked
 * (compiled once) when its file loads, but kept compiled only from its first
 * use: glibc's compiled forms of the shipped patterns take megabytes, and a
 * daemon that only resolves never matches one. */
typedef struct TypeRule {
        char *pattern;
        char *message;
        regex_t *re;             /* NULL until type_rule_match() first needs it */
} TypeRule;

/* 1 when s matches r, 0 when not, -ENOMEM. */
int type_rule_match(const TypeRule *r, const char *s);

typedef struct TypeField {
        char *id;
        char *label;
        char *description;
        FieldKind kind;
        bool required;
        bool secret;             /* read with no echo, never shown */
        bool has_pattern;        /* hard pattern: a miss rejects */
        TypeRule pattern;
        TypeRule *reject_if;     /* a match rejects, with its own message */
        size_t n_reject_if;
        TypeRule *hints;         /* hint_pattern: a miss only warns */
        size_t n_hints;
        TypeRule *warn_if;       /* a match only warns */
        size_t n_warn_if;
        char **allowed;          /* enum values (lower-case), NULL if any */
} TypeField;

typedef struct SecretType {
        char *id;
        char *name;              /* display name */
        char *category;          /* notification | ai | telephony */
        char **used_by;          /* features */
        char **notes;
        TypeField *fields;
        size_t n_fields;
        char *source;            /* path of the file it came from */
} SecretType;

typedef struct TypeRegistry {
        SecretType **types;      /* sorted by id */
        size_t n_types;
} TypeRegistry;

/* Parses one type file. On failure *ret_error names the file and the problem. */
int secret_type_load_file(const char *path, SecretType **ret, char **ret_error);
void secret_type_free(SecretType *t);

/* Loads <data_dir>/types.d/ then <config_dir>/types.d/ (same id overrides).
 * A malformed file is skipped and its message appended to *ret_errors
 * (may be NULL). Either dir may be missing. */
int type_registry_load(TypeRegistry **ret, const char *data_dir, const char *config_dir, char ***ret_errors);
void type_registry_free(TypeRegistry *r);
static inline void type_registry_freep(TypeRegistry **r) { type_registry_free(*r); }
const SecretType *type_registry_find(const TypeRegistry *r, const char *id);
const TypeField *secret_type_field(const SecretType *t, const char *field_id);
bool secret_type_used_by(const SecretType *t, const char *feature);
const char *field_kind_to_string(FieldKind k);
/* Why a pattern is refused before regcomp(), or NULL: repetitions that would
 * make regcomp() expand it past a sane size (glibc copies a repeated atom per
 * repetition), or a back-reference (not regular: exponential matching). */
const char *regex_pattern_problem(const char *pattern);
/* The pattern with each interval's counts cut to at most 1 ({20,300} is
 * {1,1}, {0,8} is {0,1}), to check that it compiles: regcomp() accepts or
 * refuses it as it does the pattern (counts matter to it only through
 * min <= max <= RE_DUP_MAX, which intervals it cuts must satisfy), at a
 * fraction of the cost (the shipped types' compiled forms take megabytes).
 * NULL: out of memory. */
char *regex_check_form(const char *pattern);

typedef struct FieldIssue {
        char *field;             /* field id, or "" for the whole value */
        char *message;
} FieldIssue;

typedef struct ValidationResult {
        FieldIssue *errors;
        size_t n_errors;
        FieldIssue *warnings;
        size_t n_warnings;
        json_t *normalized;      /* object field id -> normalised string; set when n_errors == 0 */
} ValidationResult;

/* Validates `fields` (a JSON object of strings) against t: bounds, unknown and
 * missing fields, normalisation (trim; lower-case URL scheme/host and enum
 * values), hard pattern, reject_if, allowed values, then hints and warn_if.
 * Returns 0 when it ran (check res->n_errors), -ENOMEM otherwise. */
int secret_type_validate(const SecretType *t, json_t *fields, ValidationResult *res);
void validation_result_clear(ValidationResult *res);
/* "field: message; field: message" of all errors, for InvalidField. */
char *validation_errors_to_string(const ValidationResult *res);
