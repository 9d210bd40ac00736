/* The last steps of the loader, copied to a page of their own so that everything else of
 * the loader can be unmapped. Position independent, uses no stack until it is on the
 * program's stack, no libc. Called with %rdi = the argument block (see loader.c,
 * struct tramp_args). Never returns: jumps to the program's entry point. */

    .section .rodata
    .globl cps_tramp_begin
    .globl cps_tramp_end
    .p2align 4
cps_tramp_begin:
    mov     %rdi, %r12
    mov     8(%r12), %rsp               /* the program's fresh stack */

    /* Extended register state (x87, SSE, AVX, ...) back to its initial values, so nothing
     * the loader computed survives in vector registers. */
    testq   $1, 32(%r12)
    jz      1f
    mov     48(%r12), %rcx              /* XSAVE area, sized from CPUID leaf 0xD */
    mov     40(%r12), %eax              /* requested components: XCR0 less those armed */
    mov     44(%r12), %edx              /* in XFD (AMX tile data), see xstate.h */
    xrstor64 (%rcx)
    jmp     2f
1:  fninit
    lea     4096(%r12), %rcx
    ldmxcsr 24(%rcx)
    pxor    %xmm0, %xmm0
    pxor    %xmm1, %xmm1
    pxor    %xmm2, %xmm2
    pxor    %xmm3, %xmm3
    pxor    %xmm4, %xmm4
    pxor    %xmm5, %xmm5
    pxor    %xmm6, %xmm6
    pxor    %xmm7, %xmm7
    pxor    %xmm8, %xmm8
    pxor    %xmm9, %xmm9
    pxor    %xmm10, %xmm10
    pxor    %xmm11, %xmm11
    pxor    %xmm12, %xmm12
    pxor    %xmm13, %xmm13
    pxor    %xmm14, %xmm14
    pxor    %xmm15, %xmm15
2:
    mov     32(%r12), %r15              /* flags */
    mov     (%r12), %rbx                /* entry point */
    mov     16(%r12), %rbp              /* status fd */
    mov     24(%r12), %r13              /* number of ranges to unmap */
    lea     256(%r12), %r14             /* the ranges; the last one is this block itself */
3:  test    %r13, %r13
    jz      4f
    mov     (%r14), %rdi
    mov     8(%r14), %rsi
    mov     $11, %eax                   /* munmap */
    syscall
    test    %rax, %rax
    jnz     9f
    add     $16, %r14
    dec     %r13
    jmp     3b
4:  mov     $158, %eax                  /* arch_prctl(ARCH_SET_FS, 0) */
    mov     $0x1002, %edi
    xor     %esi, %esi
    syscall
    test    %rax, %rax
    jnz     9f
    mov     $158, %eax                  /* arch_prctl(ARCH_SET_GS, 0) */
    mov     $0x1001, %edi
    xor     %esi, %esi
    syscall
    test    %rax, %rax
    jnz     9f
    test    $2, %r15                    /* SCHED_IDLE only now: the set-up above runs at */
    jz      5f                          /* normal priority, however busy the machine is */
    push    $0                          /* struct sched_param { 0 } */
    mov     $144, %eax                  /* sched_setscheduler(0, SCHED_IDLE, &param) */
    xor     %edi, %edi
    mov     $5, %esi
    mov     %rsp, %rdx
    syscall
    pop     %rcx
    test    %rax, %rax
    jnz     9f
5:  mov     $1, %eax                    /* write(status fd, "R"): ready, the program starts */
    mov     %rbp, %rdi
    lea     13f(%rip), %rsi
    mov     $1, %edx
    syscall
    cmp     $1, %rax
    jne     9f
    mov     $3, %eax                    /* close(status fd) */
    mov     %rbp, %rdi
    syscall
    test    %rax, %rax
    jnz     10f
    mov     $157, %eax                  /* prctl(PR_SET_SECCOMP, SECCOMP_MODE_STRICT) */
    mov     $22, %edi
    mov     $1, %esi
    xor     %edx, %edx
    xor     %r10d, %r10d
    xor     %r8d, %r8d
    syscall
    test    %rax, %rax
    jnz     10f
    push    %rbx                        /* entry point, consumed by ret */
    xor     %eax, %eax
    xor     %ebx, %ebx
    xor     %ecx, %ecx
    xor     %edx, %edx
    xor     %esi, %esi
    xor     %edi, %edi
    xor     %ebp, %ebp
    xor     %r8d, %r8d
    xor     %r9d, %r9d
    xor     %r10d, %r10d
    xor     %r11d, %r11d
    xor     %r12d, %r12d
    xor     %r13d, %r13d
    xor     %r14d, %r14d
    xor     %r15d, %r15d
    push    $0x202                      /* rflags: only IF (and the always-one bit 1) */
    popfq
    ret
9:  mov     $1, %eax                    /* write(status fd, message) */
    mov     %rbp, %rdi
    lea     11f(%rip), %rsi
    mov     $(12f - 11f), %edx
    syscall
10: mov     $231, %eax                  /* exit_group(126): the program never ran */
    mov     $126, %edi
    syscall
    hlt
11: .ascii  "error: loader trampoline: munmap, arch_prctl or sched_setscheduler failed\n"
12:
13: .ascii  "R"
cps_tramp_end:
    .section .note.GNU-stack,"",@progbits
