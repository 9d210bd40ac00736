/* The worker's self-test program (cpushare-worker --self-test, and every worker start).
 * ABI v1. For each fragment:
 *   "syscall"  -> asks the kernel for its pid: a forbidden system call, so the sandbox must
 *                 kill it (forbidden_syscall) before it answers;
 *   anything else -> one 'D' frame: the fragment's bytes reversed, then the 8-byte
 *                 little-endian FNV-1a 64 hash of shared input + fragment, then the 8 bytes
 *                 of the double sqrt(fragment length + 2) (exercises the SSE registers
 *                 the loader hands over), then 'E'.
 * cpushare_mq/sandbox/probe.py computes the same answer and compares. */
#include "rt.h"

static long forbidden_getpid(void)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(39L) : "rcx", "r11", "memory");
    return ret;
}

static unsigned char answer[4096 + 16];

static const char *probe(rt_bytes shared, rt_bytes frag, void *ctx)
{
    if (frag.len == 7 && memcmp(frag.data, "syscall", 7) == 0) {
        forbidden_getpid();
        return "the forbidden system call returned";
    }
    if (frag.len > 4096)
        return "probe fragments are at most 4096 bytes";
    for (uint32_t i = 0; i < frag.len; i++)
        answer[i] = frag.data[frag.len - 1 - i];
    uint64_t h = rt_fnv1a64(rt_fnv1a64(RT_FNV1A64_INIT, shared.data, shared.len), frag.data, frag.len);
    double root;
    double x = (double)frag.len + 2.0;
    __asm__("sqrtsd %1, %0" : "=x"(root) : "x"(x));
    memcpy(answer + frag.len, &h, 8);
    memcpy(answer + frag.len + 8, &root, 8);
    rt_abi_data(answer, frag.len + 16);
    return NULL;
}

int main(void)
{
    return rt_abi_serve(probe, NULL);
}
