/* SPDX-License-Identifier: Apache-2.0 */
/* An org's search index: the trigrams of its secrets' names, case-folded the
 * way ListSecrets' search folds them (ASCII only, other bytes as they are),
 * each with the secrets whose name has it. A search of three bytes or more
 * then checks only the secrets of its rarest trigram instead of every name.
 * It is a filter: every secret whose name contains the needle is among the
 * candidates, and the caller still checks each one, so a stale entry (a
 * removed or renamed secret) costs a check, never a wrong answer. Private
 * to the vault (vault-org.c keeps it in step with its by_name array). */
#pragma once

#include "secret.h"

typedef struct NameIndex NameIndex;

int name_index_new(NameIndex **ret);
void name_index_free(NameIndex *x);
/* Indexes s under its current name (s->name_slot is set). -ENOMEM: the
 * index may now miss names and must be dropped (name_index_free). */
int name_index_add(NameIndex *x, Secret *s);
/* s leaves the index (before it is freed or renamed); may rebuild it, and
 * -ENOMEM means the same as for name_index_add. */
int name_index_remove(NameIndex *x, Secret *s);
/* The live secrets that may contain needle, in no particular order:
 * -EOPNOTSUPP when the needle is too short to narrow the search or the
 * narrowest trigram is too common to beat a scan (the caller scans). */
int name_index_candidates(const NameIndex *x, const char *needle, Secret ***ret, size_t *ret_n);
