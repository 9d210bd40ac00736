/* How the loader resets the extended register state (x87, SSE, AVX, AVX-512, AMX, ...)
 * before it jumps to the program: which XSAVE components to restore to their initial
 * values and how large the XSAVE area must be. A pure function of the CPU's answers, so
 * that it can be checked against the answers of CPUs we do not have (see
 * tests/sandbox/test_xstate.py).
 *
 * Facts used (Intel SDM vol. 1 ch. 13 "Managing state using the XSAVE feature set";
 * AMD APM vol. 2 §11.5; Linux Documentation/arch/x86/xstate.rst):
 *   - CPUID.(EAX=0DH,ECX=0):EBX is the size of the standard-format XSAVE area for the
 *     components currently enabled in XCR0 (11,008 bytes on an Intel CPU with AMX
 *     enabled, 2,432-2,696 bytes on AVX-512 CPUs without AMX).
 *   - XRSTOR with XSTATE_BV = 0 in the area's header puts every requested component into
 *     its initial state; the requested-feature bitmap must not name components the OS
 *     has not enabled (#GP) nor components the kernel keeps armed in XFD (#NM -> SIGILL):
 *     Linux arms AMX tile data (component 18) in XFD until the process asks for it with
 *     arch_prctl(ARCH_REQ_XCOMP_PERM); ARCH_GET_XCOMP_PERM says what it may use.
 *   - CPUID.(EAX=0DH,ECX=i):ECX bit 2 says component i supports XFD. */
#ifndef CPS_XSTATE_H
#define CPS_XSTATE_H
#include <stdint.h>

struct xstate_cpu {
    int osxsave;             /* CPUID.1:ECX.OSXSAVE: the OS enabled XSAVE */
    uint64_t xcr0;           /* XGETBV(0): the components the OS enabled */
    uint32_t enabled_bytes;  /* CPUID.(0DH,0):EBX */
    uint64_t xfd_features;   /* components whose CPUID.(0DH,i):ECX bit 2 is set */
    int perm_known;          /* arch_prctl(ARCH_GET_XCOMP_PERM) answered */
    uint64_t perm;           /* ... and its answer */
};

struct xstate_plan {
    int use_xrstor;          /* 0: no XSAVE: fninit + ldmxcsr + pxor instead */
    uint64_t mask;           /* requested-feature bitmap for XRSTOR */
    uint64_t area_bytes;     /* XSAVE area to reserve (64-byte multiple) */
};

#define XSTATE_MAX_AREA_BYTES (1u << 20)

/* Fills *plan; returns NULL, or a reason when the CPU's answers make no sense (the
 * loader then refuses to run anything: fail closed). */
const char *xstate_plan(const struct xstate_cpu *cpu, struct xstate_plan *plan);

/* Reads this CPU's and kernel's answers. */
void xstate_read_cpu(struct xstate_cpu *cpu);

#endif
