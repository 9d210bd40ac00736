/* Valid, large: 24 MiB of initialised data, so the program file itself is 24 MiB. The loader
 * reads segment bytes straight into their mappings; it must never hold the file beside
 * them (it once did: about twice the program's size at its peak, over the seller's cap).
 * No runtime (librt's 64 MiB frame buffer would dwarf the data): its own _start and a
 * minimal ABI v1 loop. Answers each fragment with one byte: first + last data byte (= 3). */
#include <stdint.h>

#define DATA_BYTES (24u << 20)

static const unsigned char data[DATA_BYTES] = {1, [DATA_BYTES - 1] = 2};
static unsigned char scratch[4096];

static long sys3(long nr, long a, long b, long c)
{
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return r;
}

__attribute__((noreturn)) static void leave(int status)
{
    for (;;)
        sys3(60, status, 0, 0);
}

/* 1 = got n bytes, 0 = EOF before the first byte; anything else ends the program. */
static int read_exact(unsigned char *p, unsigned long n)
{
    unsigned long got = 0;
    while (got < n) {
        long r = sys3(0, 0, (long)(p + got), (long)(n - got));
        if (r == 0 && got == 0)
            return 0;
        if (r <= 0)
            leave(2);
        got += (unsigned long)r;
    }
    return 1;
}

/* Reads one frame header and skips its payload; returns its kind, 0 at EOF. */
static int skip_frame(void)
{
    unsigned char h[5];
    if (!read_exact(h, 5))
        return 0;
    unsigned long len = h[0] | h[1] << 8 | (unsigned long)h[2] << 16 | (unsigned long)h[3] << 24;
    while (len > 0) {
        unsigned long n = len < sizeof scratch ? len : sizeof scratch;
        if (!read_exact(scratch, n))
            leave(2);
        len -= n;
    }
    return h[4];
}

static void write_all(const unsigned char *p, unsigned long n)
{
    while (n > 0) {
        long r = sys3(1, 1, (long)p, (long)n);
        if (r <= 0)
            leave(2);
        p += r;
        n -= (unsigned long)r;
    }
}

__attribute__((used, noreturn)) static void run(void)
{
    if (skip_frame() != 'S')
        leave(2);
    for (;;) {
        int kind = skip_frame();
        if (kind == 0)
            leave(0);
        if (kind != 'F')
            leave(2);
        volatile const unsigned char *d = data;
        unsigned char answer[11] = {1, 0, 0, 0, 'D', (unsigned char)(d[0] + d[DATA_BYTES - 1]),
                                    0, 0, 0, 0, 'E'};
        write_all(answer, sizeof answer);
    }
}

__asm__(".text\n.globl _start\n_start:\n"
        "    and $-16, %rsp\n"
        "    call run\n");
