/* SPDX-License-Identifier: Apache-2.0 */
/* Paste mistakes that no real value of any field makes, found before a
 * type's own rules so the message can say exactly what is wrong: an
 * invisible character (people cannot see it, so it is named with its
 * position), surrounding quotes, an HTTP header's "Bearer " prefix, a shell
 * or .env assignment. Messages never quote the value. */

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "value-mistakes.h"

/* Characters that look like nothing or like a plain space. */
static const struct {
        uint32_t cp;
        const char *name;
} invisible[] = {
        { 0x00A0, "NO-BREAK SPACE" },
        { 0x00AD, "SOFT HYPHEN" },
        { 0x034F, "COMBINING GRAPHEME JOINER" },
        { 0x061C, "ARABIC LETTER MARK" },
        { 0x115F, "HANGUL CHOSEONG FILLER" },
        { 0x1160, "HANGUL JUNGSEONG FILLER" },
        { 0x17B4, "KHMER VOWEL INHERENT AQ" },
        { 0x17B5, "KHMER VOWEL INHERENT AA" },
        { 0x180E, "MONGOLIAN VOWEL SEPARATOR" },
        { 0x2000, "EN QUAD" },
        { 0x2001, "EM QUAD" },
        { 0x2002, "EN SPACE" },
        { 0x2003, "EM SPACE" },
        { 0x2004, "THREE-PER-EM SPACE" },
        { 0x2005, "FOUR-PER-EM SPACE" },
        { 0x2006, "SIX-PER-EM SPACE" },
        { 0x2007, "FIGURE SPACE" },
        { 0x2008, "PUNCTUATION SPACE" },
        { 0x2009, "THIN SPACE" },
        { 0x200A, "HAIR SPACE" },
        { 0x200B, "ZERO WIDTH SPACE" },
        { 0x200C, "ZERO WIDTH NON-JOINER" },
        { 0x200D, "ZERO WIDTH JOINER" },
        { 0x200E, "LEFT-TO-RIGHT MARK" },
        { 0x200F, "RIGHT-TO-LEFT MARK" },
        { 0x2028, "LINE SEPARATOR" },
        { 0x2029, "PARAGRAPH SEPARATOR" },
        { 0x202A, "LEFT-TO-RIGHT EMBEDDING" },
        { 0x202B, "RIGHT-TO-LEFT EMBEDDING" },
        { 0x202C, "POP DIRECTIONAL FORMATTING" },
        { 0x202D, "LEFT-TO-RIGHT OVERRIDE" },
        { 0x202E, "RIGHT-TO-LEFT OVERRIDE" },
        { 0x202F, "NARROW NO-BREAK SPACE" },
        { 0x205F, "MEDIUM MATHEMATICAL SPACE" },
        { 0x2060, "WORD JOINER" },
        { 0x2061, "FUNCTION APPLICATION" },
        { 0x2062, "INVISIBLE TIMES" },
        { 0x2063, "INVISIBLE SEPARATOR" },
        { 0x2064, "INVISIBLE PLUS" },
        { 0x2066, "LEFT-TO-RIGHT ISOLATE" },
        { 0x2067, "RIGHT-TO-LEFT ISOLATE" },
        { 0x2068, "FIRST STRONG ISOLATE" },
        { 0x2069, "POP DIRECTIONAL ISOLATE" },
        { 0x3000, "IDEOGRAPHIC SPACE" },
        { 0x3164, "HANGUL FILLER" },
        { 0xFEFF, "ZERO WIDTH NO-BREAK SPACE (byte order mark)" },
        { 0xFFA0, "HALFWIDTH HANGUL FILLER" },
};

/* Decodes one UTF-8 sequence at s (already known to be valid or not: an
 * invalid byte decodes as itself, length 1, and is left to the UTF-8 check). */
static size_t utf8_decode(const unsigned char *s, uint32_t *ret) {
        if (s[0] < 0x80 || (s[0] & 0xE0) == 0x80 || (s[0] & 0xF8) == 0xF8) {
                *ret = s[0];
                return 1;
        }
        size_t n = (s[0] & 0xE0) == 0xC0 ? 2 : (s[0] & 0xF0) == 0xE0 ? 3 : 4;
        uint32_t cp = s[0] & (0x7F >> n);
        for (size_t i = 1; i < n; i++) {
                if ((s[i] & 0xC0) != 0x80) {
                        *ret = s[0];
                        return 1;
                }
                cp = (cp << 6) | (s[i] & 0x3F);
        }
        *ret = cp;
        return n;
}

static const char *invisible_name(uint32_t cp) {
        for (size_t i = 0; i < ELEMENTSOF(invisible); i++)
                if (invisible[i].cp == cp)
                        return invisible[i].name;
        /* Tag characters and variation selectors draw nothing either. */
        if ((cp >= 0xE0000 && cp <= 0xE007F) || (cp >= 0xFE00 && cp <= 0xFE0F) || (cp >= 0xE0100 && cp <= 0xE01EF))
                return "an invisible tag or variation selector";
        return NULL;
}

bool value_find_invisible(const char *s, char *buf, size_t size) {
        size_t pos = 1;

        for (const unsigned char *p = (const unsigned char *) s; *p; pos++) {
                uint32_t cp;
                size_t n = utf8_decode(p, &cp);
                const char *name = invisible_name(cp);
                if (name) {
                        snprintf(buf, size,
                                 "contains an invisible character, U+%04X %s, at character %zu; "
                                 "delete it (type the value again, or paste it as plain text)",
                                 (unsigned) cp, name, pos);
                        return true;
                }
                p += n;
        }
        return false;
}

/* Quote pairs people paste around values: ASCII and typographic. */
static const char *const quote_pairs[][2] = {
        { "\"", "\"" }, { "'", "'" }, { "`", "`" },
        { "\xe2\x80\x9c", "\xe2\x80\x9d" },   /* “ ” */
        { "\xe2\x80\x98", "\xe2\x80\x99" },   /* ‘ ’ */
        { "\xc2\xab", "\xc2\xbb" },           /* « » */
};

static bool starts_with(const char *s, const char *prefix) { return strncmp(s, prefix, strlen(prefix)) == 0; }

static bool ends_with(const char *s, const char *suffix) {
        size_t n = strlen(s), k = strlen(suffix);
        return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* NAME=... or export NAME=... with NAME an environment variable's name:
 * upper case with at least one '_' (OPENAI_API_KEY), so base64 and tokens
 * (which may hold '=' but not such a name before it) never match. */
static bool is_assignment(const char *s) {
        const char *p = s;
        bool underscore = false;

        if (strncmp(p, "export", 6) == 0 && (p[6] == ' ' || p[6] == '\t')) {
                p += 6;
                while (*p == ' ' || *p == '\t')
                        p++;
        }
        if (!(*p >= 'A' && *p <= 'Z'))
                return false;
        for (; (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_'; p++)
                underscore = underscore || *p == '_';
        while (*p == ' ' || *p == '\t')
                p++;
        return underscore && *p == '=' && p[1] != 0 && p[1] != '=';
}

bool value_find_mistake(const char *v, const char *label, char *buf, size_t size) {
        size_t n = strlen(v);

        for (size_t i = 0; i < ELEMENTSOF(quote_pairs); i++) {
                size_t a = strlen(quote_pairs[i][0]), b = strlen(quote_pairs[i][1]);
                if (n > a + b && starts_with(v, quote_pairs[i][0]) && ends_with(v, quote_pairs[i][1])) {
                        snprintf(buf, size, "is wrapped in quotes; paste the %s without the quotes around it", label);
                        return true;
                }
        }
        if (strncasecmp(v, "Authorization:", 14) == 0) {
                snprintf(buf, size,
                         "is an HTTP header line (Authorization: ...); paste only the %s, without the header name or \"Bearer \"",
                         label);
                return true;
        }
        if (strncasecmp(v, "Bearer ", 7) == 0 || strncasecmp(v, "Bearer\t", 7) == 0) {
                snprintf(buf, size,
                         "starts with \"Bearer \", the prefix of the HTTP header; paste only the %s that comes after it",
                         label);
                return true;
        }
        if (is_assignment(v)) {
                snprintf(buf, size,
                         "is written as an assignment (NAME=value, as in a .env file or a shell); paste only the %s after the '='",
                         label);
                return true;
        }
        return false;
}
