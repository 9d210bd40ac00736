/* spin: a fixed CPU-bound task for the peer benchmarks, as an ABI v1 program.
 *
 * The same static freestanding binary runs natively (peers start it as a subprocess) and
 * in the cpushare-mq sandbox, so every system runs exactly the same instructions.
 *
 * fd 0: 'S' frame (ignored), then 'F' frames whose payload is a u64 LE iteration count
 *       (empty payload = DEFAULT_ITERS).
 * fd 1: per fragment, one 'D' frame with the u64 LE result of the loop, then 'E'.
 * End of input -> exit(0) with the exit system call (60), as seccomp strict mode requires.
 */
typedef unsigned long u64;
typedef unsigned int u32;
typedef long i64;

#define DEFAULT_ITERS 100000000UL

static i64 sys3(i64 n, i64 a, i64 b, i64 c)
{
    i64 ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

static void sys_exit(int code)
{
    for (;;)
        sys3(60, code, 0, 0);
}

/* Read exactly n bytes; returns 1 on success, 0 on clean EOF before any byte, exits on error. */
static int read_full(unsigned char *buf, u64 n)
{
    u64 got = 0;
    while (got < n) {
        i64 r = sys3(0, 0, (i64)(buf + got), (i64)(n - got));
        if (r == 0 && got == 0)
            return 0;
        if (r <= 0)
            sys_exit(3);
        got += (u64)r;
    }
    return 1;
}

static void write_full(const unsigned char *buf, u64 n)
{
    while (n) {
        i64 r = sys3(1, 1, (i64)buf, (i64)n);
        if (r <= 0)
            sys_exit(4);
        buf += r;
        n -= (u64)r;
    }
}

static void put_frame(unsigned char kind, const unsigned char *payload, u32 len)
{
    unsigned char head[5] = {len & 255, (len >> 8) & 255, (len >> 16) & 255, len >> 24, kind};
    write_full(head, 5);
    if (len)
        write_full(payload, len);
}

static u64 spin(u64 iters)
{
    u64 x = 88172645463325252UL;
    for (u64 i = 0; i < iters; i++) {   /* xorshift64: no memory traffic, no FP */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

static unsigned char payload[1 << 16];

void _start(void)
{
    unsigned char head[5];
    for (;;) {
        if (!read_full(head, 5))
            sys_exit(0);
        u32 len = head[0] | head[1] << 8 | head[2] << 16 | (u32)head[3] << 24;
        if (len > sizeof payload)
            sys_exit(5);
        if (len && !read_full(payload, len))
            sys_exit(6);
        if (head[4] == 'S')
            continue;
        if (head[4] != 'F')
            sys_exit(7);
        u64 iters = DEFAULT_ITERS;
        if (len >= 8) {
            iters = 0;
            for (int i = 7; i >= 0; i--)
                iters = iters << 8 | payload[i];
        }
        u64 r = spin(iters);
        unsigned char out[8];
        for (int i = 0; i < 8; i++)
            out[i] = (unsigned char)(r >> (8 * i));
        put_frame('D', out, 8);
        put_frame('E', 0, 0);
    }
}
