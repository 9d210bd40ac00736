/* See xstate.h. */
#define _GNU_SOURCE
#include "xstate.h"

#include <cpuid.h>
#include <stddef.h>
#include <sys/syscall.h>
#include <unistd.h>

#define XFEATURE_X87_SSE 0x3ull
#define XSAVE_LEGACY_AND_HEADER_BYTES 576u
#define ARCH_GET_XCOMP_PERM 0x1022

const char *xstate_plan(const struct xstate_cpu *cpu, struct xstate_plan *plan)
{
    plan->use_xrstor = 0;
    plan->mask = 0;
    plan->area_bytes = 4096; /* the fallback path reads MXCSR from the legacy area */
    if (!cpu->osxsave)
        return NULL;
    if ((cpu->xcr0 & XFEATURE_X87_SSE) != XFEATURE_X87_SSE)
        return "XCR0 does not enable x87 and SSE state";
    if (cpu->enabled_bytes < XSAVE_LEGACY_AND_HEADER_BYTES ||
        cpu->enabled_bytes > XSTATE_MAX_AREA_BYTES)
        return "CPUID leaf 0xD gives an implausible XSAVE area size";
    uint64_t mask = cpu->xcr0;
    uint64_t granted = cpu->perm_known ? cpu->perm : 0;
    if (cpu->perm_known)
        mask &= cpu->perm;
    mask &= ~(cpu->xfd_features & ~granted); /* armed in XFD: restoring it would fault */
    plan->use_xrstor = 1;
    plan->mask = mask;
    plan->area_bytes = ((uint64_t)cpu->enabled_bytes + 63u) & ~63ull;
    return NULL;
}

void xstate_read_cpu(struct xstate_cpu *cpu)
{
    unsigned a, b, c, d;
    *cpu = (struct xstate_cpu){0};
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_OSXSAVE))
        return;
    cpu->osxsave = 1;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    cpu->xcr0 = ((uint64_t)hi << 32) | lo;
    __cpuid_count(0xd, 0, a, b, c, d);
    cpu->enabled_bytes = b;
    for (unsigned i = 2; i < 63; i++) {
        if (!(cpu->xcr0 & (1ull << i)))
            continue;
        __cpuid_count(0xd, i, a, b, c, d);
        if (c & 4u)
            cpu->xfd_features |= 1ull << i;
    }
    unsigned long long perm = 0;
    if (syscall(SYS_arch_prctl, ARCH_GET_XCOMP_PERM, &perm) == 0) {
        cpu->perm_known = 1;
        cpu->perm = perm;
    }
}
