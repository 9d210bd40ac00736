/* cpushare-mq freestanding runtime for sandboxed programs (ABI v1).
 *
 * Programs run under seccomp STRICT: the only system calls are read, write, exit and
 * rt_sigreturn. This runtime gives them _start, raw I/O, the mem* family, a bump allocator
 * over a static arena, and ABI v1 framing:
 *
 *   frame := u32 little-endian payload length | u8 kind | payload
 *   fd 0  : 'S' once (shared input, may be empty), then one 'F' per fragment, then EOF
 *   fd 1  : per 'F': zero or more 'D' (result bytes), then 'E' (empty) or 'X' (message)
 *
 * Link:  $(CC) $(FREE_CFLAGS) prog.c -o prog.elf $(FREE_LDFLAGS) $(BUILD)/librt.a
 * _start (in librt.a) calls `int main(void)` and exits with its return value.
 * Maths: see rt_math.h. See docs/sandbox.md.
 */
#ifndef CPUSHARE_RT_H
#define CPUSHARE_RT_H

#include <stddef.h>
#include <stdint.h>

/* Compile-time sizes (override with -D when building librt). Both live in bss, so they cost
 * address space (counted against the seller's memory cap), not RAM, until touched. */
#ifndef RT_ARENA_BYTES
#define RT_ARENA_BYTES (64u << 20)      /* rt_alloc arena */
#endif
#ifndef RT_MAX_FRAME_BYTES
#define RT_MAX_FRAME_BYTES (64u << 20)  /* shared input + one fragment must fit together */
#endif

/* Raw system calls. Return the kernel's value: >= 0 on success, -errno on failure. */
long rt_read(int fd, void *buf, unsigned long n);
long rt_write(int fd, const void *buf, unsigned long n);
__attribute__((noreturn)) void rt_exit(int status); /* syscall 60 (exit), never exit_group */
/* Read exactly n bytes of fd 0: 1 = done, 0 = EOF before the first byte, -1 = error or EOF
 * inside. Write all n bytes to fd 1, or exit(3) when the runner has gone away. */
int rt_read_exact(void *buf, size_t n);
void rt_write_all(const void *buf, size_t n);

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t rt_strlen(const char *s);

/* 16-byte aligned bump allocator over a static arena of RT_ARENA_BYTES.
 * Returns NULL when the arena is exhausted. Memory is not zeroed after rt_alloc_reset. */
void *rt_alloc(size_t n);
void rt_alloc_reset(void); /* forget all allocations (e.g. between fragments) */

/* ABI v1. */
/* Read the 'S' frame (call once, first). 0 = ok, -1 = protocol error (wrong kind, too big,
 * EOF). The shared bytes stay valid for the life of the process. */
int rt_abi_shared(const uint8_t **data, uint32_t *len);
/* Read the next 'F' frame: 1 = got one, 0 = clean EOF (no more fragments), -1 = error.
 * The bytes stay valid until the next call. */
int rt_abi_next(const uint8_t **data, uint32_t *len);
void rt_abi_data(const void *p, uint32_t n); /* one 'D' frame, written at once */
void rt_abi_end(void);                       /* 'E': this fragment's result is complete */
void rt_abi_error(const char *msg);          /* 'X': this fragment is invalid (UTF-8 message) */

/* The usual main loop, for a program that answers each fragment on its own:
 *     static const char *answer(rt_bytes shared, rt_bytes frag, void *ctx) { ... }
 *     int main(void) { return rt_abi_serve(answer, NULL); }
 * reads the shared input, then calls answer once per fragment; answer writes its result with
 * rt_abi_data and returns NULL ('E' follows) or a message ('X': the fragment is invalid).
 * Returns main's exit status: 0 at the end of the input, 2 on a malformed input stream. */
typedef struct {
    const uint8_t *data;
    uint32_t len;
} rt_bytes;
typedef const char *(*rt_answer_fn)(rt_bytes shared, rt_bytes frag, void *ctx);
int rt_abi_serve(rt_answer_fn answer, void *ctx);

/* 64-bit FNV-1a of n bytes, continuing from h (start with RT_FNV1A64_INIT). */
#define RT_FNV1A64_INIT 14695981039346656037ull
uint64_t rt_fnv1a64(uint64_t h, const void *p, size_t n);

#endif
