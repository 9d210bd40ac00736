/* Raw-mode probe: writes the register state it was started with, so the tests can check
 * the loader cleared everything: 15 general registers (all but rsp), rflags, xmm0-15, the
 * upper halves of ymm0-15 (when the CPU has AVX), MXCSR and the x87 control word. Output:
 * 16 x u64 (rax rbx rcx rdx rsi rdi rbp r8..r15, rflags), 16 x 16 bytes xmm, 16 x 16 bytes
 * ymm upper halves (zero when there is no AVX), u32 mxcsr, u16 fcw. */
#include <stdint.h>

struct regs {
    uint64_t gpr[16];
    unsigned char xmm[16][16];
    unsigned char ymm_hi[16][16];
    uint32_t mxcsr;
    uint16_t fcw;
} __attribute__((packed));

static struct regs saved;

/* The runner says whether the CPU has AVX (one byte on stdin, '1' = yes): cpuid itself faults
 * in the sandbox where the CPU supports CPUID faulting. */
__attribute__((used)) static void probe_avx(void)
{
    char has_avx = 0;
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(0), "D"(0), "S"(&has_avx), "d"(1) : "rcx", "r11", "memory");
    if (r != 1 || has_avx != '1')
        return;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & 6) != 6)
        return;
#define HI(n) __asm__ volatile("vextractf128 $1, %%ymm" #n ", %0" : "=m"(saved.ymm_hi[n]))
    HI(0); HI(1); HI(2); HI(3); HI(4); HI(5); HI(6); HI(7);
    HI(8); HI(9); HI(10); HI(11); HI(12); HI(13); HI(14); HI(15);
}

__attribute__((used, noreturn)) static void report(void)
{
    const char *p = (const char *)&saved;
    unsigned long n = sizeof saved;
    while (n > 0) {
        long r;
        __asm__ volatile("syscall" : "=a"(r) : "a"(1), "D"(1), "S"(p), "d"(n) : "rcx", "r11", "memory");
        if (r <= 0)
            break;
        p += r;
        n -= (unsigned long)r;
    }
    for (;;)
        __asm__ volatile("syscall" : : "a"(60), "D"(0));
}

/* Save everything before touching anything (no stack use before the GPRs are saved). */
__asm__(".text\n.globl _start\n_start:\n"
        "    pushfq\n"
        "    mov %rax, saved+0(%rip)\n"
        "    pop %rax\n"
        "    mov %rax, saved+120(%rip)\n"
        "    mov %rbx, saved+8(%rip)\n"
        "    mov %rcx, saved+16(%rip)\n"
        "    mov %rdx, saved+24(%rip)\n"
        "    mov %rsi, saved+32(%rip)\n"
        "    mov %rdi, saved+40(%rip)\n"
        "    mov %rbp, saved+48(%rip)\n"
        "    mov %r8, saved+56(%rip)\n"
        "    mov %r9, saved+64(%rip)\n"
        "    mov %r10, saved+72(%rip)\n"
        "    mov %r11, saved+80(%rip)\n"
        "    mov %r12, saved+88(%rip)\n"
        "    mov %r13, saved+96(%rip)\n"
        "    mov %r14, saved+104(%rip)\n"
        "    mov %r15, saved+112(%rip)\n"
        "    movdqu %xmm0, saved+128(%rip)\n"
        "    movdqu %xmm1, saved+144(%rip)\n"
        "    movdqu %xmm2, saved+160(%rip)\n"
        "    movdqu %xmm3, saved+176(%rip)\n"
        "    movdqu %xmm4, saved+192(%rip)\n"
        "    movdqu %xmm5, saved+208(%rip)\n"
        "    movdqu %xmm6, saved+224(%rip)\n"
        "    movdqu %xmm7, saved+240(%rip)\n"
        "    movdqu %xmm8, saved+256(%rip)\n"
        "    movdqu %xmm9, saved+272(%rip)\n"
        "    movdqu %xmm10, saved+288(%rip)\n"
        "    movdqu %xmm11, saved+304(%rip)\n"
        "    movdqu %xmm12, saved+320(%rip)\n"
        "    movdqu %xmm13, saved+336(%rip)\n"
        "    movdqu %xmm14, saved+352(%rip)\n"
        "    movdqu %xmm15, saved+368(%rip)\n"
        "    stmxcsr saved+640(%rip)\n"
        "    fnstcw saved+644(%rip)\n"
        "    and $-16, %rsp\n"
        "    call probe_avx\n"
        "    call report\n");
