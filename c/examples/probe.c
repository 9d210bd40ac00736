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

static uint64_t fnv1a(uint64_t h, const uint8_t *p, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static long forbidden_getpid(void)
{
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(39L) : "rcx", "r11", "memory");
    return ret;
}

static unsigned char answer[4096 + 16];

int main(void)
{
    const uint8_t *shared, *frag;
    uint32_t shared_len, len;
    if (rt_abi_shared(&shared, &shared_len) != 0)
        return 2;
    uint64_t base = fnv1a(14695981039346656037ull, shared, shared_len);
    for (;;) {
        int r = rt_abi_next(&frag, &len);
        if (r == 0)
            return 0;
        if (r < 0)
            return 2;
        if (len == 7 && memcmp(frag, "syscall", 7) == 0) {
            forbidden_getpid();
            rt_abi_error("the forbidden system call returned");
            continue;
        }
        if (len > 4096) {
            rt_abi_error("probe fragments are at most 4096 bytes");
            continue;
        }
        for (uint32_t i = 0; i < len; i++)
            answer[i] = frag[len - 1 - i];
        uint64_t h = fnv1a(base, frag, len);
        double root;
        double x = (double)len + 2.0;
        __asm__("sqrtsd %1, %0" : "=x"(root) : "x"(x));
        memcpy(answer + len, &h, 8);
        memcpy(answer + len + 8, &root, 8);
        rt_abi_data(answer, len + 16);
        rt_abi_end();
    }
}
