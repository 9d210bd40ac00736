/* malloc & co. over the program's arena (cpushare-cc --heap; the arena also holds the
 * inputs, see crt.c). Deterministic and simple: a request is rounded up to a size class
 * (multiples of 16 bytes up to 1 KiB, then powers of two), freed blocks go on their class's
 * list and are reused first, new blocks come from a bump pointer. Blocks are never split or
 * merged, so waste is at most 2x and every operation is O(1). Each block has a 16-byte
 * header holding its class. Every fragment starts with an empty arena. */
#include "internal.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SMALL_STEP 16u
#define SMALL_CLASSES 64u /* 16 .. 1024 bytes */
#define CLASSES (SMALL_CLASSES + 64u)

struct block {
    size_t cls;
    size_t pad; /* keeps the payload 16-byte aligned */
};
struct free_node {
    struct free_node *next;
};

static unsigned char *bump, *arena_end;
static struct free_node *free_lists[CLASSES];

void __cpushare_malloc_init(unsigned char *start, unsigned char *end)
{
    bump = (unsigned char *)(((uintptr_t)start + 15u) & ~(uintptr_t)15u);
    arena_end = end;
    memset(free_lists, 0, sizeof free_lists);
}

static size_t class_of(size_t n)
{
    if (n <= SMALL_STEP * SMALL_CLASSES)
        return n == 0 ? 0 : (n - 1) / SMALL_STEP;
    size_t c = SMALL_CLASSES, cap = 2048;
    while (cap < n) {
        cap <<= 1;
        c++;
    }
    return c;
}

static size_t class_bytes(size_t c)
{
    if (c < SMALL_CLASSES)
        return (c + 1) * SMALL_STEP;
    return (size_t)2048 << (c - SMALL_CLASSES);
}

void *malloc(size_t n)
{
    if (n > ((size_t)1 << 46)) {
        errno = ENOMEM;
        return NULL;
    }
    size_t c = class_of(n);
    struct free_node *f = free_lists[c];
    if (f) {
        free_lists[c] = f->next;
        return f;
    }
    size_t need = sizeof(struct block) + class_bytes(c);
    if (need > (size_t)(arena_end - bump)) {
        errno = ENOMEM;
        return NULL;
    }
    struct block *b = (struct block *)bump;
    bump += need;
    b->cls = c;
    return b + 1;
}

void free(void *p)
{
    if (!p)
        return;
    struct block *b = (struct block *)p - 1;
    struct free_node *f = p;
    f->next = free_lists[b->cls];
    free_lists[b->cls] = f;
}

void *calloc(size_t count, size_t size)
{
    size_t n;
    if (__builtin_mul_overflow(count, size, &n)) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(n);
    if (p)
        memset(p, 0, n);
    return p;
}

void *realloc(void *p, size_t n)
{
    if (!p)
        return malloc(n);
    struct block *b = (struct block *)p - 1;
    size_t have = class_bytes(b->cls);
    if (n <= have && (n > have / 2 || b->cls == 0))
        return p;
    void *q = malloc(n);
    if (!q)
        return NULL;
    memcpy(q, p, n < have ? n : have);
    free(p);
    return q;
}

void *aligned_alloc(size_t align, size_t n)
{
    if (align <= 16)
        return malloc(n);
    /* Blocks of a power-of-two class >= align start 16 bytes after an aligned header only
     * by chance; over-allocate from the bump pointer instead (never freed back). */
    if (align & (align - 1)) {
        errno = EINVAL;
        return NULL;
    }
    uintptr_t start = ((uintptr_t)bump + sizeof(struct block) + align - 1) & ~(uintptr_t)(align - 1);
    size_t c = class_of(n);
    if (start + class_bytes(c) > (uintptr_t)arena_end) {
        errno = ENOMEM;
        return NULL;
    }
    struct block *b = (struct block *)start - 1;
    b->cls = c;
    bump = (unsigned char *)start + class_bytes(c);
    return (void *)start;
}

int posix_memalign(void **out, size_t align, size_t n)
{
    void *p = aligned_alloc(align, n);
    if (!p)
        return errno;
    *out = p;
    return 0;
}
