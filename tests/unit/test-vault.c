/* SPDX-License-Identifier: Apache-2.0 */
/* The vault against a real temp state dir, the shipped types and (in one
 * test) the real kernel keyring. Values are obviously fake. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <keyutils.h>
#include <sodium.h>

#include "check-main.h"
#include "org-keys.h"
#include "store.h"
#include "vault.h"

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


#define SLACK_PREFIX "https://hooks.slack.com/services/TFAKE0000/BFAKE0000/"
#define TOKEN_A "xxxxxxxxxxxxxxxxxxxxxxxx"
#define TOKEN_B "yyyyyyyyyyyyyyyyyyyyyyyy"
#define TOKEN_C "zzzzzzzzzzzzzzzzzzzzzzzz"

static char state_dir[64];
static TypeRegistry *types;

static void setup(void) {
        const char *root = getenv("SOURCE_ROOT");
        ck_assert_msg(root != NULL, "SOURCE_ROOT is not set");
        _cleanup_free_ char *data = strdup_printf("%s/policy", root);
        strcpy(state_dir, "/tmp/ov-test-vault-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(state_dir));
        ck_assert_int_eq(type_registry_load(&types, data, "/nonexistent", NULL), 0);
        ck_assert_ptr_nonnull(type_registry_find(types, "slack-webhook"));
}

static void teardown(void) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "rm -rf %s", state_dir);
        ck_assert_int_eq(system(cmd), 0);
        type_registry_free(types);
}

static Vault *open_vault_mode(KeyMode mode, unsigned cache_timeout) {
        VaultConfig cfg = { .state_dir = state_dir, .key_mode = mode, .keyring_timeout_sec = cache_timeout };
        OvError e = {};
        Vault *v = NULL;
        ck_assert_msg(vault_open(&v, &cfg, types, &e) == 0, "vault_open: %s", e.message);
        return v;
}

static Vault *open_vault(void) { return open_vault_mode(KEY_MODE_KEYFILE, 0); }

static json_t *slack_fields(const char *token) {
        return json_pack("{s:s+}", "webhook_url", SLACK_PREFIX, token);
}

static char *add_slack(Vault *v, const char *org, const char *name, const char *id, const char *token) {
        _cleanup_json_ json_t *f = slack_fields(token);
        _cleanup_strv_free_ char **warnings = NULL;
        OvError e = {};
        char *ret = NULL;
        ck_assert_msg(vault_add(v, org, "slack-webhook", name, id, f, &ret, &warnings, &e) == 0,
                      "vault_add %s: %s", name, e.message);
        ck_assert_ptr_nonnull(warnings);
        return ret;
}

static void add_slack_ok(Vault *v, const char *org, const char *name, const char *id, const char *token) {
        free(add_slack(v, org, name, id, token));
}

/* Every file and directory of the state dir: path, mode, size, content hash. */
static char *tree_digest(void) {
        _cleanup_free_ char *cmd = strdup_printf(
                "cd %s && { find . -printf '%%p %%m %%s\\n' | sort; find . -type f -exec sha256sum {} + | sort; }",
                state_dir);
        FILE *p = popen(cmd, "r");
        ck_assert_ptr_nonnull(p);
        char *out = NULL;
        size_t size = 0;
        FILE *m = open_memstream(&out, &size);
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, p)) > 0)
                fwrite(buf, 1, n, m);
        fclose(m);
        ck_assert_int_eq(pclose(p), 0);
        return out;
}

static int state_fd_open(void) {
        int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(fd, 0);
        return fd;
}

static json_t *read_json(const char *rel) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", state_dir, rel);
        json_t *j = json_load_file(path, 0, NULL);
        ck_assert_msg(j != NULL, "cannot read %s", rel);
        return j;
}

static void write_json(const char *rel, json_t *j) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", state_dir, rel);
        ck_assert_int_eq(json_dump_file(j, path, JSON_COMPACT), 0);
}

static void write_state_file(const char *rel, const char *content) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", state_dir, rel);
        FILE *f = fopen(path, "we");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_ge(fputs(content, f), 0);
        ck_assert_int_eq(fclose(f), 0);
}

static void remove_state_file(const char *rel) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", state_dir, rel);
        ck_assert_int_eq(unlink(path), 0);
}

static json_int_t record_key_id(const char *org, const char *id) {
        _cleanup_free_ char *rel = strdup_printf("orgs/%s/secrets/%s.json", org, id);
        _cleanup_json_ json_t *j = read_json(rel);
        return json_integer_value(json_object_get(json_object_get(j, "value"), "key_id"));
}

static char *resolve(Vault *v, const char *org, const char *id, OvError *e) {
        char *json = NULL;
        size_t len = 0;
        if (vault_resolve(v, org, id, "unit:test.service", &json, &len, e) < 0)
                return NULL;
        ck_assert_uint_eq(len, strlen(json));
        return json;
}

static void assert_resolves_to(Vault *v, const char *org, const char *id, const char *token) {
        OvError e = {};
        char *json = resolve(v, org, id, &e);
        ck_assert_msg(json != NULL, "resolve %s/%s: %s", org, id, e.message);
        _cleanup_free_ char *want = strdup_printf(
                "{\"type\":\"slack-webhook\",\"fields\":{\"webhook_url\":\"" SLACK_PREFIX "%s\"}}", token);
        ck_assert_str_eq(json, want);
        crypto_free_plain(json);
}

static void assert_resolve_fails(Vault *v, const char *org, const char *id, OvErrorCode code) {
        OvError e = {};
        char *json = resolve(v, org, id, &e);
        ck_assert_msg(json == NULL, "resolve %s/%s unexpectedly worked", org, id);
        ck_assert_int_eq(e.code, code);
        ck_assert(e.message[0] != 0);
}

static size_t list_names(Vault *v, const char *org, const SecretFilter *f, const char **names, size_t max) {
        const Secret **l = NULL;
        size_t n = 0;
        OvError e = {};
        ck_assert_msg(vault_list(v, org, f, &l, &n, &e) == 0, "%s", e.message);
        ck_assert_uint_le(n, max);
        for (size_t i = 0; i < n; i++)
                names[i] = l[i]->name;
        free(l);
        return n;
}

START_TEST(test_add_get_list) {
        _cleanup_(vault_freep) Vault *v = open_vault();
        _cleanup_json_ json_t *ollama = json_pack("{s:s}", "server_url", "http://localhost:11434");
        const Secret *s = NULL;
        const char *names[8];
        OvError e = {};
        char *id = NULL;

        id = add_slack(v, "acme", "Ops Slack", NULL, TOKEN_A);
        ck_assert_str_eq(id, "ops-slack");
        free(id);
        add_slack_ok(v, "acme", "alerts backup", "backup", TOKEN_B);
        add_slack_ok(v, "acme", "zeta OPS", NULL, TOKEN_C);
        ck_assert_int_eq(vault_add(v, "acme", "ollama", "Local Ollama", NULL, ollama, &id, NULL, &e), 0);
        ck_assert_str_eq(id, "local-ollama");
        free(id);

        ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
        ck_assert_str_eq(s->name, "Ops Slack");
        ck_assert_str_eq(s->type, "slack-webhook");
        ck_assert_uint_eq(s->version, 1);
        ck_assert_uint_gt(s->created, 0);
        ck_assert_uint_eq(s->created, s->updated);
        ck_assert_uint_eq(s->n_refs, 0);
        ck_assert_uint_eq(s->last_used, 0);
        ck_assert_ov_error(vault_get(v, "acme", "nope", &s, &e), e, OV_ERR_NOT_FOUND);
        ck_assert_int_eq(e.code, OV_ERR_NOT_FOUND);
        ck_assert_ov_error(vault_get(v, "Bad Org", "x", &s, &e), e, OV_ERR_INVALID_ARGS);

        /* Sorted by name ignoring case. */
        ck_assert_uint_eq(list_names(v, "acme", NULL, names, 8), 4);
        ck_assert_str_eq(names[0], "alerts backup");
        ck_assert_str_eq(names[1], "Local Ollama");
        ck_assert_str_eq(names[2], "Ops Slack");
        ck_assert_str_eq(names[3], "zeta OPS");

        SecretFilter f = { .search = "oPs" };
        ck_assert_uint_eq(list_names(v, "acme", &f, names, 8), 2);
        ck_assert_str_eq(names[0], "Ops Slack");
        ck_assert_str_eq(names[1], "zeta OPS");
        f = (SecretFilter) { .type = "ollama" };
        ck_assert_uint_eq(list_names(v, "acme", &f, names, 8), 1);
        ck_assert_str_eq(names[0], "Local Ollama");
        f = (SecretFilter) { .feature = "ai" };
        ck_assert_uint_eq(list_names(v, "acme", &f, names, 8), 1);
        ck_assert_str_eq(names[0], "Local Ollama");
        f = (SecretFilter) { .feature = "alerts" };
        ck_assert_uint_eq(list_names(v, "acme", &f, names, 8), 3);
        f = (SecretFilter) { .feature = "alerts", .search = "backup" };
        ck_assert_uint_eq(list_names(v, "acme", &f, names, 8), 1);
        f = (SecretFilter) { .offset = 1, .limit = 2 };
        ck_assert_uint_eq(list_names(v, "acme", &f, names, 8), 2);
        ck_assert_str_eq(names[0], "Local Ollama");
        ck_assert_str_eq(names[1], "Ops Slack");
        f = (SecretFilter) { .offset = 10 };
        ck_assert_uint_eq(list_names(v, "acme", &f, names, 8), 0);
        ck_assert_uint_eq(list_names(v, "empty-org", NULL, names, 8), 0);

        char long_search[OV_FILTER_MAX + 2];
        memset(long_search, 'a', sizeof long_search - 1);
        long_search[sizeof long_search - 1] = 0;
        f = (SecretFilter) { .search = long_search };
        const Secret **l = NULL;
        size_t n = 0;
        ck_assert_ov_error(vault_list(v, "acme", &f, &l, &n, &e), e, OV_ERR_INVALID_ARGS);

        _cleanup_strv_free_ char **orgs = NULL;
        ck_assert_int_eq(vault_loaded_orgs(v, &orgs), 0);
        ck_assert(strv_contains(orgs, "acme"));
        ck_assert(!strv_contains(orgs, "empty-org"));

        VaultStatus st = {};
        ck_assert_int_eq(vault_status(v, &st), 0);
        ck_assert(!st.sealed);
        ck_assert_int_eq(st.key_mode, KEY_MODE_KEYFILE);
        ck_assert(!st.keyring_cache);
        VaultCounts counts = {};
        ck_assert_int_eq(vault_counts(v, NULL, &counts), 0);
        ck_assert_uint_eq(counts.orgs, 1);
        ck_assert_uint_eq(counts.secrets, 4);
        ck_assert_uint_eq(counts.quarantined, 0);
}
END_TEST

/* Status's counts come from memory: each directory is read once, then the
 * vault's own changes keep them right (issue 10 item 4). */
START_TEST(test_counts_in_memory) {
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                free(add_slack(v, "acme", "One", NULL, "onexxxxxxxxxxxxxxxxxxxxx"));
                free(add_slack(v, "acme", "Two", NULL, "twoxxxxxxxxxxxxxxxxxxxxx"));
                free(add_slack(v, "globex", "Three", NULL, "threexxxxxxxxxxxxxxxxxxx"));
        }
        /* A broken record in acme, not loaded yet. */
        write_state_file("orgs/acme/secrets/broken.json", "{not json");

        _cleanup_(vault_freep) Vault *v = open_vault();
        VaultCounts n = {};
        ck_assert_int_eq(vault_counts(v, NULL, &n), 0);
        ck_assert_uint_eq(n.orgs, 2);
        ck_assert_uint_eq(n.secrets, 4);         /* files: the broken one too */
        ck_assert_uint_eq(n.quarantined, 0);
        ck_assert_int_eq(vault_counts(v, (char *[]) { "globex", NULL }, &n), 0);
        ck_assert_uint_eq(n.orgs, 1);
        ck_assert_uint_eq(n.secrets, 1);
        ck_assert_int_eq(vault_counts(v, (char *[]) { "nobody", NULL }, &n), 0);
        ck_assert_uint_eq(n.orgs, 0);
        ck_assert_uint_eq(n.secrets, 0);

        /* Read once: a file put behind the vault's back is not seen, so
         * counting again costs no directory scan. */
        write_state_file("orgs/globex/secrets/planted.json", "{}");
        write_state_file("quarantine/globex.planted.json.1", "{}");
        ck_assert_int_eq(vault_counts(v, NULL, &n), 0);
        ck_assert_uint_eq(n.secrets, 4);
        ck_assert_uint_eq(n.quarantined, 0);
        remove_state_file("orgs/globex/secrets/planted.json");

        /* Loading acme quarantines the broken record: the counts follow. */
        const Secret **list = NULL;
        size_t len = 0;
        ck_assert_int_eq(vault_list(v, "acme", &(SecretFilter) {}, &list, &len, &e), 0);
        free(list);
        ck_assert_uint_eq(len, 2);
        ck_assert_int_eq(vault_counts(v, NULL, &n), 0);
        ck_assert_uint_eq(n.secrets, 3);
        ck_assert_uint_eq(n.quarantined, 1);
        ck_assert_int_eq(vault_counts(v, (char *[]) { "acme", NULL }, &n), 0);
        ck_assert_uint_eq(n.secrets, 2);
        ck_assert_uint_eq(n.quarantined, 1);

        /* The vault's own adds and deletes, a new org included. */
        free(add_slack(v, "initech", "Four", NULL, "fourxxxxxxxxxxxxxxxxxxxx"));
        ck_assert_int_eq(vault_delete(v, "acme", "one", false, NULL, &e), 0);
        ck_assert_int_eq(vault_counts(v, NULL, &n), 0);
        ck_assert_uint_eq(n.orgs, 3);
        ck_assert_uint_eq(n.secrets, 3);
        ck_assert_int_eq(vault_counts(v, (char *[]) { "acme", "initech", NULL }, &n), 0);
        ck_assert_uint_eq(n.orgs, 2);
        ck_assert_uint_eq(n.secrets, 2);
}
END_TEST

START_TEST(test_names_and_ids) {
        _cleanup_(vault_freep) Vault *v = open_vault();
        _cleanup_json_ json_t *f = slack_fields(TOKEN_A);
        OvError e = {};
        char *id = NULL;

        add_slack_ok(v, "acme", "Ops Slack", NULL, TOKEN_A);
        ck_assert_ov_error(vault_add(v, "acme", "slack-webhook", "OPS slack", NULL, f, &id, NULL, &e), e,
                         OV_ERR_NAME_EXISTS);
        ck_assert_ptr_nonnull(strstr(e.message, "Ops Slack"));
        ck_assert_ov_error(vault_add(v, "acme", "slack-webhook", "Other", "ops-slack", f, &id, NULL, &e), e,
                         OV_ERR_NAME_EXISTS);
        ck_assert_ov_error(vault_add(v, "acme", "slack-webhook", "Other", "Bad Id", f, &id, NULL, &e), e,
                         OV_ERR_INVALID_ARGS);
        ck_assert_ov_error(vault_add(v, "acme", "slack-webhook", "", NULL, f, &id, NULL, &e), e, OV_ERR_INVALID_ARGS);
        ck_assert_ov_error(vault_add(v, "acme", "slack-webhook", "tab\there", NULL, f, &id, NULL, &e), e,
                         OV_ERR_INVALID_ARGS);

        /* Slug collisions get a numeric suffix; an empty slug falls back. */
        id = add_slack(v, "acme", "ops-slack!", NULL, TOKEN_A);
        ck_assert_str_eq(id, "ops-slack-2");
        free(id);
        id = add_slack(v, "acme", "Ops  slack?", NULL, TOKEN_A);
        ck_assert_str_eq(id, "ops-slack-3");
        free(id);
        id = add_slack(v, "acme", "!!!", NULL, TOKEN_A);
        ck_assert_str_eq(id, "secret");
        free(id);
        id = add_slack(v, "acme", "???", NULL, TOKEN_A);
        ck_assert_str_eq(id, "secret-2");
        free(id);

        char longname[71];
        memset(longname, 'a', 70);
        longname[70] = 0;
        id = add_slack(v, "acme", longname, NULL, TOKEN_A);
        ck_assert_uint_eq(strlen(id), OV_ID_MAX);
        free(id);
        longname[69] = 'b';
        id = add_slack(v, "acme", longname, NULL, TOKEN_A);
        ck_assert(secret_id_valid(id));
        ck_assert_uint_eq(strlen(id), OV_ID_MAX);
        ck_assert_str_eq(id + OV_ID_MAX - 2, "-2");
        free(id);

        /* Same rule on rename; changing only the case of one's own name is fine. */
        ck_assert_ov_error(vault_rename(v, "acme", "secret", "ops SLACK", &e), e, OV_ERR_NAME_EXISTS);
        ck_assert_int_eq(vault_rename(v, "acme", "ops-slack", "OPS SLACK", &e), 0);
}
END_TEST

START_TEST(test_refused_changes_nothing) {
        _cleanup_(vault_freep) Vault *v = open_vault();
        _cleanup_json_ json_t *http = json_pack("{s:s}", "webhook_url",
                                                "http://hooks.slack.com/services/TFAKE0000/BFAKE0000/" TOKEN_A);
        _cleanup_json_ json_t *extra = json_pack("{s:s+, s:s}", "webhook_url", SLACK_PREFIX, TOKEN_A,
                                                 "colour", "blue");
        _cleanup_json_ json_t *good = slack_fields(TOKEN_B);
        _cleanup_json_ json_t *not_object = json_string("x");
        const Secret *s = NULL;
        uint32_t version = 0;
        OvError e = {};
        char *id = NULL;

        add_slack_ok(v, "acme", "Ops Slack", NULL, TOKEN_A);
        _cleanup_free_ char *before = tree_digest();

        ck_assert_ov_error(vault_add(v, "acme", "slack-webhook", "New", NULL, http, &id, NULL, &e), e,
                         OV_ERR_INVALID_FIELD);
        ck_assert_msg(strstr(e.message, "webhook_url") != NULL, "%s", e.message);
        ck_assert_ov_error(vault_add(v, "acme", "slack-webhook", "New", NULL, extra, &id, NULL, &e), e,
                         OV_ERR_INVALID_FIELD);
        ck_assert_msg(strstr(e.message, "colour") != NULL, "%s", e.message);
        ck_assert_ov_error(vault_add(v, "acme", "no-such-type", "New", NULL, good, &id, NULL, &e), e,
                         OV_ERR_UNKNOWN_TYPE);
        ck_assert_ov_error(vault_add(v, "acme", "slack-webhook", "New", NULL, not_object, &id, NULL, &e), e,
                         OV_ERR_INVALID_ARGS);
        ck_assert_ov_error(vault_update(v, "acme", "ops-slack", http, &version, NULL, &e), e, OV_ERR_INVALID_FIELD);
        ck_assert_ov_error(vault_update(v, "acme", "nope", good, &version, NULL, &e), e, OV_ERR_NOT_FOUND);
        ck_assert_ov_error(vault_rename(v, "acme", "ops-slack", "", &e), e, OV_ERR_INVALID_ARGS);
        ck_assert_ov_error(vault_add_reference(v, "acme", "ops-slack", "", "x", &e), e, OV_ERR_INVALID_ARGS);
        ck_assert_ov_error(vault_add_reference(v, "acme", "ops-slack", "alerts", "a\nb", &e), e, OV_ERR_INVALID_ARGS);
        ck_assert_ov_error(vault_remove_reference(v, "acme", "ops-slack", "alerts", "x", &e), e, OV_ERR_NOT_FOUND);
        ck_assert_ov_error(vault_delete(v, "acme", "nope", false, NULL, &e), e, OV_ERR_NOT_FOUND);

        _cleanup_free_ char *after = tree_digest();
        ck_assert_str_eq(before, after);
        ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
        ck_assert_uint_eq(s->version, 1);
        ck_assert_ov_error(vault_get(v, "acme", "new", &s, &e), e, OV_ERR_NOT_FOUND);
        assert_resolves_to(v, "acme", "ops-slack", TOKEN_A);
}
END_TEST

/* vault_check_add/vault_check_update (the page's "Next"): the add's errors
 * and warnings, nothing written, and the secret unchanged. */
START_TEST(test_check_writes_nothing) {
        _cleanup_(vault_freep) Vault *v = open_vault();
        _cleanup_json_ json_t *http = json_pack("{s:s}", "webhook_url",
                                                "http://hooks.slack.com/services/TFAKE0000/BFAKE0000/" TOKEN_A);
        _cleanup_json_ json_t *good = slack_fields(TOKEN_B);
        _cleanup_strv_free_ char **warnings = NULL;
        const Secret *s = NULL;
        OvError e = {}, e2 = {};
        char *id = NULL;

        add_slack_ok(v, "acme", "Ops Slack", NULL, TOKEN_A);
        _cleanup_free_ char *before = tree_digest();

        ck_assert_int_eq(vault_check_add(v, "acme", "slack-webhook", NULL, NULL, good, &warnings, &e), 0);
        ck_assert_ptr_nonnull(warnings);
        ck_assert_ptr_null(warnings[0]);
        ck_assert_int_eq(vault_check_add(v, "acme", "slack-webhook", "", NULL, good, NULL, &e), 0);
        ck_assert_ov_error(vault_check_add(v, "acme", "slack-webhook", "OPS SLACK", NULL, good, NULL, &e), e,
                         OV_ERR_NAME_EXISTS);
        ck_assert_ov_error(vault_check_add(v, "acme", "slack-webhook", NULL, "ops-slack", good, NULL, &e), e,
                         OV_ERR_NAME_EXISTS);
        ck_assert_ov_error(vault_check_add(v, "acme", "nope", NULL, NULL, good, NULL, &e), e, OV_ERR_UNKNOWN_TYPE);
        ck_assert_ov_error(vault_check_add(v, "acme", "slack-webhook", NULL, NULL, http, NULL, &e), e,
                         OV_ERR_INVALID_FIELD);
        ck_assert_ov_error(vault_add(v, "acme", "slack-webhook", "New", NULL, http, &id, NULL, &e2), e2,
                         OV_ERR_INVALID_FIELD);
        ck_assert_str_eq(e.message, e2.message);
        ck_assert_ov_error(vault_check_update(v, "acme", "ops-slack", http, NULL, &e), e, OV_ERR_INVALID_FIELD);
        ck_assert_ov_error(vault_check_update(v, "acme", "nope", good, NULL, &e), e, OV_ERR_NOT_FOUND);
        ck_assert_int_eq(vault_check_update(v, "acme", "ops-slack", good, NULL, &e), 0);

        _cleanup_free_ char *after = tree_digest();
        ck_assert_str_eq(before, after);
        ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
        ck_assert_uint_eq(s->version, 1);
        assert_resolves_to(v, "acme", "ops-slack", TOKEN_A);

        /* Sealed: the answer a real add would give. */
        ck_assert_int_eq(vault_seal(v, &e), 0);
        ck_assert_ov_error(vault_check_add(v, "acme", "slack-webhook", NULL, NULL, good, NULL, &e), e, OV_ERR_SEALED);
        ck_assert_ov_error(vault_check_update(v, "acme", "ops-slack", good, NULL, &e), e, OV_ERR_SEALED);
}
END_TEST

START_TEST(test_rename_update) {
        _cleanup_(vault_freep) Vault *v = open_vault();
        _cleanup_json_ json_t *f = slack_fields(TOKEN_B);
        const Secret *s = NULL;
        uint32_t version = 0;
        OvError e = {};

        add_slack_ok(v, "acme", "Ops Slack", NULL, TOKEN_A);
        ck_assert_int_eq(vault_add_reference(v, "acme", "ops-slack", "alerts", "sink:ops", &e), 0);
        ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
        uint64_t created = s->created;
        _cleanup_free_ char *old_ct = strdup(s->ciphertext);

        ck_assert_int_eq(vault_rename(v, "acme", "ops-slack", "Operations", &e), 0);
        ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
        ck_assert_str_eq(s->name, "Operations");
        ck_assert_uint_eq(s->version, 1);
        ck_assert_str_eq(s->ciphertext, old_ct);
        _cleanup_json_ json_t *rec = read_json("orgs/acme/secrets/ops-slack.json");
        ck_assert_str_eq(json_string_value(json_object_get(rec, "name")), "Operations");
        assert_resolves_to(v, "acme", "ops-slack", TOKEN_A);

        ck_assert_int_eq(vault_update(v, "acme", "ops-slack", f, &version, NULL, &e), 0);
        ck_assert_uint_eq(version, 2);
        ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
        ck_assert_str_eq(s->id, "ops-slack");
        ck_assert_uint_eq(s->version, 2);
        ck_assert_uint_eq(s->created, created);
        ck_assert_uint_ge(s->updated, created);
        ck_assert_str_ne(s->ciphertext, old_ct);
        ck_assert_uint_eq(s->n_refs, 1);
        ck_assert_str_eq(s->refs[0].target, "sink:ops");
        assert_resolves_to(v, "acme", "ops-slack", TOKEN_B);
}
END_TEST

START_TEST(test_delete_and_references) {
        _cleanup_(vault_freep) Vault *v = open_vault();
        _cleanup_strv_free_ char **broken = NULL;
        const Secret *s = NULL;
        OvError e = {};

        add_slack_ok(v, "acme", "Ops Slack", NULL, TOKEN_A);
        ck_assert_int_eq(vault_add_reference(v, "acme", "ops-slack", "alerts", "sink:ops", &e), 0);
        ck_assert_int_eq(vault_add_reference(v, "acme", "ops-slack", "alerts", "sink:ops", &e), 0);   /* idempotent */
        ck_assert_int_eq(vault_add_reference(v, "acme", "ops-slack", "surveys", "phone:1", &e), 0);
        ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
        ck_assert_uint_eq(s->n_refs, 2);

        _cleanup_free_ char *before = tree_digest();
        ck_assert_ov_error(vault_delete(v, "acme", "ops-slack", false, &broken, &e), e, OV_ERR_IN_USE);
        ck_assert_ptr_nonnull(strstr(e.message, "alerts sink:ops"));
        ck_assert_ptr_nonnull(strstr(e.message, "surveys phone:1"));
        ck_assert_ptr_null(broken);
        _cleanup_free_ char *after = tree_digest();
        ck_assert_str_eq(before, after);

        ck_assert_int_eq(vault_remove_reference(v, "acme", "ops-slack", "surveys", "phone:1", &e), 0);
        ck_assert_ov_error(vault_remove_reference(v, "acme", "ops-slack", "surveys", "phone:1", &e), e, OV_ERR_NOT_FOUND);
        ck_assert_int_eq(vault_add_reference(v, "acme", "ops-slack", "surveys", "phone:1", &e), 0);

        ck_assert_int_eq(vault_delete(v, "acme", "ops-slack", true, &broken, &e), 0);
        ck_assert_uint_eq(strv_length(broken), 2);
        ck_assert(strv_contains(broken, "alerts sink:ops"));
        ck_assert(strv_contains(broken, "surveys phone:1"));
        ck_assert_ov_error(vault_get(v, "acme", "ops-slack", &s, &e), e, OV_ERR_NOT_FOUND);
        _cleanup_free_ char *path = strdup_printf("%s/orgs/acme/secrets/ops-slack.json", state_dir);
        ck_assert_int_eq(access(path, F_OK), -1);

        /* References are bounded. */
        add_slack_ok(v, "acme", "Many", NULL, TOKEN_A);
        for (int i = 0; i < OV_REFERENCES_MAX; i++) {
                char target[16];
                snprintf(target, sizeof target, "t%d", i);
                ck_assert_int_eq(vault_add_reference(v, "acme", "many", "alerts", target, &e), 0);
        }
        ck_assert_ov_error(vault_add_reference(v, "acme", "many", "alerts", "one-more", &e), e, OV_ERR_INVALID_ARGS);
}
END_TEST

START_TEST(test_deleted_state_does_not_resurface) {
        const Secret *s = NULL;
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack_ok(v, "acme", "Ops Slack", NULL, TOKEN_A);
                ck_assert_int_eq(vault_add_reference(v, "acme", "ops-slack", "alerts", "sink:ops", &e), 0);
                assert_resolves_to(v, "acme", "ops-slack", TOKEN_A);
                ck_assert_int_eq(vault_flush_usage(v), 0);
        }
        /* A crash right after the delete would leave this usage.json behind. */
        _cleanup_free_ char *usage_path = strdup_printf("%s/orgs/acme/usage.json", state_dir);
        _cleanup_json_ json_t *stale = json_load_file(usage_path, 0, NULL);
        ck_assert_ptr_nonnull(json_object_get(stale, "ops-slack"));
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                _cleanup_strv_free_ char **broken = NULL;
                ck_assert_int_eq(vault_delete(v, "acme", "ops-slack", true, &broken, &e), 0);
                add_slack_ok(v, "acme", "Ops Slack", "ops-slack", TOKEN_B);
                ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
                ck_assert_uint_eq(s->n_refs, 0);
                ck_assert_uint_eq(s->last_used, 0);
        }
        ck_assert_int_eq(json_dump_file(stale, usage_path, 0), 0);
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
                ck_assert_uint_eq(s->n_refs, 0);
                ck_assert_uint_eq(s->last_used, 0);
                ck_assert_ptr_null(s->last_used_by);
                assert_resolves_to(v, "acme", "ops-slack", TOKEN_B);
        }
}
END_TEST

START_TEST(test_resolve_and_usage) {
        const Secret *s = NULL;
        OvError e = {};
        uint64_t used = 0;
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack_ok(v, "acme", "Ops Slack", NULL, TOKEN_A);
                ck_assert(vault_usage_dirty(v));         /* the org index */
                ck_assert_int_eq(vault_flush_usage(v), 0);
                ck_assert(!vault_usage_dirty(v));
                assert_resolves_to(v, "acme", "ops-slack", TOKEN_A);
                ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
                ck_assert_uint_gt(s->last_used, 0);
                ck_assert_str_eq(s->last_used_by, "unit:test.service");
                used = s->last_used;
                ck_assert(vault_usage_dirty(v));
                ck_assert_int_eq(vault_flush_usage(v), 0);
                ck_assert(!vault_usage_dirty(v));

                char *value = NULL;
                size_t len = 0;
                ck_assert_int_eq(vault_resolve_field(v, "acme", "ops-slack", "webhook_url", "unit:b.service",
                                                     &value, &len, &e), 0);
                ck_assert_str_eq(value, SLACK_PREFIX TOKEN_A);
                ck_assert_uint_eq(len, strlen(SLACK_PREFIX TOKEN_A));
                crypto_free_plain(value);
                ck_assert_ov_error(vault_resolve_field(v, "acme", "ops-slack", "nope", NULL, &value, &len, &e), e,
                                 OV_ERR_NOT_FOUND);
                ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
                ck_assert_str_eq(s->last_used_by, "unit:b.service");
                used = s->last_used;
                assert_resolve_fails(v, "acme", "nope", OV_ERR_NOT_FOUND);
                /* vault_free writes the pending usage. */
        }
        _cleanup_(vault_freep) Vault *v = open_vault();
        ck_assert_int_eq(vault_get(v, "acme", "ops-slack", &s, &e), 0);
        ck_assert_uint_eq(s->last_used, used);
        ck_assert_str_eq(s->last_used_by, "unit:b.service");
}
END_TEST

/* Copies the sealed value of one record into another record's file. */
static void copy_value(const char *from_rel, const char *to_rel) {
        _cleanup_json_ json_t *from = read_json(from_rel);
        _cleanup_json_ json_t *to = read_json(to_rel);
        ck_assert_int_eq(json_object_set(to, "value", json_object_get(from, "value")), 0);
        write_json(to_rel, to);
}

START_TEST(test_moved_and_tampered_values) {
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack_ok(v, "acme", "A", NULL, TOKEN_A);
                add_slack_ok(v, "acme", "B", NULL, TOKEN_B);
                add_slack_ok(v, "acme", "C", NULL, TOKEN_C);
                add_slack_ok(v, "acme", "D", NULL, TOKEN_C);
                add_slack_ok(v, "beta", "E", NULL, TOKEN_A);
        }
        copy_value("orgs/acme/secrets/b.json", "orgs/acme/secrets/a.json");
        copy_value("orgs/beta/secrets/e.json", "orgs/acme/secrets/c.json");
        _cleanup_json_ json_t *d = read_json("orgs/acme/secrets/d.json");
        json_t *value = json_object_get(d, "value");
        _cleanup_free_ char *ct = strdup(json_string_value(json_object_get(value, "ciphertext")));
        ct[5] = ct[5] == 'A' ? 'B' : 'A';
        json_object_set_new(value, "ciphertext", json_string(ct));
        write_json("orgs/acme/secrets/d.json", d);

        _cleanup_(vault_freep) Vault *v = open_vault();
        assert_resolve_fails(v, "acme", "a", OV_ERR_STORAGE_FAILURE);   /* moved within the org */
        assert_resolve_fails(v, "acme", "c", OV_ERR_STORAGE_FAILURE);   /* moved from another org */
        assert_resolve_fails(v, "acme", "d", OV_ERR_STORAGE_FAILURE);   /* tampered */
        assert_resolves_to(v, "acme", "b", TOKEN_B);
        assert_resolves_to(v, "beta", "e", TOKEN_A);
}
END_TEST

START_TEST(test_wrong_master_key) {
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack_ok(v, "acme", "Ops Slack", NULL, TOKEN_A);
        }
        unsigned char other[OV_KEY_BYTES];
        randombytes_buf(other, sizeof other);
        _cleanup_free_ char *key_path = strdup_printf("%s/master.key", state_dir);
        ck_assert_int_eq(unlink(key_path), 0);
        int fd = open(key_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0400);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, other, sizeof other), (ssize_t) sizeof other);
        close(fd);

        _cleanup_free_ char *before = tree_digest();
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                _cleanup_json_ json_t *f = slack_fields(TOKEN_B);
                OvError e = {};
                char *json = resolve(v, "acme", "ops-slack", &e);
                ck_assert_ptr_null(json);
                ck_assert_int_eq(e.code, OV_ERR_SEALED);
                ck_assert_msg(strstr(e.message, "master key") != NULL, "%s", e.message);
                ck_assert_ov_error(vault_update(v, "acme", "ops-slack", f, NULL, NULL, &e), e, OV_ERR_SEALED);
                ck_assert_ov_error(vault_add(v, "acme", "slack-webhook", "New", NULL, f, NULL, NULL, &e), e,
                                 OV_ERR_SEALED);
                ck_assert_ov_error(vault_rotate_keys(v, "acme", &e), e, OV_ERR_SEALED);
        }
        _cleanup_free_ char *after = tree_digest();
        ck_assert_str_eq(before, after);
}
END_TEST

static void assert_org_keys(int fd, uint32_t current) {
        OrgKeys k = {};
        _cleanup_free_ char *err = NULL;
        ck_assert_int_eq(keys_load_fd(fd, "acme", &k, &err), 0);
        ck_assert_uint_eq(k.current, current);
        ck_assert_uint_eq(k.n_keys, 1);
        ck_assert_uint_eq(k.keys[0].id, current);
        ck_assert_uint_eq(k.rotating_to, 0);
        org_keys_clear(&k);
}

static const char *const rot_ids[] = { "s0", "s1", "s2", "s3", "s4" };
static const char *const rot_tokens[] = { TOKEN_A, TOKEN_B, TOKEN_C, TOKEN_A, TOKEN_B };

START_TEST(test_rotate_keys) {
        _cleanup_close_ int fd = state_fd_open();
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                ck_assert_int_eq(vault_rotate_keys(v, "acme", &e), 0);     /* nothing yet */
                for (size_t i = 0; i < ELEMENTSOF(rot_ids); i++)
                        add_slack_ok(v, "acme", rot_ids[i], NULL, rot_tokens[i]);
                ck_assert_int_eq(record_key_id("acme", "s0"), 1);
                ck_assert_int_eq(vault_rotate_keys(v, "acme", &e), 0);
                for (size_t i = 0; i < ELEMENTSOF(rot_ids); i++) {
                        ck_assert_int_eq(record_key_id("acme", rot_ids[i]), 2);
                        assert_resolves_to(v, "acme", rot_ids[i], rot_tokens[i]);
                }
                assert_org_keys(fd, 2);
                add_slack_ok(v, "acme", "after", NULL, TOKEN_C);
                ck_assert_int_eq(record_key_id("acme", "after"), 2);
                ck_assert_int_eq(vault_rotate_keys(v, "acme", &e), 0);
                ck_assert_int_eq(record_key_id("acme", "after"), 3);
                assert_org_keys(fd, 3);
        }
        _cleanup_(vault_freep) Vault *v = open_vault();
        for (size_t i = 0; i < ELEMENTSOF(rot_ids); i++)
                assert_resolves_to(v, "acme", rot_ids[i], rot_tokens[i]);
        assert_resolves_to(v, "acme", "after", TOKEN_C);
}
END_TEST

static OvKey *read_master_key(int fd) {
        _cleanup_free_ char *bytes = NULL;
        size_t len = 0;
        ck_assert_int_eq(read_file_at(fd, "master.key", 64, &bytes, &len), 0);
        ck_assert_uint_eq(len, OV_KEY_BYTES);
        OvKey *k = ov_key_new();
        memcpy(k->bytes, bytes, OV_KEY_BYTES);
        return k;
}

START_TEST(test_rotation_resumes_after_crash) {
        _cleanup_close_ int fd = state_fd_open();
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                for (size_t i = 0; i < ELEMENTSOF(rot_ids); i++)
                        add_slack_ok(v, "acme", rot_ids[i], NULL, rot_tokens[i]);
        }

        /* Do what a rotation does up to a crash: org.json with the new key and
         * rotating_to, then only some records re-sealed under it. */
        _cleanup_key_ OvKey *master = read_master_key(fd);
        _cleanup_key_ OvKey *old_key = NULL, *new_key = ov_key_new_random();
        OrgKeys k = {};
        _cleanup_free_ char *err = NULL;
        ck_assert_int_eq(keys_load_fd(fd, "acme", &k, &err), 0);
        ck_assert_int_eq(crypto_unwrap_key(master, "acme", 1, k.keys[0].nonce, k.keys[0].wrapped, &old_key), 0);
        OrgKeyEntry entries[2] = { k.keys[0], { .id = 2, .created = now_usec() } };
        ck_assert_int_eq(crypto_wrap_key(master, "acme", 2, new_key, &entries[1].nonce, &entries[1].wrapped), 0);
        OrgKeys mid = { .current = 1, .keys = entries, .n_keys = 2, .rotating_to = 2 };
        ck_assert_int_eq(keys_save_fd(fd, "acme", &mid), 0);
        free(entries[1].nonce);
        free(entries[1].wrapped);
        org_keys_clear(&k);

        Secret **secrets = NULL;
        size_t n = 0;
        ck_assert_int_eq(store_load_org(fd, "acme", &secrets, &n, NULL, NULL), 0);
        ck_assert_uint_eq(n, ELEMENTSOF(rot_ids));
        for (size_t i = 0; i < 2; i++) {
                Secret *s = secrets[i];
                char *plain = NULL;
                size_t len = 0;
                ck_assert_int_eq(crypto_open_value(old_key, 1, "acme", s->id, s->type, s->version, s->nonce,
                                                   s->ciphertext, &plain, &len), 0);
                ck_assert_int_eq(secret_own_strings(s), 0);     /* a loaded secret's strings share a block */
                free(s->nonce);
                free(s->ciphertext);
                ck_assert_int_eq(crypto_seal_value(new_key, 2, "acme", s->id, s->type, s->version, plain, len,
                                                   &s->nonce, &s->ciphertext), 0);
                crypto_free_plain(plain);
                s->key_id = 2;
                ck_assert_int_eq(store_save_secret(fd, "acme", s, NULL), 0);
        }
        for (size_t i = 0; i < n; i++)
                secret_free(secrets[i]);
        free(secrets);

        /* The next load finishes it. */
        _cleanup_(vault_freep) Vault *v = open_vault();
        const Secret *s = NULL;
        OvError e = {};
        ck_assert_int_eq(vault_get(v, "acme", "s0", &s, &e), 0);
        for (size_t i = 0; i < ELEMENTSOF(rot_ids); i++) {
                ck_assert_int_eq(record_key_id("acme", rot_ids[i]), 2);
                assert_resolves_to(v, "acme", rot_ids[i], rot_tokens[i]);
        }
        assert_org_keys(fd, 2);
}
END_TEST

START_TEST(test_reopen_keeps_everything) {
        uint64_t created[3], updated[3];
        const char *ids[] = { "a", "b", "c" };
        const Secret *s = NULL;
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack_ok(v, "acme", "A", NULL, TOKEN_A);
                add_slack_ok(v, "acme", "B", NULL, TOKEN_B);
                add_slack_ok(v, "acme", "C", NULL, TOKEN_C);
                ck_assert_int_eq(vault_add_reference(v, "acme", "b", "alerts", "sink:b", &e), 0);
                ck_assert_int_eq(vault_rename(v, "acme", "c", "Sea", &e), 0);
                for (size_t i = 0; i < 3; i++) {
                        ck_assert_int_eq(vault_get(v, "acme", ids[i], &s, &e), 0);
                        created[i] = s->created;
                        updated[i] = s->updated;
                }
        }
        _cleanup_(vault_freep) Vault *v = open_vault();
        const char *names[4];
        ck_assert_uint_eq(list_names(v, "acme", NULL, names, 4), 3);
        ck_assert_str_eq(names[2], "Sea");
        for (size_t i = 0; i < 3; i++) {
                ck_assert_int_eq(vault_get(v, "acme", ids[i], &s, &e), 0);
                ck_assert_uint_eq(s->created, created[i]);
                ck_assert_uint_eq(s->updated, updated[i]);
                ck_assert_uint_eq(s->version, 1);
        }
        ck_assert_int_eq(vault_get(v, "acme", "b", &s, &e), 0);
        ck_assert_uint_eq(s->n_refs, 1);
        ck_assert_str_eq(s->refs[0].feature, "alerts");
        assert_resolves_to(v, "acme", "c", TOKEN_C);
}
END_TEST

START_TEST(test_failed_write_changes_nothing) {
        _cleanup_(vault_freep) Vault *v = open_vault();
        _cleanup_json_ json_t *f = slack_fields(TOKEN_B);
        const Secret *s = NULL;
        OvError e = {};
        char *id = NULL;

        add_slack_ok(v, "acme", "Ops Slack", NULL, TOKEN_A);
        /* A directory where the new record would go: the rename fails. */
        _cleanup_free_ char *blocker = strdup_printf("%s/orgs/acme/secrets/blocked.json", state_dir);
        ck_assert_int_eq(mkdir(blocker, 0700), 0);
        ck_assert_ov_error(vault_add(v, "acme", "slack-webhook", "Blocked", "blocked", f, &id, NULL, &e), e,
                         OV_ERR_STORAGE_FAILURE);
        ck_assert_msg(strstr(e.message, "directory") != NULL, "%s", e.message);
        ck_assert_ptr_null(id);
        ck_assert_ov_error(vault_get(v, "acme", "blocked", &s, &e), e, OV_ERR_NOT_FOUND);
        const char *names[4];
        ck_assert_uint_eq(list_names(v, "acme", NULL, names, 4), 1);
        ck_assert_int_eq(rmdir(blocker), 0);
        /* No temp file was left behind, and the name is still free. */
        _cleanup_free_ char *leftovers = strdup_printf("ls -A %s/orgs/acme/secrets | grep -q '^\\.#'", state_dir);
        ck_assert_int_ne(system(leftovers), 0);
        add_slack_ok(v, "acme", "Blocked", "blocked", TOKEN_B);
        assert_resolves_to(v, "acme", "blocked", TOKEN_B);
}
END_TEST

START_TEST(test_quarantine_through_vault) {
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack_ok(v, "acme", "A", NULL, TOKEN_A);
                add_slack_ok(v, "acme", "B", NULL, TOKEN_B);
        }
        _cleanup_free_ char *path = strdup_printf("%s/orgs/acme/secrets/a.json", state_dir);
        ck_assert_int_eq(truncate(path, 20), 0);
        _cleanup_(vault_freep) Vault *v = open_vault();
        const Secret *s = NULL;
        OvError e = {};
        VaultCounts n = {};
        ck_assert_ov_error(vault_get(v, "acme", "a", &s, &e), e, OV_ERR_NOT_FOUND);
        assert_resolves_to(v, "acme", "b", TOKEN_B);
        ck_assert_int_eq(vault_counts(v, NULL, &n), 0);
        ck_assert_uint_eq(n.quarantined, 1);
        ck_assert_uint_eq(n.secrets, 1);
}
END_TEST

START_TEST(test_sealed_passphrase_vault) {
        _cleanup_(vault_freep) Vault *v = open_vault_mode(KEY_MODE_PASSPHRASE, 0);
        _cleanup_json_ json_t *f = slack_fields(TOKEN_A);
        static const char pass[] = "correct horse battery staple";
        const char *names[2];
        const Secret *s = NULL;
        OvError e = {};

        ck_assert(vault_is_sealed(v));
        ck_assert_int_eq(vault_key_mode(v), KEY_MODE_PASSPHRASE);
        ck_assert_uint_eq(list_names(v, "acme", NULL, names, 2), 0);
        ck_assert_ov_error(vault_add(v, "acme", "slack-webhook", "A", NULL, f, NULL, NULL, &e), e, OV_ERR_SEALED);

        ck_assert_msg(vault_unseal(v, pass, strlen(pass), &e) == 0, "%s", e.message);
        ck_assert(!vault_is_sealed(v));
        add_slack_ok(v, "acme", "A", NULL, TOKEN_A);
        assert_resolves_to(v, "acme", "a", TOKEN_A);

        ck_assert_int_eq(vault_seal(v, &e), 0);
        ck_assert(vault_is_sealed(v));
        /* Metadata is in clear: members still see it while sealed. */
        ck_assert_int_eq(vault_get(v, "acme", "a", &s, &e), 0);
        ck_assert_uint_eq(list_names(v, "acme", NULL, names, 2), 1);
        assert_resolve_fails(v, "acme", "a", OV_ERR_SEALED);
        ck_assert_ov_error(vault_rotate_keys(v, "acme", &e), e, OV_ERR_SEALED);

        ck_assert_int_lt(vault_unseal(v, "wrong", 5, &e), 0);
        ck_assert(vault_is_sealed(v));
        ck_assert_int_eq(vault_unseal(v, pass, strlen(pass), &e), 0);
        assert_resolves_to(v, "acme", "a", TOKEN_A);
}
END_TEST

START_TEST(test_keyring_cache) {
        {
                _cleanup_(vault_freep) Vault *v = open_vault_mode(KEY_MODE_KEYFILE, 60);
                VaultStatus st = {};
                ck_assert_int_eq(vault_status(v, &st), 0);
                ck_assert(st.keyring_cache);
                add_slack_ok(v, "acme", "A", NULL, TOKEN_A);
        }
        /* Break the wrapped key: only the cached copy can open records now. */
        _cleanup_json_ json_t *org = read_json("orgs/acme/org.json");
        unsigned char nonce[24];
        randombytes_buf(nonce, sizeof nonce);
        _cleanup_free_ char *nonce_b64 = b64_encode(nonce, sizeof nonce);
        json_object_set_new(json_array_get(json_object_get(org, "keys"), 0), "nonce", json_string(nonce_b64));
        write_json("orgs/acme/org.json", org);

        _cleanup_(vault_freep) Vault *v = open_vault_mode(KEY_MODE_KEYFILE, 60);
        OvError e = {};
        assert_resolves_to(v, "acme", "a", TOKEN_A);

        /* Seal revokes the cache; the broken wrap then shows. */
        ck_assert_int_eq(vault_seal(v, &e), 0);
        ck_assert_int_eq(vault_unseal(v, NULL, 0, &e), 0);
        assert_resolve_fails(v, "acme", "a", OV_ERR_SEALED);
}
END_TEST

/* The serial of the one entry of root's user keyring whose description
 * contains both parts, or 0 (-1 when several). */
static key_serial_t keyring_entry(const char *part1, const char *part2) {
        _cleanup_free_ key_serial_t *ids = NULL;
        key_serial_t found = 0;
        long n = keyctl_read_alloc(KEY_SPEC_USER_KEYRING, (void **) &ids);
        ck_assert_int_ge(n, 0);
        for (size_t i = 0; i < (size_t) n / sizeof(key_serial_t); i++) {
                _cleanup_free_ char *info = NULL;
                if (keyctl_describe_alloc(ids[i], &info) < 0)
                        continue;
                if (strstr(info, part1) && strstr(info, part2))
                        found = found == 0 ? ids[i] : -1;
        }
        return found;
}

/* A rotated-away data key leaves the kernel keyring at once, not at its
 * timeout (issue 10 item 5). */
START_TEST(test_rotation_revokes_cached_keys) {
        /* Entries there before: other vaults of root may cache keys too. */
        _cleanup_free_ key_serial_t *before = NULL;
        long n_before = keyctl_read_alloc(KEY_SPEC_USER_KEYRING, (void **) &before);
        ck_assert_int_ge(n_before, 0);

        _cleanup_(vault_freep) Vault *v = open_vault_mode(KEY_MODE_KEYFILE, 60);
        OvError e = {};
        add_slack_ok(v, "acme", "A", NULL, TOKEN_A);

        /* This vault's entries are "orgvault:<scope>:org:acme:<id>:<fp>":
         * its scope from the key-1 entry that is new. */
        char scope[64] = "";
        _cleanup_free_ key_serial_t *ids = NULL;
        long n = keyctl_read_alloc(KEY_SPEC_USER_KEYRING, (void **) &ids);
        ck_assert_int_ge(n, 0);
        for (size_t i = 0; i < (size_t) n / sizeof(key_serial_t); i++) {
                bool known = false;
                for (size_t j = 0; j < (size_t) n_before / sizeof(key_serial_t); j++)
                        known = known || before[j] == ids[i];
                _cleanup_free_ char *info = NULL;
                if (known || keyctl_describe_alloc(ids[i], &info) < 0)
                        continue;
                char *d = strstr(info, "orgvault:"), *k = strstr(info, ":org:acme:1:");
                if (d && k && (size_t) (k - d) < sizeof scope)
                        snprintf(scope, sizeof scope, "%.*s", (int) (k - d), d);
        }
        ck_assert_str_ne(scope, "");
        key_serial_t old = keyring_entry(scope, ":org:acme:1:");
        ck_assert_int_gt(old, 0);

        ck_assert_int_eq(vault_rotate_keys(v, "acme", &e), 0);
        assert_resolves_to(v, "acme", "a", TOKEN_A);
        ck_assert_int_eq(keyring_entry(scope, ":org:acme:1:"), 0);
        char byte;
        ck_assert_int_lt(keyctl_read(old, &byte, 1), 0);        /* revoked, or gone */
        ck_assert_int_gt(keyring_entry(scope, ":org:acme:2:"), 0);

        ck_assert_int_eq(vault_seal(v, &e), 0);                  /* leave root's keyring clean */
        ck_assert_int_eq(keyring_entry(scope, ":org:acme:"), 0);
}
END_TEST

static unsigned events[3];
static char last_event_id[OV_ID_MAX + 1];

static void on_event(Vault *v, VaultEvent ev, const char *org, const Secret *s, void *userdata) {
        ck_assert_str_eq(org, "acme");
        ck_assert_ptr_eq(userdata, events);
        events[ev]++;
        snprintf(last_event_id, sizeof last_event_id, "%s", s->id);
}

START_TEST(test_events) {
        _cleanup_(vault_freep) Vault *v = open_vault();
        _cleanup_json_ json_t *f = slack_fields(TOKEN_B);
        OvError e = {};

        vault_set_event_callback(v, on_event, events);
        add_slack_ok(v, "acme", "A", NULL, TOKEN_A);
        ck_assert_uint_eq(events[VAULT_SECRET_ADDED], 1);
        ck_assert_str_eq(last_event_id, "a");
        ck_assert_int_eq(vault_update(v, "acme", "a", f, NULL, NULL, &e), 0);
        ck_assert_int_eq(vault_rename(v, "acme", "a", "Alpha", &e), 0);
        ck_assert_uint_eq(events[VAULT_SECRET_CHANGED], 2);
        /* A refused call emits nothing. */
        ck_assert_ov_error(vault_rename(v, "acme", "a", "", &e), e, OV_ERR_INVALID_ARGS);
        ck_assert_uint_eq(events[VAULT_SECRET_CHANGED], 2);
        ck_assert_int_eq(vault_delete(v, "acme", "a", false, NULL, &e), 0);
        ck_assert_uint_eq(events[VAULT_SECRET_REMOVED], 1);
        ck_assert_str_eq(last_event_id, "a");
}
END_TEST

/* The org index (orgs/<org>/index): a cache, the records stay the truth. */

static struct timespec mtime_at(int fd, const char *rel) {
        struct stat st;
        ck_assert_int_eq(fstatat(fd, rel, &st, AT_SYMLINK_NOFOLLOW), 0);
        return st.st_mtim;
}

/* Waits until a file written now gets a later mtime than rel has: the index
 * trusts only records older than itself (file times move by clock ticks). */
static void wait_past_mtime(int fd, const char *rel) {
        struct timespec ref = mtime_at(fd, rel);
        for (int i = 0; i < 2000; i++) {
                int probe = openat(fd, "probe", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
                ck_assert_int_ge(probe, 0);
                close(probe);
                struct timespec t = mtime_at(fd, "probe");
                ck_assert_int_eq(unlinkat(fd, "probe", 0), 0);
                if (t.tv_sec > ref.tv_sec || (t.tv_sec == ref.tv_sec && t.tv_nsec > ref.tv_nsec))
                        return;
                usleep(1000);
        }
        ck_abort_msg("the file clock did not move");
}

START_TEST(test_index_used_on_next_open) {
        _cleanup_close_ int fd = state_fd_open();
        struct stat st;
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack_ok(v, "acme", "Alpha", NULL, TOKEN_A);
                add_slack_ok(v, "acme", "Bravo", NULL, TOKEN_B);
                ck_assert_int_eq(vault_add_reference(v, "acme", "bravo", "alerts", "sink:b", &e), 0);
                wait_past_mtime(fd, "orgs/acme/secrets/bravo.json");
        }       /* vault_free flushes: the index is written */
        ck_assert_int_eq(fstatat(fd, "orgs/acme/index", &st, AT_SYMLINK_NOFOLLOW), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);

        /* Bravo's file changed in place with its stamp kept (same inode, size
         * and mtime): only a load that used the index still sees "Bravo". */
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, mtime_at(fd, "orgs/acme/secrets/bravo.json") };
        ck_assert_int_eq(read_file_at(fd, "orgs/acme/secrets/bravo.json", 1 << 20, &text, &len), 0);
        char *name = strstr(text, "\"Bravo\"");
        ck_assert_ptr_nonnull(name);
        memcpy(name, "\"BRAVO\"", 7);
        int rfd = openat(fd, "orgs/acme/secrets/bravo.json", O_WRONLY | O_CLOEXEC);
        ck_assert_int_ge(rfd, 0);
        ck_assert_int_eq(pwrite(rfd, text, len, 0), (ssize_t) len);
        close(rfd);
        ck_assert_int_eq(utimensat(fd, "orgs/acme/secrets/bravo.json", times, 0), 0);

        _cleanup_(vault_freep) Vault *v = open_vault();
        const Secret *s = NULL;
        ck_assert_int_eq(vault_get(v, "acme", "bravo", &s, &e), 0);
        ck_assert_str_eq(s->name, "Bravo");
        ck_assert_uint_eq(s->n_refs, 1);
        ck_assert(!vault_usage_dirty(v));        /* the index matched: nothing to rewrite */
        assert_resolves_to(v, "acme", "alpha", TOKEN_A);
        assert_resolves_to(v, "acme", "bravo", TOKEN_B);
}
END_TEST

/* An index written, then changes, then a crash before the next flush: the
 * old index is back (here with a newer mtime than every record, the worst
 * case) and the records' truth must win. */
START_TEST(test_index_older_than_records) {
        _cleanup_close_ int fd = state_fd_open();
        _cleanup_free_ char *old_index = NULL;
        _cleanup_strv_free_ char **broken = NULL;
        size_t old_len = 0;
        OvError e = {};
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                add_slack_ok(v, "acme", "Alpha", NULL, TOKEN_A);
                add_slack_ok(v, "acme", "Bravo", NULL, TOKEN_B);
                add_slack_ok(v, "acme", "Charlie", NULL, TOKEN_C);
                ck_assert_int_eq(vault_add_reference(v, "acme", "charlie", "alerts", "sink:c", &e), 0);
        }
        ck_assert_int_eq(read_file_at(fd, "orgs/acme/index", 1 << 24, &old_index, &old_len), 0);
        {
                _cleanup_(vault_freep) Vault *v = open_vault();
                _cleanup_json_ json_t *f = slack_fields(TOKEN_C);
                ck_assert_int_eq(vault_update(v, "acme", "alpha", f, NULL, NULL, &e), 0);
                ck_assert_int_eq(vault_rename(v, "acme", "bravo", "Bee", &e), 0);
                ck_assert_int_eq(vault_delete(v, "acme", "charlie", true, &broken, &e), 0);
                add_slack_ok(v, "acme", "Delta", NULL, TOKEN_B);
                ck_assert_int_eq(vault_rotate_keys(v, "acme", &e), 0);
        }
        ck_assert_int_eq(write_file_atomic_at(fd, "orgs/acme/index", old_index, old_len, 0600), 0);

        _cleanup_(vault_freep) Vault *v = open_vault();
        const char *names[8];
        ck_assert_uint_eq(list_names(v, "acme", NULL, names, 8), 3);
        ck_assert_str_eq(names[0], "Alpha");
        ck_assert_str_eq(names[1], "Bee");
        ck_assert_str_eq(names[2], "Delta");
        const Secret *s = NULL;
        ck_assert_int_eq(vault_get(v, "acme", "alpha", &s, &e), 0);
        ck_assert_uint_eq(s->version, 2);
        ck_assert_ov_error(vault_get(v, "acme", "charlie", &s, &e), e, OV_ERR_NOT_FOUND);
        assert_resolves_to(v, "acme", "alpha", TOKEN_C);
        assert_resolves_to(v, "acme", "bravo", TOKEN_B);
        assert_resolves_to(v, "acme", "delta", TOKEN_B);
        ck_assert(vault_usage_dirty(v));         /* the stale index is due for a rewrite */
}
END_TEST

START_TEST(test_list_grows_with_matches) {
        _cleanup_(vault_freep) Vault *v = open_vault();
        const char *names[64];
        char name[32];

        for (int i = 0; i < 40; i++) {
                snprintf(name, sizeof name, "Item %02d", 39 - i);
                add_slack_ok(v, "acme", name, NULL, TOKEN_A);
        }
        add_slack_ok(v, "acme", "Other", NULL, TOKEN_B);
        SecretFilter search = { .search = "ITEM" };
        ck_assert_uint_eq(list_names(v, "acme", &search, names, ELEMENTSOF(names)), 40);
        for (int i = 0; i < 40; i++) {
                snprintf(name, sizeof name, "Item %02d", i);
                ck_assert_str_eq(names[i], name);
        }
        SecretFilter page = { .search = "item", .offset = 30, .limit = 20 };
        ck_assert_uint_eq(list_names(v, "acme", &page, names, ELEMENTSOF(names)), 10);
        ck_assert_str_eq(names[0], "Item 30");
        SecretFilter all = { .offset = 39 };
        ck_assert_uint_eq(list_names(v, "acme", &all, names, ELEMENTSOF(names)), 2);
        ck_assert_str_eq(names[1], "Other");
        SecretFilter past = { .offset = 100 };
        ck_assert_uint_eq(list_names(v, "acme", &past, names, ELEMENTSOF(names)), 0);
}
END_TEST

static Suite *vault_suite(void) {
        Suite *s = suite_create("vault");
        TCase *tc = tcase_create("vault");
        tcase_add_checked_fixture(tc, setup, teardown);
        tcase_set_timeout(tc, 60);
        tcase_add_test(tc, test_add_get_list);
        tcase_add_test(tc, test_counts_in_memory);
        tcase_add_test(tc, test_names_and_ids);
        tcase_add_test(tc, test_refused_changes_nothing);
        tcase_add_test(tc, test_check_writes_nothing);
        tcase_add_test(tc, test_rename_update);
        tcase_add_test(tc, test_delete_and_references);
        tcase_add_test(tc, test_deleted_state_does_not_resurface);
        tcase_add_test(tc, test_resolve_and_usage);
        tcase_add_test(tc, test_moved_and_tampered_values);
        tcase_add_test(tc, test_wrong_master_key);
        tcase_add_test(tc, test_rotate_keys);
        tcase_add_test(tc, test_rotation_resumes_after_crash);
        tcase_add_test(tc, test_reopen_keeps_everything);
        tcase_add_test(tc, test_failed_write_changes_nothing);
        tcase_add_test(tc, test_quarantine_through_vault);
        tcase_add_test(tc, test_sealed_passphrase_vault);
        tcase_add_test(tc, test_keyring_cache);
        tcase_add_test(tc, test_rotation_revokes_cached_keys);
        tcase_add_test(tc, test_events);
        tcase_add_test(tc, test_index_used_on_next_open);
        tcase_add_test(tc, test_index_older_than_records);
        tcase_add_test(tc, test_list_grows_with_matches);
        suite_add_tcase(s, tc);
        return s;
}

int main(void) {
        return check_main_run(vault_suite());
}
