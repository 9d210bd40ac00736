/* cpushare-mq runtime: the bump allocator (see rt.h). */
#include "rt.h"

/* ---- bump allocator ---- */

static unsigned char rt_arena[RT_ARENA_BYTES] __attribute__((aligned(16)));
static size_t rt_arena_used;

void *rt_alloc(size_t n)
{
    size_t rounded = (n + 15u) & ~(size_t)15u;
    if (rounded < n || rounded > sizeof rt_arena - rt_arena_used)
        return NULL;
    void *p = rt_arena + rt_arena_used;
    rt_arena_used += rounded;
    return p;
}

void rt_alloc_reset(void)
{
    rt_arena_used = 0;
}
