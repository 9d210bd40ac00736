/* Test program for tests/worker (ABI v1). Each fragment: a u32 little-endian spin count
 * (thousands of loop iterations: a CPU-bound delay without clocks), then a payload.
 * Result: "<fnv1a-64 of shared || payload in hex>:" followed by the payload. */
#include "rt.h"

static uint64_t fnv(uint64_t h, const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

int main(void)
{
    const uint8_t *shared, *frag;
    uint32_t shared_len, len;
    if (rt_abi_shared(&shared, &shared_len) != 0)
        return 2;
    for (;;) {
        int r = rt_abi_next(&frag, &len);
        if (r == 0)
            return 0;
        if (r < 0)
            return 2;
        if (len < 4) {
            rt_abi_error("fragment shorter than its 4-byte spin count");
            continue;
        }
        uint32_t spin = frag[0] | frag[1] << 8 | frag[2] << 16 | (uint32_t)frag[3] << 24;
        volatile uint64_t x = 0;
        for (uint64_t i = 0; i < (uint64_t)spin * 1000; i++)
            x += i;
        uint64_t h = fnv(fnv(14695981039346656037ULL, shared, shared_len), frag + 4, len - 4);
        char hex[17];
        for (int i = 15; i >= 0; i--) {
            hex[i] = "0123456789abcdef"[h & 15];
            h >>= 4;
        }
        hex[16] = ':';
        rt_abi_data(hex, 17);
        rt_abi_data(frag + 4, len - 4);
        rt_abi_end();
    }
}
