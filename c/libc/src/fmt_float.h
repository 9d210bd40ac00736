/* Exact decimal digits of doubles, and correct rounding of them (printf.c, tests). */
#ifndef CPUSHARE_FMT_FLOAT_H
#define CPUSHARE_FMT_FLOAT_H

#define FMT_DIGITS_MAX 1100 /* 767 significant digits at most, plus slack */

/* The exact decimal expansion of finite x > 0: digits d[0..n) (no trailing zeros) and *X,
 * the power of ten of d[0] (x = d0.d1d2... x 10^X). Returns n. */
int __cpushare_exact_digits(double x, char *d, int *X);

/* Round d[0..n) to `keep` digits, halfway cases to even (the value is exact, so this is
 * the correctly rounded result). Returns the new count (0: the value rounded to zero);
 * a carry out of the first digit increments *X. */
int __cpushare_round_digits(char *d, int n, int keep, int *X);
#endif
