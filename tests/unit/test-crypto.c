/* SPDX-License-Identifier: Apache-2.0 */
/* Record sealing and data-key wrapping: roundtrips, and every kind of
 * tampering or misplacement is refused. */

#include <errno.h>
#include <string.h>
#include <sodium.h>

#include "check-main.h"
#include "crypto.h"

static const char plain_json[] = "{\"url\":\"https://hooks.slack.com/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxx\"}";

typedef struct Sealed {
        char *nonce;
        char *ct;
} Sealed;

static void sealed_done(Sealed *s) {
        free(s->nonce);
        free(s->ct);
}
#define _cleanup_sealed_ _cleanup_(sealed_done)

static void seal_sample(const OvKey *k, Sealed *s) {
        ck_assert_int_eq(crypto_seal_record(k, 7, "acme", "slack-hook", "slack-webhook",
                                            plain_json, strlen(plain_json), &s->nonce, &s->ct), 0);
}

/* Opens with the given binding; returns the crypto_open_record result and
 * frees any plaintext. */
static int try_open(const OvKey *k, uint32_t key_id, const char *org, const char *id, const char *type,
                    const char *nonce, const char *ct) {
        char *p = NULL;
        size_t n = 0;
        int r = crypto_open_record(k, key_id, org, id, type, nonce, ct, &p, &n);
        if (r == 0)
                ck_assert_ptr_nonnull(p);
        else
                ck_assert_ptr_null(p);
        crypto_free_plain(p);
        return r;
}

/* Flips one bit of the decoded bytes of a base64 string and re-encodes. */
static char *flip_b64(const char *b64, size_t at) {
        unsigned char buf[4096];
        size_t n = 0;
        ck_assert_int_eq(b64_decode(b64, buf, sizeof buf, &n), 0);
        ck_assert_uint_lt(at, n);
        buf[at] ^= 0x01;
        return b64_encode(buf, n);
}

START_TEST(test_seal_open_roundtrip) {
        _cleanup_key_ OvKey *k = ov_key_new_random();
        _cleanup_sealed_ Sealed s = {};
        char *p = NULL;
        size_t n = 0;

        seal_sample(k, &s);
        ck_assert_ptr_null(strstr(s.ct, "hooks"));
        ck_assert_int_eq(crypto_open_record(k, 7, "acme", "slack-hook", "slack-webhook", s.nonce, s.ct, &p, &n), 0);
        ck_assert_uint_eq(n, strlen(plain_json));
        ck_assert_str_eq(p, plain_json);
        crypto_free_plain(p);

        /* Two seals of one value never share a nonce or ciphertext. */
        _cleanup_sealed_ Sealed t = {};
        seal_sample(k, &t);
        ck_assert_str_ne(s.nonce, t.nonce);
        ck_assert_str_ne(s.ct, t.ct);
}
END_TEST

START_TEST(test_empty_value_roundtrip) {
        _cleanup_key_ OvKey *k = ov_key_new_random();
        _cleanup_sealed_ Sealed s = {};
        char *p = NULL;
        size_t n = 1;

        ck_assert_int_eq(crypto_seal_record(k, 1, "acme", "x", "t", "", 0, &s.nonce, &s.ct), 0);
        ck_assert_int_eq(crypto_open_record(k, 1, "acme", "x", "t", s.nonce, s.ct, &p, &n), 0);
        ck_assert_uint_eq(n, 0);
        ck_assert_str_eq(p, "");
        crypto_free_plain(p);
}
END_TEST

START_TEST(test_tampered_ciphertext_refused) {
        _cleanup_key_ OvKey *k = ov_key_new_random();
        _cleanup_sealed_ Sealed s = {};

        seal_sample(k, &s);
        /* A flipped byte in the body and one in the tag. */
        _cleanup_free_ char *body = flip_b64(s.ct, 0);
        _cleanup_free_ char *tag = flip_b64(s.ct, strlen(plain_json) + 3);
        ck_assert_int_eq(try_open(k, 7, "acme", "slack-hook", "slack-webhook", s.nonce, body), -EBADMSG);
        ck_assert_int_eq(try_open(k, 7, "acme", "slack-hook", "slack-webhook", s.nonce, tag), -EBADMSG);
        /* Truncated, or not base64 at all. */
        _cleanup_free_ char *cut = strndup(s.ct, 8);
        ck_assert_int_eq(try_open(k, 7, "acme", "slack-hook", "slack-webhook", s.nonce, cut), -EBADMSG);
        ck_assert_int_eq(try_open(k, 7, "acme", "slack-hook", "slack-webhook", s.nonce, "!!not base64!!"), -EBADMSG);
        ck_assert_int_eq(try_open(k, 7, "acme", "slack-hook", "slack-webhook", s.nonce, ""), -EBADMSG);
}
END_TEST

START_TEST(test_tampered_nonce_refused) {
        _cleanup_key_ OvKey *k = ov_key_new_random();
        _cleanup_sealed_ Sealed s = {};

        seal_sample(k, &s);
        _cleanup_free_ char *nonce = flip_b64(s.nonce, 5);
        ck_assert_int_eq(try_open(k, 7, "acme", "slack-hook", "slack-webhook", nonce, s.ct), -EBADMSG);
        /* A nonce of the wrong length. */
        ck_assert_int_eq(try_open(k, 7, "acme", "slack-hook", "slack-webhook", "AAAA", s.ct), -EBADMSG);
}
END_TEST

START_TEST(test_moved_record_refused) {
        _cleanup_key_ OvKey *k = ov_key_new_random();
        _cleanup_key_ OvKey *other = ov_key_new_random();
        _cleanup_sealed_ Sealed s = {};

        seal_sample(k, &s);
        ck_assert_int_eq(try_open(k, 7, "acme", "slack-hook", "slack-webhook", s.nonce, s.ct), 0);
        ck_assert_int_eq(try_open(k, 7, "globex", "slack-hook", "slack-webhook", s.nonce, s.ct), -EBADMSG);
        ck_assert_int_eq(try_open(k, 7, "acme", "slack-hook2", "slack-webhook", s.nonce, s.ct), -EBADMSG);
        ck_assert_int_eq(try_open(k, 7, "acme", "slack-hook", "openai-api-key", s.nonce, s.ct), -EBADMSG);
        ck_assert_int_eq(try_open(k, 8, "acme", "slack-hook", "slack-webhook", s.nonce, s.ct), -EBADMSG);
        ck_assert_int_eq(try_open(other, 7, "acme", "slack-hook", "slack-webhook", s.nonce, s.ct), -EBADMSG);
        /* Length prefixes keep "ab"+"c" apart from "a"+"bc". */
        _cleanup_sealed_ Sealed t = {};
        ck_assert_int_eq(crypto_seal_record(k, 1, "ab", "c", "t", "v", 1, &t.nonce, &t.ct), 0);
        ck_assert_int_eq(try_open(k, 1, "a", "bc", "t", t.nonce, t.ct), -EBADMSG);
}
END_TEST

START_TEST(test_overlong_binding_refused) {
        _cleanup_key_ OvKey *k = ov_key_new_random();
        char *nonce = NULL, *ct = NULL;
        char longname[257];

        memset(longname, 'a', 256);
        longname[256] = 0;
        ck_assert_int_eq(crypto_seal_record(k, 1, longname, "x", "t", "v", 1, &nonce, &ct), -EINVAL);
        ck_assert_int_eq(crypto_seal_record(k, 1, "acme", longname, "t", "v", 1, &nonce, &ct), -EINVAL);
        ck_assert_int_eq(crypto_seal_record(k, 1, "acme", "x", longname, "v", 1, &nonce, &ct), -EINVAL);
        ck_assert_ptr_null(nonce);
        ck_assert_ptr_null(ct);
        /* 255 bytes is the largest that fits its length byte. */
        longname[255] = 0;
        ck_assert_int_eq(crypto_seal_record(k, 1, "acme", "x", longname, "v", 1, &nonce, &ct), 0);
        ck_assert_int_eq(try_open(k, 1, "acme", "x", longname, nonce, ct), 0);
        free(nonce);
        free(ct);
}
END_TEST

START_TEST(test_wrap_unwrap) {
        _cleanup_key_ OvKey *master = ov_key_new_random();
        _cleanup_key_ OvKey *other = ov_key_new_random();
        _cleanup_key_ OvKey *data = ov_key_new_random();
        _cleanup_free_ char *nonce = NULL, *wrapped = NULL;
        OvKey *out = NULL;

        ck_assert_int_eq(crypto_wrap_key(master, "acme", 3, data, &nonce, &wrapped), 0);
        ck_assert_int_eq(crypto_unwrap_key(master, "acme", 3, nonce, wrapped, &out), 0);
        ck_assert_mem_eq(out->bytes, data->bytes, OV_KEY_BYTES);
        ov_key_free(out);
        out = NULL;

        ck_assert_int_eq(crypto_unwrap_key(other, "acme", 3, nonce, wrapped, &out), -EBADMSG);
        ck_assert_int_eq(crypto_unwrap_key(master, "globex", 3, nonce, wrapped, &out), -EBADMSG);
        ck_assert_int_eq(crypto_unwrap_key(master, "acme", 4, nonce, wrapped, &out), -EBADMSG);
        _cleanup_free_ char *bad = flip_b64(wrapped, 10);
        ck_assert_int_eq(crypto_unwrap_key(master, "acme", 3, nonce, bad, &out), -EBADMSG);
        ck_assert_ptr_null(out);
}
END_TEST

/* Independent reconstruction of the documented associated data, so the
 * layout in docs/CRYPTO.md is what the code does. */
START_TEST(test_documented_record_layout) {
        _cleanup_key_ OvKey *k = ov_key_new_random();
        _cleanup_sealed_ Sealed s = {};
        unsigned char nonce[24], ct[256], plain[256];
        unsigned long long plain_len = 0;
        size_t nonce_len = 0, ct_len = 0;
        static const unsigned char ad[] =
                "orgvault-record" "\x01" "\x04" "acme" "\x02" "id" "\x04" "type" "\x01\x02\x03\x04";

        ck_assert_int_eq(crypto_seal_record(k, 0x01020304, "acme", "id", "type", "hello", 5, &s.nonce, &s.ct), 0);
        ck_assert_int_eq(b64_decode(s.nonce, nonce, sizeof nonce, &nonce_len), 0);
        ck_assert_uint_eq(nonce_len, 24);
        ck_assert_int_eq(b64_decode(s.ct, ct, sizeof ct, &ct_len), 0);
        ck_assert_uint_eq(ct_len, 5 + 16);
        ck_assert_int_eq(crypto_aead_xchacha20poly1305_ietf_decrypt(plain, &plain_len, NULL, ct, ct_len,
                                                                    ad, sizeof ad - 1, nonce, k->bytes), 0);
        ck_assert_uint_eq(plain_len, 5);
        ck_assert_mem_eq(plain, "hello", 5);
}
END_TEST

START_TEST(test_documented_wrap_layout) {
        _cleanup_key_ OvKey *master = ov_key_new_random();
        _cleanup_key_ OvKey *data = ov_key_new_random();
        _cleanup_free_ char *n64 = NULL, *w64 = NULL;
        unsigned char nonce[24], wrapped[64], out[32];
        size_t nonce_len = 0, wrapped_len = 0;
        static const unsigned char ad[] = "orgvault-orgkey" "\x01" "\x04" "acme" "\x00\x00\x00\x02";

        ck_assert_int_eq(crypto_wrap_key(master, "acme", 2, data, &n64, &w64), 0);
        ck_assert_int_eq(b64_decode(n64, nonce, sizeof nonce, &nonce_len), 0);
        ck_assert_int_eq(b64_decode(w64, wrapped, sizeof wrapped, &wrapped_len), 0);
        ck_assert_uint_eq(wrapped_len, 48);
        ck_assert_int_eq(crypto_aead_xchacha20poly1305_ietf_decrypt(out, NULL, NULL, wrapped, wrapped_len,
                                                                    ad, sizeof ad - 1, nonce, master->bytes), 0);
        ck_assert_mem_eq(out, data->bytes, 32);
        sodium_memzero(out, sizeof out);
}
END_TEST

START_TEST(test_base64) {
        unsigned char buf[8];
        size_t n = 0;
        _cleanup_free_ char *s = b64_encode("\xff\xfe\x00", 3);

        ck_assert_str_eq(s, "//4A");            /* ORIGINAL alphabet */
        _cleanup_free_ char *p = b64_encode("a", 1);
        ck_assert_str_eq(p, "YQ==");            /* with padding */
        ck_assert_int_eq(b64_decode("YQ==", buf, sizeof buf, &n), 0);
        ck_assert_uint_eq(n, 1);
        ck_assert_int_eq(b64_decode("YQ", buf, sizeof buf, &n), -EINVAL);
        ck_assert_int_eq(b64_decode("Y-Q=", buf, sizeof buf, &n), -EINVAL);
        ck_assert_int_eq(b64_decode("YWJjZGVmZ2hpams=", buf, sizeof buf, &n), -EINVAL);   /* too long for buf */
}
END_TEST

/* b64_decode accepts and yields exactly what libsodium's decoder does:
 * random strings over a small alphabet (so padding and stray bits come up
 * often) and the encodings of random bytes, into buffers of every size. */
START_TEST(test_base64_matches_libsodium) {
        static const char alphabet[] = "AQgw+/=Z9a";
        unsigned char ours[32], theirs[32], bytes[24];
        char text[40];

        for (unsigned round = 0; round < 200000; round++) {
                size_t len, size = randombytes_uniform(sizeof ours + 1), n_ours = 0, n_theirs = 0;

                if (round % 2) {
                        len = randombytes_uniform(25);
                        for (size_t i = 0; i < len; i++)
                                text[i] = alphabet[randombytes_uniform(sizeof alphabet - 1)];
                        text[len] = 0;
                } else {
                        size_t k = randombytes_uniform(sizeof bytes + 1);
                        randombytes_buf(bytes, k);
                        sodium_bin2base64(text, sizeof text, bytes, k, sodium_base64_VARIANT_ORIGINAL);
                        len = strlen(text);
                }
                int r = b64_decode(text, ours, size, &n_ours);
                int s = sodium_base642bin(theirs, size, text, len, NULL, &n_theirs, NULL,
                                          sodium_base64_VARIANT_ORIGINAL);
                ck_assert_msg((r == 0) == (s == 0), "\"%s\" into %zu: ours %d, libsodium %d", text, size, r, s);
                if (r == 0) {
                        ck_assert_uint_eq(n_ours, n_theirs);
                        ck_assert_mem_eq(ours, theirs, n_ours);
                }
        }
}
END_TEST

START_TEST(test_key_helpers) {
        _cleanup_key_ OvKey *a = ov_key_new_random();
        _cleanup_key_ OvKey *b = ov_key_dup(a);
        _cleanup_key_ OvKey *z = ov_key_new();
        _cleanup_free_ char *va = NULL, *vb = NULL, *vz = NULL;
        char fa[17], fz[17];
        unsigned char zero[OV_KEY_BYTES] = {};

        ck_assert_mem_eq(z->bytes, zero, OV_KEY_BYTES);
        ck_assert_mem_eq(a->bytes, b->bytes, OV_KEY_BYTES);
        ck_assert_int_ne(memcmp(a->bytes, zero, OV_KEY_BYTES), 0);
        ck_assert_int_eq(crypto_key_verifier(a, &va), 0);
        ck_assert_int_eq(crypto_key_verifier(b, &vb), 0);
        ck_assert_int_eq(crypto_key_verifier(z, &vz), 0);
        ck_assert_str_eq(va, vb);
        ck_assert_str_ne(va, vz);
        ck_assert_uint_eq(strlen(va), 44);
        ck_assert_int_eq(crypto_key_fingerprint(a, fa), 0);
        ck_assert_int_eq(crypto_key_fingerprint(z, fz), 0);
        ck_assert_uint_eq(strlen(fa), 16);
        ck_assert_str_ne(fa, fz);
        ck_assert_uint_eq(strspn(fa, "0123456789abcdef"), 16);
        ov_key_free(NULL);
        crypto_free_plain(NULL);
}
END_TEST

/* Plaintext buffers are kept and handed out again, wiped; many at once, a
 * large one and a failed open all still work. */
START_TEST(test_plain_buffers_reused_and_wiped) {
        _cleanup_key_ OvKey *k = ov_key_new_random();
        _cleanup_sealed_ Sealed s = {};
        char *held[6] = {}, *p = NULL, *q = NULL;
        size_t n = 0;

        seal_sample(k, &s);
        ck_assert_int_eq(crypto_open_record(k, 7, "acme", "slack-hook", "slack-webhook", s.nonce, s.ct, &p, &n), 0);
        ck_assert_str_eq(p, plain_json);
        char *first = p;
        crypto_free_plain(p);
        /* the same buffer comes back, holding no trace of the value */
        q = crypto_alloc_plain(n + 1);
        ck_assert_ptr_eq(q, first);
        for (size_t i = 0; i <= n; i++)
                ck_assert_int_eq(q[i], 0);
        crypto_free_plain(q);

        /* more values open at once than are kept: each its own, all intact */
        for (size_t i = 0; i < ELEMENTSOF(held); i++) {
                ck_assert_int_eq(crypto_open_record(k, 7, "acme", "slack-hook", "slack-webhook", s.nonce, s.ct,
                                                    &held[i], NULL), 0);
                for (size_t j = 0; j < i; j++)
                        ck_assert_ptr_ne(held[i], held[j]);
        }
        for (size_t i = 0; i < ELEMENTSOF(held); i++) {
                ck_assert_str_eq(held[i], plain_json);
                crypto_free_plain(held[i]);
        }

        /* bigger than a kept buffer, and empty */
        size_t big = 4 * OV_VALUE_MAX;
        char *b = crypto_alloc_plain(big);
        ck_assert_ptr_nonnull(b);
        memset(b, 'x', big);
        crypto_free_plain(b);
        char *e = crypto_alloc_plain(0);
        ck_assert_ptr_nonnull(e);
        crypto_free_plain(e);

        /* a refused open hands its buffer back: the next open gets it */
        char *x = NULL;
        _cleanup_free_ char *tag = flip_b64(s.ct, strlen(plain_json) + 3);
        ck_assert_int_eq(crypto_open_record(k, 7, "acme", "slack-hook", "slack-webhook", s.nonce, tag, &x, NULL),
                         -EBADMSG);
        ck_assert_ptr_null(x);
        ck_assert_int_eq(crypto_open_record(k, 7, "acme", "slack-hook", "slack-webhook", s.nonce, s.ct, &p, NULL), 0);
        ck_assert_ptr_eq(p, first);
        crypto_free_plain(p);
}
END_TEST

/* A ciphertext too big for the stack scratch still opens. */
START_TEST(test_large_value_roundtrip) {
        _cleanup_key_ OvKey *k = ov_key_new_random();
        _cleanup_sealed_ Sealed s = {};
        size_t len = OV_VALUE_MAX + 100;
        _cleanup_free_ char *value = malloc(len);
        char *p = NULL;
        size_t n = 0;

        ck_assert_ptr_nonnull(value);
        for (size_t i = 0; i < len; i++)
                value[i] = (char) ('a' + i % 26);
        ck_assert_int_eq(crypto_seal_record(k, 1, "acme", "big", "t", value, len, &s.nonce, &s.ct), 0);
        ck_assert_int_eq(crypto_open_record(k, 1, "acme", "big", "t", s.nonce, s.ct, &p, &n), 0);
        ck_assert_uint_eq(n, len);
        ck_assert_mem_eq(p, value, len);
        ck_assert_int_eq(p[n], 0);
        crypto_free_plain(p);
}
END_TEST

START_TEST(test_passphrase_kdf) {
        unsigned char salt[OV_SALT_BYTES] = { 1, 2, 3 };
        unsigned char salt2[OV_SALT_BYTES] = { 1, 2, 4 };
        _cleanup_key_ OvKey *a = NULL, *b = NULL, *c = NULL, *d = NULL;
        OvKey *none = NULL;
        unsigned long long ops = crypto_pwhash_OPSLIMIT_INTERACTIVE;
        size_t mem = crypto_pwhash_MEMLIMIT_INTERACTIVE;

        ck_assert_int_eq(crypto_derive_passphrase_key("correct horse", 13, salt, ops, mem, &a), 0);
        ck_assert_int_eq(crypto_derive_passphrase_key("correct horse", 13, salt, ops, mem, &b), 0);
        ck_assert_int_eq(crypto_derive_passphrase_key("correct horsf", 13, salt, ops, mem, &c), 0);
        ck_assert_int_eq(crypto_derive_passphrase_key("correct horse", 13, salt2, ops, mem, &d), 0);
        ck_assert_mem_eq(a->bytes, b->bytes, OV_KEY_BYTES);
        ck_assert_int_ne(memcmp(a->bytes, c->bytes, OV_KEY_BYTES), 0);
        ck_assert_int_ne(memcmp(a->bytes, d->bytes, OV_KEY_BYTES), 0);
        /* Limits read from disk that libsodium cannot honour are refused. */
        ck_assert_int_eq(crypto_derive_passphrase_key("x", 1, salt, 0, mem, &none), -EINVAL);
        ck_assert_int_eq(crypto_derive_passphrase_key("x", 1, salt, ops, 1, &none), -EINVAL);
        ck_assert_ptr_null(none);
}
END_TEST

int main(void) {
        if (crypto_init() < 0)
                return 1;
        Suite *s = suite_create("crypto");
        TCase *tc = tcase_create("core");
        tcase_set_timeout(tc, 120);     /* 200k random base64 rounds and Argon2id, on a saturated CPU */
        tcase_add_test(tc, test_seal_open_roundtrip);
        tcase_add_test(tc, test_empty_value_roundtrip);
        tcase_add_test(tc, test_tampered_ciphertext_refused);
        tcase_add_test(tc, test_tampered_nonce_refused);
        tcase_add_test(tc, test_moved_record_refused);
        tcase_add_test(tc, test_overlong_binding_refused);
        tcase_add_test(tc, test_wrap_unwrap);
        tcase_add_test(tc, test_documented_record_layout);
        tcase_add_test(tc, test_documented_wrap_layout);
        tcase_add_test(tc, test_base64);
        tcase_add_test(tc, test_base64_matches_libsodium);
        tcase_add_test(tc, test_key_helpers);
        tcase_add_test(tc, test_passphrase_kdf);
        tcase_add_test(tc, test_plain_buffers_reused_and_wiped);
        tcase_add_test(tc, test_large_value_roundtrip);
        suite_add_tcase(s, tc);
        return check_main_run(s);
}
