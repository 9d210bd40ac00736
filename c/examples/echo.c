/* ABI v1 echo: for each fragment, write its bytes back as one 'D' frame, then 'E'. */
#include "rt.h"

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
        rt_abi_data(frag, len);
        rt_abi_end();
    }
}
