/* rt_math.c -- see rt_math.h. Freestanding: no headers beyond <stdint.h>. */
#include <stdint.h>
#define RT_MATH_IMPL
#include "rt_math.h"

static uint64_t bits_of(double x)
{
    union { double d; uint64_t u; } v;
    v.d = x;
    return v.u;
}

static double double_of(uint64_t u)
{
    union { double d; uint64_t u; } v;
    v.u = u;
    return v.d;
}

int rt_isfinite(double x)
{
    return (bits_of(x) & 0x7ff0000000000000ULL) != 0x7ff0000000000000ULL;
}

/* 2^k for -1022 <= k <= 1023 */
static double pow2i(int k)
{
    return double_of((uint64_t)(k + 1023) << 52);
}

static const double LN2_HI = 6.93147180369123816490e-01; /* 32 significant bits: k*LN2_HI exact */
static const double LN2_LO = 1.90821492927058770002e-10;
static const double INV_LN2 = 1.44269504088896338700e+00;

/* nearest integer of x (|x| < 2^31), ties away from zero */
static int nearest_int(double x)
{
    return (int)(x < 0.0 ? x - 0.5 : x + 0.5);
}

/* Dekker's exact product without FMA: a*b = *hi + *lo exactly (no overflow assumed). */
static void two_prod(double a, double b, double *hi, double *lo)
{
    const double split = 134217729.0; /* 2^27 + 1 */
    double ca = split * a, cb = split * b;
    double ah = ca - (ca - a), al = a - ah;
    double bh = cb - (cb - b), bl = b - bh;
    *hi = a * b;
    *lo = ((ah * bh - *hi) + ah * bl + al * bh) + al * bl;
}

/* a + b = *s + *e exactly (Knuth's two-sum) */
static void two_sum(double a, double b, double *s, double *e)
{
    *s = a + b;
    double bb = *s - a;
    *e = (a - (*s - bb)) + (b - bb);
}

/* exp(x + tail), |tail| tiny compared with x's ulp-scale: the tail enters the reduced
   argument, which keeps pow's extra precision. */
static double exp_core(double x, double tail)
{
    if (x != x)
        return x;
    if (x > 709.782712893384)
        return double_of(0x7ff0000000000000ULL);
    if (x < -745.2)
        return 0.0;
    int k = nearest_int(x * INV_LN2);
    double hi = x - k * LN2_HI; /* exact */
    double r = (hi - k * LN2_LO) + tail;
    /* exp(r) = 1 + r + r^2 * (1/2! + r/3! + ... + r^11/13!), |r| <= 0.35 */
    static const double c[12] = {
        1.0 / 2, 1.0 / 6, 1.0 / 24, 1.0 / 120, 1.0 / 720, 1.0 / 5040, 1.0 / 40320,
        1.0 / 362880, 1.0 / 3628800, 1.0 / 39916800, 1.0 / 479001600, 1.0 / 6227020800.0,
    };
    double p = c[11];
    for (int i = 10; i >= 0; i--)
        p = p * r + c[i];
    double e = 1.0 + (r + r * r * p);
    if (k > 1023)
        return e * pow2i(1023) * pow2i(k - 1023);
    if (k < -1021)
        return e * pow2i(k + 1000) * pow2i(-1000);
    return e * pow2i(k);
}

double rt_exp(double x)
{
    return exp_core(x, 0.0);
}

/* Split finite x > 0 into x = 2^k * m, m in (sqrt(2)/2, sqrt(2)]. */
static double log_reduce(double x, int *k_out)
{
    uint64_t u = bits_of(x);
    int k = 0;
    if ((u >> 52) == 0) { /* subnormal */
        x *= 18014398509481984.0; /* 2^54 */
        u = bits_of(x);
        k = -54;
    }
    k += (int)(u >> 52) - 1023;
    double m = double_of((u & 0x000fffffffffffffULL) | 0x3ff0000000000000ULL); /* [1,2) */
    if (m > 1.4142135623730951) {
        m *= 0.5;
        k += 1;
    }
    *k_out = k;
    return m;
}

/* 2/3 + 2z/5 + 2z^2/7 + ... (the atanh series after 2s, divided by z) */
static double atanh_tail(double z)
{
    double R = 2.0 / 25.0;
    for (int n = 11; n >= 1; n--)
        R = R * z + 2.0 / (2 * n + 1);
    return R;
}

double rt_log(double x)
{
    if (x != x)
        return x;
    if (x < 0.0)
        return double_of(0x7ff8000000000000ULL);
    if (x == 0.0)
        return -double_of(0x7ff0000000000000ULL);
    if (!rt_isfinite(x))
        return x;
    int k;
    double m = log_reduce(x, &k);
    double f = m - 1.0; /* exact */
    double s = f / (2.0 + f);
    double z = s * s;
    /* log(1+f) = f - (hfsq - s*(hfsq + R)), R = z * atanh_tail(z) */
    double R = z * atanh_tail(z);
    double hfsq = 0.5 * f * f;
    double dk = (double)k;
    return dk * LN2_HI - ((hfsq - (s * (hfsq + R) + dk * LN2_LO)) - f);
}

/* log(x) as a double-double hi + lo (x finite, > 0), good to about 2^-62 relative. */
static void log_dd(double x, double *hi_out, double *lo_out)
{
    int k;
    double m = log_reduce(x, &k);
    double f = m - 1.0;             /* exact */
    double u_hi = 2.0 + f;
    double u_lo = f - (u_hi - 2.0); /* 2 + f = u_hi + u_lo exactly */
    double s_hi = f / u_hi;
    double p, e;
    two_prod(s_hi, u_hi, &p, &e);
    double s_lo = (((f - p) - e) - s_hi * u_lo) / u_hi; /* s = f / (2 + f) = s_hi + s_lo */
    double z = s_hi * s_hi;
    double tail = s_hi * z * atanh_tail(z); /* log(m) = 2s + tail */
    double dk = (double)k;
    double hi, lo;
    two_sum(dk * LN2_HI, 2.0 * s_hi, &hi, &lo); /* both terms exact */
    lo += 2.0 * s_lo + tail + dk * LN2_LO;
    two_sum(hi, lo, hi_out, lo_out);
}

static int is_integer(double y)
{
    return rt_floor(y) == y;
}

static int is_odd_integer(double y)
{
    if (!is_integer(y) || rt_fabs(y) >= 9007199254740992.0)
        return 0;
    return ((int64_t)y & 1) != 0;
}

double rt_pow(double x, double y)
{
    if (y == 0.0 || x == 1.0)
        return 1.0;
    if (x != x || y != y)
        return x + y;
    if (y == 1.0)
        return x;
    if (x == 0.0) {
        int odd = is_odd_integer(y);
        double r = y > 0.0 ? 0.0 : double_of(0x7ff0000000000000ULL);
        return (odd && bits_of(x) >> 63) ? -r : r;
    }
    if (x < 0.0) {
        if (!is_integer(y))
            return double_of(0x7ff8000000000000ULL);
        double r = rt_pow(-x, y);
        return is_odd_integer(y) ? -r : r;
    }
    if (y == 2.0)
        return x * x;
    if (y == 0.5)
        return rt_sqrt(x);
    if (!rt_isfinite(x) || !rt_isfinite(y)) {
        int big = x > 1.0;
        if (!rt_isfinite(x))
            return y > 0.0 ? x : 0.0;
        return (y > 0.0) == big ? double_of(0x7ff0000000000000ULL) : 0.0;
    }
    double lh, ll;
    log_dd(x, &lh, &ll);
    double t = y * lh;
    if (t > 710.0)
        return double_of(0x7ff0000000000000ULL);
    if (t < -746.0)
        return 0.0;
    double ph, pl;
    two_prod(y, lh, &ph, &pl);
    return exp_core(ph, pl + y * ll);
}

/* pi/2 split into three parts; the first two have 33 significant bits, so k*PIO2_1 and
   k*PIO2_2 are exact for |k| < 2^20. */
static const double PIO2_1 = 1.57079632673412561417e+00;
static const double PIO2_2 = 6.07710050630396597660e-11;
static const double PIO2_3 = 2.02226624879595063154e-21;
static const double TWO_OVER_PI = 6.36619772367581382433e-01;

/* x = q*pi/2 + r, |r| <= pi/4 (about) */
static double reduce(double x, int *q)
{
    if (rt_fabs(x) <= 0.7853981633974483) {
        *q = 0;
        return x;
    }
    double kd = rt_floor(x * TWO_OVER_PI + 0.5);
    *q = (int)((int64_t)kd & 3);
    return ((x - kd * PIO2_1) - kd * PIO2_2) - kd * PIO2_3;
}

/* sin(r) for |r| <= pi/4 */
static double k_sin(double r)
{
    double z = r * r;
    /* r^3 * (-1/3! + z/5! - ... + z^6/15!) */
    static const double c[7] = {
        -1.0 / 6, 1.0 / 120, -1.0 / 5040, 1.0 / 362880, -1.0 / 39916800,
        1.0 / 6227020800.0, -1.0 / 1307674368000.0,
    };
    double p = c[6];
    for (int i = 5; i >= 0; i--)
        p = p * z + c[i];
    return r + r * z * p;
}

/* cos(r) for |r| <= pi/4 */
static double k_cos(double r)
{
    double z = r * r;
    /* z^2 * (1/4! - z/6! + ... + z^6/16!) */
    static const double c[7] = {
        1.0 / 24, -1.0 / 720, 1.0 / 40320, -1.0 / 3628800, 1.0 / 479001600,
        -1.0 / 87178291200.0, 1.0 / 20922789888000.0,
    };
    double p = c[6];
    for (int i = 5; i >= 0; i--)
        p = p * z + c[i];
    double hz = 0.5 * z;
    double w = 1.0 - hz;
    return w + (((1.0 - w) - hz) + z * z * p);
}

double rt_sin(double x)
{
    if (!rt_isfinite(x))
        return x - x;
    int q;
    double r = reduce(x, &q);
    switch (q) {
    case 0: return k_sin(r);
    case 1: return k_cos(r);
    case 2: return -k_sin(r);
    default: return -k_cos(r);
    }
}

double rt_cos(double x)
{
    if (!rt_isfinite(x))
        return x - x;
    int q;
    double r = reduce(x, &q);
    switch (q) {
    case 0: return k_cos(r);
    case 1: return -k_sin(r);
    case 2: return -k_cos(r);
    default: return k_sin(r);
    }
}

double rt_tan(double x)
{
    if (!rt_isfinite(x))
        return x - x;
    int q;
    double r = reduce(x, &q);
    double s = k_sin(r), c = k_cos(r);
    return (q & 1) ? -c / s : s / c;
}
