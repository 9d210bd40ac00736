/* ABI v1 hostile: answers each fragment properly ('D' "answer:<fragment>", 'E'), and then,
 * before reading the next fragment, does what the fragment names (tests/sandbox/
 * test_sandbox_after_end.py checks that it is charged to *that* fragment, never the next):
 *   good     nothing (reads the next fragment)     exit0   exits with status 0
 *   syscall  a forbidden system call (getpid)      exit3   exits with status 3
 *   crash    a write to address 0 (SIGSEGV)        spin    spins forever
 *   output   one more 'D' frame                    burn    spins ~1e9 iterations, then reads on
 * and, instead of the answer above:
 *   frames0  999,424 empty 'D' frames (just under the old limit of a million), then 'E'
 *   frames1  999,424 1-byte 'D' frames, then 'E' */
#include "rt.h"

static int is(const uint8_t *p, uint32_t n, const char *word)
{
    uint32_t k = (uint32_t)rt_strlen(word);
    return n == k && memcmp(p, word, k) == 0;
}

static void flood(uint32_t payload)
{
    static unsigned char buf[6 * 4096];
    for (int i = 0; i < 4096; i++) {
        unsigned char *f = buf + i * (5 + payload);
        f[0] = (unsigned char)payload, f[1] = f[2] = f[3] = 0, f[4] = 'D';
        if (payload)
            f[5] = 'x';
    }
    for (int round = 0; round < 244; round++)   /* 999,424 frames */
        rt_write(1, buf, 4096 * (5 + payload));
    rt_abi_end();
}

static void spin(unsigned long n)
{
    for (volatile unsigned long i = 0; i < n; i++)
        ;
}

int main(void)
{
    const uint8_t *shared, *frag;
    uint32_t shared_len, len;
    static unsigned char answer[4096 + 8];
    if (rt_abi_shared(&shared, &shared_len) != 0)
        return 2;
    for (;;) {
        int r = rt_abi_next(&frag, &len);
        if (r <= 0)
            return r == 0 ? 0 : 2;
        if (is(frag, len, "frames0") || is(frag, len, "frames1")) {
            flood(frag[6] == '1');
            continue;
        }
        if (len > 4096)
            len = 4096;
        memcpy(answer, "answer:", 7);
        memcpy(answer + 7, frag, len);
        rt_abi_data(answer, len + 7);
        rt_abi_end();
        if (is(frag, len, "syscall")) {
            long ret;
            __asm__ volatile("syscall" : "=a"(ret) : "a"(39L) : "rcx", "r11", "memory");
        } else if (is(frag, len, "crash")) {
            *(volatile int *)0 = 1;
        } else if (is(frag, len, "exit0")) {
            return 0;
        } else if (is(frag, len, "exit3")) {
            return 3;
        } else if (is(frag, len, "spin")) {
            for (;;)
                spin(1000000);
        } else if (is(frag, len, "output")) {
            rt_abi_data("late", 4);
        } else if (is(frag, len, "burn")) {
            spin(1000000000ul);
        }
    }
}
