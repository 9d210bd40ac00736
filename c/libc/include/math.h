/* math.h for sandbox programs: deterministic, the same bits on every x86-64 CPU (plain
 * IEEE-754 double arithmetic with SSE2, never the x87 transcendental instructions, whose
 * results differ between CPU vendors). sqrt, fabs, floor, ceil, trunc, round, rint, fmod,
 * ldexp, frexp, modf, copysign, nextafter, fmin, fmax are exact (correctly rounded);
 * exp, log, pow, sin, cos, tan within about 1 ulp (c/rt/rt_math.c); the others within a
 * few ulp. float versions compute in double and round once. */
#ifndef _CPUSHARE_MATH_H
#define _CPUSHARE_MATH_H

#define HUGE_VAL (__builtin_huge_val())
#define HUGE_VALF (__builtin_huge_valf())
#define HUGE_VALL (__builtin_huge_vall())
#define INFINITY (__builtin_inff())
#define NAN (__builtin_nanf(""))
#define M_E 2.7182818284590452354
#define M_LOG2E 1.4426950408889634074
#define M_LOG10E 0.43429448190325182765
#define M_LN2 0.69314718055994530942
#define M_LN10 2.30258509299404568402
#define M_PI 3.14159265358979323846
#define M_PI_2 1.57079632679489661923
#define M_PI_4 0.78539816339744830962
#define M_1_PI 0.31830988618379067154
#define M_2_PI 0.63661977236758134308
#define M_SQRT2 1.41421356237309504880
#define M_SQRT1_2 0.70710678118654752440
#define FP_NAN 0
#define FP_INFINITE 1
#define FP_ZERO 2
#define FP_SUBNORMAL 3
#define FP_NORMAL 4
#define MATH_ERRNO 1
#define MATH_ERREXCEPT 2
#define math_errhandling 0
typedef double double_t;
typedef float float_t;

#define fpclassify(x) __builtin_fpclassify(FP_NAN, FP_INFINITE, FP_NORMAL, FP_SUBNORMAL, FP_ZERO, x)
#define isnan(x) __builtin_isnan(x)
#define isinf(x) __builtin_isinf_sign(x)
#define isfinite(x) __builtin_isfinite(x)
#define isnormal(x) __builtin_isnormal(x)
#define signbit(x) __builtin_signbit(x)
#define isgreater(x, y) __builtin_isgreater(x, y)
#define isgreaterequal(x, y) __builtin_isgreaterequal(x, y)
#define isless(x, y) __builtin_isless(x, y)
#define islessequal(x, y) __builtin_islessequal(x, y)
#define islessgreater(x, y) __builtin_islessgreater(x, y)
#define isunordered(x, y) __builtin_isunordered(x, y)

#define __CPUSHARE_MATH1(name) double name(double); float name##f(float);
#define __CPUSHARE_MATH2(name) double name(double, double); float name##f(float, float);
__CPUSHARE_MATH1(sqrt) __CPUSHARE_MATH1(fabs) __CPUSHARE_MATH1(floor) __CPUSHARE_MATH1(ceil)
__CPUSHARE_MATH1(trunc) __CPUSHARE_MATH1(round) __CPUSHARE_MATH1(rint)
__CPUSHARE_MATH1(nearbyint) __CPUSHARE_MATH1(exp) __CPUSHARE_MATH1(exp2)
__CPUSHARE_MATH1(expm1) __CPUSHARE_MATH1(log) __CPUSHARE_MATH1(log2) __CPUSHARE_MATH1(log10)
__CPUSHARE_MATH1(log1p) __CPUSHARE_MATH1(sin) __CPUSHARE_MATH1(cos) __CPUSHARE_MATH1(tan)
__CPUSHARE_MATH1(asin) __CPUSHARE_MATH1(acos) __CPUSHARE_MATH1(atan) __CPUSHARE_MATH1(sinh)
__CPUSHARE_MATH1(cosh) __CPUSHARE_MATH1(tanh) __CPUSHARE_MATH1(asinh) __CPUSHARE_MATH1(acosh)
__CPUSHARE_MATH1(atanh) __CPUSHARE_MATH1(cbrt) __CPUSHARE_MATH1(logb)
__CPUSHARE_MATH2(pow) __CPUSHARE_MATH2(fmod) __CPUSHARE_MATH2(atan2) __CPUSHARE_MATH2(hypot)
__CPUSHARE_MATH2(fmin) __CPUSHARE_MATH2(fmax) __CPUSHARE_MATH2(copysign)
__CPUSHARE_MATH2(nextafter) __CPUSHARE_MATH2(fdim) __CPUSHARE_MATH2(remainder)
#undef __CPUSHARE_MATH1
#undef __CPUSHARE_MATH2
double ldexp(double x, int e);
float ldexpf(float x, int e);
double scalbn(double x, int e);
double frexp(double x, int *e);
float frexpf(float x, int *e);
double modf(double x, double *ip);
float modff(float x, float *ip);
long lround(double x);
long long llround(double x);
long lrint(double x);
long long llrint(double x);
int ilogb(double x);
double fma(double x, double y, double z);
double nan(const char *tag);
#endif
