/* cpushare-xstate: prints how the loader resets the extended register state.
 *   cpushare-xstate              this machine's answers and the plan
 *   cpushare-xstate OSXSAVE XCR0 ENABLED_BYTES XFD_FEATURES PERM_KNOWN PERM
 *                                the plan for another CPU's answers (numbers in C syntax)
 * Output: one line of key=value pairs; exit 1 with "error: ..." when the loader would
 * refuse to run programs on such a CPU. For this machine the line ends with cpuid_fault=1
 * when the loader can make cpuid fault in the sandbox (ARCH_SET_CPUID), 0 when not. */
#include "xstate.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARCH_SET_CPUID 0x1012

/* 1 if cpuid can be made to fault (tried on this process, then turned back on), 0 if not. */
static int cpuid_faulting(void)
{
    if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0L) != 0)
        return 0;
    if (syscall(SYS_arch_prctl, ARCH_SET_CPUID, 1L) != 0) {
        fprintf(stderr, "cpushare-xstate: arch_prctl(ARCH_SET_CPUID, 1): errno %d\n", errno);
        exit(2);
    }
    return 1;
}

static unsigned long long number(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 0);
    if (*s == '\0' || *end != '\0') {
        fprintf(stderr, "cpushare-xstate: not a number: %s\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    struct xstate_cpu cpu;
    if (argc == 1) {
        xstate_read_cpu(&cpu);
    } else if (argc == 7) {
        cpu = (struct xstate_cpu){
            .osxsave = (int)number(argv[1]), .xcr0 = number(argv[2]),
            .enabled_bytes = (uint32_t)number(argv[3]), .xfd_features = number(argv[4]),
            .perm_known = (int)number(argv[5]), .perm = number(argv[6]),
        };
    } else {
        fprintf(stderr, "usage: cpushare-xstate [OSXSAVE XCR0 ENABLED_BYTES XFD PERM_KNOWN PERM]\n");
        return 2;
    }
    struct xstate_plan plan;
    const char *why = xstate_plan(&cpu, &plan);
    printf("osxsave=%d xcr0=%#llx enabled_bytes=%u xfd=%#llx perm_known=%d perm=%#llx",
           cpu.osxsave, (unsigned long long)cpu.xcr0, cpu.enabled_bytes,
           (unsigned long long)cpu.xfd_features, cpu.perm_known, (unsigned long long)cpu.perm);
    if (why) {
        printf("\nerror: %s\n", why);
        return 1;
    }
    printf(" use_xrstor=%d mask=%#llx area_bytes=%llu", plan.use_xrstor,
           (unsigned long long)plan.mask, (unsigned long long)plan.area_bytes);
    if (argc == 1)
        printf(" cpuid_fault=%d", cpuid_faulting());
    printf("\n");
    return 0;
}
