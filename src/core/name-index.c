/* SPDX-License-Identifier: Apache-2.0 */
/* The trigram index of an org's names (name-index.h). Each indexed secret
 * has a slot (Secret.name_slot, from 1); a trigram's posting list holds slot
 * numbers in increasing order. Removing a secret only empties its slot: the
 * lists keep the number, candidates skip it, and when dead slots outnumber
 * live ones the index is rebuilt from the live ones. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "name-index.h"

/* Below this many live candidates a scan of them all is as cheap. */
#define SCAN_FRACTION 4

typedef struct Posting {
        uint32_t key;            /* three folded bytes; 0 = free bucket */
        uint32_t n, allocated;
        uint32_t *slots;
} Posting;

struct NameIndex {
        Posting *buckets;
        size_t mask, used;       /* open addressing, power-of-two size */
        Secret **slots;          /* slots[k]: the secret in slot k, NULL when dead; slot 0 unused */
        size_t n_slots, allocated, live;
};

static unsigned char fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c; }

/* Never 0: a name's bytes are never NUL, so the top byte marks it used. */
static uint32_t trigram(const unsigned char *p) {
        return 0x1000000u | (uint32_t) fold(p[0]) << 16 | (uint32_t) fold(p[1]) << 8 | fold(p[2]);
}

static size_t bucket_of(uint32_t key, size_t mask) { return (key * 2654435761u) & mask; }

static Posting *find(const NameIndex *x, uint32_t key) {
        if (!x->buckets)
                return NULL;
        for (size_t h = bucket_of(key, x->mask);; h = (h + 1) & x->mask) {
                Posting *p = &x->buckets[h];
                if (p->key == key)
                        return p;
                if (p->key == 0)
                        return NULL;
        }
}

static int grow_buckets(NameIndex *x) {
        size_t size = x->buckets ? (x->mask + 1) * 2 : 256;
        Posting *b = calloc(size, sizeof(Posting));
        if (!b)
                return -ENOMEM;
        for (size_t i = 0; x->buckets && i <= x->mask; i++) {
                if (x->buckets[i].key == 0)
                        continue;
                size_t h = bucket_of(x->buckets[i].key, size - 1);
                while (b[h].key != 0)
                        h = (h + 1) & (size - 1);
                b[h] = x->buckets[i];
        }
        free(x->buckets);
        x->buckets = b;
        x->mask = size - 1;
        return 0;
}

static Posting *find_or_add(NameIndex *x, uint32_t key) {
        Posting *p = find(x, key);
        if (p)
                return p;
        if ((x->used + 1) * 2 > (x->buckets ? x->mask + 1 : 0) && grow_buckets(x) < 0)
                return NULL;
        size_t h = bucket_of(key, x->mask);
        while (x->buckets[h].key != 0)
                h = (h + 1) & x->mask;
        x->buckets[h].key = key;
        x->used++;
        return &x->buckets[h];
}

static int posting_push(Posting *p, uint32_t slot) {
        if (p->n > 0 && p->slots[p->n - 1] == slot)
                return 0;       /* the name repeats this trigram */
        if (p->n == p->allocated) {
                uint32_t m = p->allocated ? p->allocated * 2 : 4;
                uint32_t *a = reallocarray(p->slots, m, sizeof(uint32_t));
                if (!a)
                        return -ENOMEM;
                p->slots = a;
                p->allocated = m;
        }
        p->slots[p->n++] = slot;
        return 0;
}

int name_index_new(NameIndex **ret) {
        NameIndex *x = calloc(1, sizeof(NameIndex));
        if (!x)
                return -ENOMEM;
        *ret = x;
        return 0;
}

static void clear(NameIndex *x) {
        for (size_t i = 0; x->buckets && i <= x->mask; i++)
                free(x->buckets[i].slots);
        free(x->buckets);
        for (size_t k = 1; k < x->n_slots; k++)
                if (x->slots[k])
                        x->slots[k]->name_slot = 0;
        free(x->slots);
        *x = (NameIndex) {};
}

void name_index_free(NameIndex *x) {
        if (!x)
                return;
        clear(x);
        free(x);
}

static int index_slot(NameIndex *x, uint32_t slot, const char *name) {
        const unsigned char *p = (const unsigned char *) name;
        size_t len = strlen(name);
        for (size_t i = 0; i + 3 <= len; i++) {
                Posting *post = find_or_add(x, trigram(p + i));
                if (!post || posting_push(post, slot) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* Every live secret again, in fresh slots: the lists lose their dead numbers. */
static int rebuild(NameIndex *x) {
        Secret **live = reallocarray(NULL, x->live + 1, sizeof(Secret *));
        size_t n = 0;
        int r = 0;
        if (!live)
                return -ENOMEM;
        for (size_t k = 1; k < x->n_slots; k++)
                if (x->slots[k])
                        live[n++] = x->slots[k];
        clear(x);
        for (size_t i = 0; i < n && r >= 0; i++)
                r = name_index_add(x, live[i]);
        free(live);
        return r;
}

int name_index_add(NameIndex *x, Secret *s) {
        if (x->n_slots == 0)
                x->n_slots = 1;         /* slot 0 means "not indexed" */
        if (x->n_slots >= UINT32_MAX)
                return -ENOMEM;
        if (ARRAY_RESERVE_ONE(x->slots, x->n_slots, x->allocated, 64) < 0)
                return -ENOMEM;
        uint32_t slot = (uint32_t) x->n_slots++;
        x->slots[slot] = s;
        s->name_slot = slot;
        x->live++;
        return index_slot(x, slot, s->name);
}

int name_index_remove(NameIndex *x, Secret *s) {
        if (s->name_slot == 0 || s->name_slot >= x->n_slots || x->slots[s->name_slot] != s)
                return 0;
        x->slots[s->name_slot] = NULL;
        s->name_slot = 0;
        x->live--;
        size_t dead = x->n_slots - 1 - x->live;
        return dead > 1024 && dead > x->live ? rebuild(x) : 0;
}

int name_index_candidates(const NameIndex *x, const char *needle, Secret ***ret, size_t *ret_n) {
        const unsigned char *p = (const unsigned char *) needle;
        size_t len = strlen(needle);
        const Posting *narrowest = NULL;

        if (len < 3)
                return -EOPNOTSUPP;
        for (size_t i = 0; i + 3 <= len; i++) {
                const Posting *post = find(x, trigram(p + i));
                if (!post || post->n == 0) {
                        narrowest = NULL;       /* no name has this trigram */
                        break;
                }
                if (!narrowest || post->n < narrowest->n)
                        narrowest = post;
        }
        if (narrowest && narrowest->n > x->live / SCAN_FRACTION && narrowest->n > 64)
                return -EOPNOTSUPP;
        size_t n = 0, max = narrowest ? narrowest->n : 0;
        Secret **out = reallocarray(NULL, max + 1, sizeof(Secret *));
        if (!out)
                return -ENOMEM;
        for (size_t k = 0; k < max; k++) {
                Secret *s = x->slots[narrowest->slots[k]];
                if (s)
                        out[n++] = s;
        }
        *ret = out;
        *ret_n = n;
        return 0;
}
