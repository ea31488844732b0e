/* SPDX-License-Identifier: Apache-2.0 */
/* Paste mistakes every field refuses by name (docs/TYPES.md, "How a value is
 * checked"). Each returns true and writes the message into buf when it finds
 * one; messages never quote the value. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

/* An invisible or space-like character (U+00A0, U+200B, ...) anywhere in
 * the raw value, named with its code point and 1-based character position. */
bool value_find_invisible(const char *s, char *buf, size_t size);

/* In a trimmed value: surrounding quotes, an "Authorization:" header line or
 * a "Bearer " prefix, an assignment such as OPENAI_API_KEY=... . label is
 * the field's label, for "paste only the <label>". */
bool value_find_mistake(const char *v, const char *label, char *buf, size_t size);
