/* cpushare-mq runtime: system calls and the mem* family. The runtime is split into small
 * objects (rt.c, rt_alloc.c, rt_abi.c) so a program, or the C library in c/libc, pulls in
 * only what it calls: the allocator and frame buffers are large bss arrays. */
#include "rt.h"

/* ---- system calls (only these four exist under seccomp strict) ---- */

static long rt_syscall3(long nr, long a, long b, long c)
{
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c)
                     : "rcx", "r11", "memory");
    return ret;
}

long rt_read(int fd, void *buf, unsigned long n)
{
    return rt_syscall3(0, fd, (long)buf, (long)n);
}

long rt_write(int fd, const void *buf, unsigned long n)
{
    return rt_syscall3(1, fd, (long)buf, (long)n);
}

__attribute__((noreturn)) void rt_exit(int status)
{
    for (;;)
        rt_syscall3(60, status, 0, 0);
}

/* ---- memory (string instructions: the compiler cannot turn these back into calls) ---- */

/* Read exactly n bytes. 1 = done, 0 = EOF before the first byte, -1 = error or EOF inside. */
int rt_read_exact(void *buf, size_t n)
{
    unsigned char *p = buf;
    size_t got = 0;
    while (got < n) {
        long r = rt_read(0, p + got, n - got);
        if (r == -4) /* EINTR */
            continue;
        if (r < 0)
            return -1;
        if (r == 0)
            return got == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return 1;
}

void rt_write_all(const void *buf, size_t n)
{
    const unsigned char *p = buf;
    while (n > 0) {
        long r = rt_write(1, p, n);
        if (r == -4)
            continue;
        if (r <= 0)
            rt_exit(3); /* the runner went away: nothing sensible left to do */
        p += r;
        n -= (size_t)r;
    }
}

void *memcpy(void *dst, const void *src, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
    return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
    if ((uintptr_t)dst <= (uintptr_t)src || (uintptr_t)dst >= (uintptr_t)src + n)
        return memcpy(dst, src, n);
    unsigned char *d = (unsigned char *)dst + n - 1;
    const unsigned char *s = (const unsigned char *)src + n - 1;
    __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(n) : : "memory");
    return dst;
}

void *memset(void *dst, int c, size_t n)
{
    void *d = dst;
    __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
    return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = a, *q = b;
    for (size_t i = 0; i < n; i++) {
        if (p[i] != q[i])
            return p[i] < q[i] ? -1 : 1;
    }
    return 0;
}

size_t rt_strlen(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}
