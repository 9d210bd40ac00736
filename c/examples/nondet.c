/* ABI v1 nondet: a program that is nondeterministic by accident, as a buyer's program with
 * a bug may be: each fragment is answered with its bytes followed by 8 bytes from the CPU's
 * random number generator (rdrand, which the sandbox cannot take away; see docs/sandbox.md).
 * Redundant copies of its results never agree: the hub must end such fragments as
 * disagreeing, and blame no worker (tests/trust/test_voting_cli.py). */
#include "rt.h"

static uint64_t hardware_random(void)
{
    uint64_t v;
    unsigned char ok;
    do
        __asm__ volatile("rdrand %0; setc %1" : "=r"(v), "=qm"(ok));
    while (!ok);
    return v;
}

static const char *noisy_echo(rt_bytes shared, rt_bytes frag, void *ctx)
{
    uint64_t noise = hardware_random();
    rt_abi_data(frag.data, frag.len);
    rt_abi_data(&noise, sizeof noise);
    return NULL;
}

int main(void)
{
    return rt_abi_serve(noisy_echo, NULL);
}
