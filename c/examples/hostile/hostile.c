/* Hostile programs for the sandbox test suite, raw mode, with their own _start (they do not
 * use the runtime's _start or framing). The first word of stdin selects the attack; the
 * program then tries it. Confined, most of them die; see tests/sandbox/test_hostile.py for
 * the outcome each must get. Never run these outside the sandbox. */
#include <stddef.h>
#include <stdint.h>

static long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
    long ret;
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#define sys3(nr, a, b, c) sys6(nr, a, b, c, 0, 0, 0)

static void out(const char *s, size_t n) { sys3(1, 1, (long)s, (long)n); }
static __attribute__((noreturn)) void leave(int code)
{
    for (;;)
        sys3(60, code, 0, 0);
}

static size_t slen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static int eq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

static void out_num(unsigned long v)
{
    char buf[24];
    int i = sizeof buf;
    do {
        buf[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    out(buf + i, sizeof buf - (size_t)i);
}

static unsigned long parse_num(const char *s)
{
    unsigned long v = 0;
    while (*s == ' ')
        s++;
    while (*s >= '0' && *s <= '9')
        v = v * 10 + (unsigned long)(*s++ - '0');
    return v;
}

static __attribute__((noreturn)) void spin(void)
{
    for (;;)
        __asm__ volatile("" ::: "memory");
}

static void loop_target(void)
{
    out("L", 1);
    spin();
}

/* rt_sigreturn with a forged frame: all signals blocked, then an endless loop. */
static __attribute__((noreturn)) void forged_sigreturn(uint64_t sp)
{
    static uint64_t frame[64] __attribute__((aligned(16)));
    /* struct ucontext: uc_flags, uc_link, uc_stack (3 words), sigcontext (32 words),
     * uc_sigmask. sigcontext: r8..r15, rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip, eflags,
     * cs/gs/fs/ss, err, trapno, oldmask, cr2, fpstate, reserved[8]. */
    uint64_t *sc = frame + 5;
    sc[15] = (sp - 256) & ~15ull;       /* rsp */
    sc[16] = (uint64_t)loop_target;     /* rip */
    sc[17] = 0x202;                     /* eflags */
    sc[18] = 0x33 | (0x2bull << 48);    /* cs = 0x33, ss = 0x2b */
    frame[5 + 32] = ~0ull;              /* uc_sigmask: everything */
    __asm__ volatile("mov %0, %%rsp\n\tmov $15, %%eax\n\tsyscall" : : "r"(frame) : "memory");
    spin();
}

#pragma GCC diagnostic ignored "-Winfinite-recursion"
static int recurse(int n)
{
    volatile char pad[4096];
    pad[0] = (char)n;
    return recurse(n + 1) + pad[0];
}

static void scan_stack(uint64_t sp, const char *needle)
{
    /* The loader puts the initial frame in the stack's top page; scan the top 1 MiB. */
    const char *top = (const char *)((sp | 0xfff) + 1);
    const char *p = top - (1 << 20);
    size_t n = slen(needle), found = 0, nonzero = 0;
    for (; p + n <= top; p++) {
        if (*p)
            nonzero++;
        size_t i = 0;
        while (i < n && p[i] == needle[i])
            i++;
        if (i == n)
            found++;
    }
    out("found=", 6);
    out_num(found);
    out(" nonzero=", 9);
    out_num(nonzero);
}

static char input[4096];

void hostile_main(uint64_t *sp)
{
    long n = 0, r;
    while (n < (long)sizeof input - 1 && (r = sys3(0, 0, (long)(input + n), (long)(sizeof input - 1 - (size_t)n))) > 0)
        n += r;
    input[n] = 0;
    for (long i = 0; i < n; i++) {
        if (input[i] == '\n')
            input[i] = 0;
    }
    char *cmd = input, *arg = input;
    while (*arg && *arg != ' ')
        arg++;
    if (*arg)
        *arg++ = 0;

    if (eq(cmd, "ok")) {
        out("fine", 4);
        leave(0);
    } else if (eq(cmd, "open")) {
        sys3(2, (long)"/etc/passwd", 0, 0);
    } else if (eq(cmd, "socket")) {
        sys3(41, 2, 1, 0);
    } else if (eq(cmd, "fork")) {
        sys3(57, 0, 0, 0);
    } else if (eq(cmd, "clone")) {
        sys6(56, 17 /* SIGCHLD */, 0, 0, 0, 0, 0);
    } else if (eq(cmd, "execve")) {
        static char *const argv[] = {"/bin/sh", 0};
        sys3(59, (long)"/bin/sh", (long)argv, 0);
    } else if (eq(cmd, "mmap")) {
        sys6(9, 0, 1 << 20, 3, 0x22, -1, 0);
    } else if (eq(cmd, "mprotect")) {
        sys3(10, (long)hostile_main & ~0xfffl, 4096, 7);
    } else if (eq(cmd, "brk")) {
        sys3(12, 0, 0, 0);
    } else if (eq(cmd, "kill")) {
        sys3(62, (long)parse_num(arg), 9, 0);
    } else if (eq(cmd, "ptrace")) {
        sys6(101, 0 /* PTRACE_TRACEME */, 0, 0, 0, 0, 0);
    } else if (eq(cmd, "exit_group")) {
        sys3(231, 0, 0, 0);
    } else if (eq(cmd, "getpid")) {
        sys3(39, 0, 0, 0);
    } else if (eq(cmd, "int80_open")) {
        long ret;
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(5), "b"("/etc/passwd"), "c"(0), "d"(0) : "memory");
    } else if (eq(cmd, "int80_write")) {
        static const char msg[] = "written by a 32-bit write";
        long ret;
        __asm__ volatile("int $0x80" : "=a"(ret) : "a"(4), "b"(1), "c"(msg), "d"(sizeof msg - 1) : "memory");
        leave(ret == (long)sizeof msg - 1 ? 0 : 1);
    } else if (eq(cmd, "x32_write")) {
        sys3(0x40000000 | 1, 1, (long)"x32", 3);
    } else if (eq(cmd, "x32_open")) {
        sys3(0x40000000 | 2, (long)"/etc/passwd", 0, 0);
    } else if (eq(cmd, "vsyscall")) {
        uint64_t tv[2];
        long (*gtod)(void *, void *) = (long (*)(void *, void *))0xffffffffff600000ul;
        gtod(tv, 0);
    } else if (eq(cmd, "rdtsc")) {
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        out_num(((uint64_t)hi << 32) | lo);
    } else if (eq(cmd, "fds")) {
        unsigned long ok = 0;
        for (int fd = 2; fd < 1024; fd++) {
            if (sys3(1, fd, (long)"leak\n", 5) > 0)
                ok++;
        }
        out("writes that worked: ", 20);
        out_num(ok);
        leave(0);
    } else if (eq(cmd, "stack_scan")) {
        /* "stack_scan +NEEDLE" first copies the needle onto the stack (a positive control) */
        volatile char copy[256];
        if (arg[0] == '+') {
            arg++;
            for (size_t i = 0; i <= slen(arg) && i < sizeof copy; i++)
                copy[i] = arg[i];
        }
        out("argc=", 5);
        out_num(sp[0]);
        out(" argv0=", 7);
        out_num(sp[1]);
        out(" env0=", 6);
        out_num(sp[2]);
        out(" ", 1);
        scan_stack((uint64_t)sp, arg);
        leave(copy[0] == 1);
    } else if (eq(cmd, "write_text")) {
        *(volatile unsigned char *)(void *)hostile_main = 0xcc;
        out("text was writable", 17);
        leave(0);
    } else if (eq(cmd, "stack_overflow")) {
        leave(recurse(0));
    } else if (eq(cmd, "loop")) {
        spin();
    } else if (eq(cmd, "sigreturn_loop")) {
        forged_sigreturn((uint64_t)sp);
    } else if (eq(cmd, "endless_output")) {
        static char buf[65536];
        for (size_t i = 0; i < sizeof buf; i++)
            buf[i] = 'x';
        for (;;)
            out(buf, sizeof buf);
    } else if (eq(cmd, "exit")) {
        out("partial", 7);
        leave((int)parse_num(arg));
    } else if (eq(cmd, "fs_read")) {
        long v;
        __asm__ volatile("mov %%fs:0, %0" : "=r"(v));
        out_num((unsigned long)v);
        leave(0);
    } else if (eq(cmd, "ud2")) {
        __asm__ volatile("ud2");
    } else if (eq(cmd, "int3")) {
        __asm__ volatile("int3");
    } else if (eq(cmd, "divzero")) {
        volatile int z = 0;
        leave(10 / z);
    } else {
        out("unknown command", 15);
        leave(2);
    }
    out("survived", 8);
    leave(99);
}

__asm__(".text\n.globl _start\n_start:\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call hostile_main\n"
        "    hlt\n");
