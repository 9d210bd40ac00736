/* Hostile: asks for 64 GiB of bss (the loader must refuse it: memory over the cap). */
#include "rt.h"

static char big[64ull << 30];

int main(void)
{
    volatile char *p = big;
    p[0] = 1;
    p[(64ull << 30) - 1] = 2;
    return p[0] - 1;
}
