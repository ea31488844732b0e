/* SPDX-License-Identifier: Apache-2.0 */
/* Where the master key (KEK) comes from: <state>/master.key, a systemd
 * credential, or a passphrase checked against <state>/master.json.
 * Formats are documented in docs/CRYPTO.md. */

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sodium.h>

#include "log.h"
#include "master-key.h"

#define KEYFILE_NAME "master.key"
#define MASTER_JSON_NAME "master.json"
#define CREDENTIAL_NAME "orgvault.master-key"
#define CACHE_NAME "master"
#define MASTER_JSON_FORMAT 1
#define MASTER_JSON_KDF "argon2id13"
#define MASTER_JSON_MAX 4096
#define VERIFIER_B64_LEN 44             /* 32 bytes in padded base64 */

static const char *const key_mode_names[] = {
        [KEY_MODE_KEYFILE] = "keyfile",
        [KEY_MODE_CREDENTIAL] = "credential",
        [KEY_MODE_PASSPHRASE] = "passphrase",
};

const char *key_mode_to_string(KeyMode m) {
        if ((unsigned) m >= ELEMENTSOF(key_mode_names))
                return NULL;
        return key_mode_names[m];
}

int key_mode_from_string(const char *s, KeyMode *ret) {
        if (!s || !ret)
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(key_mode_names); i++)
                if (strcmp(s, key_mode_names[i]) == 0) {
                        *ret = (KeyMode) i;
                        return 0;
                }
        return -EINVAL;
}

/* The parsed <state>/master.json of passphrase mode. */
typedef struct MasterJson {
        unsigned long long opslimit;
        size_t memlimit;
        unsigned char salt[OV_SALT_BYTES];
        char verifier[VERIFIER_B64_LEN + 1];
} MasterJson;

/* Reads a file that must hold exactly one key straight into locked memory.
 * -ENOENT when missing, -EMSGSIZE when not 32 bytes, -EBADF when not a
 * regular file, else -errno. */
static int read_key_file(int dir_fd, const char *name, OvKey **ret) {
        struct stat st;
        size_t got = 0;
        int r;

        _cleanup_close_ int fd = open_regular_at(dir_fd, name, &st);
        if (fd < 0)
                return fd;
        if (st.st_size != OV_KEY_BYTES)
                return -EMSGSIZE;
        _cleanup_key_ OvKey *k = ov_key_new();
        if (!k)
                return -ENOMEM;
        r = read_full(fd, k->bytes, OV_KEY_BYTES, &got);
        if (r < 0)
                return r;
        if (got != OV_KEY_BYTES)
                return -EMSGSIZE;       /* shrank under us */
        *ret = TAKE_PTR(k);
        return 0;
}

/* Creates dir_fd/name durably and atomically, failing with -EEXIST rather
 * than replacing a file that is already there: the data is written to a
 * ".#" temp name (cleaned up at start-up if we crash) and hard-linked into
 * place, which never overwrites. */
static int create_file_exclusive_at(int dir_fd, const char *name, const void *data, size_t len, mode_t mode) {
        _cleanup_free_ char *tmp = strdup_printf(".#%s.new%08x", name, randombytes_random());
        int r;

        if (!tmp)
                return -ENOMEM;
        r = write_file_atomic_at(dir_fd, tmp, data, len, mode);
        if (r < 0)
                return r;
        r = linkat(dir_fd, tmp, dir_fd, name, 0) < 0 ? -errno : 0;
        (void) unlinkat(dir_fd, tmp, 0);
        if (r < 0)
                return r;
        return fsync_dir_at(dir_fd, ".");
}

/* Parses master.json; -ENOENT when absent, -EBADMSG when malformed. */
static int master_json_read(int state_fd, MasterJson *ret) {
        _cleanup_free_ char *text = NULL;
        _cleanup_json_ json_t *doc = NULL;
        json_int_t format = 0, ops = 0, mem = 0;
        const char *kdf = NULL, *salt = NULL, *verifier = NULL;
        size_t n = 0;
        int r;

        r = read_file_at(state_fd, MASTER_JSON_NAME, MASTER_JSON_MAX, &text, NULL);
        if (r < 0)
                return r;
        doc = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
        if (!doc || json_unpack(doc, "{s:I,s:s,s:I,s:I,s:s,s:s}", "format", &format, "kdf", &kdf,
                                "opslimit", &ops, "memlimit", &mem, "salt", &salt, "verifier", &verifier) < 0)
                return -EBADMSG;
        if (format != MASTER_JSON_FORMAT || strcmp(kdf, MASTER_JSON_KDF) != 0 || ops <= 0 || mem <= 0 ||
            (unsigned long long) mem > SIZE_MAX)
                return -EBADMSG;
        if (b64_decode(salt, ret->salt, sizeof ret->salt, &n) < 0 || n != OV_SALT_BYTES)
                return -EBADMSG;
        if (strlen(verifier) != VERIFIER_B64_LEN)
                return -EBADMSG;
        memcpy(ret->verifier, verifier, sizeof ret->verifier);
        ret->opslimit = (unsigned long long) ops;
        ret->memlimit = (size_t) mem;
        return 0;
}

static bool master_json_matches(const MasterJson *mj, const OvKey *key) {
        _cleanup_free_ char *v = NULL;

        if (crypto_key_verifier(key, &v) < 0 || strlen(v) != VERIFIER_B64_LEN)
                return false;
        return sodium_memcmp(v, mj->verifier, VERIFIER_B64_LEN) == 0;
}

static int master_json_error(int r, OvError *e) {
        if (r == -EBADMSG)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE,
                                    "master.json in the state directory is malformed; not touching it");
        return ov_error_set_errno(e, OV_ERR_STORAGE_FAILURE, r, "Cannot read master.json in the state directory: %m");
}

/* A key from a file or credential must match master.json when one exists
 * (it does in passphrase mode), so a mode switch fails clearly. */
static int check_master_json(int state_fd, const OvKey *key, OvError *e) {
        MasterJson mj;
        int r = master_json_read(state_fd, &mj);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return master_json_error(r, e);
        if (!master_json_matches(&mj, key))
                return ov_error_set(e, OV_ERR_SEALED,
                                    "The master key does not match master.json in the state directory "
                                    "(was this vault created in another key mode?)");
        return 0;
}

static int key_file_error(int r, const char *what, OvError *e) {
        if (r == -EMSGSIZE)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "%s is not exactly %d bytes; refusing to use it",
                                    what, OV_KEY_BYTES);
        if (r == -EBADF)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "%s is not a regular file", what);
        if (r == -ENOMEM)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory reading %s", what);
        return ov_error_set_errno(e, OV_ERR_STORAGE_FAILURE, r, "Cannot read %s: %m", what);
}

static int load_keyfile(int state_fd, OvKey **ret, OvError *e) {
        const char *what = "master.key in the state directory";
        _cleanup_key_ OvKey *k = NULL;
        int r;

        r = read_key_file(state_fd, KEYFILE_NAME, &k);
        if (r == -ENOENT) {
                /* A passphrase vault has master.json: a fresh key would never match it. */
                if (faccessat(state_fd, MASTER_JSON_NAME, F_OK, AT_SYMLINK_NOFOLLOW) == 0)
                        return ov_error_set(e, OV_ERR_SEALED,
                                            "No master.key but master.json exists: this vault uses passphrase mode");
                k = ov_key_new_random();
                if (!k)
                        return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory creating the master key");
                r = create_file_exclusive_at(state_fd, KEYFILE_NAME, k->bytes, OV_KEY_BYTES, 0400);
                if (r == -EEXIST) {
                        /* Another start won the race: use its key. */
                        ov_key_free(k);
                        k = NULL;
                        r = read_key_file(state_fd, KEYFILE_NAME, &k);
                } else if (r < 0)
                        return ov_error_set_errno(e, OV_ERR_STORAGE_FAILURE, r, "Cannot create %s: %m", what);
                else
                        log_info("Created a new master key in master.key");
        }
        if (r < 0)
                return key_file_error(r, what, e);
        r = check_master_json(state_fd, k, e);
        if (r < 0)
                return r;
        *ret = k;
        k = NULL;
        return 0;
}

static int load_credential(int state_fd, OvKey **ret, OvError *e) {
        const char *what = "credential " CREDENTIAL_NAME;
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        _cleanup_key_ OvKey *k = NULL;
        int r;

        if (!dir || !*dir)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE,
                                    "Key mode credential needs $CREDENTIALS_DIRECTORY with " CREDENTIAL_NAME
                                    " (LoadCredential= or LoadCredentialEncrypted= in the unit)");
        _cleanup_close_ int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "Cannot open $CREDENTIALS_DIRECTORY: %m");
        r = read_key_file(dfd, CREDENTIAL_NAME, &k);
        if (r == -ENOENT)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE,
                                    "No credential " CREDENTIAL_NAME " in $CREDENTIALS_DIRECTORY");
        if (r < 0)
                return key_file_error(r, what, e);
        r = check_master_json(state_fd, k, e);
        if (r < 0)
                return r;
        *ret = k;
        k = NULL;
        return 0;
}

/* Passphrase mode without a passphrase: only a cached key that matches
 * master.json unseals; anything else leaves the vault sealed. */
static int load_cached(int state_fd, KeyringCache *cache, OvKey **ret, OvError *e) {
        MasterJson mj;
        int r = master_json_read(state_fd, &mj);

        if (r == -ENOENT) {
                *ret = NULL;
                return 0;
        }
        if (r < 0)
                return master_json_error(r, e);

        _cleanup_key_ OvKey *k = keyring_cache_get(cache, CACHE_NAME);
        if (!k) {
                *ret = NULL;
                return 0;
        }
        if (!master_json_matches(&mj, k))
                return ov_error_set(e, OV_ERR_SEALED,
                                    "The cached master key does not match master.json; unseal with the passphrase");
        *ret = k;
        k = NULL;
        return 0;
}

int master_key_load(int state_fd, KeyMode mode, KeyringCache *cache, OvKey **ret, OvError *e) {
        if (state_fd < 0 || !ret)
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Invalid arguments");
        switch (mode) {
        case KEY_MODE_KEYFILE:
                return load_keyfile(state_fd, ret, e);
        case KEY_MODE_CREDENTIAL:
                return load_credential(state_fd, ret, e);
        case KEY_MODE_PASSPHRASE:
                return load_cached(state_fd, cache, ret, e);
        }
        return ov_error_set(e, OV_ERR_INVALID_ARGS, "Unknown key mode");
}

/* First unseal: a new salt, the default limits, and the verifier of the
 * derived key, written without ever replacing an existing master.json. */
static int master_json_create(int state_fd, const char *passphrase, size_t len, OvKey **ret, OvError *e) {
        unsigned char salt[OV_SALT_BYTES];
        _cleanup_key_ OvKey *k = NULL;
        _cleanup_free_ char *salt64 = NULL, *v64 = NULL, *text = NULL;
        _cleanup_json_ json_t *doc = NULL;
        int r;

        randombytes_buf(salt, sizeof salt);
        r = crypto_derive_passphrase_key(passphrase, len, salt, crypto_pwhash_OPSLIMIT_MODERATE,
                                         crypto_pwhash_MEMLIMIT_MODERATE, &k);
        if (r < 0)
                return ov_error_set_errno(e, OV_ERR_NO_MEMORY, r, "Cannot derive the master key: %m");
        salt64 = b64_encode(salt, sizeof salt);
        if (!salt64 || crypto_key_verifier(k, &v64) < 0)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        doc = json_pack("{s:i,s:s,s:I,s:I,s:s,s:s}", "format", MASTER_JSON_FORMAT, "kdf", MASTER_JSON_KDF,
                        "opslimit", (json_int_t) crypto_pwhash_OPSLIMIT_MODERATE,
                        "memlimit", (json_int_t) crypto_pwhash_MEMLIMIT_MODERATE,
                        "salt", salt64, "verifier", v64);
        text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
        if (!text)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        _cleanup_free_ char *line = strdup_printf("%s\n", text);
        if (!line)
                return ov_error_set(e, OV_ERR_NO_MEMORY, "Out of memory");
        r = create_file_exclusive_at(state_fd, MASTER_JSON_NAME, line, strlen(line), 0600);
        if (r == -EEXIST)
                return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "master.json appeared while unsealing; try again");
        if (r < 0)
                return ov_error_set_errno(e, OV_ERR_STORAGE_FAILURE, r, "Cannot write master.json: %m");
        log_info("Created master.json: the passphrase given now unseals this vault from now on");
        *ret = k;
        k = NULL;
        return 0;
}

int master_key_unseal(int state_fd, const char *passphrase, size_t len, KeyringCache *cache, OvKey **ret, OvError *e) {
        _cleanup_key_ OvKey *k = NULL;
        MasterJson mj;
        int r;

        if (state_fd < 0 || !ret)
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "Invalid arguments");
        if (!passphrase || len == 0)
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "The passphrase must not be empty");
        if (len > OV_PASSPHRASE_MAX)
                return ov_error_set(e, OV_ERR_INVALID_ARGS, "The passphrase is longer than %d bytes",
                                    OV_PASSPHRASE_MAX);

        r = master_json_read(state_fd, &mj);
        if (r == -ENOENT)
                r = master_json_create(state_fd, passphrase, len, &k, e);
        else if (r < 0)
                return master_json_error(r, e);
        else {
                r = crypto_derive_passphrase_key(passphrase, len, mj.salt, mj.opslimit, mj.memlimit, &k);
                if (r == -EINVAL)
                        return ov_error_set(e, OV_ERR_STORAGE_FAILURE, "master.json has unusable KDF limits");
                if (r < 0)
                        return ov_error_set_errno(e, OV_ERR_NO_MEMORY, r, "Cannot derive the master key: %m");
                if (!master_json_matches(&mj, k))
                        return ov_error_set(e, OV_ERR_ACCESS_DENIED, "Wrong passphrase");
        }
        if (r < 0)
                return r;

        keyring_cache_put(cache, CACHE_NAME, k);
        *ret = k;
        k = NULL;
        return 0;
}
