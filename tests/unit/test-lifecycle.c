/* SPDX-License-Identifier: Apache-2.0 */
/* A secret's life in the vault, against a real temp state dir and the
 * shipped types: the trash (delete, list, restore, purge, ageing with an
 * injected clock), across reopen and key rotation. Values are obviously
 * fake. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check-main.h"
#include "org-keys.h"
#include "store-backend.h"
#include "store.h"
#include "vault.h"

#define SLACK_PREFIX "https://hooks.slack.com/services/TFAKE0000/BFAKE0000/"
#define TOKEN_A "xxxxxxxxxxxxxxxxxxxxxxxx"
#define TOKEN_B "yyyyyyyyyyyyyyyyyyyyyyyy"
#define DAY (86400ULL * 1000000ULL)

static char state_dir[64];
static TypeRegistry *types;
static uint64_t fake_now;

static uint64_t fake_clock(void) { return fake_now; }

static void setup(void) {
        const char *root = getenv("SOURCE_ROOT");
        ck_assert_msg(root != NULL, "SOURCE_ROOT is not set");
        _cleanup_free_ char *data = strdup_printf("%s/policy", root);
        strcpy(state_dir, "/tmp/ov-test-life-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(state_dir));
        ck_assert_int_eq(type_registry_load(&types, data, "/nonexistent", NULL), 0);
        fake_now = now_usec();
}

static void teardown(void) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", state_dir);
        ck_assert_int_eq(system(cmd), 0);
        type_registry_free(types);
}

static unsigned keep_versions = 10;

static Vault *open_vault_days(unsigned trash_days) {
        VaultConfig cfg = { .state_dir = state_dir, .key_mode = KEY_MODE_KEYFILE, .trash_days = trash_days,
                            .clock = fake_clock, .keep_versions = keep_versions };
        OvError e = {};
        Vault *v = NULL;
        ck_assert_msg(vault_open(&v, &cfg, types, &e) == 0, "vault_open: %s", e.message);
        return v;
}

static Vault *open_vault(void) { return open_vault_days(30); }

static void add_slack(Vault *v, const char *name, const char *id, const char *token) {
        _cleanup_json_ json_t *f = json_pack("{s:s+}", "webhook_url", SLACK_PREFIX, token);
        _cleanup_strv_free_ char **warnings = NULL;
        _cleanup_free_ char *ret = NULL;
        OvError e = {};
        ck_assert_msg(vault_add(v, "acme", "slack-webhook", name, id, f, &ret, &warnings, &e) == 0,
                      "vault_add %s: %s", name, e.message);
}

static void update_slack(Vault *v, const char *id, const char *token) {
        _cleanup_json_ json_t *f = json_pack("{s:s+}", "webhook_url", SLACK_PREFIX, token);
        _cleanup_strv_free_ char **warnings = NULL;
        OvError e = {};
        ck_assert_msg(vault_update(v, "acme", id, f, NULL, &warnings, &e) == 0, "vault_update: %s", e.message);
}

static uint32_t update_token(Vault *v, const char *id, char c) {
        char token[25];
        memset(token, c, 24);
        token[24] = 0;
        _cleanup_json_ json_t *f = json_pack("{s:s+}", "webhook_url", SLACK_PREFIX, token);
        _cleanup_strv_free_ char **warnings = NULL;
        uint32_t version = 0;
        OvError e = {};
        ck_assert_msg(vault_update_with(v, "acme", id, f, &(SecretOptions) { .set_by = "ovt-bob" }, &version,
                                        &warnings, &e) == 0, "vault_update: %s", e.message);
        return version;
}

static void assert_resolves_to(Vault *v, const char *id, const char *token) {
        char *json = NULL;
        size_t len = 0;
        OvError e = {};
        ck_assert_msg(vault_resolve(v, "acme", id, "unit:test.service", &json, &len, &e) == 0, "resolve %s: %s", id,
                      e.message);
        ck_assert_msg(strstr(json, token) != NULL, "%s resolves to something else", id);
        crypto_free_plain(json);
}

static size_t trash_count(Vault *v) {
        _cleanup_free_ const Secret **l = NULL;
        size_t n = 0;
        OvError e = {};
        ck_assert_int_eq(vault_list_trash(v, "acme", &l, &n, &e), 0);
        return n;
}

static size_t files_in(const char *rel) {
        _cleanup_free_ char *cmd = strdup_printf("ls -A %s/%s 2>/dev/null | wc -l", state_dir, rel);
        FILE *p = popen(cmd, "r");
        size_t n = 0;
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(fscanf(p, "%zu", &n), 1);
        pclose(p);
        return n;
}

START_TEST(test_delete_moves_to_trash) {
        _cleanup_(vault_freep) Vault *v = open_vault();
        _cleanup_strv_free_ char **broken = NULL;
        _cleanup_free_ const Secret **l = NULL;
        const Secret *s = NULL;
        size_t n = 0;
        OvError e = {};
        char *json = NULL;

        add_slack(v, "Ops Slack", NULL, TOKEN_A);
        ck_assert_int_eq(vault_add_reference(v, "acme", "ops-slack", "alerts", "sink:ops", &e), 0);
        /* The force rule is unchanged: referenced means InUse. */
        ck_assert_ov_error(vault_delete(v, "acme", "ops-slack", false, &broken, &e), e, OV_ERR_IN_USE);
        ck_assert_uint_eq(trash_count(v), 0);
        fake_now += 1000;
        ck_assert_int_eq(vault_delete(v, "acme", "ops-slack", true, &broken, &e), 0);

        /* Gone for every reader: get, resolve, list. */
        ck_assert_ov_error(vault_get(v, "acme", "ops-slack", &s, &e), e, OV_ERR_NOT_FOUND);
        ck_assert_ov_error(vault_resolve(v, "acme", "ops-slack", "unit:x", &json, NULL, &e), e, OV_ERR_NOT_FOUND);
        ck_assert_int_eq(vault_list(v, "acme", NULL, &l, &n, &e), 0);
        ck_assert_uint_eq(n, 0);
        free(l);
        l = NULL;
        ck_assert_uint_eq(files_in("orgs/acme/secrets"), 0);
        ck_assert_uint_eq(files_in("orgs/acme/trash"), 1);

        ck_assert_int_eq(vault_list_trash(v, "acme", &l, &n, &e), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(l[0]->id, "ops-slack");
        ck_assert_str_eq(l[0]->name, "Ops Slack");
        ck_assert_uint_eq(l[0]->deleted, fake_now);
        ck_assert_uint_eq(l[0]->n_refs, 1);

        /* Restore: the same id, value and references; the consumer is served again. */
        ck_assert_int_eq(vault_restore(v, "acme", "ops-slack", &e), 0);
        ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
        ck_assert_uint_eq(s->n_refs, 1);
        ck_assert_str_eq(s->refs[0].target, "sink:ops");
        assert_resolves_to(v, "ops-slack", TOKEN_A);
        ck_assert_uint_eq(trash_count(v), 0);
        ck_assert_ov_error(vault_restore(v, "acme", "ops-slack", &e), e, OV_ERR_NOT_FOUND);
        ck_assert_ov_error(vault_purge(v, "acme", "ops-slack", &e), e, OV_ERR_NOT_FOUND);
        ck_assert_ov_error(vault_restore(v, "acme", "Bad/Id", &e), e, OV_ERR_INVALID_ARGS);
}
END_TEST

START_TEST(test_trash_survives_reopen_and_purge) {
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                _cleanup_strv_free_ char **broken = NULL;
                add_slack(v, "One", NULL, TOKEN_A);
                add_slack(v, "Two", NULL, TOKEN_B);
                ck_assert_int_eq(vault_delete(v, "acme", "one", false, &broken, &e), 0);
                ck_assert_int_eq(vault_delete(v, "acme", "two", false, NULL, &e), 0);
        }
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                ck_assert_uint_eq(trash_count(v), 2);
                ck_assert_int_eq(vault_purge(v, "acme", "one", &e), 0);
                ck_assert_uint_eq(trash_count(v), 1);
                ck_assert_uint_eq(files_in("orgs/acme/trash"), 1);
        }
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                ck_assert_uint_eq(trash_count(v), 1);
                ck_assert_ov_error(vault_restore(v, "acme", "one", &e), e, OV_ERR_NOT_FOUND);
                ck_assert_int_eq(vault_restore(v, "acme", "two", &e), 0);
                assert_resolves_to(v, "two", TOKEN_B);
        }
}
END_TEST

START_TEST(test_restore_conflicts) {
        _cleanup_(vault_freep) Vault *v = open_vault();
        _cleanup_strv_free_ char **broken = NULL;
        OvError e = {};

        add_slack(v, "Ops Slack", NULL, TOKEN_A);
        ck_assert_int_eq(vault_delete(v, "acme", "ops-slack", false, &broken, &e), 0);

        /* A live secret took its id. */
        add_slack(v, "Other name", "ops-slack", TOKEN_B);
        ck_assert_ov_error(vault_restore(v, "acme", "ops-slack", &e), e, OV_ERR_NAME_EXISTS);
        ck_assert_ptr_nonnull(strstr(e.message, "id ops-slack"));
        ck_assert_uint_eq(trash_count(v), 1);
        assert_resolves_to(v, "ops-slack", TOKEN_B);

        /* A live secret took its name (ignoring case). */
        ck_assert_int_eq(vault_delete(v, "acme", "ops-slack", false, NULL, &e), 0);  /* replaces the older entry */
        ck_assert_uint_eq(trash_count(v), 1);
        ck_assert_uint_eq(files_in("orgs/acme/trash"), 1);
        add_slack(v, "other NAME", "another", TOKEN_A);
        ck_assert_ov_error(vault_restore(v, "acme", "ops-slack", &e), e, OV_ERR_NAME_EXISTS);
        ck_assert_ptr_nonnull(strstr(e.message, "other NAME"));
        ck_assert_int_eq(vault_rename(v, "acme", "another", "Renamed", &e), 0);
        ck_assert_int_eq(vault_restore(v, "acme", "ops-slack", &e), 0);
        assert_resolves_to(v, "ops-slack", TOKEN_B);   /* the newer delete's value */
}
END_TEST

START_TEST(test_trash_ages_out) {
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault_days(30);
                _cleanup_strv_free_ char **broken = NULL;
                add_slack(v, "Old", NULL, TOKEN_A);
                add_slack(v, "Young", NULL, TOKEN_B);
                ck_assert_int_eq(vault_delete(v, "acme", "old", false, &broken, &e), 0);
                fake_now += 10 * DAY;
                ck_assert_int_eq(vault_delete(v, "acme", "young", false, NULL, &e), 0);
                fake_now += 20 * DAY - 1;
                ck_assert_uint_eq(trash_count(v), 2);          /* old: one µs short of 30 days */
                fake_now += 1;
                ck_assert_uint_eq(trash_count(v), 1);          /* old: 30 days */
                ck_assert_uint_eq(files_in("orgs/acme/trash"), 1);
                ck_assert_ov_error(vault_restore(v, "acme", "old", &e), e, OV_ERR_NOT_FOUND);
        }
        fake_now += 10 * DAY;
        {
                /* Ageing also happens when the org is loaded. */
                _cleanup_(vault_freep) Vault *v = open_vault_days(30);
                const Secret *s = NULL;
                ck_assert_ov_error(vault_get(v, "acme", "young", &s, &e), e, OV_ERR_NOT_FOUND);
                ck_assert_uint_eq(files_in("orgs/acme/trash"), 0);
        }
        {
                /* --trash-days=0 keeps entries until purged. */
                _cleanup_(vault_freep) Vault *v = open_vault_days(0);
                _cleanup_strv_free_ char **broken = NULL;
                add_slack(v, "Kept", NULL, TOKEN_A);
                ck_assert_int_eq(vault_delete(v, "acme", "kept", false, &broken, &e), 0);
                fake_now += 3650 * DAY;
                ck_assert_uint_eq(trash_count(v), 1);
        }
}
END_TEST

START_TEST(test_rotation_reseals_trash) {
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                _cleanup_strv_free_ char **broken = NULL;
                add_slack(v, "Live", NULL, TOKEN_A);
                add_slack(v, "Binned", NULL, TOKEN_B);
                update_slack(v, "binned", TOKEN_A);
                update_slack(v, "binned", TOKEN_B);
                ck_assert_int_eq(vault_delete(v, "acme", "binned", false, &broken, &e), 0);
                ck_assert_int_eq(vault_rotate_keys(v, "acme", &e), 0);
                ck_assert_int_eq(vault_rotate_keys(v, "acme", &e), 0);
        }
        _cleanup_free_ char *path = NULL;
        {
                /* org.json holds only the newest key: the trash entry must be under it. */
                _cleanup_(vault_freep) Vault *v = open_vault();
                ck_assert_int_eq(vault_restore(v, "acme", "binned", &e), 0);
                assert_resolves_to(v, "binned", TOKEN_B);
                assert_resolves_to(v, "live", TOKEN_A);
                const Secret *s = NULL;
                ck_assert_int_eq(vault_get(v, "acme", "binned", &s, &e), 0);
                ck_assert_uint_eq(s->key_id, 3);
                ck_assert_uint_eq(s->version, 3);
        }
}
END_TEST

/* A crash between the move of a newer delete and the removal of the older
 * entry of the same id leaves both: the next load keeps the newer. */
START_TEST(test_two_entries_keep_newer) {
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                _cleanup_strv_free_ char **broken = NULL;
                add_slack(v, "X", "x", TOKEN_A);
                ck_assert_int_eq(vault_delete(v, "acme", "x", false, &broken, &e), 0);
        }
        _cleanup_free_ char *cmd = strdup_printf("cd %s/orgs/acme/trash && f=$(ls) && cp -p $f x.1000.json", state_dir);
        ck_assert_int_eq(system(cmd), 0);
        ck_assert_uint_eq(files_in("orgs/acme/trash"), 2);
        {
                _cleanup_(vault_freep) Vault *v = open_vault_days(0);
                _cleanup_free_ const Secret **l = NULL;
                size_t n = 0;
                ck_assert_int_eq(vault_list_trash(v, "acme", &l, &n, &e), 0);
                ck_assert_uint_eq(n, 1);
                ck_assert_uint_gt(l[0]->deleted, 1000);
                ck_assert_uint_eq(files_in("orgs/acme/trash"), 1);
        }
}
END_TEST

static json_t *read_record(const char *rel) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", state_dir, rel);
        json_t *j = json_load_file(path, 0, NULL);
        ck_assert_msg(j != NULL, "cannot read %s", rel);
        return j;
}

static void write_record(const char *rel, json_t *j) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", state_dir, rel);
        ck_assert_int_eq(json_dump_file(j, path, JSON_COMPACT), 0);
}

static void token_of(char c, char out[25]) {
        memset(out, c, 24);
        out[24] = 0;
}

START_TEST(test_versions_kept_and_rolled_back) {
        keep_versions = 3;
        _cleanup_(vault_freep) Vault *v = open_vault();
        _cleanup_free_ SecretVersionInfo *l = NULL;
        size_t n = 0;
        uint32_t version = 0;
        OvError e = {};
        char token[25];

        add_slack(v, "Hook", "hook", TOKEN_A);                    /* version 1 */
        for (char c = 'b'; c <= 'f'; c++)                          /* versions 2..6 */
                ck_assert_uint_eq(update_token(v, "hook", c), (uint32_t) (c - 'a' + 1));
        ck_assert_int_eq(vault_list_versions(v, "acme", "hook", &l, &n, &e), 0);
        ck_assert_uint_eq(n, 4);                                   /* current + 3 kept */
        for (size_t i = 0; i < n; i++)
                ck_assert_uint_eq(l[i].version, 6 - i);
        ck_assert_str_eq(l[0].by, "ovt-bob");
        ck_assert_uint_eq(l[3].key_id, 1);
        free(l);
        l = NULL;
        _cleanup_json_ json_t *rec = read_record("orgs/acme/secrets/hook.json");
        ck_assert_uint_eq(json_array_size(json_object_get(rec, "previous")), 3);
        /* Destroyed: no trace of versions 1 and 2 in the file. */
        _cleanup_free_ char *text = json_dumps(rec, JSON_COMPACT);
        ck_assert_ptr_nonnull(strstr(text, "\"version\":3"));
        for (const char *const *gone = (const char *const[]) { "\"version\":2,", "\"version\":2}",
                                                               "\"version\":1,", "\"version\":1}", NULL };
             *gone; gone++)
                ck_assert_ptr_null(strstr(text, *gone));

        /* Rollback to 3: a new version 7 with version 3's value. */
        ck_assert_int_eq(vault_rollback(v, "acme", "hook", 3, "ovt-bob", &version, &e), 0);
        ck_assert_uint_eq(version, 7);
        token_of('c', token);
        assert_resolves_to(v, "hook", token);
        ck_assert_int_eq(vault_list_versions(v, "acme", "hook", &l, &n, &e), 0);
        ck_assert_uint_eq(n, 4);
        ck_assert_uint_eq(l[0].version, 7);
        ck_assert_uint_eq(l[3].version, 4);                        /* 3 fell off the end */
        free(l);
        l = NULL;
        ck_assert_ov_error(vault_rollback(v, "acme", "hook", 3, "ovt-bob", &version, &e), e, OV_ERR_NOT_FOUND);
        ck_assert_ov_error(vault_rollback(v, "acme", "hook", 7, "ovt-bob", &version, &e), e, OV_ERR_INVALID_ARGS);
        ck_assert_ov_error(vault_rollback(v, "acme", "hook", 99, "ovt-bob", &version, &e), e, OV_ERR_NOT_FOUND);
        ck_assert_ov_error(vault_rollback(v, "acme", "nope", 1, "ovt-bob", &version, &e), e, OV_ERR_NOT_FOUND);
        ck_assert_int_eq(vault_rollback(v, "acme", "hook", 6, "ovt-bob", &version, &e), 0);
        token_of('f', token);
        assert_resolves_to(v, "hook", token);

        /* keep-versions 0 keeps none (the behaviour before versions). One
         * vault at a time holds the state dir (its lock). */
        vault_free(TAKE_PTR(v));
        keep_versions = 0;
        _cleanup_(vault_freep) Vault *v0 = open_vault();
        ck_assert_uint_eq(update_token(v0, "hook", 'z'), 9);
        ck_assert_int_eq(vault_list_versions(v0, "acme", "hook", &l, &n, &e), 0);
        ck_assert_uint_eq(n, 1);
        keep_versions = 10;
}
END_TEST

/* A kept value can't pass for the current one: the AD binds its version. */
START_TEST(test_version_bound_in_ad) {
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack(v, "Hook", "hook", TOKEN_A);
                update_token(v, "hook", 'b');
        }
        _cleanup_json_ json_t *rec = read_record("orgs/acme/secrets/hook.json");
        json_t *value = json_object_get(rec, "value"), *old = json_array_get(json_object_get(rec, "previous"), 0);
        json_object_set(value, "nonce", json_object_get(old, "nonce"));
        json_object_set(value, "ciphertext", json_object_get(old, "ciphertext"));
        write_record("orgs/acme/secrets/hook.json", rec);
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                char *json = NULL;
                ck_assert_ov_error(vault_resolve(v, "acme", "hook", "unit:x", &json, NULL, &e), e, OV_ERR_STORAGE_FAILURE);
        }
}
END_TEST

START_TEST(test_rotation_reseals_versions) {
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                _cleanup_strv_free_ char **broken = NULL;
                add_slack(v, "Hook", "hook", TOKEN_A);
                update_token(v, "hook", 'b');
                update_token(v, "hook", 'c');
                add_slack(v, "Binned", "binned", TOKEN_A);
                update_token(v, "binned", 'd');
                ck_assert_int_eq(vault_delete(v, "acme", "binned", false, &broken, &e), 0);
                ck_assert_int_eq(vault_rotate_keys(v, "acme", &e), 0);
                ck_assert_int_eq(vault_rotate_keys(v, "acme", &e), 0);
        }
        _cleanup_json_ json_t *rec = read_record("orgs/acme/secrets/hook.json");
        size_t i;
        json_t *p;
        json_array_foreach(json_object_get(rec, "previous"), i, p)
                ck_assert_int_eq(json_integer_value(json_object_get(p, "key_id")), 3);
        {
                /* org.json has only key 3 now: every kept version opens under it. */
                _cleanup_(vault_freep) Vault *v = open_vault();
                uint32_t version = 0;
                ck_assert_int_eq(vault_rollback(v, "acme", "hook", 1, "ovt-bob", &version, &e), 0);
                assert_resolves_to(v, "hook", TOKEN_A);
                ck_assert_int_eq(vault_restore(v, "acme", "binned", &e), 0);
                ck_assert_int_eq(vault_rollback(v, "acme", "binned", 1, "ovt-bob", &version, &e), 0);
                assert_resolves_to(v, "binned", TOKEN_A);
        }
}
END_TEST

/* A record of format 1 (an older orgvault) is re-sealed and rewritten as
 * format 2 at the first load with the keys; its value and version stay. */
START_TEST(test_format_1_migrates) {
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack(v, "Old", "old", TOKEN_A);
        }
        _cleanup_close_ int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        _cleanup_free_ char *master_bytes = NULL;
        size_t len = 0;
        ck_assert_int_eq(read_file_at(fd, "master.key", 64, &master_bytes, &len), 0);
        _cleanup_key_ OvKey *master = ov_key_new(), *data = NULL;
        memcpy(master->bytes, master_bytes, OV_KEY_BYTES);
        _cleanup_json_ json_t *org = read_record("orgs/acme/org.json");
        json_t *k = json_array_get(json_object_get(org, "keys"), 0);
        ck_assert_int_eq(crypto_unwrap_key(master, "acme", 1, json_string_value(json_object_get(k, "nonce")),
                                           json_string_value(json_object_get(k, "wrapped")), &data), 0);
        _cleanup_free_ char *nonce = NULL, *ct = NULL;
        const char *plain = "{\"webhook_url\":\"" SLACK_PREFIX TOKEN_B "\"}";
        ck_assert_int_eq(crypto_seal_record(data, 1, "acme", "old", "slack-webhook", plain, strlen(plain), &nonce, &ct),
                         0);
        _cleanup_json_ json_t *v1 = json_pack(
                "{s:i, s:s, s:s, s:s, s:s, s:I, s:I, s:i, s:[], s:{s:s, s:i, s:s, s:s}}", "format", 1, "org", "acme",
                "id", "old", "name", "Old", "type", "slack-webhook", "created", (json_int_t) 1700000000000000,
                "updated", (json_int_t) 1700000000000001, "version", 4, "references", "value", "alg",
                "xchacha20poly1305-ietf", "key_id", 1, "nonce", nonce, "ciphertext", ct);
        write_record("orgs/acme/secrets/old.json", v1);
        /* State from before format 2 has no manifest either. */
        _cleanup_free_ char *manifest = strdup_printf("%s/orgs/acme/manifest.json", state_dir);
        ck_assert_int_eq(unlink(manifest), 0);
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                const Secret *s = NULL;
                ck_assert_int_eq(vault_get(v, "acme", "old", &s, &e), 0);
                ck_assert_uint_eq(s->version, 4);
                assert_resolves_to(v, "old", TOKEN_B);
        }
        _cleanup_json_ json_t *rec = read_record("orgs/acme/secrets/old.json");
        ck_assert_int_eq(json_integer_value(json_object_get(rec, "format")), 2);
        ck_assert_int_eq(json_integer_value(json_object_get(rec, "version")), 4);
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                assert_resolves_to(v, "old", TOKEN_B);
                ck_assert_uint_eq(update_token(v, "old", 'q'), 5);
                uint32_t version = 0;
                ck_assert_int_eq(vault_rollback(v, "acme", "old", 4, "ovt-bob", &version, &e), 0);
                assert_resolves_to(v, "old", TOKEN_B);
        }
}
END_TEST

START_TEST(test_expiry_and_due) {
        _cleanup_(vault_freep) Vault *v = open_vault();
        _cleanup_json_ json_t *f = json_pack("{s:s+}", "webhook_url", SLACK_PREFIX, TOKEN_A);
        _cleanup_strv_free_ char **w1 = NULL, **w2 = NULL, **w3 = NULL;
        _cleanup_free_ char *id1 = NULL, *id2 = NULL, *id3 = NULL;
        const Secret *s = NULL;
        OvError e = {};

        ck_assert_int_eq(vault_add_with(v, "acme", "slack-webhook", "Expiring", NULL, f,
                                        &(SecretOptions) { .has_expires = true, .expires = fake_now + 5 * DAY },
                                        &id1, &w1, &e), 0);
        ck_assert_int_eq(vault_add_with(v, "acme", "slack-webhook", "Rotating", NULL, f,
                                        &(SecretOptions) { .has_rotate_every = true, .rotate_every = 10 * DAY },
                                        &id2, &w2, &e), 0);
        ck_assert_int_eq(vault_add_with(v, "acme", "slack-webhook", "Calm", NULL, f, NULL, &id3, &w3, &e), 0);
        ck_assert_ov_error(vault_add_with(v, "acme", "slack-webhook", "Bad", NULL, f,
                                        &(SecretOptions) { .has_rotate_every = true, .rotate_every = UINT64_MAX },
                                        NULL, NULL, &e), e, OV_ERR_INVALID_ARGS);
        ck_assert_int_eq(vault_get(v, "acme", "rotating", &s, &e), 0);
        ck_assert_uint_eq(secret_rotate_by(s), s->value_set + 10 * DAY);

        const Secret **l = NULL;
        size_t n = 0;
        ck_assert_int_eq(vault_list(v, "acme", &(SecretFilter) { .due_within = 6 * DAY }, &l, &n, &e), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_str_eq(l[0]->id, "expiring");
        free(l);
        ck_assert_int_eq(vault_list(v, "acme", &(SecretFilter) { .due_within = 11 * DAY }, &l, &n, &e), 0);
        ck_assert_uint_eq(n, 2);
        free(l);
        fake_now += 30 * DAY;
        ck_assert_int_eq(vault_list(v, "acme", &(SecretFilter) { .due_within = 1 }, &l, &n, &e), 0);
        ck_assert_uint_eq(n, 2);           /* overdue counts as due */
        free(l);
        const char *what = NULL;
        uint64_t when = 0;
        ck_assert(secret_due(s, fake_now, 1, &what, &when));
        ck_assert_str_eq(what, "rotation");

        /* An update keeps the reminders unless given; a rotation resets RotateBy. */
        update_token(v, "rotating", 'r');
        ck_assert_int_eq(vault_get(v, "acme", "rotating", &s, &e), 0);
        ck_assert_uint_eq(s->rotate_every, 10 * DAY);
        ck_assert_uint_eq(secret_rotate_by(s), s->value_set + 10 * DAY);
        /* Expiry is a reminder: the value is still served. */
        assert_resolves_to(v, "expiring", TOKEN_A);
        vault_free(TAKE_PTR(v));        /* one vault at a time holds the state dir */
        {
                _cleanup_(vault_freep) Vault *again = open_vault();
                ck_assert_int_eq(vault_get(again, "acme", "expiring", &s, &e), 0);
                ck_assert_uint_eq(s->expires, fake_now - 25 * DAY);
        }
}
END_TEST

static void copy_file(const char *from_rel, const char *to_rel) {
        _cleanup_free_ char *cmd = strdup_printf("cp -p %s/%s %s/%s", state_dir, from_rel, state_dir, to_rel);
        ck_assert_int_eq(system(cmd), 0);
}

static unsigned quarantined(void) { return (unsigned) files_in("quarantine"); }

/* The manifest file is what json_dumps(JSON_COMPACT | JSON_SORT_KEYS) and a
 * newline make of its document: built by hand, it must stay valid JSON. */
static void assert_manifest_canonical(void) {
        _cleanup_free_ char *path = strdup_printf("%s/orgs/acme/manifest.json", state_dir);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        ck_assert_int_eq(read_file_at(AT_FDCWD, path, 1 << 24, &text, &len), 0);
        _cleanup_json_ json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES, NULL);
        ck_assert_ptr_nonnull(j);
        _cleanup_free_ char *again = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
        ck_assert_uint_eq(len, strlen(again) + 1);
        ck_assert_int_eq(memcmp(text, again, len - 1), 0);
        ck_assert_int_eq(text[len - 1], '\n');
}

/* The attack the manifest is for: an older record file copied back (from a
 * backup, by someone with write access to the state dir) opens fine on its
 * own, its AD matching its own version. It is refused, quarantined and
 * reported; the current value is never replaced by the stale one. */
START_TEST(test_copied_back_record_refused) {
        OvError e = {};
        char token[25];
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack(v, "Hook", "hook", TOKEN_A);
                update_token(v, "hook", 'b');
        }
        copy_file("orgs/acme/secrets/hook.json", "hook-v2.json");
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                update_token(v, "hook", 'c');
        }
        copy_file("hook-v2.json", "orgs/acme/secrets/hook.json");
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                const Secret *s = NULL;
                char *json = NULL;
                ck_assert_ov_error(vault_get(v, "acme", "hook", &s, &e), e, OV_ERR_NOT_FOUND);
                ck_assert_ov_error(vault_resolve(v, "acme", "hook", "unit:x", &json, NULL, &e), e, OV_ERR_NOT_FOUND);
                ck_assert_uint_eq(quarantined(), 1);
                VaultCounts counts;
                ck_assert_int_eq(vault_counts(v, NULL, &counts), 0);
                ck_assert_uint_eq(counts.quarantined, 1);
        }
        /* The manifest still remembers version 3: the same stale copy put
         * back again is refused again. */
        copy_file("hook-v2.json", "orgs/acme/secrets/hook.json");
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                const Secret *s = NULL;
                ck_assert_ov_error(vault_get(v, "acme", "hook", &s, &e), e, OV_ERR_NOT_FOUND);
                ck_assert_uint_eq(quarantined(), 2);
        }
        /* Putting the current record back (what an admin does from the
         * quarantine or a fresh backup) is accepted again. */
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack(v, "Other", "other", TOKEN_A);
                update_token(v, "other", 'd');
                update_token(v, "other", 'e');
        }
        token_of('e', token);
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                assert_resolves_to(v, "other", token);
        }
}
END_TEST

/* A manifest in another JSON form than the one the vault writes (indented
 * here) is read the same way: the stale copy is still refused. */
START_TEST(test_manifest_any_json_form) {
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack(v, "Hook", "hook", TOKEN_A);
                add_slack(v, "Other", "other", TOKEN_A);
                update_token(v, "hook", 'b');
        }
        copy_file("orgs/acme/secrets/hook.json", "hook-v2.json");
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                update_token(v, "hook", 'c');
        }
        _cleanup_json_ json_t *m = read_record("orgs/acme/manifest.json");
        _cleanup_free_ char *path = strdup_printf("%s/orgs/acme/manifest.json", state_dir);
        ck_assert_int_eq(json_dump_file(m, path, JSON_INDENT(3)), 0);
        copy_file("hook-v2.json", "orgs/acme/secrets/hook.json");
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                const Secret *s = NULL;
                ck_assert_ov_error(vault_get(v, "acme", "hook", &s, &e), e, OV_ERR_NOT_FOUND);
                ck_assert_int_eq(vault_get(v, "acme", "other", &s, &e), 0);
                ck_assert_uint_eq(quarantined(), 1);
        }
}
END_TEST

START_TEST(test_copied_back_purged_and_reincarnated) {
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack(v, "X", "x", TOKEN_A);
                add_slack(v, "Binned", "binned", TOKEN_A);
        }
        copy_file("orgs/acme/secrets/x.json", "x-first.json");
        copy_file("orgs/acme/secrets/binned.json", "binned.json");
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                ck_assert_int_eq(vault_delete(v, "acme", "x", false, NULL, &e), 0);
                ck_assert_int_eq(vault_purge(v, "acme", "x", &e), 0);
                ck_assert_int_eq(vault_delete(v, "acme", "binned", false, NULL, &e), 0);
                ck_assert_int_eq(vault_purge(v, "acme", "binned", &e), 0);
                add_slack(v, "X again", "x", TOKEN_B);          /* a new secret under the same id */
        }
        /* The purged first x over the new one, and a purged record put back. */
        copy_file("x-first.json", "orgs/acme/secrets/x.json");
        copy_file("binned.json", "orgs/acme/secrets/binned.json");
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                const Secret *s = NULL;
                ck_assert_ov_error(vault_get(v, "acme", "x", &s, &e), e, OV_ERR_NOT_FOUND);
                ck_assert_ov_error(vault_get(v, "acme", "binned", &s, &e), e, OV_ERR_NOT_FOUND);
                ck_assert_uint_eq(quarantined(), 2);
        }
        assert_manifest_canonical();    /* with tombstones ("gone") */
}
END_TEST

START_TEST(test_stale_trash_entry_refused) {
        OvError e = {};
        _cleanup_strv_free_ char **broken = NULL;
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack(v, "Hook", "hook", TOKEN_A);
        }
        copy_file("orgs/acme/secrets/hook.json", "hook-v1.json");
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                update_token(v, "hook", 'b');
                ck_assert_int_eq(vault_delete(v, "acme", "hook", false, &broken, &e), 0);
        }
        _cleanup_free_ char *cmd = strdup_printf("cd %s/orgs/acme/trash && cp -p ../../../hook-v1.json $(ls)", state_dir);
        ck_assert_int_eq(system(cmd), 0);
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                ck_assert_uint_eq(trash_count(v), 0);
                ck_assert_ov_error(vault_restore(v, "acme", "hook", &e), e, OV_ERR_NOT_FOUND);
                ck_assert_uint_eq(quarantined(), 1);
        }
}
END_TEST

/* A crash between a record's write and the manifest's leaves the record
 * newer than the manifest: accepted, and written into it. */
START_TEST(test_record_newer_than_manifest_accepted) {
        char token[25];
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack(v, "Hook", "hook", TOKEN_A);
        }
        copy_file("orgs/acme/manifest.json", "manifest-old.json");
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                update_token(v, "hook", 'b');
                add_slack(v, "New", "new", TOKEN_B);
        }
        copy_file("manifest-old.json", "orgs/acme/manifest.json");
        token_of('b', token);
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                assert_resolves_to(v, "hook", token);
                assert_resolves_to(v, "new", TOKEN_B);
                ck_assert_uint_eq(quarantined(), 0);
        }
        _cleanup_json_ json_t *m = read_record("orgs/acme/manifest.json");
        ck_assert_uint_eq(json_array_size(json_object_get(m, "secrets")), 2);
        ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(m, "secrets"), 0), "version")), 2);
}
END_TEST

/* A manifest edited without the key fails its MAC: reported, nothing
 * refused on its word, and a true one written. Rotation moves its MAC to
 * the new key before the old key goes. */
START_TEST(test_manifest_mac_and_rotation) {
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack(v, "Hook", "hook", TOKEN_A);
        }
        _cleanup_json_ json_t *m = read_record("orgs/acme/manifest.json");
        json_t *entry = json_array_get(json_object_get(m, "secrets"), 0);
        json_object_set_new(entry, "version", json_integer(9));     /* would refuse version 1 */
        write_record("orgs/acme/manifest.json", m);
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                assert_resolves_to(v, "hook", TOKEN_A);
                ck_assert_uint_eq(quarantined(), 0);
                update_token(v, "hook", 'b');
        }
        copy_file("orgs/acme/secrets/hook.json", "hook-v2.json");
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                update_token(v, "hook", 'c');
                ck_assert_int_eq(vault_rotate_keys(v, "acme", &e), 0);
        }
        _cleanup_json_ json_t *after = read_record("orgs/acme/manifest.json");
        ck_assert_int_eq(json_integer_value(json_object_get(after, "key_id")), 2);
        copy_file("hook-v2.json", "orgs/acme/secrets/hook.json");   /* key 1 is gone: it does not even open */
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                const Secret *s = NULL;
                ck_assert_ov_error(vault_get(v, "acme", "hook", &s, &e), e, OV_ERR_NOT_FOUND);
                ck_assert_uint_eq(quarantined(), 1);
        }
}
END_TEST

static size_t temp_files_in(const char *rel) {
        _cleanup_free_ char *cmd = strdup_printf("ls -A %s/%s 2>/dev/null | grep -c '^\\.#' || true", state_dir, rel);
        FILE *p = popen(cmd, "r");
        size_t n = 0;
        ck_assert_ptr_nonnull(p);
        ck_assert_int_eq(fscanf(p, "%zu", &n), 1);
        pclose(p);
        return n;
}

static bool same_file(const char *a_rel, const char *b_rel) {
        _cleanup_free_ char *cmd = strdup_printf("cmp -s %s/%s %s/%s", state_dir, a_rel, state_dir, b_rel);
        return system(cmd) == 0;
}

/* Group commit: staged changes reach neither their records' names nor the
 * manifest before the commit; the commit writes one manifest naming them
 * all, after them. A process that dies with changes staged leaves the old
 * records and manifest (and temp files a load removes): nothing refused. */
START_TEST(test_group_commit_manifest_after_records) {
        char token[25];
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack(v, "Hook", "hook", TOKEN_A);
        }
        copy_file("orgs/acme/manifest.json", "manifest-1.json");
        copy_file("orgs/acme/secrets/hook.json", "hook-1.json");

        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {         /* dies with three changes staged */
                Vault *v = open_vault();
                ck_assert_int_eq(vault_set_group_commit(v, true), 0);
                add_slack(v, "A", "a", TOKEN_B);
                update_token(v, "hook", 'b');
                ck_assert(vault_commit_pending(v));
                _exit(0);
        }
        int status = 0;
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        ck_assert(same_file("orgs/acme/manifest.json", "manifest-1.json"));
        ck_assert(same_file("orgs/acme/secrets/hook.json", "hook-1.json"));
        ck_assert_uint_eq(temp_files_in("orgs/acme/secrets"), 2);
        ck_assert_uint_eq(temp_files_in("orgs/acme"), 0);      /* the manifest waits for the commit */
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                const Secret *s = NULL;
                OvError e = {};
                assert_resolves_to(v, "hook", TOKEN_A);
                ck_assert_ov_error(vault_get(v, "acme", "a", &s, &e), e, OV_ERR_NOT_FOUND);
                ck_assert_uint_eq(temp_files_in("orgs/acme/secrets"), 0);
                ck_assert_uint_eq(quarantined(), 0);

                ck_assert_int_eq(vault_set_group_commit(v, true), 0);
                add_slack(v, "A", "a", TOKEN_B);
                add_slack(v, "C", "c", TOKEN_B);
                update_token(v, "hook", 'b');
                update_token(v, "hook", 'c');
                ck_assert(vault_commit_pending(v));
                ck_assert(same_file("orgs/acme/manifest.json", "manifest-1.json"));
                ck_assert_int_eq(vault_commit(v), 0);
                ck_assert(!vault_commit_pending(v));
                ck_assert_uint_eq(temp_files_in("orgs/acme/secrets"), 0);
                ck_assert_uint_eq(temp_files_in("orgs/acme"), 0);
                _cleanup_json_ json_t *m = read_record("orgs/acme/manifest.json");
                json_t *list = json_object_get(m, "secrets");
                ck_assert_uint_eq(json_array_size(list), 3);
                ck_assert_str_eq(json_string_value(json_object_get(json_array_get(list, 1), "id")), "c");
                ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(list, 2), "version")), 3);
                assert_manifest_canonical();

                /* Off again: a change is durable, manifest included, when it returns. */
                ck_assert_int_eq(vault_set_group_commit(v, false), 0);
                update_token(v, "c", 'd');
                ck_assert(!vault_commit_pending(v));
                _cleanup_json_ json_t *m2 = read_record("orgs/acme/manifest.json");
                ck_assert_int_eq(json_integer_value(json_object_get(json_array_get(json_object_get(m2, "secrets"), 1),
                                                                    "version")), 2);
        }
        token_of('c', token);
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                assert_resolves_to(v, "hook", token);
                assert_resolves_to(v, "a", TOKEN_B);
                ck_assert_uint_eq(quarantined(), 0);
        }
}
END_TEST

static Suite *lifecycle_suite(void) {
        Suite *s = suite_create("lifecycle");
        TCase *tc = tcase_create("trash");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_delete_moves_to_trash);
        tcase_add_test(tc, test_trash_survives_reopen_and_purge);
        tcase_add_test(tc, test_restore_conflicts);
        tcase_add_test(tc, test_trash_ages_out);
        tcase_add_test(tc, test_rotation_reseals_trash);
        tcase_add_test(tc, test_two_entries_keep_newer);
        tcase_add_test(tc, test_versions_kept_and_rolled_back);
        tcase_add_test(tc, test_version_bound_in_ad);
        tcase_add_test(tc, test_rotation_reseals_versions);
        tcase_add_test(tc, test_format_1_migrates);
        tcase_add_test(tc, test_expiry_and_due);
        tcase_add_test(tc, test_copied_back_record_refused);
        tcase_add_test(tc, test_copied_back_purged_and_reincarnated);
        tcase_add_test(tc, test_stale_trash_entry_refused);
        tcase_add_test(tc, test_manifest_any_json_form);
        tcase_add_test(tc, test_record_newer_than_manifest_accepted);
        tcase_add_test(tc, test_manifest_mac_and_rotation);
        tcase_add_test(tc, test_group_commit_manifest_after_records);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_main_run(lifecycle_suite());
}
