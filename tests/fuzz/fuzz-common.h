/* SPDX-License-Identifier: Apache-2.0 */
/* Shared by the libFuzzer targets: the entry points libFuzzer calls, a
 * scratch directory that lives as long as the fuzzing process, and a fixed,
 * obviously fake key (every byte 0x42) the seed records were sealed with. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "crypto.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_KEY_BYTE 0x42
#define FUZZ_ORG "acme"

/* Quiets the modules' logging, initialises libsodium and makes the scratch
 * directory (removed at exit with everything in it). Aborts on failure:
 * there is nothing to fuzz without them. */
void fuzz_setup(void);
/* The scratch directory's path and an O_PATH|O_DIRECTORY fd on it. */
const char *fuzz_dir(void);
int fuzz_dir_fd(void);
/* Writes data to <scratch>/<relpath> (parents must exist), replacing it. */
void fuzz_write_file(const char *relpath, const uint8_t *data, size_t size);
/* A key with every byte FUZZ_KEY_BYTE; the caller frees it. */
OvKey *fuzz_key(void);
/* A NUL-terminated copy of data[0..size). */
char *fuzz_strndup(const uint8_t *data, size_t size);
