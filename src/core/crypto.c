/* SPDX-License-Identifier: Apache-2.0 */
/* libsodium glue: record sealing, data-key wrapping, passphrase KDF.
 * Byte layouts are documented in docs/CRYPTO.md. */

#include <errno.h>
#include <string.h>
#include <sodium.h>

#include "crypto.h"

#define AEAD_NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define AEAD_TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define B64_VARIANT sodium_base64_VARIANT_ORIGINAL

/* Domain-separation labels; ASCII, no NUL on the wire. */
#define RECORD_AD_LABEL "orgvault-record"
#define ORGKEY_AD_LABEL "orgvault-orgkey"
#define VERIFIER_MESSAGE "orgvault-verifier"
#define FINGERPRINT_MESSAGE "orgvault-fingerprint"
#define MANIFEST_KEY_MESSAGE "orgvault-manifest-key"

/* label(15) + version(1) + 3 × (len(1) + 255) + key id(4), rounded up. */
#define AD_MAX 1024
/* Ciphertext up to this size is decoded on the stack (values are small). */
#define CT_STACK_BYTES 4096

int crypto_init(void) {
        return sodium_init() < 0 ? -EIO : 0;
}

OvKey *ov_key_new(void) {
        OvKey *k = calloc(1, sizeof(OvKey));
        if (!k)
                return NULL;
        k->bytes = sodium_malloc(OV_KEY_BYTES);
        if (!k->bytes) {
                free(k);
                return NULL;
        }
        sodium_memzero(k->bytes, OV_KEY_BYTES);
        return k;
}

OvKey *ov_key_new_random(void) {
        OvKey *k = ov_key_new();
        if (k)
                randombytes_buf(k->bytes, OV_KEY_BYTES);
        return k;
}

OvKey *ov_key_dup(const OvKey *k) {
        if (!k)
                return NULL;
        OvKey *d = ov_key_new();
        if (d)
                memcpy(d->bytes, k->bytes, OV_KEY_BYTES);
        return d;
}

void ov_key_free(OvKey *k) {
        if (!k)
                return;
        sodium_free(k->bytes);          /* zeroes before unmapping */
        free(k);
}

char *b64_encode(const void *data, size_t len) {
        size_t n = sodium_base64_encoded_len(len, B64_VARIANT);
        char *s = malloc(n);
        if (!s)
                return NULL;
        return sodium_bin2base64(s, n, data, len, B64_VARIANT);
}

static int b64_value(unsigned char c) {
        if (c >= 'A' && c <= 'Z')
                return c - 'A';
        if (c >= 'a' && c <= 'z')
                return c - 'a' + 26;
        if (c >= '0' && c <= '9')
                return c - '0' + 52;
        if (c == '+')
                return 62;
        if (c == '/')
                return 63;
        return -1;
}

/* Accepts exactly what sodium_base642bin accepts for the padded ORIGINAL
 * variant with no characters to ignore (padding as needed, no stray bits),
 * at a tenth of its cost: libsodium decodes in constant time, which the
 * bytes decoded here (nonces, ciphertext, salts) do not need. Not for keys. */
int b64_decode(const char *b64, void *buf, size_t buf_len, size_t *ret_len) {
        unsigned char *out = buf;
        size_t len, pad = 0, o = 0;

        if (!b64 || !buf)
                return -EINVAL;
        len = strlen(b64);
        if (len % 4 != 0)
                return -EINVAL;
        if (len > 0 && b64[len - 1] == '=')
                pad = b64[len - 2] == '=' ? 2 : 1;
        if (len / 4 * 3 - pad > buf_len)
                return -EINVAL;
        for (size_t i = 0; i < len; i += 4) {
                size_t chars = i + 4 == len ? 4 - pad : 4;
                uint32_t acc = 0;

                for (size_t j = 0; j < chars; j++) {
                        int v = b64_value((unsigned char) b64[i + j]);
                        if (v < 0)
                                return -EINVAL;
                        acc = acc << 6 | (uint32_t) v;
                }
                if (chars == 4) {
                        out[o++] = (unsigned char) (acc >> 16);
                        out[o++] = (unsigned char) (acc >> 8);
                        out[o++] = (unsigned char) acc;
                } else if (chars == 3) {
                        if (acc & 0x3)
                                return -EINVAL;
                        out[o++] = (unsigned char) (acc >> 10);
                        out[o++] = (unsigned char) (acc >> 2);
                } else {
                        if (acc & 0xf)
                                return -EINVAL;
                        out[o++] = (unsigned char) (acc >> 4);
                }
        }
        if (ret_len)
                *ret_len = o;
        return 0;
}

/* Appends a length-prefixed string; -EINVAL when it does not fit a u8. */
static int ad_put_string(unsigned char *ad, size_t *pos, const char *s) {
        if (!s)
                return -EINVAL;
        size_t n = strlen(s);
        if (n > 255)
                return -EINVAL;
        ad[(*pos)++] = (unsigned char) n;
        memcpy(ad + *pos, s, n);
        *pos += n;
        return 0;
}

static void ad_put_be32(unsigned char *ad, size_t *pos, uint32_t v) {
        ad[(*pos)++] = (unsigned char) (v >> 24);
        ad[(*pos)++] = (unsigned char) (v >> 16);
        ad[(*pos)++] = (unsigned char) (v >> 8);
        ad[(*pos)++] = (unsigned char) v;
}

static void ad_put_label(unsigned char *ad, size_t *pos, const char *label, uint8_t format) {
        size_t n = strlen(label);
        memcpy(ad + *pos, label, n);
        *pos += n;
        ad[(*pos)++] = format;
}

/* version 0: format 1's AD (no version); else format 2's, which ends with
 * the value's version, so a kept earlier value can't pass for a later one. */
static int record_ad(unsigned char ad[AD_MAX], size_t *ret_len,
                     const char *org, const char *id, const char *type, uint32_t key_id, uint32_t version) {
        size_t pos = 0;
        int r;

        ad_put_label(ad, &pos, RECORD_AD_LABEL, version == 0 ? 1 : OV_RECORD_FORMAT);
        r = ad_put_string(ad, &pos, org);
        if (r < 0)
                return r;
        r = ad_put_string(ad, &pos, id);
        if (r < 0)
                return r;
        r = ad_put_string(ad, &pos, type);
        if (r < 0)
                return r;
        ad_put_be32(ad, &pos, key_id);
        if (version != 0)
                ad_put_be32(ad, &pos, version);
        *ret_len = pos;
        return 0;
}

static int orgkey_ad(unsigned char ad[AD_MAX], size_t *ret_len, const char *org, uint32_t key_id) {
        size_t pos = 0;
        int r;

        ad_put_label(ad, &pos, ORGKEY_AD_LABEL, OV_FORMAT_VERSION);
        r = ad_put_string(ad, &pos, org);
        if (r < 0)
                return r;
        ad_put_be32(ad, &pos, key_id);
        *ret_len = pos;
        return 0;
}

/* Encrypts under a fresh random nonce and returns both halves in base64. */
static int aead_seal_b64(const unsigned char *key, const unsigned char *ad, size_t ad_len,
                         const void *plain, size_t plain_len,
                         char **ret_nonce_b64, char **ret_ct_b64) {
        unsigned char nonce[AEAD_NONCE_BYTES];
        unsigned long long ct_len = 0;

        if (plain_len > SIZE_MAX - AEAD_TAG_BYTES)
                return -EINVAL;
        _cleanup_free_ unsigned char *ct = malloc(plain_len + AEAD_TAG_BYTES);
        if (!ct)
                return -ENOMEM;

        randombytes_buf(nonce, sizeof(nonce));
        crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &ct_len, plain, plain_len,
                                                   ad, ad_len, NULL, nonce, key);

        _cleanup_free_ char *n64 = b64_encode(nonce, sizeof(nonce));
        _cleanup_free_ char *c64 = b64_encode(ct, (size_t) ct_len);
        if (!n64 || !c64)
                return -ENOMEM;

        *ret_nonce_b64 = n64;
        *ret_ct_b64 = c64;
        n64 = c64 = NULL;
        return 0;
}

/* Decodes a base64 nonce that must be exactly one nonce long. */
static int decode_nonce(const char *nonce_b64, unsigned char nonce[AEAD_NONCE_BYTES]) {
        size_t n = 0;

        if (!nonce_b64 || b64_decode(nonce_b64, nonce, AEAD_NONCE_BYTES, &n) < 0 || n != AEAD_NONCE_BYTES)
                return -EBADMSG;
        return 0;
}

/* Decodes base64 ciphertext into buf when it fits (the caller's stack; it
 * is not secret), else into a malloc'd *ret_heap. -EBADMSG when malformed or
 * too short to hold a tag. */
static int decode_ciphertext(const char *ct_b64, unsigned char *buf, size_t size,
                             unsigned char **ret, size_t *ret_len, unsigned char **ret_heap) {
        size_t n = 0;

        if (!ct_b64)
                return -EBADMSG;
        size_t max = strlen(ct_b64) / 4 * 3 + 3;
        if (max > size) {
                buf = *ret_heap = malloc(max);
                if (!buf)
                        return -ENOMEM;
                size = max;
        }
        if (b64_decode(ct_b64, buf, size, &n) < 0 || n < AEAD_TAG_BYTES)
                return -EBADMSG;
        *ret = buf;
        *ret_len = n;
        return 0;
}

/* Plaintext buffers. sodium_malloc maps, guards and locks pages (several
 * system calls, undone again by sodium_free): too dear for every Resolve. So
 * a few such buffers are kept and handed out again, each wiped (as much of it
 * as was asked for) when it comes back; a larger request, or one while all
 * are out, gets its own sodium_malloc. What a pooled buffer gives up is the
 * guard page right behind the bytes asked for. Not thread-safe: the daemon
 * and the CLI open records from one thread. */
#define PLAIN_POOL_SLOTS 2
#define PLAIN_POOL_BYTES (OV_VALUE_MAX + 4096)

static struct {
        char *buf;               /* sodium_malloc(PLAIN_POOL_BYTES), made on first use */
        size_t used;             /* bytes handed out, wiped on return */
        bool busy;
} plain_pool[PLAIN_POOL_SLOTS];

char *crypto_alloc_plain(size_t size) {
        size = size ?: 1;
        if (size <= PLAIN_POOL_BYTES)
                for (size_t i = 0; i < PLAIN_POOL_SLOTS; i++) {
                        if (plain_pool[i].busy)
                                continue;
                        if (!plain_pool[i].buf && !(plain_pool[i].buf = sodium_malloc(PLAIN_POOL_BYTES)))
                                break;
                        plain_pool[i].busy = true;
                        plain_pool[i].used = size;
                        return plain_pool[i].buf;
                }
        return sodium_malloc(size);
}

void crypto_free_plain(char *plain) {
        if (!plain)
                return;
        for (size_t i = 0; i < PLAIN_POOL_SLOTS; i++)
                if (plain_pool[i].busy && plain_pool[i].buf == plain) {
                        sodium_memzero(plain, plain_pool[i].used);
                        plain_pool[i].busy = false;
                        return;
                }
        sodium_free(plain);             /* wipes */
}

/* At exit the kept buffers are unmapped (sodium_free wipes them again). */
__attribute__((destructor)) static void plain_pool_release(void) {
        for (size_t i = 0; i < PLAIN_POOL_SLOTS; i++) {
                sodium_free(plain_pool[i].buf);
                plain_pool[i].buf = NULL;
                plain_pool[i].busy = false;
        }
}

int crypto_seal_record(const OvKey *data_key, uint32_t key_id,
                       const char *org, const char *id, const char *type,
                       const void *plain, size_t plain_len,
                       char **ret_nonce_b64, char **ret_ct_b64) {
        return crypto_seal_value(data_key, key_id, org, id, type, 0, plain, plain_len, ret_nonce_b64, ret_ct_b64);
}

int crypto_open_record(const OvKey *data_key, uint32_t key_id,
                       const char *org, const char *id, const char *type,
                       const char *nonce_b64, const char *ct_b64,
                       char **ret_plain, size_t *ret_plain_len) {
        return crypto_open_value(data_key, key_id, org, id, type, 0, nonce_b64, ct_b64, ret_plain, ret_plain_len);
}

int crypto_seal_value(const OvKey *data_key, uint32_t key_id,
                      const char *org, const char *id, const char *type, uint32_t version,
                      const void *plain, size_t plain_len,
                      char **ret_nonce_b64, char **ret_ct_b64) {
        unsigned char ad[AD_MAX];
        size_t ad_len = 0;
        int r;

        if (!data_key || (!plain && plain_len > 0) || !ret_nonce_b64 || !ret_ct_b64)
                return -EINVAL;
        r = record_ad(ad, &ad_len, org, id, type, key_id, version);
        if (r < 0)
                return r;
        return aead_seal_b64(data_key->bytes, ad, ad_len, plain, plain_len, ret_nonce_b64, ret_ct_b64);
}

int crypto_open_value(const OvKey *data_key, uint32_t key_id,
                      const char *org, const char *id, const char *type, uint32_t version,
                      const char *nonce_b64, const char *ct_b64,
                      char **ret_plain, size_t *ret_plain_len) {
        unsigned char ad[AD_MAX], nonce[AEAD_NONCE_BYTES], ct_buf[CT_STACK_BYTES], *ct = NULL;
        _cleanup_free_ unsigned char *ct_heap = NULL;
        size_t ad_len = 0, ct_len = 0;
        unsigned long long plain_len = 0;
        int r;

        if (!data_key || !ret_plain)
                return -EINVAL;
        r = record_ad(ad, &ad_len, org, id, type, key_id, version);
        if (r < 0)
                return r;
        r = decode_nonce(nonce_b64, nonce);
        if (r < 0)
                return r;
        r = decode_ciphertext(ct_b64, ct_buf, sizeof ct_buf, &ct, &ct_len, &ct_heap);
        if (r < 0)
                return r;

        /* +1 for the NUL. */
        char *plain = crypto_alloc_plain(ct_len - AEAD_TAG_BYTES + 1);
        if (!plain)
                return -ENOMEM;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *) plain, &plain_len, NULL,
                                                       ct, ct_len, ad, ad_len, nonce,
                                                       data_key->bytes) != 0) {
                crypto_free_plain(plain);
                return -EBADMSG;
        }
        plain[plain_len] = '\0';
        *ret_plain = plain;
        if (ret_plain_len)
                *ret_plain_len = (size_t) plain_len;
        return 0;
}

int crypto_wrap_key(const OvKey *master, const char *org, uint32_t key_id, const OvKey *data_key,
                    char **ret_nonce_b64, char **ret_wrapped_b64) {
        unsigned char ad[AD_MAX];
        size_t ad_len = 0;
        int r;

        if (!master || !data_key || !ret_nonce_b64 || !ret_wrapped_b64)
                return -EINVAL;
        r = orgkey_ad(ad, &ad_len, org, key_id);
        if (r < 0)
                return r;
        return aead_seal_b64(master->bytes, ad, ad_len, data_key->bytes, OV_KEY_BYTES,
                             ret_nonce_b64, ret_wrapped_b64);
}

int crypto_unwrap_key(const OvKey *master, const char *org, uint32_t key_id,
                      const char *nonce_b64, const char *wrapped_b64, OvKey **ret) {
        unsigned char ad[AD_MAX], nonce[AEAD_NONCE_BYTES];
        unsigned char wrapped[OV_KEY_BYTES + AEAD_TAG_BYTES];
        size_t ad_len = 0, n = 0;
        int r;

        if (!master || !ret)
                return -EINVAL;
        r = orgkey_ad(ad, &ad_len, org, key_id);
        if (r < 0)
                return r;
        r = decode_nonce(nonce_b64, nonce);
        if (r < 0)
                return r;
        if (!wrapped_b64 || b64_decode(wrapped_b64, wrapped, sizeof(wrapped), &n) < 0 || n != sizeof(wrapped))
                return -EBADMSG;

        _cleanup_key_ OvKey *k = ov_key_new();
        if (!k)
                return -ENOMEM;
        if (crypto_aead_xchacha20poly1305_ietf_decrypt(k->bytes, NULL, NULL, wrapped, sizeof(wrapped),
                                                       ad, ad_len, nonce, master->bytes) != 0)
                return -EBADMSG;
        *ret = k;
        k = NULL;
        return 0;
}

int crypto_derive_passphrase_key(const char *passphrase, size_t len, const unsigned char salt[OV_SALT_BYTES],
                                 unsigned long long opslimit, size_t memlimit, OvKey **ret) {
        if (!passphrase || !salt || !ret)
                return -EINVAL;
        /* Limits come from master.json on disk: refuse ones libsodium cannot honour. */
        if (len > crypto_pwhash_PASSWD_MAX ||
            opslimit < crypto_pwhash_OPSLIMIT_MIN || opslimit > crypto_pwhash_OPSLIMIT_MAX ||
            memlimit < crypto_pwhash_MEMLIMIT_MIN || memlimit > crypto_pwhash_MEMLIMIT_MAX)
                return -EINVAL;

        _cleanup_key_ OvKey *k = ov_key_new();
        if (!k)
                return -ENOMEM;
        if (crypto_pwhash(k->bytes, OV_KEY_BYTES, passphrase, len, salt, opslimit, memlimit,
                          crypto_pwhash_ALG_ARGON2ID13) != 0)
                return -ENOMEM;         /* the only documented failure: memory */
        *ret = k;
        k = NULL;
        return 0;
}

int crypto_key_verifier(const OvKey *key, char **ret_b64) {
        unsigned char v[32];

        if (!key || !ret_b64)
                return -EINVAL;
        crypto_generichash(v, sizeof(v), (const unsigned char *) VERIFIER_MESSAGE, strlen(VERIFIER_MESSAGE),
                           key->bytes, OV_KEY_BYTES);
        char *s = b64_encode(v, sizeof(v));
        if (!s)
                return -ENOMEM;
        *ret_b64 = s;
        return 0;
}

int crypto_key_fingerprint(const OvKey *key, char ret[17]) {
        unsigned char fp[32];

        if (!key || !ret)
                return -EINVAL;
        /* A different message than the verifier so one cannot stand in for
         * the other; the first 8 bytes of the hash, in hex. */
        crypto_generichash(fp, sizeof(fp), (const unsigned char *) FINGERPRINT_MESSAGE,
                           strlen(FINGERPRINT_MESSAGE), key->bytes, OV_KEY_BYTES);
        sodium_bin2hex(ret, 17, fp, 8);
        return 0;
}

int crypto_manifest_mac(const OvKey *data_key, const void *msg, size_t len, char **ret_b64) {
        unsigned char mac_key[32], mac[32];

        if (!data_key || (!msg && len > 0) || !ret_b64)
                return -EINVAL;
        /* A key of its own (derived, never the data key itself), so a MAC
         * can't be mistaken for anything the data key makes. */
        crypto_generichash(mac_key, sizeof mac_key, (const unsigned char *) MANIFEST_KEY_MESSAGE,
                           strlen(MANIFEST_KEY_MESSAGE), data_key->bytes, OV_KEY_BYTES);
        crypto_generichash(mac, sizeof mac, msg, len, mac_key, sizeof mac_key);
        sodium_memzero(mac_key, sizeof mac_key);
        char *s = b64_encode(mac, sizeof mac);
        if (!s)
                return -ENOMEM;
        *ret_b64 = s;
        return 0;
}
