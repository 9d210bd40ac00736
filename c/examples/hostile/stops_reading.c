/* ABI v1 hostile: reads the shared input and the first bytes of a fragment, then answers
 * without reading the rest (its input stream is out of step from then on). */
#include "rt.h"

int main(void)
{
    const uint8_t *shared;
    uint32_t shared_len;
    unsigned char buf[64];
    if (rt_abi_shared(&shared, &shared_len) != 0)
        return 2;
    rt_read(0, buf, sizeof buf);
    rt_abi_data("early", 5);
    rt_abi_end();
    for (;;)
        __asm__ volatile("" ::: "memory");
}
