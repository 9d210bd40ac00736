/* stdlib.h: integer conversions, sorting and searching, rand, small helpers. */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Parse an unsigned magnitude in `base`; *neg gets the sign; *overflow set when it does
 * not fit in 64 bits. Returns the end of the number (s itself when there is none). */
static const char *parse_magnitude(const char *s, int base, int *neg, unsigned long long *out,
                                   int *overflow)
{
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    *neg = 0;
    if (*p == '+' || *p == '-')
        *neg = *p++ == '-';
    if ((base == 0 || base == 16) && p[0] == '0' && (p[1] | 32) == 'x' && isxdigit((unsigned char)p[2])) {
        p += 2;
        base = 16;
    } else if (base == 0) {
        base = p[0] == '0' ? 8 : 10;
    }
    unsigned long long v = 0;
    const char *start = p;
    *overflow = 0;
    for (;; p++) {
        int c = (unsigned char)*p, d;
        if (c >= '0' && c <= '9') d = c - '0';
        else if ((c | 32) >= 'a' && (c | 32) <= 'z') d = (c | 32) - 'a' + 10;
        else break;
        if (d >= base)
            break;
        if (v > (ULLONG_MAX - (unsigned)d) / (unsigned)base)
            *overflow = 1;
        else
            v = v * (unsigned)base + (unsigned)d;
    }
    *out = v;
    return p == start ? s : p;
}

unsigned long long strtoull(const char *s, char **end, int base)
{
    int neg, overflow;
    unsigned long long v;
    const char *e = parse_magnitude(s, base, &neg, &v, &overflow);
    if (end)
        *end = (char *)e;
    if (overflow) {
        errno = ERANGE;
        return ULLONG_MAX;
    }
    return neg ? -v : v;
}

long long strtoll(const char *s, char **end, int base)
{
    int neg, overflow;
    unsigned long long v;
    const char *e = parse_magnitude(s, base, &neg, &v, &overflow);
    if (end)
        *end = (char *)e;
    unsigned long long limit = neg ? (unsigned long long)LLONG_MAX + 1 : LLONG_MAX;
    if (overflow || v > limit) {
        errno = ERANGE;
        return neg ? LLONG_MIN : LLONG_MAX;
    }
    return neg ? (long long)(0 - v) : (long long)v;
}

long strtol(const char *s, char **end, int base) { return strtoll(s, end, base); }
unsigned long strtoul(const char *s, char **end, int base) { return strtoull(s, end, base); }
intmax_t strtoimax(const char *s, char **end, int base) { return strtoll(s, end, base); }
uintmax_t strtoumax(const char *s, char **end, int base) { return strtoull(s, end, base); }
int atoi(const char *s) { return (int)strtol(s, NULL, 10); }
long atol(const char *s) { return strtol(s, NULL, 10); }
long long atoll(const char *s) { return strtoll(s, NULL, 10); }
int abs(int x) { return x < 0 ? -x : x; }
long labs(long x) { return x < 0 ? -x : x; }
long long llabs(long long x) { return x < 0 ? -x : x; }
div_t div(int a, int b) { return (div_t){a / b, a % b}; }
ldiv_t ldiv(long a, long b) { return (ldiv_t){a / b, a % b}; }
lldiv_t lldiv(long long a, long long b) { return (lldiv_t){a / b, a % b}; }

/* ---- qsort: introsort-free but bounded: median-of-three quicksort recursing into the
 * smaller side, insertion sort for short runs, heapsort when the depth runs out. ---- */

static void swap_bytes(char *a, char *b, size_t n)
{
    while (n--) {
        char t = *a;
        *a++ = *b;
        *b++ = t;
    }
}

typedef int (*cmp_fn)(const void *, const void *);

static void insertion(char *base, size_t n, size_t sz, cmp_fn cmp)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && cmp(base + (j - 1) * sz, base + j * sz) > 0; j--)
            swap_bytes(base + (j - 1) * sz, base + j * sz, sz);
}

static void sift(char *base, size_t root, size_t n, size_t sz, cmp_fn cmp)
{
    for (;;) {
        size_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && cmp(base + child * sz, base + (child + 1) * sz) < 0)
            child++;
        if (cmp(base + root * sz, base + child * sz) >= 0)
            return;
        swap_bytes(base + root * sz, base + child * sz, sz);
        root = child;
    }
}

static void heapsort_bytes(char *base, size_t n, size_t sz, cmp_fn cmp)
{
    for (size_t i = n / 2; i-- > 0;)
        sift(base, i, n, sz, cmp);
    for (size_t end = n; end-- > 1;) {
        swap_bytes(base, base + end * sz, sz);
        sift(base, 0, end, sz, cmp);
    }
}

static void quick(char *base, size_t n, size_t sz, cmp_fn cmp, int depth)
{
    while (n > 12) {
        if (depth-- == 0) {
            heapsort_bytes(base, n, sz, cmp);
            return;
        }
        char *a = base, *m = base + (n / 2) * sz, *z = base + (n - 1) * sz;
        if (cmp(m, a) < 0) swap_bytes(m, a, sz);
        if (cmp(z, m) < 0) swap_bytes(z, m, sz);
        if (cmp(m, a) < 0) swap_bytes(m, a, sz);
        swap_bytes(m, base, sz); /* pivot to the front */
        size_t i = 1, j = n - 1;
        for (;;) {
            while (i < n && cmp(base + i * sz, base) < 0) i++;
            while (cmp(base + j * sz, base) > 0) j--;
            if (i >= j)
                break;
            swap_bytes(base + i * sz, base + j * sz, sz);
            i++;
            j--;
        }
        swap_bytes(base, base + j * sz, sz);
        size_t left = j, right = n - j - 1;
        if (left < right) {
            quick(base, left, sz, cmp, depth);
            base += (j + 1) * sz;
            n = right;
        } else {
            quick(base + (j + 1) * sz, right, sz, cmp, depth);
            n = left;
        }
    }
    insertion(base, n, sz, cmp);
}

void qsort(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
    int depth = 0;
    for (size_t k = n; k; k >>= 1)
        depth += 2;
    if (n > 1 && size > 0)
        quick(base, n, size, cmp, depth);
}

void *bsearch(const void *key, const void *base, size_t n, size_t size,
              int (*cmp)(const void *, const void *))
{
    const char *lo = base;
    while (n > 0) {
        const char *mid = lo + (n / 2) * size;
        int c = cmp(key, mid);
        if (c == 0)
            return (void *)mid;
        if (c > 0) {
            lo = mid + size;
            n -= n / 2 + 1;
        } else {
            n /= 2;
        }
    }
    return NULL;
}

/* rand: a 64-bit LCG (Knuth's MMIX constants), the top 31 bits; srand(1) is the default
 * and every fragment starts from it. */
static unsigned long long rand_state = 1;

int rand(void)
{
    rand_state = rand_state * 6364136223846793005ull + 1442695040888963407ull;
    return (int)(rand_state >> 33);
}

void srand(unsigned seed)
{
    rand_state = seed;
}

char *getenv(const char *name)
{
    (void)name;
    return NULL; /* no environment in the sandbox */
}

int system(const char *command)
{
    return command ? -1 : 0; /* no command processor */
}

int mblen(const char *s, size_t n)
{
    return s ? (n == 0 ? -1 : *s != 0) : 0;
}

int mbtowc(wchar_t *wc, const char *s, size_t n)
{
    if (!s)
        return 0;
    if (n == 0)
        return -1;
    if (wc)
        *wc = (unsigned char)*s;
    return *s != 0;
}

int wctomb(char *s, wchar_t wc)
{
    if (!s)
        return 0;
    if (wc < 0 || wc > 255) {
        errno = EILSEQ;
        return -1;
    }
    *s = (char)wc;
    return 1;
}
