/* SPDX-License-Identifier: Apache-2.0 */
/* Records, org.json and usage.json on disk: strict parsing, durable layout,
 * temp leftovers and quarantine. Real files in a temp state dir. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "check-main.h"
#include "store.h"

static char state_dir[64];
static int state_fd = -1;

static void setup(void) {
        strcpy(state_dir, "/tmp/ov-test-store-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(state_dir));
        state_fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(state_fd, 0);
        ck_assert_int_eq(store_prepare(state_fd), 0);
}

static void teardown(void) {
        char cmd[128];
        close(state_fd);
        snprintf(cmd, sizeof cmd, "rm -rf %s", state_dir);
        ck_assert_int_eq(system(cmd), 0);
}

/* A record with a plausible sealed value (shape only: nothing opens it here). */
static Secret *make_secret(const char *id, const char *name, size_t n_refs) {
        static const char nonce[] = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX";        /* 24 bytes */
        Secret *s = calloc(1, sizeof(Secret));
        ck_assert_ptr_nonnull(s);
        s->id = strdup(id);
        s->name = strdup(name);
        s->type = strdup("slack-webhook");
        s->created = 1700000000000000ULL;
        s->updated = 1700000000000001ULL;
        s->version = 3;
        s->key_id = 7;
        s->nonce = strdup(nonce);
        s->ciphertext = strdup("AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwd");   /* 30 bytes */
        s->refs = calloc(n_refs + 1, sizeof(Reference));
        for (size_t i = 0; i < n_refs; i++) {
                char target[32];
                snprintf(target, sizeof target, "sink:%zu", i);
                s->refs[i].feature = strdup("alerts");
                s->refs[i].target = strdup(target);
                s->refs[i].created = 1700000000000002ULL + i;
        }
        s->n_refs = n_refs;
        return s;
}

static char *record_text(const Secret *s, const char *org) {
        _cleanup_json_ json_t *j = secret_to_json(s, org);
        ck_assert_ptr_nonnull(j);
        char *t = json_dumps(j, JSON_COMPACT);
        ck_assert_ptr_nonnull(t);
        return t;
}

/* Parses text and expects a refusal with a message. */
static void assert_refused(const char *text, const char *org) {
        _cleanup_free_ char *err = NULL;
        Secret *s = NULL;
        int r = secret_parse_text(text, strlen(text), org, &s, &err);
        ck_assert_msg(r == -EBADMSG, "accepted: %s", text);
        ck_assert_ptr_null(s);
        ck_assert_ptr_nonnull(err);
}

/* The compact record text with one substring replaced. */
static char *record_with(const char *from, const char *to) {
        _cleanup_secret_ Secret *s = make_secret("ops-slack", "Ops Slack", 1);
        _cleanup_free_ char *t = record_text(s, "acme");
        char *at = strstr(t, from);
        ck_assert_msg(at != NULL, "%s not in %s", from, t);
        return strdup_printf("%.*s%s%s", (int) (at - t), t, to, at + strlen(from));
}

START_TEST(test_record_roundtrip) {
        _cleanup_secret_ Secret *s = make_secret("ops-slack", "Ops Slack ✓", 2);
        _cleanup_secret_ Secret *p = NULL;
        _cleanup_free_ char *text = record_text(s, "acme"), *err = NULL;

        ck_assert_int_eq(secret_parse_text(text, strlen(text), "acme", &p, &err), 0);
        ck_assert_str_eq(p->id, s->id);
        ck_assert_str_eq(p->name, s->name);
        ck_assert_str_eq(p->type, s->type);
        ck_assert_uint_eq(p->created, s->created);
        ck_assert_uint_eq(p->updated, s->updated);
        ck_assert_uint_eq(p->version, s->version);
        ck_assert_uint_eq(p->key_id, s->key_id);
        ck_assert_str_eq(p->nonce, s->nonce);
        ck_assert_str_eq(p->ciphertext, s->ciphertext);
        ck_assert_uint_eq(p->n_refs, 2);
        ck_assert_str_eq(p->refs[1].feature, "alerts");
        ck_assert_str_eq(p->refs[1].target, "sink:1");
        ck_assert_uint_eq(p->refs[1].created, s->refs[1].created);
        ck_assert_uint_eq(p->last_used, 0);
}
END_TEST

START_TEST(test_record_truncated) {
        _cleanup_secret_ Secret *s = make_secret("ops-slack", "Ops Slack", 2);
        _cleanup_free_ char *text = record_text(s, "acme");
        size_t n = strlen(text);

        /* Every proper prefix of a record is refused. */
        for (size_t len = 0; len < n; len++) {
                _cleanup_free_ char *err = NULL;
                Secret *p = NULL;
                ck_assert_int_eq(secret_parse_text(text, len, "acme", &p, &err), -EBADMSG);
                ck_assert_ptr_null(p);
        }
}
END_TEST

START_TEST(test_record_strict) {
        static const struct { const char *from, *to; } cases[] = {
                { "\"version\":3", "\"version\":\"3\"" },          /* wrong type */
                { "\"version\":3", "\"version\":0" },              /* out of range */
                { "\"version\":3,", "" },                          /* missing key */
                { "\"format\":1", "\"format\":2" },                /* unknown format */
                { "\"format\":1", "\"format\":1,\"extra\":true" }, /* unknown key */
                { "\"format\":1", "\"format\":1,\"format\":1" },   /* duplicate key */
                { "\"id\":\"ops-slack\"", "\"id\":\"Ops Slack\"" },
                { "\"id\":\"ops-slack\"", "\"id\":\"../etc\"" },
                { "\"org\":\"acme\"", "\"org\":\"other\"" },
                { "\"name\":\"Ops Slack\"", "\"name\":\"\"" },
                { "\"name\":\"Ops Slack\"", "\"name\":\"a\\u0007b\"" },
                { "\"type\":\"slack-webhook\"", "\"type\":\"Slack/Webhook\"" },
                { "\"created\":1700000000000000", "\"created\":-1" },
                { "\"created\":1700000000000000", "\"created\":1.5" },
                { "\"key_id\":7", "\"key_id\":0" },
                { "\"key_id\":7", "\"key_id\":4294967296" },
                { "\"alg\":\"xchacha20poly1305-ietf\"", "\"alg\":\"none\"" },
                { "AAECAwQFBgcICQoLDA0ODxAREhMUFRYX\"", "AAECAwQFBgcICQoLDA0ODxAREhMU\"" },  /* 21-byte nonce */
                { "GBkaGxwd\"", "GBkaGxw!\"" },                    /* not base64 */
                { "\"references\":[", "\"references\":[1," },
                { "\"target\":\"sink:0\"", "\"target\":\"\"" },
                { "\"target\":\"sink:0\"", "\"target\":\"sink:0\",\"x\":1" },
                { "\"value\":{", "\"value\":{\"more\":1," },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *t = record_with(cases[i].from, cases[i].to);
                assert_refused(t, "acme");
        }
        assert_refused("[]", "acme");
        assert_refused("null", "acme");
        assert_refused("{}", "acme");
}
END_TEST

START_TEST(test_record_reference_bounds) {
        _cleanup_secret_ Secret *ok = make_secret("a", "A", OV_REFERENCES_MAX);
        _cleanup_secret_ Secret *over = make_secret("a", "A", OV_REFERENCES_MAX + 1);
        _cleanup_secret_ Secret *dup = make_secret("a", "A", 2);
        _cleanup_secret_ Secret *p = NULL;
        _cleanup_free_ char *t1 = record_text(ok, "acme"), *t2 = record_text(over, "acme"), *err = NULL;

        ck_assert_int_eq(secret_parse_text(t1, strlen(t1), "acme", &p, &err), 0);
        assert_refused(t2, "acme");
        free(dup->refs[1].target);
        dup->refs[1].target = strdup("sink:0");
        _cleanup_free_ char *t3 = record_text(dup, "acme");
        assert_refused(t3, "acme");
}
END_TEST

static mode_t mode_of(const char *path) {
        struct stat st;
        ck_assert_int_eq(fstatat(state_fd, path, &st, 0), 0);
        return st.st_mode & 07777;
}

static bool exists(const char *path) {
        struct stat st;
        return fstatat(state_fd, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void write_raw(const char *path, const char *text) {
        int fd = openat(state_fd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t) strlen(text));
        close(fd);
}

static void free_loaded(Secret **a, size_t n) {
        for (size_t i = 0; i < n; i++)
                secret_free(a[i]);
        free(a);
}

START_TEST(test_store_layout_and_modes) {
        _cleanup_secret_ Secret *s = make_secret("ops-slack", "Ops Slack", 0);

        ck_assert_int_eq(store_save_secret(state_fd, "acme", s), 0);
        ck_assert_uint_eq(mode_of("orgs"), 0700);
        ck_assert_uint_eq(mode_of("quarantine"), 0700);
        ck_assert_uint_eq(mode_of("orgs/acme"), 0700);
        ck_assert_uint_eq(mode_of("orgs/acme/secrets"), 0700);
        ck_assert_uint_eq(mode_of("orgs/acme/secrets/ops-slack.json"), 0600);

        /* The file is one compact JSON document with a trailing newline. */
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        ck_assert_int_eq(read_file_at(state_fd, "orgs/acme/secrets/ops-slack.json", 1 << 20, &text, &len), 0);
        ck_assert_int_eq(text[len - 1], '\n');

        _cleanup_strv_free_ char **orgs = NULL;
        unsigned n = 0;
        ck_assert_int_eq(store_list_orgs(state_fd, &orgs), 0);
        ck_assert_uint_eq(strv_length(orgs), 1);
        ck_assert_str_eq(orgs[0], "acme");
        ck_assert_int_eq(store_count_secrets(state_fd, "acme", &n), 0);
        ck_assert_uint_eq(n, 1);

        ck_assert_int_eq(store_delete_secret(state_fd, "acme", "ops-slack"), 0);
        ck_assert(!exists("orgs/acme/secrets/ops-slack.json"));
        ck_assert_int_eq(store_delete_secret(state_fd, "acme", "ops-slack"), -ENOENT);
        ck_assert_int_eq(store_count_secrets(state_fd, "acme", &n), 0);
        ck_assert_uint_eq(n, 0);

        /* Names that would leave the org's directory are refused. */
        free(s->id);
        s->id = strdup("../x");
        ck_assert_int_eq(store_save_secret(state_fd, "acme", s), -EINVAL);
        ck_assert_int_eq(store_save_secret(state_fd, "../acme", s), -EINVAL);
}
END_TEST

START_TEST(test_store_load_quarantine) {
        const char *ids[] = { "alpha", "bravo", "charlie" };
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                _cleanup_secret_ Secret *s = make_secret(ids[i], ids[i], 1);
                ck_assert_int_eq(store_save_secret(state_fd, "acme", s), 0);
        }
        /* A write that never reached its rename, a truncated record, a record
         * under the wrong file name and a stray file. */
        write_raw("orgs/acme/secrets/.#alpha.json.a1b2c3", "{\"format\":1,");
        /* Interrupted org.json / usage.json writes sit one level up. */
        write_raw("orgs/acme/.#org.json.d4e5f6", "{\"format\":1,");
        write_raw("orgs/acme/.#usage.json.a7b8c9", "{");
        _cleanup_free_ char *bravo = NULL;
        size_t len = 0;
        ck_assert_int_eq(read_file_at(state_fd, "orgs/acme/secrets/bravo.json", 1 << 20, &bravo, &len), 0);
        bravo[len / 2] = 0;
        write_raw("orgs/acme/secrets/bravo.json", bravo);
        _cleanup_secret_ Secret *d = make_secret("delta", "Delta", 0);
        _cleanup_free_ char *dtext = record_text(d, "acme");
        write_raw("orgs/acme/secrets/echo.json", dtext);
        write_raw("orgs/acme/secrets/notes.txt", "hello");

        Secret **a = NULL;
        size_t n = 0;
        unsigned q = 0;
        ck_assert_int_eq(store_load_org(state_fd, "acme", &a, &n, &q), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(q, 3);
        bool seen_alpha = false, seen_charlie = false;
        for (size_t i = 0; i < n; i++) {
                seen_alpha |= strcmp(a[i]->id, "alpha") == 0;
                seen_charlie |= strcmp(a[i]->id, "charlie") == 0;
        }
        ck_assert(seen_alpha && seen_charlie);
        free_loaded(a, n);

        ck_assert(!exists("orgs/acme/secrets/.#alpha.json.a1b2c3"));
        ck_assert(!exists("orgs/acme/.#org.json.d4e5f6"));
        ck_assert(!exists("orgs/acme/.#usage.json.a7b8c9"));
        ck_assert(!exists("orgs/acme/secrets/bravo.json"));
        ck_assert(exists("orgs/acme/secrets/alpha.json"));
        ck_assert_uint_eq(store_count_quarantined(state_fd), 3);

        /* quarantine/<org>.<file>.<usec>, holding the broken bytes. */
        DIR *dir = fdopendir(openat(state_fd, "quarantine", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        struct dirent *de;
        bool found = false;
        ck_assert_ptr_nonnull(dir);
        while ((de = readdir(dir)))
                if (strncmp(de->d_name, "acme.bravo.json.", 16) == 0) {
                        _cleanup_free_ char *path = strdup_printf("quarantine/%s", de->d_name), *q_text = NULL;
                        ck_assert_int_eq(read_file_at(state_fd, path, 1 << 20, &q_text, NULL), 0);
                        ck_assert_str_eq(q_text, bravo);
                        found = true;
                }
        closedir(dir);
        ck_assert(found);

        /* The next load sees only the good records and quarantines nothing. */
        ck_assert_int_eq(store_load_org(state_fd, "acme", &a, &n, &q), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(q, 0);
        free_loaded(a, n);

        /* An org without records loads empty. */
        ck_assert_int_eq(store_load_org(state_fd, "empty", &a, &n, &q), 0);
        ck_assert_uint_eq(n, 0);
        free_loaded(a, n);
}
END_TEST

START_TEST(test_org_keys) {
        OrgKeyEntry entries[2] = {
                { .id = 1, .created = 10, .nonce = (char *) "bm9uY2U=", .wrapped = (char *) "d3JhcHBlZA==" },
                { .id = 2, .created = 20, .nonce = (char *) "bm9uY2Uy", .wrapped = (char *) "d3JhcHBlZDI=" },
        };
        OrgKeys k = { .current = 1, .keys = entries, .n_keys = 2, .rotating_to = 2 };
        OrgKeys loaded = {};
        _cleanup_free_ char *err = NULL;

        ck_assert_int_eq(org_keys_load(state_fd, "acme", &loaded, &err), -ENOENT);
        ck_assert_int_eq(org_keys_save(state_fd, "acme", &k), 0);
        ck_assert_uint_eq(mode_of("orgs/acme/org.json"), 0600);
        ck_assert_int_eq(org_keys_load(state_fd, "acme", &loaded, &err), 0);
        ck_assert_uint_eq(loaded.current, 1);
        ck_assert_uint_eq(loaded.rotating_to, 2);
        ck_assert_uint_eq(loaded.n_keys, 2);
        ck_assert_uint_eq(loaded.keys[1].id, 2);
        ck_assert_uint_eq(loaded.keys[1].created, 20);
        ck_assert_str_eq(loaded.keys[1].wrapped, "d3JhcHBlZDI=");
        org_keys_clear(&loaded);

        /* Without a rotation the key is absent from the file. */
        k.rotating_to = 0;
        ck_assert_int_eq(org_keys_save(state_fd, "acme", &k), 0);
        _cleanup_free_ char *text = NULL;
        ck_assert_int_eq(read_file_at(state_fd, "orgs/acme/org.json", 1 << 20, &text, NULL), 0);
        ck_assert_ptr_null(strstr(text, "rotating_to"));

        /* "current" must name a key; the org must match the directory. */
        static const char *const bad[] = {
                "{\"format\":1,\"org\":\"acme\",\"current\":3,\"keys\":[{\"id\":1,\"created\":1,\"nonce\":\"a\",\"wrapped\":\"b\"}]}",
                "{\"format\":1,\"org\":\"other\",\"current\":1,\"keys\":[{\"id\":1,\"created\":1,\"nonce\":\"a\",\"wrapped\":\"b\"}]}",
                "{\"format\":1,\"org\":\"acme\",\"current\":1,\"keys\":[]}",
                "{\"format\":1,\"org\":\"acme\",\"current\":1,\"keys\":[{\"id\":1,\"created\":1,\"nonce\":\"a\",\"wrapped\":\"b\"},{\"id\":1,\"created\":1,\"nonce\":\"a\",\"wrapped\":\"b\"}]}",
                "{\"format\":1,\"org\":\"acme\",\"current\":1,\"rotating_to\":1,\"keys\":[{\"id\":1,\"created\":1,\"nonce\":\"a\",\"wrapped\":\"b\"}]}",
                "{\"format\":1,\"org\":\"acme\",\"current\":1,\"keys\":[{\"id\":1,\"created\":1,\"nonce\":\"a\",\"wrapped\":\"b\",\"x\":0}]}",
                "{\"format\":1,\"org\":\"acme\",\"current\":1",
        };
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *e2 = NULL;
                write_raw("orgs/acme/org.json", bad[i]);
                ck_assert_int_eq(org_keys_load(state_fd, "acme", &loaded, &e2), -EBADMSG);
                ck_assert_ptr_nonnull(e2);
        }
}
END_TEST

START_TEST(test_usage) {
        _cleanup_json_ json_t *u = NULL;
        ck_assert_int_eq(store_load_usage(state_fd, "acme", &u), 0);
        ck_assert_uint_eq(json_object_size(u), 0);
        json_decref(u);

        u = json_pack("{s:{s:I, s:s, s:I}}", "ops", "last_used", (json_int_t) 5, "by", "unit:a.service",
                      "created", (json_int_t) 3);
        ck_assert_int_eq(store_save_usage(state_fd, "acme", u), 0);
        ck_assert_uint_eq(mode_of("orgs/acme/usage.json"), 0600);
        json_decref(u);
        ck_assert_int_eq(store_load_usage(state_fd, "acme", &u), 0);
        ck_assert_int_eq(json_integer_value(json_object_get(json_object_get(u, "ops"), "last_used")), 5);

        write_raw("orgs/acme/usage.json", "[1,2");
        json_decref(u);
        u = NULL;
        ck_assert_int_eq(store_load_usage(state_fd, "acme", &u), -EBADMSG);
}
END_TEST

static Suite *store_suite(void) {
        Suite *s = suite_create("store");
        TCase *tc = tcase_create("record");
        tcase_add_test(tc, test_record_roundtrip);
        tcase_add_test(tc, test_record_truncated);
        tcase_add_test(tc, test_record_strict);
        tcase_add_test(tc, test_record_reference_bounds);
        suite_add_tcase(s, tc);

        tc = tcase_create("files");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_store_layout_and_modes);
        tcase_add_test(tc, test_store_load_quarantine);
        tcase_add_test(tc, test_org_keys);
        tcase_add_test(tc, test_usage);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_main_run(store_suite());
}
