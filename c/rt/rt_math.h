/* rt_math.h -- deterministic double-precision math for freestanding programs.
 *
 * Plain IEEE-754 double operations only (compile with -ffp-contract=off, no -ffast-math,
 * no FMA), so the hosted native renderer and the sandboxed client that both compile
 * rt_math.c get the same bits on every x86-64 CPU. No libc, no errno.
 *
 * Accuracy (checked against glibc libm by tests/povray/test_rt_math.py):
 *   rt_sqrt correctly rounded (sqrtsd); rt_floor/rt_ceil/rt_fabs/rt_fmin/rt_fmax exact;
 *   rt_exp, rt_log within ~1 ulp; rt_sin, rt_cos within ~1 ulp for |x| < 2^20 (larger
 *   arguments lose accuracy, their reduction is only Cody-Waite); rt_tan within ~2 ulp;
 *   rt_pow(x, y) within ~1 ulp (log in double-double, product split exactly).
 */
#ifndef RT_MATH_H
#define RT_MATH_H

#define RT_PI 3.14159265358979323846

/* The small functions are inline for speed in the renderer's inner loops; rt_math.c
   (compiled with RT_MATH_IMPL) also exports them under the same names. */
#ifdef RT_MATH_IMPL
#define RT_INLINE
#else
#define RT_INLINE static inline __attribute__((always_inline, unused))
#endif

RT_INLINE double rt_sqrt(double x)
{
    double r;
    __asm__("sqrtsd %1, %0" : "=x"(r) : "x"(x));
    return r;
}

RT_INLINE double rt_fabs(double x)
{
    union { double d; unsigned long long u; } v;
    v.d = x;
    v.u &= 0x7fffffffffffffffULL;
    return v.d;
}

RT_INLINE double rt_floor(double x)
{
    if (!(rt_fabs(x) < 4503599627370496.0) || x == 0.0) /* |x| >= 2^52, NaN, +-0 */
        return x;
    double t = (double)(long long)x;
    if (t > x)
        t -= 1.0;
    if (t == 0.0 && x < 0.0)
        return -0.0;
    return t;
}

RT_INLINE double rt_ceil(double x)
{
    return -rt_floor(-x);
}

RT_INLINE double rt_fmin(double a, double b)
{
    if (a != a) return b;
    if (b != b) return a;
    return a < b ? a : b;
}

RT_INLINE double rt_fmax(double a, double b)
{
    if (a != a) return b;
    if (b != b) return a;
    return a > b ? a : b;
}

#undef RT_INLINE

double rt_exp(double x);
double rt_log(double x);
double rt_pow(double x, double y);
double rt_sin(double x);
double rt_cos(double x);
double rt_tan(double x);
int rt_isfinite(double x);

#endif
