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

double rt_sqrt(double x);
double rt_fabs(double x);
double rt_floor(double x);
double rt_ceil(double x);
double rt_fmin(double a, double b);
double rt_fmax(double a, double b);
double rt_exp(double x);
double rt_log(double x);
double rt_pow(double x, double y);
double rt_sin(double x);
double rt_cos(double x);
double rt_tan(double x);
int rt_isfinite(double x);

#endif
