/* SPDX-License-Identifier: Apache-2.0 */
/* The search index (name-index.c through vault-org.c): after random adds,
 * renames and deletes, every search gives exactly what a scan of by_name
 * gives, in the same order, with names and needles mixing ASCII case,
 * non-ASCII UTF-8 and invalid-looking bytes. */

#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "check-main.h"
#include "vault-internal.h"

/* Fragments names are made of: case variants, accents, CJK, emoji, and
 * bytes that fold differently in other locales (the search folds ASCII only). */
static const char *const parts[] = {
        "Ops", "ops", "OPS", "webhook", "WebHook", "Slack", "sLACK", "db", "DB", "prod", "Prod", "-", " ", "_",
        "é", "É", "ß", "SS", "ss", "İ", "i", "I", "ı", "日本", "語", "🔑", "Ä", "ä", "0", "1", "42", "x", "X",
        "kelvin", "K", "\xe2\x84\xaa" /* KELVIN SIGN */, "ﬀ", "ff", "Σ", "σ", "ς",
};

static unsigned rnd(unsigned *seed, unsigned n) {
        *seed = *seed * 1103515245u + 12345u;
        return (*seed >> 8) % n;
}

static char *random_name(unsigned *seed) {
        char buf[256] = "";
        unsigned k = 1 + rnd(seed, 6);
        for (unsigned i = 0; i < k; i++)
                strcat(buf, parts[rnd(seed, sizeof parts / sizeof *parts)]);
        return strdup(buf);
}

/* A needle: a piece of an existing name with its ASCII case flipped here and
 * there (so it must match across case), or a fresh random one. */
static char *random_needle(unsigned *seed, const VaultOrg *o) {
        if (o->n == 0 || rnd(seed, 3) == 0)
                return random_name(seed);
        const char *name = o->by_name[rnd(seed, (unsigned) o->n)]->name;
        size_t len = strlen(name), start = rnd(seed, (unsigned) len), n = 1 + rnd(seed, (unsigned) (len - start));
        char *s = strndup(name + start, n);
        for (char *p = s; *p; p++)
                if (rnd(seed, 2) && ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z')))
                        *p ^= 0x20;
        return s;
}

static Secret *new_secret(unsigned id, char *name) {
        Secret *s = calloc(1, sizeof(Secret));
        ck_assert_ptr_nonnull(s);
        ck_assert_int_ge(asprintf(&s->id, "s%06u", id), 0);
        s->name = name;
        return s;
}

/* The scan ListSecrets made before the index: every name in by_name order. */
static size_t scan(const VaultOrg *o, const char *needle, Secret **out) {
        size_t n = 0;
        for (size_t i = 0; i < o->n; i++)
                if (ascii_strcase_contains(o->by_name[i]->name, needle))
                        out[n++] = o->by_name[i];
        return n;
}

/* The same through the index: its candidates, each checked, or the scan
 * when the index declines. */
static size_t indexed(VaultOrg *o, const char *needle, Secret **out, unsigned *used) {
        Secret **cand = NULL;
        size_t n_cand = 0, n = 0;
        int r = org_search_candidates(o, needle, &cand, &n_cand);
        if (r == -EOPNOTSUPP)
                return scan(o, needle, out);
        ck_assert_int_eq(r, 0);
        (*used)++;
        for (size_t i = 0; i < n_cand; i++)
                if (ascii_strcase_contains(cand[i]->name, needle))
                        out[n++] = cand[i];
        free(cand);
        return n;
}

static void check_search(VaultOrg *o, const char *needle, unsigned *used) {
        Secret **a = calloc(o->n + 1, sizeof(Secret *)), **b = calloc(o->n + 1, sizeof(Secret *));
        size_t na = scan(o, needle, a), nb = indexed(o, needle, b, used);
        ck_assert_msg(na == nb, "search \"%s\": scan finds %zu, index %zu", needle, na, nb);
        for (size_t i = 0; i < na; i++)
                ck_assert_msg(a[i] == b[i], "search \"%s\": result %zu differs", needle, i);
        free(a);
        free(b);
}

static void remove_at(VaultOrg *o, size_t i) {
        Secret *s = o->by_name[i];
        org_unlink(o, s);
        secret_free(s);
}

START_TEST(test_index_equals_scan) {
        VaultOrg *o = calloc(1, sizeof(VaultOrg));
        unsigned seed = 17u + (unsigned) _i, next_id = 0, used = 0;

        ck_assert_ptr_nonnull(o);
        o->name = strdup("acme");
        /* Some secrets before the index exists (built at the first search). */
        for (int k = 0; k < 300; k++) {
                ck_assert_int_eq(org_reserve(o), 0);
                org_insert(o, new_secret(next_id++, random_name(&seed)));
        }
        for (int step = 0; step < 6000; step++) {
                unsigned op = rnd(&seed, 10);
                if (op < 4 || o->n == 0) {                      /* add */
                        ck_assert_int_eq(org_reserve(o), 0);
                        org_insert(o, new_secret(next_id++, random_name(&seed)));
                } else if (op < 6) {                            /* rename */
                        Secret *s = o->by_name[rnd(&seed, (unsigned) o->n)];
                        org_unlink(o, s);
                        free(s->name);
                        s->name = random_name(&seed);
                        org_insert(o, s);
                } else if (op < 7)                              /* delete */
                        remove_at(o, rnd(&seed, (unsigned) o->n));
                else {
                        char *needle = random_needle(&seed, o);
                        check_search(o, needle, &used);
                        free(needle);
                }
        }
        /* Most deleted: the index rebuilds itself from the live names. */
        while (o->n > 100)
                remove_at(o, rnd(&seed, (unsigned) o->n));
        for (int k = 0; k < 500; k++) {
                char *needle = random_needle(&seed, o);
                check_search(o, needle, &used);
                free(needle);
        }
        ck_assert_uint_gt(used, 100);           /* the index answered, not only the scan */
        org_free(o);
}
END_TEST

/* Needles that only a fold of ASCII would match, and some it must not. */
START_TEST(test_fold_rules) {
        VaultOrg *o = calloc(1, sizeof(VaultOrg));
        static const char *const names[] = { "Ops Webhook", "STRASSE", "straße", "Émile DB", "émile db", "日本語 key" };
        unsigned used = 0;

        ck_assert_ptr_nonnull(o);
        o->name = strdup("acme");
        for (unsigned k = 0; k < 6; k++) {
                ck_assert_int_eq(org_reserve(o), 0);
                org_insert(o, new_secret(k, strdup(names[k])));
        }
        static const char *const needles[] = { "WEBHOOK", "ops web", "strasse", "STRAßE", "ÉMILE", "émile",
                                               "mile d", "日本", "本語 K", "xyz", "ss" };
        for (unsigned k = 0; k < sizeof needles / sizeof *needles; k++)
                check_search(o, needles[k], &used);
        Secret **cand = NULL;
        size_t n = 0;
        ck_assert_int_eq(org_search_candidates(o, "xyz", &cand, &n), 0);
        ck_assert_uint_eq(n, 0);                /* no name has the trigram */
        free(cand);
        org_free(o);
}
END_TEST

int main(void) {
        Suite *s = suite_create("search");
        TCase *tc = tcase_create("index");
        tcase_set_timeout(tc, 120);
        tcase_add_loop_test(tc, test_index_equals_scan, 0, 4);
        tcase_add_test(tc, test_fold_rules);
        suite_add_tcase(s, tc);
        return check_main_run(s);
}
