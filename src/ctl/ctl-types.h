/* SPDX-License-Identifier: Apache-2.0 */
/* Secret types as the Manager describes them (ListTypes, DescribeType). */
#pragma once

#include "ctl.h"

typedef struct TypeInfo {
        char *id;
        char *name;
        char *category;
        char *used_by;           /* comma list of features */
} TypeInfo;

typedef struct FieldInfo {
        char *id;
        char *label;
        char *kind;
        char *description;
        bool required;
        bool secret;             /* typed with no echo, never shown */
        char **allowed;          /* NULL or empty: any value */
} FieldInfo;

void type_infos_free(TypeInfo *t, size_t n);
void field_infos_free(FieldInfo *f, size_t n);

/* Return 0 or an exit code (already reported). */
int ctl_list_types(Ctl *c, const char *feature, TypeInfo **ret, size_t *ret_n);
int ctl_describe_type(Ctl *c, const char *type, FieldInfo **ret, size_t *ret_n);

/* --type and --feature must name a type and a feature some type is used by
 * (ListTypes says which): an unknown one is an error listing the valid ones,
 * not an empty list. */
int ctl_check_filters(Ctl *c);
