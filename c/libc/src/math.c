/* math.h: deterministic double precision (see the header). The hard kernels (exp, log, pow,
 * sin, cos, tan) are c/rt's rt_math.c; the rest are built from them and from exact bit
 * operations. Only SSE2 double arithmetic is used (no x87 transcendental instructions, no
 * FMA), so every x86-64 CPU gives the same bits. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

double rt_exp(double x);
double rt_log(double x);
double rt_pow(double x, double y);
double rt_sin(double x);
double rt_cos(double x);
double rt_tan(double x);
double __cpushare_scale2(double x, long k);

static uint64_t bits_of(double x)
{
    uint64_t b;
    memcpy(&b, &x, 8);
    return b;
}

static double from_bits(uint64_t b)
{
    double x;
    memcpy(&x, &b, 8);
    return x;
}

double sqrt(double x)
{
    double r;
    __asm__("sqrtsd %1, %0" : "=x"(r) : "x"(x));
    return r;
}

double fabs(double x) { return from_bits(bits_of(x) & ~(1ull << 63)); }
double copysign(double x, double y) { return from_bits((bits_of(x) & ~(1ull << 63)) | (bits_of(y) & (1ull << 63))); }

double trunc(double x)
{
    int e = (int)((bits_of(x) >> 52) & 0x7ff) - 1023;
    if (e >= 52)
        return x; /* integral, inf or nan */
    if (e < 0)
        return copysign(0.0, x);
    return from_bits(bits_of(x) & ~((1ull << (52 - e)) - 1));
}

double floor(double x)
{
    double t = trunc(x);
    return (t != x && x < 0) ? t - 1.0 : t;
}

double ceil(double x)
{
    double t = trunc(x);
    return (t != x && x > 0) ? t + 1.0 : t;
}

double round(double x)
{
    double t = trunc(x);
    if (fabs(x - t) >= 0.5)
        t += copysign(1.0, x);
    return t;
}

double rint(double x) /* round half to even (the default rounding mode) */
{
    static const double two52 = 4503599627370496.0;
    if (!(fabs(x) < two52))
        return x;
    double r = fabs(x) + two52 - two52;
    return copysign(r, x);
}

double nearbyint(double x) { return rint(x); }
long lround(double x) { return (long)round(x); }
long long llround(double x) { return (long long)round(x); }
long lrint(double x) { return (long)rint(x); }
long long llrint(double x) { return (long long)rint(x); }

double fmin(double a, double b) { return a != a ? b : b != b ? a : a < b ? a : b; }
double fmax(double a, double b) { return a != a ? b : b != b ? a : a > b ? a : b; }
double fdim(double a, double b) { return a != a || b != b ? a + b : a > b ? a - b : 0.0; }

double ldexp(double x, int e)
{
    if (x == 0 || x - x != 0)
        return x;
    /* scale2 is exact unless the result is not representable; round once at the end by
     * splitting the step so only the last multiplication can round */
    return __cpushare_scale2(x, e);
}

double scalbn(double x, int e) { return ldexp(x, e); }

double frexp(double x, int *e)
{
    uint64_t b = bits_of(x);
    int be = (int)((b >> 52) & 0x7ff);
    if (x == 0 || be == 0x7ff) {
        *e = 0;
        return x;
    }
    if (be == 0) { /* subnormal: normalise first */
        x *= 0x1p64;
        b = bits_of(x);
        be = (int)((b >> 52) & 0x7ff) - 64;
    }
    *e = be - 1022;
    return from_bits((b & ~(0x7ffull << 52)) | (1022ull << 52));
}

int ilogb(double x)
{
    int e;
    if (x == 0)
        return -2147483647 - 1;
    if (x != x)
        return -2147483647 - 1;
    if (x - x != 0)
        return 2147483647;
    frexp(x, &e);
    return e - 1;
}

double logb(double x)
{
    if (x == 0)
        return -1.0 / 0.0;
    if (x - x != 0)
        return x * x;
    return (double)ilogb(x);
}

double modf(double x, double *ip)
{
    double t = trunc(x);
    *ip = t;
    if (x - x != 0)
        return x != x ? x : copysign(0.0, x);
    return copysign(x - t, x);
}

/* Exact remainder x - n*y with n = trunc(x/y), by binary long division on the bits. */
double fmod(double x, double y)
{
    if (y == 0 || x - x != 0 || y != y)
        return (x * y) / (x * y);
    double ax = fabs(x), ay = fabs(y);
    if (ax < ay)
        return x;
    int ex, ey;
    double mx = frexp(ax, &ex), my = frexp(ay, &ey);
    uint64_t a = (uint64_t)(mx * 0x1p53), b = (uint64_t)(my * 0x1p53);
    for (int k = ex - ey; k > 0; k--) {
        if (a >= b)
            a -= b;
        a <<= 1;
    }
    if (a >= b)
        a -= b;
    return copysign(ldexp((double)a, ey - 53), x);
}

double remainder(double x, double y)
{
    double r = fmod(x, y);
    double ay = fabs(y);
    if (r != r || ay - ay != 0)
        return r;
    double ar = fabs(r);
    if (ar > ay - ar || (ar == ay - ar && fmod(fabs(x) - ar, 2 * ay) != 0))
        r = r > 0 ? r - ay : r + ay;
    return r;
}

double nextafter(double x, double y)
{
    if (x != x || y != y)
        return x + y;
    if (x == y)
        return y;
    if (x == 0)
        return copysign(from_bits(1), y);
    uint64_t b = bits_of(x);
    b += ((x < y) == (x > 0)) ? 1 : -1;
    return from_bits(b);
}

double exp(double x) { return rt_exp(x); }
double log(double x) { return rt_log(x); }
double pow(double x, double y) { return rt_pow(x, y); }
double sin(double x) { return rt_sin(x); }
double cos(double x) { return rt_cos(x); }
double tan(double x) { return rt_tan(x); }
double exp2(double x) { return rt_pow(2.0, x); }
double log2(double x) { return rt_log(x) * M_LOG2E; }
double log10(double x) { return rt_log(x) * M_LOG10E; }

double expm1(double x)
{
    if (fabs(x) < 1e-5)
        return x + x * x / 2 + x * x * x / 6;
    return rt_exp(x) - 1.0;
}

double log1p(double x)
{
    double u = 1.0 + x;
    if (u == 1.0)
        return x;
    return rt_log(u) * (x / (u - 1.0)); /* corrects the rounding of 1 + x */
}

/* atan: reduce to |t| <= tan(pi/12) with atan(x) = pi/6 + atan((x*sqrt3 - 1)/(x + sqrt3)),
 * then a Taylor series of 20 terms. */
static double atan_kernel(double t)
{
    double t2 = t * t, term = t, sum = 0;
    for (int k = 0; k < 22; k++) {
        sum += term / (2 * k + 1);
        term *= -t2;
    }
    return sum;
}

double atan(double x)
{
    if (x != x)
        return x;
    double ax = fabs(x), r;
    int invert = ax > 1.0;
    if (invert)
        ax = 1.0 / ax;
    static const double sqrt3 = 1.7320508075688772, tan15 = 0.2679491924311227;
    if (ax > tan15)
        r = M_PI / 6 + atan_kernel((ax * sqrt3 - 1.0) / (ax + sqrt3));
    else
        r = atan_kernel(ax);
    if (invert)
        r = M_PI_2 - r;
    return copysign(r, x);
}

double atan2(double y, double x)
{
    if (x != x || y != y)
        return x + y;
    if (y == 0) {
        if (signbit(x))
            return copysign(M_PI, y);
        return y;
    }
    if (x == 0)
        return copysign(M_PI_2, y);
    if (x - x != 0) {
        if (y - y != 0)
            return copysign(signbit(x) ? 3 * M_PI_4 : M_PI_4, y);
        return signbit(x) ? copysign(M_PI, y) : copysign(0.0, y);
    }
    if (y - y != 0)
        return copysign(M_PI_2, y);
    double r = atan(fabs(y / x));
    if (x < 0)
        r = M_PI - r;
    return copysign(r, y);
}

double asin(double x)
{
    if (fabs(x) > 1) {
        errno = EDOM;
        return (x - x) / (x - x);
    }
    return atan2(x, sqrt((1 - x) * (1 + x)));
}

double acos(double x)
{
    if (fabs(x) > 1) {
        errno = EDOM;
        return (x - x) / (x - x);
    }
    return atan2(sqrt((1 - x) * (1 + x)), x);
}

double sinh(double x)
{
    if (fabs(x) < 1e-5)
        return x + x * x * x / 6;
    double e = rt_exp(fabs(x));
    return copysign((e - 1 / e) / 2, x);
}

double cosh(double x)
{
    double e = rt_exp(fabs(x));
    return (e + 1 / e) / 2;
}

double tanh(double x)
{
    if (fabs(x) > 22)
        return copysign(1.0, x);
    if (fabs(x) < 1e-5)
        return x - x * x * x / 3;
    double e = rt_exp(2 * fabs(x));
    return copysign((e - 1) / (e + 1), x);
}

double asinh(double x)
{
    double a = fabs(x);
    if (a < 1e-5)
        return x;
    return copysign(rt_log(a + sqrt(a * a + 1)), x);
}

double acosh(double x) { return rt_log(x + sqrt(x * x - 1)); }
double atanh(double x) { return 0.5 * log1p(2 * x / (1 - x)); }

double cbrt(double x)
{
    if (x == 0 || x - x != 0)
        return x;
    double a = fabs(x), r = rt_pow(a, 1.0 / 3.0);
    r = r - (r * r * r - a) / (3 * r * r); /* one Newton step */
    return copysign(r, x);
}

double hypot(double x, double y)
{
    double a = fabs(x), b = fabs(y);
    if (a - a != 0 || b - b != 0)
        return (a != a || b != b) && a - a == 0 && b - b == 0 ? a + b : 1.0 / 0.0;
    if (a < b) {
        double t = a;
        a = b;
        b = t;
    }
    if (a == 0)
        return 0;
    double r = b / a;
    return a * sqrt(1 + r * r);
}

double fma(double x, double y, double z) { return x * y + z; } /* not fused: no FMA */

double nan(const char *tag)
{
    (void)tag;
    return __builtin_nan("");
}

/* float versions: compute in double, round once */
#define F1(name) float name##f(float x) { return (float)name((double)x); }
#define F2(name) float name##f(float x, float y) { return (float)name((double)x, (double)y); }
F1(sqrt) F1(fabs) F1(floor) F1(ceil) F1(trunc) F1(round) F1(rint) F1(nearbyint) F1(exp)
F1(exp2) F1(expm1) F1(log) F1(log2) F1(log10) F1(log1p) F1(sin) F1(cos) F1(tan) F1(asin)
F1(acos) F1(atan) F1(sinh) F1(cosh) F1(tanh) F1(asinh) F1(acosh) F1(atanh) F1(cbrt) F1(logb)
F2(pow) F2(fmod) F2(atan2) F2(hypot) F2(fmin) F2(fmax) F2(copysign) F2(fdim)
F2(remainder)
float ldexpf(float x, int e) { return (float)ldexp(x, e); }
float frexpf(float x, int *e) { return (float)frexp(x, e); }
float modff(float x, float *ip)
{
    double i;
    float r = (float)modf(x, &i);
    *ip = (float)i;
    return r;
}

float nextafterf(float x, float y)
{
    if (x != x || y != y)
        return x + y;
    if (x == y)
        return y;
    uint32_t b;
    if (x == 0) {
        b = 1;
        float r;
        memcpy(&r, &b, 4);
        return y > 0 ? r : -r;
    }
    memcpy(&b, &x, 4);
    b += ((x < y) == (x > 0)) ? 1 : (uint32_t)-1;
    memcpy(&x, &b, 4);
    return x;
}
