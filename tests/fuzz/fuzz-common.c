/* SPDX-License-Identifier: Apache-2.0 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>

#include "fuzz-common.h"
#include "log.h"

static char scratch[4096];
static int scratch_fd = -1;

static void die(const char *what) {
        fprintf(stderr, "fuzz setup: %s: %s\n", what, strerror(errno));
        abort();
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
        return remove(path) < 0 ? -1 : 0;
}

static void remove_scratch(void) {
        if (scratch_fd >= 0)
                close(scratch_fd);
        nftw(scratch, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

void fuzz_setup(void) {
        log_set_max_level(LOG_ERR);
        if (crypto_init() < 0)
                die("crypto_init");
        /* Under $TMPDIR, so run-fuzzers removes it even after a crash. */
        const char *tmp = getenv("TMPDIR");
        snprintf(scratch, sizeof scratch, "%s/orgvault-fuzz-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(scratch))
                die("mkdtemp");
        scratch_fd = open(scratch, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (scratch_fd < 0)
                die("open scratch dir");
        atexit(remove_scratch);
}

const char *fuzz_dir(void) { return scratch; }

int fuzz_dir_fd(void) { return scratch_fd; }

void fuzz_write_file(const char *relpath, const uint8_t *data, size_t size) {
        _cleanup_free_ char *path = strdup_printf("%s/%s", scratch, relpath);
        if (!path)
                die("strdup_printf");
        FILE *f = fopen(path, "we");
        if (!f)
                die(path);
        if (size > 0 && fwrite(data, 1, size, f) != size)
                die(path);
        if (fclose(f) != 0)
                die(path);
}

OvKey *fuzz_key(void) {
        OvKey *k = ov_key_new();
        if (!k)
                die("ov_key_new");
        memset(k->bytes, FUZZ_KEY_BYTE, OV_KEY_BYTES);
        return k;
}

char *fuzz_strndup(const uint8_t *data, size_t size) {
        char *s = malloc(size + 1);
        if (!s)
                die("malloc");
        if (size > 0)
                memcpy(s, data, size);
        s[size] = 0;
        return s;
}
