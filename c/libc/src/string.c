/* string.h functions (memcpy, memmove, memset, memcmp are in c/rt). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void *memchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == (unsigned char)c)
            return (void *)(p + i);
    }
    return NULL;
}

void *memrchr(const void *s, int c, size_t n)
{
    const unsigned char *p = s;
    while (n--) {
        if (p[n] == (unsigned char)c)
            return (void *)(p + n);
    }
    return NULL;
}

void *memccpy(void *dst, const void *src, int c, size_t n)
{
    unsigned char *d = dst;
    const unsigned char *s = src;
    for (size_t i = 0; i < n; i++) {
        d[i] = s[i];
        if (s[i] == (unsigned char)c)
            return d + i + 1;
    }
    return NULL;
}

size_t strlen(const char *s)
{
    const char *p = s;
    while ((uintptr_t)p & 7) {
        if (!*p)
            return (size_t)(p - s);
        p++;
    }
    const uint64_t *w = (const uint64_t *)p; /* aligned words never cross a page */
    for (;;) {
        uint64_t v = *w;
        if ((v - 0x0101010101010101ull) & ~v & 0x8080808080808080ull)
            break;
        w++;
    }
    p = (const char *)w;
    while (*p)
        p++;
    return (size_t)(p - s);
}

size_t strnlen(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

char *strcpy(char *dst, const char *src)
{
    memcpy(dst, src, strlen(src) + 1);
    return dst;
}

char *stpcpy(char *dst, const char *src)
{
    size_t n = strlen(src);
    memcpy(dst, src, n + 1);
    return dst + n;
}

char *strncpy(char *dst, const char *src, size_t n)
{
    size_t k = strnlen(src, n);
    memcpy(dst, src, k);
    memset(dst + k, 0, n - k);
    return dst;
}

char *strcat(char *dst, const char *src)
{
    strcpy(dst + strlen(dst), src);
    return dst;
}

char *strncat(char *dst, const char *src, size_t n)
{
    char *d = dst + strlen(dst);
    size_t k = strnlen(src, n);
    memcpy(d, src, k);
    d[k] = 0;
    return dst;
}

int strcmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    while (*p && *p == *q) {
        p++;
        q++;
    }
    return (*p > *q) - (*p < *q);
}

int strncmp(const char *a, const char *b, size_t n)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != q[i] || !p[i])
            return (p[i] > q[i]) - (p[i] < q[i]);
    }
    return 0;
}

static int lower(int c)
{
    return (c >= 'A' && c <= 'Z') ? c + 32 : c;
}

int strcasecmp(const char *a, const char *b)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    while (*p && lower(*p) == lower(*q)) {
        p++;
        q++;
    }
    return lower(*p) - lower(*q);
}

int strncasecmp(const char *a, const char *b, size_t n)
{
    const unsigned char *p = (const unsigned char *)a, *q = (const unsigned char *)b;
    for (size_t i = 0; i < n; i++) {
        if (lower(p[i]) != lower(q[i]) || !p[i])
            return lower(p[i]) - lower(q[i]);
    }
    return 0;
}

int strcoll(const char *a, const char *b)
{
    return strcmp(a, b); /* the "C" locale */
}

size_t strxfrm(char *dst, const char *src, size_t n)
{
    size_t k = strlen(src);
    if (k < n)
        memcpy(dst, src, k + 1);
    return k;
}

char *strchr(const char *s, int c)
{
    for (;; s++) {
        if (*s == (char)c)
            return (char *)s;
        if (!*s)
            return NULL;
    }
}

char *strrchr(const char *s, int c)
{
    const char *last = NULL;
    for (;; s++) {
        if (*s == (char)c)
            last = s;
        if (!*s)
            return (char *)last;
    }
}

char *strstr(const char *hay, const char *needle)
{
    size_t n = strlen(needle);
    if (n == 0)
        return (char *)hay;
    for (; (hay = strchr(hay, needle[0])) != NULL; hay++) {
        if (strncmp(hay, needle, n) == 0)
            return (char *)hay;
    }
    return NULL;
}

static void byte_set(const char *chars, unsigned char set[32])
{
    memset(set, 0, 32);
    for (const unsigned char *c = (const unsigned char *)chars; *c; c++)
        set[*c >> 3] |= (unsigned char)(1u << (*c & 7));
}

static int in_set(const unsigned char set[32], unsigned char c)
{
    return set[c >> 3] & (1u << (c & 7));
}

size_t strspn(const char *s, const char *accept)
{
    unsigned char set[32];
    byte_set(accept, set);
    size_t n = 0;
    while (s[n] && in_set(set, (unsigned char)s[n]))
        n++;
    return n;
}

size_t strcspn(const char *s, const char *reject)
{
    unsigned char set[32];
    byte_set(reject, set);
    size_t n = 0;
    while (s[n] && !in_set(set, (unsigned char)s[n]))
        n++;
    return n;
}

char *strpbrk(const char *s, const char *accept)
{
    s += strcspn(s, accept);
    return *s ? (char *)s : NULL;
}

char *strtok_r(char *s, const char *delim, char **save)
{
    if (!s)
        s = *save;
    s += strspn(s, delim);
    if (!*s) {
        *save = s;
        return NULL;
    }
    char *end = s + strcspn(s, delim);
    if (*end)
        *end++ = 0;
    *save = end;
    return s;
}

char *strtok(char *s, const char *delim)
{
    static char *save;
    return strtok_r(s, delim, &save);
}

char *strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    return p ? memcpy(p, s, n) : NULL;
}

char *strndup(const char *s, size_t n)
{
    size_t k = strnlen(s, n);
    char *p = malloc(k + 1);
    if (!p)
        return NULL;
    memcpy(p, s, k);
    p[k] = 0;
    return p;
}
