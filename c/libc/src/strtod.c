/* strtod, correctly rounded (round-half-even), decimal and hexadecimal.
 *
 * Decimal: the significant digits D (at most MAX_DIGITS kept; a nonzero tail beyond them
 * becomes one more '1' digit, which cannot change the rounding because a halfway point
 * between doubles has fewer than 770 significant digits) and the exponent E give the exact
 * value D x 10^E. A candidate from long double arithmetic is within a few ulp; it is then
 * corrected by comparing D x 10^E exactly (big integers) with the halfway points around it.
 * Small cases (D < 10^15, |E| <= 22) are exact in one IEEE operation. */
#include "bignum.h"
#include <math.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DIGITS 780

struct decimal {
    char d[MAX_DIGITS + 1];
    int n;   /* digits in d */
    long E;  /* value = D x 10^E */
};

static int match_word(const char *s, const char *word)
{
    size_t i = 0;
    for (; word[i]; i++) {
        if (tolower((unsigned char)s[i]) != word[i])
            return 0;
    }
    return 1;
}

double __cpushare_scale2(double x, long k)
{
    static const double up = 0x1p1000, down = 0x1p-1000;
    while (k > 1000) {
        x *= up;
        k -= 1000;
    }
    while (k < -1000) {
        x *= down;
        k += 1000;
    }
    uint64_t bits = (uint64_t)(1023 + (k < -1022 ? -1022 : k)) << 52;
    double p;
    memcpy(&p, &bits, 8);
    x *= p;
    if (k < -1022) {
        bits = (uint64_t)(1023 + (k + 1022)) << 52;
        memcpy(&p, &bits, 8);
        x *= p;
    }
    return x;
}

/* Parse the decimal digits and exponent; returns the end, or NULL if no digits. */
static const char *parse_decimal(const char *s, struct decimal *v)
{
    int any = 0, sticky = 0, seen_dot = 0;
    v->n = 0;
    v->E = 0;
    for (;; s++) {
        if (*s == '.' && !seen_dot) {
            seen_dot = 1;
            continue;
        }
        if (*s < '0' || *s > '9')
            break;
        any = 1;
        if (v->n == 0 && *s == '0') { /* leading zero */
            v->E -= seen_dot;
            continue;
        }
        if (v->n < MAX_DIGITS) {
            v->d[v->n++] = *s;
            v->E -= seen_dot;
        } else {
            sticky |= *s != '0';
            v->E += !seen_dot;
        }
    }
    if (!any)
        return NULL;
    if (sticky) {
        v->d[v->n++] = '1';
        v->E--;
    }
    if ((*s == 'e' || *s == 'E')) {
        const char *t = s + 1;
        int neg = 0;
        if (*t == '+' || *t == '-')
            neg = *t++ == '-';
        if (*t >= '0' && *t <= '9') {
            long ex = 0;
            while (*t >= '0' && *t <= '9') {
                if (ex < 100000000)
                    ex = ex * 10 + (*t - '0');
                t++;
            }
            v->E += neg ? -ex : ex;
            s = t;
        }
    }
    while (v->n > 0 && v->d[v->n - 1] == '0') { /* trailing zeros into the exponent */
        v->n--;
        v->E++;
    }
    return s;
}

static long double pow10l_approx(long k)
{
    long double r = 1.0L, b = 10.0L;
    unsigned long a = (unsigned long)(k < 0 ? -k : k);
    while (a) {
        if (a & 1)
            r *= b;
        b *= b;
        a >>= 1;
    }
    return k < 0 ? 1.0L / r : r;
}

/* sign of D x 10^E - H x 2^h */
static int compare(const big *dpart, long E, uint64_t H, long h)
{
    static big l, r;
    l = *dpart; /* already D x 5^E when E > 0 */
    big_set_u64(&r, H);
    if (E < 0)
        big_mul_pow5(&r, (int)-E);
    long d = E - h;
    if (d > 0)
        big_shl(&l, (int)d);
    else
        big_shl(&r, (int)-d);
    return big_cmp(&l, &r);
}

static double from_bits(uint64_t b)
{
    double x;
    memcpy(&x, &b, 8);
    return x;
}

/* Correct the candidate x (>= 0) to the double nearest D x 10^E; *dir = sign(value - x). */
static double correct(const struct decimal *v, double x, int *dir)
{
    static big dpart;
    big_set_u64(&dpart, 0);
    for (int i = 0; i < v->n;) {
        uint32_t chunk = 0, scale = 1;
        for (int k = 0; k < 9 && i < v->n; k++, i++) {
            chunk = chunk * 10 + (uint32_t)(v->d[i] - '0');
            scale *= 10;
        }
        big_mul_small(&dpart, scale);
        big_add_small(&dpart, chunk);
    }
    if (v->E > 0)
        big_mul_pow5(&dpart, (int)v->E);
    for (int iter = 0; iter < 64; iter++) {
        uint64_t bits;
        memcpy(&bits, &x, 8);
        if ((bits >> 52) == 0x7ff) { /* inf: is the value past DBL_MAX's upper halfway? */
            if (compare(&dpart, v->E, (1ull << 54) - 1, 970) >= 0) {
                *dir = 1;
                return x;
            }
            x = from_bits(0x7fefffffffffffffull);
            continue;
        }
        int be = (int)(bits >> 52);
        uint64_t m = bits & ((1ull << 52) - 1);
        long e = -1074;
        if (be) {
            m |= 1ull << 52;
            e = be - 1075;
        }
        int up = compare(&dpart, v->E, 2 * m + 1, e - 1);
        if (up > 0 || (up == 0 && (m & 1))) {
            x = from_bits(bits + 1);
            continue;
        }
        if (m > 0) {
            int lo = (m == (1ull << 52) && be > 1) ? compare(&dpart, v->E, 4 * m - 1, e - 2)
                                                   : compare(&dpart, v->E, 2 * m - 1, e - 1);
            if (lo < 0 || (lo == 0 && (m & 1))) {
                x = from_bits(bits - 1);
                continue;
            }
        }
        *dir = compare(&dpart, v->E, 2 * m, e - 1);
        return x;
    }
    return x;
}

static double decimal_to_double(const struct decimal *v, int *dir)
{
    static const double p10[23] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                   1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19,
                                   1e20, 1e21, 1e22};
    *dir = 0;
    if (v->n == 0)
        return 0.0;
    if (v->E + v->n > 310) {
        errno = ERANGE;
        *dir = 1;
        return __builtin_inf();
    }
    if (v->E + v->n < -330) {
        errno = ERANGE;
        *dir = 1;
        return 0.0;
    }
    uint64_t lead = 0;
    int nl = v->n < 19 ? v->n : 19;
    for (int i = 0; i < nl; i++)
        lead = lead * 10 + (uint64_t)(v->d[i] - '0');
    if (v->n <= 15 && v->E >= -22 && v->E <= 22) {
        double x = (double)lead;
        return v->E >= 0 ? x * p10[v->E] : x / p10[-v->E];
    }
    long double approx = (long double)lead * pow10l_approx(v->E + (v->n - nl));
    double x = (double)approx;
    x = correct(v, x, dir);
    if (x == 0.0 || x - x != 0)
        errno = ERANGE;
    return x;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c |= 32;
    return (c >= 'a' && c <= 'f') ? c - 'a' + 10 : -1;
}

/* Hexadecimal: up to 16 digits exactly plus a sticky bit, then one rounding. */
static const char *parse_hex(const char *s, double *out)
{
    uint64_t mant = 0;
    long bexp = 0;
    int any = 0, sticky = 0, dot = 0, digits = 0;
    for (;; s++) {
        if (*s == '.' && !dot) {
            dot = 1;
            continue;
        }
        int h = hexval((unsigned char)*s);
        if (h < 0)
            break;
        any = 1;
        if (digits < 16) {
            if (mant || h) {
                mant = mant << 4 | (uint64_t)h;
                digits += mant != 0;
            }
            if (dot)
                bexp -= 4;
        } else {
            sticky |= h != 0;
            if (!dot)
                bexp += 4;
        }
    }
    if (!any)
        return NULL;
    if (*s == 'p' || *s == 'P') {
        const char *t = s + 1;
        int neg = 0;
        if (*t == '+' || *t == '-')
            neg = *t++ == '-';
        if (*t >= '0' && *t <= '9') {
            long ex = 0;
            while (*t >= '0' && *t <= '9') {
                if (ex < 100000000)
                    ex = ex * 10 + (*t - '0');
                t++;
            }
            bexp += neg ? -ex : ex;
            s = t;
        }
    }
    if (mant == 0) {
        *out = 0.0;
        return s;
    }
    while (!(mant >> 63)) {
        mant <<= 1;
        bexp--;
    }
    long top = bexp + 63; /* value in [2^top, 2^(top+1)) */
    if (top > 1023) {
        errno = ERANGE;
        *out = __builtin_inf();
        return s;
    }
    long keep = top >= -1022 ? 53 : 53 - (-1022 - top);
    if (keep < 0) {
        errno = ERANGE;
        *out = 0.0;
        return s;
    }
    int drop = (int)(64 - keep); /* 11 .. 64 */
    uint64_t kept, rest, half;
    if (drop == 64) {
        kept = 0;
        rest = mant;
        half = 1ull << 63;
    } else {
        kept = mant >> drop;
        rest = mant & ((1ull << drop) - 1);
        half = 1ull << (drop - 1);
    }
    if (rest > half || (rest == half && (sticky || (kept & 1))))
        kept++;
    *out = __cpushare_scale2((double)kept, bexp + drop);
    if (*out - *out != 0 || *out == 0.0)
        errno = ERANGE;
    return s;
}

double __cpushare_strtod(const char *s, char **end, int *dir)
{
    const char *p = s;
    while (isspace((unsigned char)*p))
        p++;
    int neg = 0;
    if (*p == '+' || *p == '-')
        neg = *p++ == '-';
    double x = 0.0;
    const char *q = NULL;
    *dir = 0;
    if (match_word(p, "infinity")) {
        x = __builtin_inf();
        q = p + 8;
    } else if (match_word(p, "inf")) {
        x = __builtin_inf();
        q = p + 3;
    } else if (match_word(p, "nan")) {
        x = __builtin_nan("");
        q = p + 3;
        if (*q == '(') {
            const char *t = q + 1;
            while (isalnum((unsigned char)*t) || *t == '_')
                t++;
            if (*t == ')')
                q = t + 1;
        }
    } else if (p[0] == '0' && (p[1] | 32) == 'x' &&
               (hexval((unsigned char)p[2]) >= 0 || (p[2] == '.' && hexval((unsigned char)p[3]) >= 0))) {
        q = parse_hex(p + 2, &x);
    } else {
        static struct decimal v;
        q = parse_decimal(p, &v);
        if (q)
            x = decimal_to_double(&v, dir);
    }
    if (!q) {
        if (end)
            *end = (char *)s;
        return 0.0;
    }
    if (end)
        *end = (char *)q;
    if (neg)
        *dir = -*dir;
    return neg ? -x : x;
}

double strtod(const char *s, char **end)
{
    int dir;
    return __cpushare_strtod(s, end, &dir);
}

/* float: round the double; if the double sits exactly on a float halfway point but the
 * decimal value was not exactly there, step toward the value (no double rounding). */
float strtof(const char *s, char **end)
{
    int dir;
    double d = __cpushare_strtod(s, end, &dir);
    float f = (float)d;
    if (dir != 0 && (double)f != d && f - f == 0) {
        float other = dir > 0 ? nextafterf(f, __builtin_inff())
                              : nextafterf(f, -__builtin_inff());
        double mid = ((double)f + (double)other) / 2;
        if (mid == d && ((dir > 0) == (other > f)))
            f = other;
    }
    return f;
}

/* long double has no more precision here than double (documented in docs/sandbox.md). */
long double strtold(const char *s, char **end)
{
    return strtod(s, end);
}

double atof(const char *s)
{
    return strtod(s, NULL);
}
