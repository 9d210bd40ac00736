/* slow.c: an ABI v1 program whose fragments take a chosen time, for the chaos tests.
 *
 * Fragment payload: u64 LE iteration count, then any bytes ("tag").
 * Result: the tag, then the u64 LE result of an xorshift loop of that many iterations:
 * deterministic, so a re-run elsewhere gives the same bytes.
 * Own _start, no runtime: read fd 0, write fd 1, exit with system call 60.
 */
typedef unsigned long u64;
typedef unsigned int u32;
typedef long i64;

static i64 sys3(i64 n, i64 a, i64 b, i64 c)
{
    i64 ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
    return ret;
}

static void leave(int code)
{
    for (;;)
        sys3(60, code, 0, 0);
}

static int read_full(unsigned char *buf, u64 n)
{
    u64 got = 0;
    while (got < n) {
        i64 r = sys3(0, 0, (i64)(buf + got), (i64)(n - got));
        if (r == 0 && got == 0)
            return 0;
        if (r <= 0)
            leave(3);
        got += (u64)r;
    }
    return 1;
}

static void write_full(const unsigned char *buf, u64 n)
{
    while (n) {
        i64 r = sys3(1, 1, (i64)buf, (i64)n);
        if (r <= 0)
            leave(4);
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

static unsigned char buf[1 << 16];
static unsigned char out[(1 << 16) + 8];

void _start(void)
{
    unsigned char head[5];
    for (;;) {
        if (!read_full(head, 5))
            leave(0);
        u32 len = head[0] | head[1] << 8 | head[2] << 16 | (u32)head[3] << 24;
        if (len > sizeof buf)
            leave(5);
        if (len && !read_full(buf, len))
            leave(6);
        if (head[4] == 'S')
            continue;
        if (head[4] != 'F' || len < 8)
            leave(7);
        u64 iters = 0;
        for (int i = 7; i >= 0; i--)
            iters = iters << 8 | buf[i];
        u64 x = 88172645463325252UL;
        for (u64 i = 0; i < iters; i++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        u32 tag = len - 8;
        for (u32 i = 0; i < tag; i++)
            out[i] = buf[8 + i];
        for (int i = 0; i < 8; i++)
            out[tag + i] = (unsigned char)(x >> (8 * i));
        put_frame('D', out, tag + 8);
        put_frame('E', 0, 0);
    }
}
