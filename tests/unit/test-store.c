/* SPDX-License-Identifier: Apache-2.0 */
/* Records, org.json and usage.json on disk: strict parsing, durable layout,
 * temp leftovers and quarantine. Real files in a temp state dir. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>

#include "check-main.h"
#include "org-keys.h"
#include "store.h"

/* org_keys_load/save through a files store over fd. */
static int keys_load_fd(int fd, const char *org, OrgKeys *ret, char **ret_error) {
        _cleanup_(store_freep) Store *st = NULL;
        ck_assert_int_eq(store_files_new(fd, &st), 0);
        return org_keys_load(st, org, ret, ret_error);
}

static int keys_save_fd(int fd, const char *org, const OrgKeys *k) {
        _cleanup_(store_freep) Store *st = NULL;
        ck_assert_int_eq(store_files_new(fd, &st), 0);
        return org_keys_save(st, org, k);
}


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
                { "\"format\":2", "\"format\":3" },                /* unknown format */
                { "\"format\":2", "\"format\":1" },                /* format 1 has no expires, previous... */
                { "\"format\":2", "\"format\":2,\"extra\":true" }, /* unknown key */
                { "\"format\":2", "\"format\":2,\"format\":2" },   /* duplicate key */
                { "\"expires\":0,", "" },                           /* format 2 needs it */
                { "\"rotate_every\":0", "\"rotate_every\":-1" },
                { "\"previous\":[]", "\"previous\":{}" },
                { "\"previous\":[]", "\"previous\":[{\"version\":3}]" },
                { "\"by\":\"\"", "\"by\":\"a\\u0001b\"" },
                { "\"set\":0,", "" },
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

        ck_assert_int_eq(store_save_secret(state_fd, "acme", s, NULL), 0);
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
        ck_assert_int_eq(store_save_secret(state_fd, "acme", s, NULL), -EINVAL);
        ck_assert_int_eq(store_save_secret(state_fd, "../acme", s, NULL), -EINVAL);
}
END_TEST

START_TEST(test_store_load_quarantine) {
        const char *ids[] = { "alpha", "bravo", "charlie" };
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                _cleanup_secret_ Secret *s = make_secret(ids[i], ids[i], 1);
                ck_assert_int_eq(store_save_secret(state_fd, "acme", s, NULL), 0);
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
        ck_assert_int_eq(store_load_org(state_fd, "acme", &a, &n, &q, NULL), 0);
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
        ck_assert_uint_eq(store_count_quarantined(state_fd, NULL), 3);

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
        ck_assert_int_eq(store_load_org(state_fd, "acme", &a, &n, &q, NULL), 0);
        ck_assert_uint_eq(n, 2);
        ck_assert_uint_eq(q, 0);
        free_loaded(a, n);

        /* An org without records loads empty. */
        ck_assert_int_eq(store_load_org(state_fd, "empty", &a, &n, &q, NULL), 0);
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

        ck_assert_int_eq(keys_load_fd(state_fd, "acme", &loaded, &err), -ENOENT);
        ck_assert_int_eq(keys_save_fd(state_fd, "acme", &k), 0);
        ck_assert_uint_eq(mode_of("orgs/acme/org.json"), 0600);
        ck_assert_int_eq(keys_load_fd(state_fd, "acme", &loaded, &err), 0);
        ck_assert_uint_eq(loaded.current, 1);
        ck_assert_uint_eq(loaded.rotating_to, 2);
        ck_assert_uint_eq(loaded.n_keys, 2);
        ck_assert_uint_eq(loaded.keys[1].id, 2);
        ck_assert_uint_eq(loaded.keys[1].created, 20);
        ck_assert_str_eq(loaded.keys[1].wrapped, "d3JhcHBlZDI=");
        org_keys_clear(&loaded);

        /* Without a rotation the key is absent from the file. */
        k.rotating_to = 0;
        ck_assert_int_eq(keys_save_fd(state_fd, "acme", &k), 0);
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
                ck_assert_int_eq(keys_load_fd(state_fd, "acme", &loaded, &e2), -EBADMSG);
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

/* The org index (orgs/<org>/index) */

static void set_stamp(Secret *s, uint64_t ino) {
        s->stamp = (RecordStamp) { .ino = ino, .size = 400 + ino, .mtime_sec = 1700000000, .mtime_nsec = 5 };
}

static void assert_same_secret(const Secret *a, const Secret *b) {
        ck_assert_str_eq(a->id, b->id);
        ck_assert_str_eq(a->name, b->name);
        ck_assert_str_eq(a->type, b->type);
        ck_assert_uint_eq(a->created, b->created);
        ck_assert_uint_eq(a->updated, b->updated);
        ck_assert_uint_eq(a->version, b->version);
        ck_assert_uint_eq(a->key_id, b->key_id);
        ck_assert_str_eq(a->nonce, b->nonce);
        ck_assert_str_eq(a->ciphertext, b->ciphertext);
        ck_assert_uint_eq(a->n_refs, b->n_refs);
        for (size_t i = 0; i < a->n_refs; i++) {
                ck_assert_str_eq(a->refs[i].feature, b->refs[i].feature);
                ck_assert_str_eq(a->refs[i].target, b->refs[i].target);
                ck_assert_uint_eq(a->refs[i].created, b->refs[i].created);
        }
        ck_assert_mem_eq(&a->stamp, &b->stamp, sizeof a->stamp);
}

static void assert_index_refused(const uint8_t *data, size_t len, const char *org) {
        _cleanup_free_ char *err = NULL;
        Secret **a = NULL;
        size_t n = 0;
        ck_assert_int_eq(org_index_parse(data, len, org, &a, &n, &err), -EBADMSG);
        ck_assert_ptr_null(a);
        ck_assert_ptr_nonnull(err);
}

START_TEST(test_index_roundtrip_and_refusals) {
        Secret *in[3] = { make_secret("alpha", "Alpha", 0), make_secret("bravo", "Bravo ☕", 2),
                          make_secret("charlie", "Charlie", 64) };
        _cleanup_free_ uint8_t *buf = NULL, *again = NULL;
        size_t len = 0, len_again = 0;
        Secret **out = NULL;
        size_t n = 0;

        set_stamp(in[0], 11);
        set_stamp(in[2], 13);   /* bravo's stamp is unknown: left out */
        ck_assert_int_eq(org_index_format("acme", in, 3, &buf, &len), 0);
        ck_assert_int_eq(org_index_parse(buf, len, "acme", &out, &n, NULL), 0);
        ck_assert_uint_eq(n, 2);
        assert_same_secret(out[0], in[0]);
        assert_same_secret(out[1], in[2]);
        /* The format is canonical: what was read writes the same bytes. */
        ck_assert_int_eq(org_index_format("acme", out, n, &again, &len_again), 0);
        ck_assert_uint_eq(len_again, len);
        ck_assert_mem_eq(again, buf, len);
        free_loaded(out, n);

        /* Every truncation and every flipped byte is refused; so is the index
         * of another org. */
        for (size_t i = 0; i < len; i++)
                assert_index_refused(buf, i, "acme");
        for (size_t i = 0; i < len; i++) {
                buf[i] ^= 0x01;
                assert_index_refused(buf, len, "acme");
                buf[i] ^= 0x01;
        }
        assert_index_refused(buf, len, "globex");

        /* With a valid checksum too: entries out of order, a field the record
         * parser would refuse, an unknown version. */
        Secret *unordered[2] = { in[2], in[0] };
        free(buf);
        ck_assert_int_eq(org_index_format("acme", unordered, 2, &buf, &len), 0);
        assert_index_refused(buf, len, "acme");
        free(in[0]->name);
        in[0]->name = strdup("Bad\001name");
        free(buf);
        ck_assert_int_eq(org_index_format("acme", in, 1, &buf, &len), 0);
        assert_index_refused(buf, len, "acme");
        free(in[0]->name);
        in[0]->name = strdup("Alpha");
        free(buf);
        ck_assert_int_eq(org_index_format("acme", in, 1, &buf, &len), 0);
        buf[8] = 3;      /* version, after the 8-byte magic */
        crypto_generichash(buf + len - crypto_generichash_BYTES, crypto_generichash_BYTES, buf,
                           len - crypto_generichash_BYTES, NULL, 0);
        assert_index_refused(buf, len, "acme");
        buf[8] = 2;
        crypto_generichash(buf + len - crypto_generichash_BYTES, crypto_generichash_BYTES, buf,
                           len - crypto_generichash_BYTES, NULL, 0);
        ck_assert_int_eq(org_index_parse(buf, len, "acme", &out, &n, NULL), 0);
        free_loaded(out, n);

        for (size_t i = 0; i < ELEMENTSOF(in); i++)
                secret_free(in[i]);
}
END_TEST

static struct timespec mtime_of(const char *path) {
        struct stat st;
        ck_assert_int_eq(fstatat(state_fd, path, &st, AT_SYMLINK_NOFOLLOW), 0);
        return st.st_mtim;
}

static bool timespec_after(struct timespec a, struct timespec b) {
        return a.tv_sec > b.tv_sec || (a.tv_sec == b.tv_sec && a.tv_nsec > b.tv_nsec);
}

/* Waits until a file written now gets a later mtime than path has: the
 * index trusts only records older than itself (file times are as coarse as
 * the kernel's clock tick). */
static void wait_past_mtime(const char *path) {
        struct timespec ref = mtime_of(path);
        for (int i = 0; i < 2000; i++) {
                write_raw("probe", "");
                bool later = timespec_after(mtime_of("probe"), ref);
                ck_assert_int_eq(unlinkat(state_fd, "probe", 0), 0);
                if (later)
                        return;
                usleep(1000);
        }
        ck_abort_msg("the file clock did not move");
}

static Secret **load(const char *org, size_t *ret_n, unsigned *ret_q, bool *ret_stale) {
        Secret **a = NULL;
        ck_assert_int_eq(store_load_org(state_fd, org, &a, ret_n, ret_q, ret_stale), 0);
        for (size_t i = 1; i < *ret_n; i++)
                ck_assert_int_lt(strcmp(a[i - 1]->id, a[i]->id), 0);
        return a;
}

static const Secret *find_loaded(Secret **a, size_t n, const char *id) {
        for (size_t i = 0; i < n; i++)
                if (strcmp(a[i]->id, id) == 0)
                        return a[i];
        return NULL;
}

/* Saves alpha, bravo and charlie, then their index once the file clock has
 * moved on. */
static void save_three_and_index(void) {
        const char *ids[] = { "alpha", "bravo", "charlie" };
        for (size_t i = 0; i < ELEMENTSOF(ids); i++) {
                _cleanup_secret_ Secret *s = make_secret(ids[i], ids[i], i);
                RecordStamp stamp = {};
                ck_assert_int_eq(store_save_secret(state_fd, "acme", s, &stamp), 0);
                ck_assert_uint_ne(stamp.ino, 0);
        }
        size_t n = 0;
        bool stale = false;
        Secret **a = load("acme", &n, NULL, &stale);
        ck_assert_uint_eq(n, 3);
        ck_assert(stale);        /* no index yet */
        wait_past_mtime("orgs/acme/secrets/charlie.json");
        ck_assert_int_eq(store_save_org_index(state_fd, "acme", a, n), 0);
        ck_assert_uint_eq(mode_of("orgs/acme/index"), 0600);
        free_loaded(a, n);
}

/* Changes a record file's bytes in place and puts its mtime back: the
 * stamp stays, so only a load that ignores the index sees the change. */
static void edit_keeping_stamp(const char *path, const char *from, const char *to) {
        _cleanup_free_ char *text = NULL;
        struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, mtime_of(path) };
        size_t len = 0;
        ck_assert_uint_eq(strlen(from), strlen(to));
        ck_assert_int_eq(read_file_at(state_fd, path, 1 << 20, &text, &len), 0);
        char *p = strstr(text, from);
        ck_assert_ptr_nonnull(p);
        memcpy(p, to, strlen(to));
        int fd = openat(state_fd, path, O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(pwrite(fd, text, len, 0), (ssize_t) len);
        close(fd);
        ck_assert_int_eq(utimensat(state_fd, path, times, 0), 0);
}

START_TEST(test_index_used_while_files_match) {
        size_t n = 0;
        unsigned q = 0;
        bool stale = true;

        save_three_and_index();
        Secret **a = load("acme", &n, &q, &stale);
        ck_assert_uint_eq(n, 3);
        ck_assert(!stale);
        const Secret *charlie = find_loaded(a, n, "charlie");
        ck_assert_ptr_nonnull(charlie);
        ck_assert_uint_eq(charlie->n_refs, 2);
        free_loaded(a, n);

        /* Same stamp, so the index's bravo is used, not the file's bytes. */
        edit_keeping_stamp("orgs/acme/secrets/bravo.json", "\"name\":\"bravo\"", "\"name\":\"BRAVO\"");
        a = load("acme", &n, &q, &stale);
        ck_assert_str_eq(find_loaded(a, n, "bravo")->name, "bravo");
        ck_assert(!stale);
        free_loaded(a, n);

        /* Unless the record is not older than the index: the same clock tick
         * might hold a second write with the same stamp. */
        struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, mtime_of("orgs/acme/secrets/bravo.json") };
        ck_assert_int_eq(utimensat(state_fd, "orgs/acme/index", times, 0), 0);
        a = load("acme", &n, &q, &stale);
        ck_assert_str_eq(find_loaded(a, n, "bravo")->name, "BRAVO");
        ck_assert(stale);
        free_loaded(a, n);
}
END_TEST

START_TEST(test_index_follows_the_files) {
        size_t n = 0;
        unsigned q = 0;
        bool stale = false;

        save_three_and_index();
        /* Out of band, after the index: alpha rewritten, charlie deleted,
         * delta added, and a broken echo.json. The files are the truth. */
        _cleanup_secret_ Secret *alpha = make_secret("alpha", "Alpha Two", 1);
        _cleanup_free_ char *alpha_text = record_text(alpha, "acme");
        ck_assert_int_eq(write_file_atomic_at(state_fd, "orgs/acme/secrets/alpha.json", alpha_text,
                                              strlen(alpha_text), 0600), 0);
        ck_assert_int_eq(unlinkat(state_fd, "orgs/acme/secrets/charlie.json", 0), 0);
        _cleanup_secret_ Secret *delta = make_secret("delta", "Delta", 0);
        _cleanup_free_ char *delta_text = record_text(delta, "acme");
        write_raw("orgs/acme/secrets/delta.json", delta_text);
        write_raw("orgs/acme/secrets/echo.json", "{\"format\":1,");

        Secret **a = load("acme", &n, &q, &stale);
        ck_assert_uint_eq(n, 3);
        ck_assert_uint_eq(q, 1);
        ck_assert(stale);
        ck_assert_str_eq(find_loaded(a, n, "alpha")->name, "Alpha Two");
        const Secret *loaded_alpha = find_loaded(a, n, "alpha");
        ck_assert_ptr_nonnull(loaded_alpha);
        ck_assert_uint_eq(loaded_alpha->n_refs, 1);
        ck_assert_ptr_nonnull(find_loaded(a, n, "bravo"));
        ck_assert_ptr_null(find_loaded(a, n, "charlie"));
        ck_assert_str_eq(find_loaded(a, n, "delta")->name, "Delta");
        ck_assert(!exists("orgs/acme/secrets/echo.json"));

        /* Rewritten from what was loaded (stamps included), it matches again. */
        wait_past_mtime("orgs/acme/secrets/delta.json");
        ck_assert_int_eq(store_save_org_index(state_fd, "acme", a, n), 0);
        free_loaded(a, n);
        a = load("acme", &n, &q, &stale);
        ck_assert_uint_eq(n, 3);
        ck_assert(!stale);
        free_loaded(a, n);

        /* A temp file of an interrupted index write is a leftover like any. */
        write_raw("orgs/acme/.#index.0a1b2c3d4e5f", "OVINDEX");
        a = load("acme", &n, &q, &stale);
        ck_assert(!exists("orgs/acme/.#index.0a1b2c3d4e5f"));
        free_loaded(a, n);
}
END_TEST

/* Loads acme and checks that bravo came from its file (edited to "BRAVO"
 * with its stamp kept), i.e. that the index was ignored. */
static void assert_index_ignored(void) {
        size_t n = 0;
        bool stale = false;
        Secret **a = load("acme", &n, NULL, &stale);
        ck_assert_uint_eq(n, 3);
        ck_assert_str_eq(find_loaded(a, n, "bravo")->name, "BRAVO");
        ck_assert(stale);
        free_loaded(a, n);
}

START_TEST(test_index_refused_when_broken) {
        save_three_and_index();
        edit_keeping_stamp("orgs/acme/secrets/bravo.json", "\"name\":\"bravo\"", "\"name\":\"BRAVO\"");
        _cleanup_free_ char *good = NULL;
        size_t len = 0;
        ck_assert_int_eq(read_file_at(state_fd, "orgs/acme/index", 1 << 24, &good, &len), 0);

        /* Truncated, as a crash on a file system without rename ordering
         * might leave it. */
        int fd = openat(state_fd, "orgs/acme/index", O_WRONLY | O_TRUNC | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, good, len / 2), (ssize_t) (len / 2));
        close(fd);
        assert_index_ignored();

        /* One byte changed. */
        good[len / 3] ^= 0x20;
        ck_assert_int_eq(write_file_atomic_at(state_fd, "orgs/acme/index", good, len, 0600), 0);
        assert_index_ignored();
        good[len / 3] ^= 0x20;

        /* Another org's index, well formed, with the same records. */
        Secret **a = NULL;
        size_t n = 0;
        ck_assert_int_eq(org_index_parse((uint8_t *) good, len, "acme", &a, &n, NULL), 0);
        _cleanup_free_ uint8_t *other = NULL;
        size_t other_len = 0;
        ck_assert_int_eq(org_index_format("globex", a, n, &other, &other_len), 0);
        free_loaded(a, n);
        ck_assert_int_eq(write_file_atomic_at(state_fd, "orgs/acme/index", other, other_len, 0600), 0);
        assert_index_ignored();

        /* Not a regular file. */
        ck_assert_int_eq(unlinkat(state_fd, "orgs/acme/index", 0), 0);
        ck_assert_int_eq(mkdirat(state_fd, "orgs/acme/index", 0700), 0);
        assert_index_ignored();
}
END_TEST

static Suite *store_suite(void) {
        Suite *s = suite_create("store");
        TCase *tc = tcase_create("record");
        tcase_add_test(tc, test_record_roundtrip);
        tcase_add_test(tc, test_record_truncated);
        tcase_add_test(tc, test_record_strict);
        tcase_add_test(tc, test_record_reference_bounds);
        tcase_add_test(tc, test_index_roundtrip_and_refusals);
        suite_add_tcase(s, tc);

        tc = tcase_create("files");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_add_test(tc, test_store_layout_and_modes);
        tcase_add_test(tc, test_store_load_quarantine);
        tcase_add_test(tc, test_org_keys);
        tcase_add_test(tc, test_usage);
        tcase_add_test(tc, test_index_used_while_files_match);
        tcase_add_test(tc, test_index_follows_the_files);
        tcase_add_test(tc, test_index_refused_when_broken);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_main_run(store_suite());
}
