/* Test program for tests/worker (ABI v1). Each fragment: a u32 little-endian spin count
 * (thousands of loop iterations: a CPU-bound delay without clocks), then a payload.
 * Result: "<fnv1a-64 of shared || payload in hex>:" followed by the payload. */
#include "rt.h"

static const char *spin_then_hash(rt_bytes shared, rt_bytes frag, void *ctx)
{
    if (frag.len < 4)
        return "fragment shorter than its 4-byte spin count";
    const uint8_t *f = frag.data;
    uint32_t spin = f[0] | f[1] << 8 | f[2] << 16 | (uint32_t)f[3] << 24;
    volatile uint64_t x = 0;
    for (uint64_t i = 0; i < (uint64_t)spin * 1000; i++)
        x += i;
    uint64_t h = rt_fnv1a64(rt_fnv1a64(RT_FNV1A64_INIT, shared.data, shared.len), f + 4, frag.len - 4);
    char hex[17];
    for (int i = 15; i >= 0; i--) {
        hex[i] = "0123456789abcdef"[h & 15];
        h >>= 4;
    }
    hex[16] = ':';
    rt_abi_data(hex, 17);
    rt_abi_data(f + 4, frag.len - 4);
    return NULL;
}

int main(void)
{
    return rt_abi_serve(spin_then_hash, NULL);
}
