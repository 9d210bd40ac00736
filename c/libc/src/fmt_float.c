/* Exact decimal expansion of doubles (see fmt_float.h): x = m * 2^e, so x = m * 5^-e * 10^e
 * when e < 0 and x = (m << e) when e >= 0; the integer is turned into decimal digits nine at
 * a time. */
#include "fmt_float.h"
#include "bignum.h"
#include <stdint.h>
#include <string.h>

int __cpushare_exact_digits(double x, char *d, int *X)
{
    uint64_t bits;
    memcpy(&bits, &x, 8);
    int be = (int)((bits >> 52) & 0x7ff);
    uint64_t m = bits & ((1ull << 52) - 1);
    if (be)
        m |= 1ull << 52;
    else
        be = 1;
    int e = be - 1075;
    while (!(m & 1)) {
        m >>= 1;
        e++;
    }
    big n;
    big_set_u64(&n, m);
    int pow10 = 0;
    if (e >= 0) {
        big_shl(&n, e);
    } else {
        big_mul_pow5(&n, -e);
        pow10 = e;
    }
    char rev[FMT_DIGITS_MAX + 16];
    int len = 0;
    while (!big_is_zero(&n)) {
        uint32_t r = big_divmod_small(&n, 1000000000u);
        for (int i = 0; i < 9; i++) {
            rev[len++] = (char)('0' + r % 10);
            r /= 10;
        }
    }
    while (len > 1 && rev[len - 1] == '0')
        len--;
    int start = 0;
    while (start < len - 1 && rev[start] == '0')
        start++; /* trailing zeros of the integer */
    int nd = len - start;
    for (int i = 0; i < nd; i++)
        d[i] = rev[len - 1 - i];
    *X = len - 1 + pow10;
    return nd;
}

int __cpushare_round_digits(char *d, int n, int keep, int *X)
{
    if (keep >= n)
        return n;
    if (keep < 0)
        return 0;
    int first = d[keep] - '0';
    int rest_nonzero = n > keep + 1; /* no trailing zeros: more digits means nonzero */
    int last_odd = keep > 0 && ((d[keep - 1] - '0') & 1);
    int up = first > 5 || (first == 5 && (rest_nonzero || last_odd));
    if (!up) {
        while (keep > 0 && d[keep - 1] == '0')
            keep--;
        return keep;
    }
    int i = keep - 1;
    while (i >= 0 && d[i] == '9')
        i--;
    if (i < 0) {
        d[0] = '1';
        (*X)++;
        return 1;
    }
    d[i]++;
    return i + 1;
}
