/* Start-up of C programs in the sandbox: main(argc, argv) runs once per fragment.
 *
 * At start the program's writable data (.data) is copied to the start of the heap arena;
 * then the 'S' frame (shared input) is read after it. For each 'F' frame: the fragment is
 * read after the shared input, .data is copied back and .bss zeroed (all but the arena),
 * the allocator starts over behind the fragment, and main(argc, argv) runs as in a fresh
 * process. Its exit status decides the answer: 0 -> the buffered stdout is flushed as 'D'
 * frames, then 'E'; anything else -> 'X' "exit status N: <end of stderr>".
 *
 * Arguments (documented in docs/sandbox.md): a fragment that starts with the 5 bytes
 * "ARGV\0" carries NUL-terminated arguments up to an empty one ("ARGV\0a\0b\0\0"); the
 * rest is stdin. argv[0] is "program".
 *
 * A program that uses the ABI v1 frames itself (it calls rt_abi_next from c/rt) is left
 * alone: its main() runs once and drives the frames (the weak reference below tells).
 */
#include "internal.h"
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

extern unsigned char cpushare_heap[];
extern const unsigned long long cpushare_heap_bytes;
extern const unsigned char __ehdr_start[];
int rt_abi_next(const uint8_t **data, uint32_t *len) __attribute__((weak));
int main(int argc, char **argv, char **envp);

struct cpushare_inputs __cpushare_in;
static jmp_buf end_jmp;
static int end_status;

/* The writable PT_LOAD segment (.data + .bss), found in our own program headers. */
struct rw_segment {
    unsigned char *start;
    size_t file_bytes, mem_bytes;
};

static struct rw_segment find_rw_segment(void)
{
    struct rw_segment rw = {0, 0, 0};
    const unsigned char *eh = __ehdr_start;
    uint64_t phoff;
    uint16_t phentsize, phnum;
    memcpy(&phoff, eh + 32, 8);
    memcpy(&phentsize, eh + 54, 2);
    memcpy(&phnum, eh + 56, 2);
    for (unsigned i = 0; i < phnum; i++) {
        const unsigned char *ph = eh + phoff + (size_t)i * phentsize;
        uint32_t type, flags;
        uint64_t vaddr, filesz, memsz;
        memcpy(&type, ph, 4);
        memcpy(&flags, ph + 4, 4);
        memcpy(&vaddr, ph + 16, 8);
        memcpy(&filesz, ph + 32, 8);
        memcpy(&memsz, ph + 40, 8);
        if (type == 1 && (flags & 2)) { /* PT_LOAD, PF_W */
            rw.start = (unsigned char *)vaddr;
            rw.file_bytes = filesz;
            rw.mem_bytes = memsz;
        }
    }
    return rw;
}

/* Put .data back as it was at start and zero .bss, except the heap arena (which holds the
 * saved .data and the inputs; the allocator starts over anyway). */
static void restore_rw(const struct rw_segment *rw, const unsigned char *saved)
{
    memcpy(rw->start, saved, rw->file_bytes);
    unsigned char *bss = rw->start + rw->file_bytes, *end = rw->start + rw->mem_bytes;
    unsigned char *heap = cpushare_heap, *heap_end = cpushare_heap + cpushare_heap_bytes;
    if (heap >= bss && heap_end <= end) {
        memset(bss, 0, (size_t)(heap - bss));
        memset(heap_end, 0, (size_t)(end - heap_end));
    } else {
        memset(bss, 0, (size_t)(end - bss));
    }
}

static void frame_header(unsigned char kind, uint32_t n)
{
    unsigned char h[5] = {(unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 24), kind};
    rt_write_all(h, 5);
}

void __cpushare_write_data(const void *p, size_t n)
{
    while (n > 0) {
        uint32_t part = n > (1u << 30) ? (1u << 30) : (uint32_t)n;
        frame_header('D', part);
        rt_write_all(p, part);
        p = (const unsigned char *)p + part;
        n -= part;
    }
}

static void answer_error(const char *msg, size_t n)
{
    frame_header('X', (uint32_t)n);
    rt_write_all(msg, n);
}

/* Read a frame of `kind` into buf (cap bytes). 1 = ok, 0 = EOF, -1 = bad frame, -2 = too
 * big (the payload was read and dropped: the fragment can still be answered). */
static int read_frame(unsigned char kind, unsigned char *buf, size_t cap, size_t *len)
{
    unsigned char h[5];
    int r = rt_read_exact(h, 5);
    if (r <= 0)
        return r;
    uint32_t n = (uint32_t)h[0] | (uint32_t)h[1] << 8 | (uint32_t)h[2] << 16 |
                 (uint32_t)h[3] << 24;
    if (h[4] != kind)
        return -1;
    *len = n;
    if (n <= cap)
        return n == 0 || rt_read_exact(buf, n) == 1 ? 1 : -1;
    while (n > 0) {
        size_t part = n < cap ? n : cap;
        if (cap == 0 || rt_read_exact(buf, part) != 1)
            return -1;
        n -= (uint32_t)part;
    }
    return -2;
}

static size_t align16(size_t n)
{
    return (n + 15u) & ~(size_t)15u;
}

/* Split off the "ARGV\0a\0b\0\0" block: argv (and the "program" string) go in the arena at
 * *free, below end. Returns argc, -1 for a malformed block, -2 when argv does not fit. */
static int parse_args(unsigned char *frag, size_t len, unsigned char **free,
                      const unsigned char *end, char ***argv_out)
{
    static const char magic[5] = {'A', 'R', 'G', 'V', 0};
    size_t pos = 0, nargs = 0;
    __cpushare_in.stdin_data = frag;
    __cpushare_in.stdin_len = len;
    if (len >= 5 && memcmp(frag, magic, 5) == 0) {
        pos = 5;
        while (pos < len && frag[pos] != 0) {
            size_t n = strnlen((char *)frag + pos, len - pos);
            if (pos + n >= len)
                return -1; /* unterminated argument */
            nargs++;
            pos += n + 1;
        }
        if (pos >= len)
            return -1; /* no empty argument at the end */
        pos++;
        __cpushare_in.stdin_data = frag + pos;
        __cpushare_in.stdin_len = len - pos;
    }
    size_t need = (nargs + 2) * sizeof(char *) + 16;
    if (*free > end || need > (size_t)(end - *free))
        return -2;
    char **argv = (char **)*free;
    char *name = (char *)(argv + nargs + 2);
    memcpy(name, "program", 8);
    int argc = 0;
    argv[argc++] = name;
    for (size_t p = 5; argc <= (int)nargs; p += strlen((char *)frag + p) + 1)
        argv[argc++] = (char *)frag + p;
    argv[argc] = 0;
    *free += align16(need);
    *argv_out = argv;
    return argc;
}

void __cpushare_end_fragment(int status)
{
    end_status = status;
    longjmp(end_jmp, 1);
}

static void finish(int status)
{
    if (status == 0) {
        frame_header('E', 0);
        return;
    }
    char msg[2200];
    static const char head[] = "exit status ";
    size_t n = sizeof head - 1;
    memcpy(msg, head, n);
    char digits[12];
    int nd = 0;
    unsigned s = (unsigned)status & 255u;
    do {
        digits[nd++] = (char)('0' + s % 10);
        s /= 10;
    } while (s);
    while (nd)
        msg[n++] = digits[--nd];
    char tail[2100];
    size_t t = __cpushare_stderr_tail(tail, sizeof tail);
    if (t) {
        msg[n++] = ':';
        msg[n++] = ' ';
        memcpy(msg + n, tail, t);
        n += t;
    }
    answer_error(msg, n);
}

/* main(), then exit() with its value; exit() comes back here through end_jmp. */
static int run_main(int argc, char **argv)
{
    if (setjmp(end_jmp) == 0) {
        char *envp[1] = {0};
        exit(main(argc, argv, envp));
    }
    return end_status;
}

static void run_fragments(const struct rw_segment *rw, unsigned char *saved,
                          size_t shared_len, unsigned char *heap_end)
{
    unsigned char *shared = saved + align16(rw->file_bytes);
    unsigned char *after_shared = shared + align16(shared_len);
    for (;;) {
        size_t len = 0;
        int r = read_frame('F', after_shared, (size_t)(heap_end - after_shared), &len);
        if (r == 0)
            rt_exit(0);
        if (r == -1)
            rt_exit(2);
        restore_rw(rw, saved);
        __cpushare_in.shared = shared;
        __cpushare_in.shared_len = shared_len;
        if (r == -2) {
            static const char m[] = "fragment does not fit in the program's heap arena "
                                    "(build with a larger cpushare-cc --heap)";
            answer_error(m, sizeof m - 1);
            continue;
        }
        unsigned char *free = after_shared + align16(len);
        char **argv;
        int argc = parse_args(after_shared, len, &free, heap_end, &argv);
        if (argc == -2) {
            static const char m[] = "fragment does not fit in the program's heap arena "
                                    "(build with a larger cpushare-cc --heap)";
            answer_error(m, sizeof m - 1);
            continue;
        }
        if (argc < 0) {
            static const char m[] = "bad ARGV block: NUL-terminated arguments must end with "
                                    "an empty one (\"ARGV\\0a\\0b\\0\\0\")";
            answer_error(m, sizeof m - 1);
            continue;
        }
        __cpushare_malloc_init(free, heap_end);
        __cpushare_stdio_init();
        finish(run_main(argc, argv));
    }
}

__attribute__((noreturn, used)) void __cpushare_crt(void)
{
    if (rt_abi_next)
        rt_exit(main(0, 0, 0));
    struct rw_segment rw = find_rw_segment();
    unsigned char *heap = cpushare_heap, *heap_end = cpushare_heap + cpushare_heap_bytes;
    unsigned char *saved = heap;
    memcpy(saved, rw.start, rw.file_bytes);
    unsigned char *shared = saved + align16(rw.file_bytes);
    size_t shared_len = 0;
    int r = read_frame('S', shared, (size_t)(heap_end - shared), &shared_len);
    if (r == -2) { /* too big: say so for every fragment */
        static const char m[] = "shared input does not fit in the program's heap arena "
                                "(build with a larger cpushare-cc --heap)";
        size_t len;
        while ((r = read_frame('F', shared, (size_t)(heap_end - shared), &len)) != 0) {
            if (r == -1)
                rt_exit(2);
            answer_error(m, sizeof m - 1);
        }
        rt_exit(0);
    }
    if (r != 1)
        rt_exit(2); /* no 'S' frame: a protocol error of the runner */
    run_fragments(&rw, saved, shared_len, heap_end);
    rt_exit(0);
}

__asm__(".text\n"
        ".globl _start\n"
        ".type _start, @function\n"
        "_start:\n"
        "    xor %ebp, %ebp\n"
        "    and $-16, %rsp\n"
        "    call __cpushare_crt\n"
        "    hlt\n"
        ".size _start, .-_start\n");
