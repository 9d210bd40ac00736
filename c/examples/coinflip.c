/* ABI v1 example of a NONDETERMINISTIC program (do not write programs like this): for each
 * fragment, 8 bytes from the CPU's random number generator (rdrand), then the fragment.
 * Two runs of one fragment almost never agree, so with redundancy > 1 (or a spot check) the
 * hub ends its fragments "disagreed" and blames no worker (see docs/security.md). */
#include "rt.h"

static uint64_t hw_random(void)
{
    uint64_t v;
    unsigned char ok;
    do {
        __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok) :: "cc");
    } while (!ok);
    return v;
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
        uint64_t v = hw_random();
        rt_abi_data(&v, sizeof v);
        rt_abi_data(frag, len);
        rt_abi_end();
    }
}
