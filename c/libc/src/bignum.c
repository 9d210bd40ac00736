/* Big integer arithmetic for the number conversions (see bignum.h). */
#include "bignum.h"
#include <string.h>

static void trim(big *a)
{
    while (a->n > 0 && a->w[a->n - 1] == 0)
        a->n--;
}

void big_set_u64(big *a, uint64_t v)
{
    a->w[0] = (uint32_t)v;
    a->w[1] = (uint32_t)(v >> 32);
    a->n = 2;
    trim(a);
}

int big_is_zero(const big *a)
{
    return a->n == 0;
}

void big_mul_small(big *a, uint32_t m)
{
    uint64_t carry = 0;
    for (int i = 0; i < a->n; i++) {
        uint64_t t = (uint64_t)a->w[i] * m + carry;
        a->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry && a->n < BIG_WORDS)
        a->w[a->n++] = (uint32_t)carry;
}

void big_add_small(big *a, uint32_t v)
{
    uint64_t carry = v;
    for (int i = 0; i < a->n && carry; i++) {
        uint64_t t = (uint64_t)a->w[i] + carry;
        a->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
    if (carry && a->n < BIG_WORDS)
        a->w[a->n++] = (uint32_t)carry;
}

void big_mul_pow5(big *a, int k)
{
    while (k >= 13) {
        big_mul_small(a, 1220703125u); /* 5^13 */
        k -= 13;
    }
    static const uint32_t p5[13] = {1, 5, 25, 125, 625, 3125, 15625, 78125, 390625,
                                    1953125, 9765625, 48828125, 244140625};
    if (k > 0)
        big_mul_small(a, p5[k]);
}

void big_shl(big *a, int bits)
{
    if (a->n == 0 || bits <= 0)
        return;
    int words = bits / 32, b = bits % 32;
    if (a->n + words + 1 > BIG_WORDS)
        return; /* cannot happen for the conversions' sizes */
    uint32_t top = b ? a->w[a->n - 1] >> (32 - b) : 0;
    for (int i = a->n - 1; i >= 0; i--) {
        uint32_t lo = (b && i > 0) ? a->w[i - 1] >> (32 - b) : 0;
        a->w[i + words] = (a->w[i] << b) | lo;
    }
    memset(a->w, 0, (size_t)words * 4);
    a->n += words;
    if (top)
        a->w[a->n++] = top;
}

int big_cmp(const big *a, const big *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (int i = a->n - 1; i >= 0; i--) {
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    }
    return 0;
}

uint32_t big_divmod_small(big *a, uint32_t d)
{
    uint64_t rem = 0;
    for (int i = a->n - 1; i >= 0; i--) {
        uint64_t cur = (rem << 32) | a->w[i];
        a->w[i] = (uint32_t)(cur / d);
        rem = cur % d;
    }
    trim(a);
    return (uint32_t)rem;
}
