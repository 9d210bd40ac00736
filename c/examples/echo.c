/* ABI v1 echo: for each fragment, write its bytes back as one 'D' frame, then 'E'. */
#include "rt.h"

static const char *echo(rt_bytes shared, rt_bytes frag, void *ctx)
{
    rt_abi_data(frag.data, frag.len);
    return NULL;
}

int main(void)
{
    return rt_abi_serve(echo, NULL);
}
