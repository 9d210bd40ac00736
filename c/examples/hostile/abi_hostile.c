/* An ABI v1 program (on the runtime) that misbehaves on request: the first byte of each
 * fragment selects what it does. Used by tests/sandbox to check the runner's classification
 * of bad frames, partial output, early exits and limits. */
#include "rt.h"

static void raw(const void *p, unsigned long n)
{
    rt_write(1, p, n);
}

static void header(unsigned char kind, uint32_t n)
{
    unsigned char h[5] = {(unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 24), kind};
    raw(h, 5);
}

static __attribute__((noreturn)) void spin(void)
{
    for (;;)
        __asm__ volatile("" ::: "memory");
}

int main(void)
{
    const uint8_t *shared, *f;
    uint32_t shared_len, n;
    if (rt_abi_shared(&shared, &shared_len) != 0)
        return 2;
    for (;;) {
        int r = rt_abi_next(&f, &n);
        if (r == 0)
            return 0;
        if (r < 0)
            return 2;
        char c = n ? (char)f[0] : 'n';
        switch (c) {
        case 'n': /* normal: echo */
            rt_abi_data(f, n);
            rt_abi_end();
            break;
        case 's': /* shared input back */
            rt_abi_data(shared, shared_len);
            rt_abi_end();
            break;
        case 'X': /* the fragment is invalid */
            rt_abi_error("fragment rejected: bad tile");
            break;
        case 'Z': /* unknown frame kind */
            header('Z', 0);
            break;
        case 'e': /* non-empty 'E' */
            header('E', 3);
            raw("abc", 3);
            break;
        case 'a': { /* D, E and then output for a fragment never sent, in one write */
            unsigned char buf[5 + 1 + 5 + 5 + 1] = {1, 0, 0, 0, 'D', 'r', 0, 0, 0, 0, 'E',
                                                     1, 0, 0, 0, 'D', '!'};
            raw(buf, sizeof buf);
            break;
        }
        case 'g': /* a 'D' frame claiming 4 GiB */
            header('D', 0xffffffffu);
            raw("x", 1);
            spin();
        case 'G': /* an 'X' frame claiming 4 GiB */
            header('X', 0xffffffffu);
            spin();
        case 'x': /* partial output, then exit 7 */
            rt_abi_data("partial", 7);
            return 7;
        case 'q': /* exit 0 in the middle of the fragment */
            return 0;
        case 't': /* a frame cut short, then exit 0 */
            header('D', 100);
            raw("short", 5);
            return 0;
        case 'o': { /* endless output */
            static char buf[65536];
            memset(buf, 'o', sizeof buf);
            for (;;)
                rt_abi_data(buf, sizeof buf);
        }
        case 'l': /* endless loop */
            spin();
        case 'b': /* block: wait for input that never comes */
            rt_read(0, (void *)f, 1);
            return 3;
        case 'k': /* answer, then exit (the next fragment needs a fresh process) */
            rt_abi_data(f, n);
            rt_abi_end();
            return 0;
        case 'm': { /* touch n bytes of the arena */
            uint32_t mib = n > 1 ? f[1] : 1;
            unsigned char *p = rt_alloc((size_t)mib << 20);
            if (p == 0) {
                rt_abi_error("arena exhausted");
                break;
            }
            memset(p, 1, (size_t)mib << 20);
            rt_abi_data("touched", 7);
            rt_abi_end();
            rt_alloc_reset();
            break;
        }
        case 'c': { /* burn about f[1] * 10 M iterations of CPU, then answer */
            uint32_t reps = n > 1 ? f[1] : 1;
            volatile uint64_t x = 0;
            for (uint64_t i = 0; i < (uint64_t)reps * 10000000u; i++)
                x += i;
            rt_abi_data("burnt", 5);
            rt_abi_end();
            break;
        }
        default:
            rt_abi_error("unknown command");
            break;
        }
    }
}
