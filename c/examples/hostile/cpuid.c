/* Raw-mode probe: executes cpuid (leaf 0: the vendor) and writes the 16 bytes it got
 * (eax ebx edx ecx), exit 0. Where the CPU supports CPUID faulting ("cpuid_fault" in
 * /proc/cpuinfo) the loader turns it on: the program is killed by SIGSEGV (memory_fault)
 * and never learns which machine it runs on. Elsewhere cpuid answers (docs/sandbox.md). */
#include <stdint.h>

static uint32_t regs[4];

__attribute__((used, noreturn)) static void probe(void)
{
    __asm__ volatile("cpuid" : "=a"(regs[0]), "=b"(regs[1]), "=d"(regs[2]), "=c"(regs[3]) : "a"(0), "c"(0));
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(1), "D"(1), "S"(regs), "d"(16) : "rcx", "r11", "memory");
    for (;;)
        __asm__ volatile("syscall" : : "a"(60), "D"(r == 16 ? 0 : 1));
}

__asm__(".text\n.globl _start\n_start:\n"
        "    and $-16, %rsp\n"
        "    call probe\n");
