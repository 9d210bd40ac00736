/* spin: a CPU-bound ABI v1 program with its own _start (no runtime), for benchmarks and tests.
 *
 * The same static freestanding binary runs natively and in the sandbox, so a native run is
 * the reference for a sandboxed one (bench/peers, tests/chaos).
 *
 * fd 0: 'S' frame (ignored), then 'F' frames. Fragment payload: a u64 LE iteration count,
 *       then any bytes (the "tag"). An empty payload means DEFAULT_ITERS and no tag; a
 *       payload of 1 to 7 bytes is answered with 'X' (the fragment is invalid).
 * fd 1: per fragment, one 'D' frame with the tag followed by the u64 LE result of an
 *       xorshift64 loop of that many iterations (no memory traffic, no floating point;
 *       deterministic, so a re-run elsewhere gives the same bytes), then 'E'.
 * End of input -> exit(0) with the exit system call (60), as seccomp strict mode requires.
 * Exit codes 3-7: read error, write error, frame too big, cut frame, unexpected frame kind.
 */
typedef unsigned long u64;
typedef unsigned int u32;
typedef long i64;

#define DEFAULT_ITERS 100000000UL
#define MAX_PAYLOAD (1u << 16)

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

/* Read exactly n bytes; returns 1 on success, 0 on clean EOF before any byte, exits on error. */
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

static u64 spin(u64 iters)
{
    u64 x = 88172645463325252UL;
    for (u64 i = 0; i < iters; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

static unsigned char payload[MAX_PAYLOAD];
static unsigned char out[MAX_PAYLOAD + 8];
static const char too_short[] = "fragment payload shorter than its 8-byte iteration count";

void _start(void)
{
    unsigned char head[5];
    for (;;) {
        if (!read_full(head, 5))
            leave(0);
        u32 len = head[0] | head[1] << 8 | head[2] << 16 | (u32)head[3] << 24;
        if (len > sizeof payload)
            leave(5);
        if (len && !read_full(payload, len))
            leave(6);
        if (head[4] == 'S')
            continue;
        if (head[4] != 'F')
            leave(7);
        if (len > 0 && len < 8) {
            put_frame('X', (const unsigned char *)too_short, sizeof too_short - 1);
            continue;
        }
        u64 iters = DEFAULT_ITERS;
        u32 tag = 0;
        if (len) {
            iters = 0;
            for (int i = 7; i >= 0; i--)
                iters = iters << 8 | payload[i];
            tag = len - 8;
        }
        u64 x = spin(iters);
        for (u32 i = 0; i < tag; i++)
            out[i] = payload[8 + i];
        for (int i = 0; i < 8; i++)
            out[tag + i] = (unsigned char)(x >> (8 * i));
        put_frame('D', out, tag + 8);
        put_frame('E', 0, 0);
    }
}
