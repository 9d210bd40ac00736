/* Unsigned big integers for exact decimal <-> binary conversion (printf, strtod). Fixed
 * size: 5,760 bits hold every value the conversions need (a double's exact decimal
 * expansion, or 800 decimal digits times a power of 5 and 2). */
#ifndef CPUSHARE_BIGNUM_H
#define CPUSHARE_BIGNUM_H
#include <stdint.h>

#define BIG_WORDS 180

typedef struct {
    int n; /* used words; w[n-1] != 0 unless n == 0 */
    uint32_t w[BIG_WORDS];
} big;

void big_set_u64(big *a, uint64_t v);
void big_mul_small(big *a, uint32_t m);
void big_add_small(big *a, uint32_t v);
void big_mul_pow5(big *a, int k);
void big_shl(big *a, int bits);
int big_cmp(const big *a, const big *b);
uint32_t big_divmod_small(big *a, uint32_t d); /* a /= d, returns a % d */
int big_is_zero(const big *a);
#endif
