/* cpushare-xstate: prints how the loader resets the extended register state.
 *   cpushare-xstate              this machine's answers and the plan
 *   cpushare-xstate OSXSAVE XCR0 ENABLED_BYTES XFD_FEATURES PERM_KNOWN PERM
 *                                the plan for another CPU's answers (numbers in C syntax)
 * Output: one line of key=value pairs; exit 1 with "error: ..." when the loader would
 * refuse to run programs on such a CPU. */
#include "xstate.h"

#include <stdio.h>
#include <stdlib.h>

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
    printf(" use_xrstor=%d mask=%#llx area_bytes=%llu\n", plan.use_xrstor,
           (unsigned long long)plan.mask, (unsigned long long)plan.area_bytes);
    return 0;
}
