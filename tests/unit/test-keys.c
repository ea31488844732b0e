/* SPDX-License-Identifier: Apache-2.0 */
/* Master-key modes against real files, and the keyring cache against the
 * real kernel keyring, seen from a second process. */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <keyutils.h>
#include <sodium.h>

#include "check-main.h"
#include "master-key.h"

#define HELPER_ARG "--keyring-get"

/* A scratch state dir, opened; removed with its files at the end. */
typedef struct Scratch {
        char path[64];
        int fd;
} Scratch;

static void scratch_make(Scratch *s) {
        snprintf(s->path, sizeof s->path, "/tmp/ov-test-keys-XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(s->path));
        s->fd = open(s->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ck_assert_int_ge(s->fd, 0);
}

static void scratch_done(Scratch *s) {
        DIR *d = fdopendir(s->fd);
        struct dirent *de;

        if (!d)
                return;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        (void) unlinkat(dirfd(d), de->d_name, 0);
        closedir(d);
        (void) rmdir(s->path);
}
#define _cleanup_scratch_ _cleanup_(scratch_done)

static void cache_freep(KeyringCache **c) {
        if (*c) {
                keyring_cache_revoke_all(*c);   /* leave no test keys behind */
                keyring_cache_free(*c);
        }
}
#define _cleanup_cache_ _cleanup_(cache_freep)

static void write_bytes(int dir_fd, const char *name, const void *data, size_t len, mode_t mode) {
        _cleanup_close_ int fd = openat(dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        ck_assert_int_ge(fd, 0);
        ck_assert_int_eq(write(fd, data, len), (ssize_t) len);
}

static char *read_text(int dir_fd, const char *name) {
        char *t = NULL;
        ck_assert_int_eq(read_file_at(dir_fd, name, 1 << 16, &t, NULL), 0);
        return t;
}

static size_t count_entries(int dir_fd) {
        _cleanup_close_ int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fdopendir(fd);
        struct dirent *de;
        size_t n = 0;

        ck_assert_ptr_nonnull(d);
        fd = -1;
        while ((de = readdir(d)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                        n++;
        closedir(d);
        return n;
}

/* ---- keyfile mode ---- */

START_TEST(test_keyfile_created_and_reloaded) {
        _cleanup_scratch_ Scratch s = {};
        _cleanup_key_ OvKey *a = NULL, *b = NULL;
        unsigned char disk[64];
        struct stat st;
        OvError e = {};

        scratch_make(&s);
        ck_assert_int_eq(master_key_load(s.fd, KEY_MODE_KEYFILE, NULL, &a, &e), 0);
        ck_assert_ptr_nonnull(a);
        ck_assert_int_eq(fstatat(s.fd, "master.key", &st, AT_SYMLINK_NOFOLLOW), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0400);
        ck_assert_int_eq(st.st_size, OV_KEY_BYTES);
        _cleanup_close_ int fd = openat(s.fd, "master.key", O_RDONLY | O_CLOEXEC);
        ck_assert_int_eq(read(fd, disk, sizeof disk), OV_KEY_BYTES);
        ck_assert_mem_eq(disk, a->bytes, OV_KEY_BYTES);
        sodium_memzero(disk, sizeof disk);
        ck_assert_uint_eq(count_entries(s.fd), 1);      /* no temp files left */

        ck_assert_int_eq(master_key_load(s.fd, KEY_MODE_KEYFILE, NULL, &b, &e), 0);
        ck_assert_mem_eq(a->bytes, b->bytes, OV_KEY_BYTES);
}
END_TEST

START_TEST(test_keyfile_wrong_size_refused) {
        static const size_t sizes[] = { 0, 31, 33, 44 };
        char junk[64];

        memset(junk, 'k', sizeof junk);
        for (size_t i = 0; i < ELEMENTSOF(sizes); i++) {
                _cleanup_scratch_ Scratch s = {};
                OvKey *k = NULL;
                OvError e = {};
                struct stat before, after;

                scratch_make(&s);
                write_bytes(s.fd, "master.key", junk, sizes[i], 0400);
                ck_assert_int_eq(fstatat(s.fd, "master.key", &before, 0), 0);
                ck_assert_ov_error(master_key_load(s.fd, KEY_MODE_KEYFILE, NULL, &k, &e), e, OV_ERR_STORAGE_FAILURE);
                ck_assert_ptr_null(k);
                ck_assert_int_eq(e.code, OV_ERR_STORAGE_FAILURE);
                ck_assert_ptr_nonnull(strstr(e.message, "master.key"));
                ck_assert_int_eq(fstatat(s.fd, "master.key", &after, 0), 0);
                ck_assert_uint_eq(after.st_ino, before.st_ino);
                ck_assert_int_eq(after.st_size, (off_t) sizes[i]);
                ck_assert_uint_eq(count_entries(s.fd), 1);
        }
}
END_TEST

START_TEST(test_keyfile_not_regular_refused) {
        _cleanup_scratch_ Scratch s = {};
        OvKey *k = NULL;
        OvError e = {};

        scratch_make(&s);
        ck_assert_int_eq(mkdirat(s.fd, "master.key", 0700), 0);
        ck_assert_ov_error(master_key_load(s.fd, KEY_MODE_KEYFILE, NULL, &k, &e), e, OV_ERR_STORAGE_FAILURE);
        ck_assert_ptr_null(k);
        ck_assert_int_eq(unlinkat(s.fd, "master.key", AT_REMOVEDIR), 0);
}
END_TEST

/* ---- credential mode ---- */

START_TEST(test_credential_mode) {
        _cleanup_scratch_ Scratch state = {}, creds = {};
        _cleanup_key_ OvKey *want = ov_key_new_random();
        _cleanup_key_ OvKey *got = NULL;
        OvKey *none = NULL;
        OvError e = {};

        scratch_make(&state);
        scratch_make(&creds);

        ck_assert_int_eq(unsetenv("CREDENTIALS_DIRECTORY"), 0);
        ck_assert_ov_error(master_key_load(state.fd, KEY_MODE_CREDENTIAL, NULL, &none, &e), e, OV_ERR_STORAGE_FAILURE);
        ck_assert_ptr_nonnull(strstr(e.message, "CREDENTIALS_DIRECTORY"));

        ck_assert_int_eq(setenv("CREDENTIALS_DIRECTORY", creds.path, 1), 0);
        ck_assert_ov_error(master_key_load(state.fd, KEY_MODE_CREDENTIAL, NULL, &none, &e), e, OV_ERR_STORAGE_FAILURE);
        ck_assert_ptr_nonnull(strstr(e.message, "orgvault.master-key"));

        write_bytes(creds.fd, "orgvault.master-key", want->bytes, OV_KEY_BYTES, 0400);
        ck_assert_int_eq(master_key_load(state.fd, KEY_MODE_CREDENTIAL, NULL, &got, &e), 0);
        ck_assert_mem_eq(got->bytes, want->bytes, OV_KEY_BYTES);
        ck_assert_uint_eq(count_entries(state.fd), 0);  /* nothing written to the state dir */

        /* Base64 text is not accepted: the credential holds raw bytes. */
        ck_assert_int_eq(unlinkat(creds.fd, "orgvault.master-key", 0), 0);
        _cleanup_free_ char *b64 = b64_encode(want->bytes, OV_KEY_BYTES);
        write_bytes(creds.fd, "orgvault.master-key", b64, strlen(b64), 0400);
        ck_assert_ov_error(master_key_load(state.fd, KEY_MODE_CREDENTIAL, NULL, &none, &e), e, OV_ERR_STORAGE_FAILURE);
        ck_assert_ptr_null(none);
        ck_assert_int_eq(unsetenv("CREDENTIALS_DIRECTORY"), 0);
}
END_TEST

/* ---- passphrase mode ---- */

START_TEST(test_passphrase_unseal) {
        _cleanup_scratch_ Scratch s = {};
        _cleanup_key_ OvKey *first = NULL, *again = NULL;
        _cleanup_json_ json_t *doc = NULL;
        OvKey *none = NULL;
        OvError e = {};
        struct stat st;
        static const char pw[] = "correct horse battery staple";

        scratch_make(&s);
        /* Sealed until the first unseal: no key, no error, nothing written. */
        ck_assert_int_eq(master_key_load(s.fd, KEY_MODE_PASSPHRASE, NULL, &none, &e), 0);
        ck_assert_ptr_null(none);
        ck_assert_uint_eq(count_entries(s.fd), 0);

        ck_assert_int_eq(master_key_unseal(s.fd, pw, strlen(pw), NULL, &first, &e), 0);
        ck_assert_int_eq(fstatat(s.fd, "master.json", &st, 0), 0);
        ck_assert_uint_eq(st.st_mode & 07777, 0600);
        ck_assert_uint_eq(count_entries(s.fd), 1);
        _cleanup_free_ char *text = read_text(s.fd, "master.json");
        doc = json_loads(text, 0, NULL);
        ck_assert_ptr_nonnull(doc);
        ck_assert_int_eq(json_integer_value(json_object_get(doc, "format")), 1);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "kdf")), "argon2id13");
        ck_assert_int_eq(json_integer_value(json_object_get(doc, "opslimit")), crypto_pwhash_OPSLIMIT_MODERATE);
        ck_assert_int_eq(json_integer_value(json_object_get(doc, "memlimit")), crypto_pwhash_MEMLIMIT_MODERATE);
        ck_assert_uint_eq(strlen(json_string_value(json_object_get(doc, "salt"))), 24);
        _cleanup_free_ char *v = NULL;
        ck_assert_int_eq(crypto_key_verifier(first, &v), 0);
        ck_assert_str_eq(json_string_value(json_object_get(doc, "verifier")), v);

        ck_assert_int_eq(master_key_unseal(s.fd, pw, strlen(pw), NULL, &again, &e), 0);
        ck_assert_mem_eq(first->bytes, again->bytes, OV_KEY_BYTES);

        ck_assert_ov_error(master_key_unseal(s.fd, "correct horse battery stapler", 29, NULL, &none, &e), e,
                         OV_ERR_ACCESS_DENIED);
        ck_assert_str_eq(e.message, "Wrong passphrase");
        ck_assert_ptr_null(none);
        _cleanup_free_ char *after = read_text(s.fd, "master.json");
        ck_assert_str_eq(after, text);
        ck_assert_uint_eq(count_entries(s.fd), 1);

        ck_assert_ov_error(master_key_unseal(s.fd, "", 0, NULL, &none, &e), e, OV_ERR_INVALID_ARGS);
}
END_TEST

START_TEST(test_passphrase_malformed_master_json) {
        _cleanup_scratch_ Scratch s = {};
        OvKey *none = NULL;
        OvError e = {};
        static const char bad[] = "{\"format\":1,\"kdf\":\"scrypt\",\"opslimit\":3,\"memlimit\":1,\"salt\":\"\",\"verifier\":\"\"}\n";

        scratch_make(&s);
        write_bytes(s.fd, "master.json", bad, strlen(bad), 0600);
        ck_assert_ov_error(master_key_unseal(s.fd, "pw", 2, NULL, &none, &e), e, OV_ERR_STORAGE_FAILURE);
        ck_assert_ov_error(master_key_load(s.fd, KEY_MODE_PASSPHRASE, NULL, &none, &e), e, OV_ERR_STORAGE_FAILURE);
        ck_assert_ptr_null(none);
        _cleanup_free_ char *after = read_text(s.fd, "master.json");
        ck_assert_str_eq(after, bad);
}
END_TEST

START_TEST(test_passphrase_cached_across_starts) {
        _cleanup_scratch_ Scratch s = {};
        _cleanup_cache_ KeyringCache *c1 = NULL;
        _cleanup_key_ OvKey *k = NULL, *loaded = NULL;
        OvKey *none = NULL;
        OvError e = {};

        scratch_make(&s);
        c1 = keyring_cache_new(s.path, 60);
        ck_assert(keyring_cache_enabled(c1));
        ck_assert_int_eq(master_key_unseal(s.fd, "pw-one", 6, c1, &k, &e), 0);

        /* A fresh start (new cache object) comes up unsealed from the keyring. */
        KeyringCache *c2 = keyring_cache_new(s.path, 60);
        ck_assert_int_eq(master_key_load(s.fd, KEY_MODE_PASSPHRASE, c2, &loaded, &e), 0);
        ck_assert_ptr_nonnull(loaded);
        ck_assert_mem_eq(loaded->bytes, k->bytes, OV_KEY_BYTES);

        /* A cached key that does not match master.json is not trusted. */
        ck_assert_int_eq(unlinkat(s.fd, "master.json", 0), 0);
        _cleanup_key_ OvKey *other = NULL;
        ck_assert_int_eq(master_key_unseal(s.fd, "pw-two", 6, NULL, &other, &e), 0);
        _cleanup_free_ char *before = read_text(s.fd, "master.json");
        ck_assert_ov_error(master_key_load(s.fd, KEY_MODE_PASSPHRASE, c2, &none, &e), e, OV_ERR_SEALED);
        ck_assert_ptr_null(none);
        _cleanup_free_ char *after = read_text(s.fd, "master.json");
        ck_assert_str_eq(after, before);
        keyring_cache_free(c2);
}
END_TEST

START_TEST(test_mode_switch_refused) {
        _cleanup_scratch_ Scratch s = {};
        _cleanup_key_ OvKey *k = NULL;
        OvKey *none = NULL;
        OvError e = {};

        scratch_make(&s);
        ck_assert_int_eq(master_key_unseal(s.fd, "pw", 2, NULL, &k, &e), 0);
        ck_assert_ov_error(master_key_load(s.fd, KEY_MODE_KEYFILE, NULL, &none, &e), e, OV_ERR_SEALED);
        ck_assert_ptr_null(none);
        ck_assert_int_eq(faccessat(s.fd, "master.key", F_OK, 0), -1);
}
END_TEST

START_TEST(test_key_mode_strings) {
        KeyMode m;

        for (KeyMode i = KEY_MODE_KEYFILE; i <= KEY_MODE_PASSPHRASE; i++) {
                ck_assert_int_eq(key_mode_from_string(key_mode_to_string(i), &m), 0);
                ck_assert_int_eq(m, i);
        }
        ck_assert_str_eq(key_mode_to_string(KEY_MODE_CREDENTIAL), "credential");
        ck_assert_int_eq(key_mode_from_string("Keyfile", &m), -EINVAL);
        ck_assert_int_eq(key_mode_from_string("", &m), -EINVAL);
}
END_TEST

/* ---- keyring cache ---- */

/* Runs this binary again as a separate process that only creates a fresh
 * cache for state_dir and looks name up. Returns true on a hit with the
 * key's bytes, false on a miss. */
static bool other_process_gets(const char *state_dir, const char *name, const OvKey *want) {
        int p[2];
        char hex[2 * OV_KEY_BYTES + 2] = {}, want_hex[2 * OV_KEY_BYTES + 1];
        int status = 0;

        ck_assert_int_eq(pipe(p), 0);
        pid_t pid = fork();
        ck_assert_int_ge(pid, 0);
        if (pid == 0) {
                dup2(p[1], STDOUT_FILENO);
                close(p[0]);
                close(p[1]);
                execl("/proc/self/exe", "test-keys", HELPER_ARG, state_dir, name, (char *) NULL);
                _exit(127);
        }
        close(p[1]);
        ssize_t n = read(p[0], hex, sizeof hex - 1);
        close(p[0]);
        ck_assert_int_eq(waitpid(pid, &status, 0), pid);
        ck_assert(WIFEXITED(status));
        ck_assert_int_ne(WEXITSTATUS(status), 127);
        if (WEXITSTATUS(status) != 0)
                return false;
        ck_assert_int_eq(n, 2 * OV_KEY_BYTES);
        sodium_bin2hex(want_hex, sizeof want_hex, want->bytes, OV_KEY_BYTES);
        ck_assert_str_eq(hex, want_hex);
        return true;
}

static int helper_get(const char *state_dir, const char *name) {
        char hex[2 * OV_KEY_BYTES + 1];

        if (crypto_init() < 0)
                return 2;
        KeyringCache *c = keyring_cache_new(state_dir, 60);
        OvKey *k = keyring_cache_get(c, name);
        keyring_cache_free(c);
        if (!k)
                return 1;
        sodium_bin2hex(hex, sizeof hex, k->bytes, OV_KEY_BYTES);
        ov_key_free(k);
        fputs(hex, stdout);
        return 0;
}

START_TEST(test_keyring_hit_from_second_process) {
        _cleanup_scratch_ Scratch s = {};
        _cleanup_cache_ KeyringCache *c = NULL;
        _cleanup_key_ OvKey *k = ov_key_new_random();
        _cleanup_key_ OvKey *k2 = ov_key_new_random();

        scratch_make(&s);
        c = keyring_cache_new(s.path, 60);
        ck_assert(!other_process_gets(s.path, "master", k));
        keyring_cache_put(c, "master", k);
        ck_assert(other_process_gets(s.path, "master", k));
        /* Putting again replaces the value. */
        keyring_cache_put(c, "master", k2);
        ck_assert(other_process_gets(s.path, "master", k2));
        ck_assert(!other_process_gets(s.path, "org:acme:1:0000000000000000", k));
}
END_TEST

START_TEST(test_keyring_expiry) {
        _cleanup_scratch_ Scratch s = {};
        _cleanup_cache_ KeyringCache *c = NULL;
        _cleanup_key_ OvKey *k = ov_key_new_random();

        scratch_make(&s);
        c = keyring_cache_new(s.path, 1);
        keyring_cache_put(c, "master", k);
        _cleanup_key_ OvKey *hit = keyring_cache_get(c, "master");
        ck_assert_ptr_nonnull(hit);
        /* The kernel expires it after 1 s: wait for that, with a deadline. */
        uint64_t deadline = now_usec() + 20 * 1000000ULL;
        while (other_process_gets(s.path, "master", k)) {
                ck_assert_msg(now_usec() < deadline, "the cached key did not expire");
                usleep(50 * 1000);
        }
        OvKey *miss = keyring_cache_get(c, "master");
        ck_assert_ptr_null(miss);
}
END_TEST

START_TEST(test_keyring_revoke_all) {
        _cleanup_scratch_ Scratch a = {}, b = {};
        _cleanup_cache_ KeyringCache *ca = NULL, *cb = NULL;
        _cleanup_key_ OvKey *k = ov_key_new_random();

        scratch_make(&a);
        scratch_make(&b);
        ca = keyring_cache_new(a.path, 60);
        cb = keyring_cache_new(b.path, 60);
        keyring_cache_put(ca, "master", k);
        keyring_cache_put(ca, "org:acme:1:feedfeedfeedfeed", k);
        keyring_cache_put(cb, "master", k);
        ck_assert(other_process_gets(a.path, "org:acme:1:feedfeedfeedfeed", k));

        keyring_cache_revoke_all(ca);
        ck_assert(!other_process_gets(a.path, "master", k));
        ck_assert(!other_process_gets(a.path, "org:acme:1:feedfeedfeedfeed", k));
        ck_assert(other_process_gets(b.path, "master", k));     /* another vault's entries stay */
        /* Still usable after a revoke (Unseal after Seal). */
        keyring_cache_put(ca, "master", k);
        ck_assert(other_process_gets(a.path, "master", k));
}
END_TEST

/* The documented description and permissions, rebuilt independently. */
START_TEST(test_keyring_description_and_permissions) {
        _cleanup_scratch_ Scratch s = {};
        _cleanup_cache_ KeyringCache *c = NULL;
        _cleanup_key_ OvKey *k = ov_key_new_random();
        unsigned char h[32];
        char scope[17], desc[64];
        _cleanup_free_ char *info = NULL;
        unsigned type_uid_gid_skip = 0, perm = 0;

        scratch_make(&s);
        crypto_generichash(h, sizeof h, (const unsigned char *) s.path, strlen(s.path), NULL, 0);
        sodium_bin2hex(scope, sizeof scope, h, 8);
        snprintf(desc, sizeof desc, "orgvault:%s:master", scope);

        c = keyring_cache_new(s.path, 60);
        keyring_cache_put(c, "master", k);
        key_serial_t id = keyctl_search(KEY_SPEC_USER_KEYRING, "user", desc, 0);
        ck_assert_int_gt(id, 0);
        ck_assert_int_ge(keyctl_describe_alloc(id, &info), 0);
        /* "type;uid;gid;perm;description" */
        ck_assert_int_eq(strncmp(info, "user;", 5), 0);
        const char *p = info;
        for (type_uid_gid_skip = 0; type_uid_gid_skip < 3; type_uid_gid_skip++)
                p = strchr(p, ';') + 1;
        ck_assert_int_eq(sscanf(p, "%x;", &perm), 1);
        ck_assert_uint_eq(perm & 0xffff, 0);                    /* no group, no other */
        ck_assert_uint_eq(perm, KEY_POS_ALL | KEY_USR_VIEW | KEY_USR_READ | KEY_USR_WRITE |
                                KEY_USR_SEARCH | KEY_USR_SETATTR);
        ck_assert_str_eq(strrchr(info, ';') + 1, desc);
}
END_TEST

START_TEST(test_keyring_scopes_apart) {
        _cleanup_scratch_ Scratch a = {}, b = {};
        _cleanup_cache_ KeyringCache *ca = NULL;
        _cleanup_key_ OvKey *k = ov_key_new_random();
        char alias[PATH_MAX];

        scratch_make(&a);
        scratch_make(&b);
        ca = keyring_cache_new(a.path, 60);
        keyring_cache_put(ca, "master", k);
        ck_assert(!other_process_gets(b.path, "master", k));
        /* The same dir under another spelling is the same vault. */
        snprintf(alias, sizeof alias, "%s/../%s", a.path, strrchr(a.path, '/') + 1);
        ck_assert(other_process_gets(alias, "master", k));
}
END_TEST

/* Under systemd's default KeyringMode=private the process's session keyring
 * does not reach the user keyring, so it possesses none of the keys it adds
 * there: the cache must still store, find, and say it is enabled only then. */
START_TEST(test_keyring_private_session_keyring) {
        _cleanup_scratch_ Scratch s = {};
        _cleanup_cache_ KeyringCache *c = NULL;
        _cleanup_key_ OvKey *k = ov_key_new_random();

        scratch_make(&s);
        ck_assert_int_ge(keyctl_join_session_keyring(NULL), 0);        /* as a unit's process starts */
        c = keyring_cache_new(s.path, 60);
        ck_assert(keyring_cache_enabled(c));
        keyring_cache_put(c, "master", k);
        ck_assert(keyring_cache_enabled(c));
        ck_assert(other_process_gets(s.path, "master", k));
        /* The start-up probe leaves no entry behind. */
        char desc[64];
        unsigned char h[32];
        char scope[17];
        crypto_generichash(h, sizeof h, (const unsigned char *) s.path, strlen(s.path), NULL, 0);
        sodium_bin2hex(scope, sizeof scope, h, 8);
        snprintf(desc, sizeof desc, "orgvault:%s:probe", scope);
        ck_assert_int_lt(keyctl_search(KEY_SPEC_USER_KEYRING, "user", desc, 0), 0);
}
END_TEST

START_TEST(test_keyring_disabled_by_zero_timeout) {
        _cleanup_scratch_ Scratch s = {};
        _cleanup_cache_ KeyringCache *c = NULL;
        _cleanup_key_ OvKey *k = ov_key_new_random();

        scratch_make(&s);
        c = keyring_cache_new(s.path, 0);
        ck_assert(!keyring_cache_enabled(c));
        keyring_cache_put(c, "master", k);
        ck_assert(!other_process_gets(s.path, "master", k));
        ck_assert(!keyring_cache_enabled(NULL));
}
END_TEST

int main(int argc, char *argv[]) {
        if (argc == 4 && strcmp(argv[1], HELPER_ARG) == 0)
                return helper_get(argv[2], argv[3]);
        if (crypto_init() < 0)
                return 1;

        Suite *s = suite_create("keys");
        TCase *modes = tcase_create("master-key");
        tcase_set_timeout(modes, 120);          /* Argon2id at moderate limits */
        tcase_add_test(modes, test_keyfile_created_and_reloaded);
        tcase_add_test(modes, test_keyfile_wrong_size_refused);
        tcase_add_test(modes, test_keyfile_not_regular_refused);
        tcase_add_test(modes, test_credential_mode);
        tcase_add_test(modes, test_passphrase_unseal);
        tcase_add_test(modes, test_passphrase_malformed_master_json);
        tcase_add_test(modes, test_passphrase_cached_across_starts);
        tcase_add_test(modes, test_mode_switch_refused);
        tcase_add_test(modes, test_key_mode_strings);
        suite_add_tcase(s, modes);

        TCase *ring = tcase_create("keyring");
        tcase_set_timeout(ring, 30);
        tcase_add_test(ring, test_keyring_hit_from_second_process);
        tcase_add_test(ring, test_keyring_expiry);
        tcase_add_test(ring, test_keyring_revoke_all);
        tcase_add_test(ring, test_keyring_description_and_permissions);
        tcase_add_test(ring, test_keyring_scopes_apart);
        tcase_add_test(ring, test_keyring_disabled_by_zero_timeout);
        tcase_add_test(ring, test_keyring_private_session_keyring);
        suite_add_tcase(s, ring);
        return check_main_run(s);
}
