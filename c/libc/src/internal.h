/* Internal interfaces of the sandbox C library (not installed). */
#ifndef CPUSHARE_LIBC_INTERNAL_H
#define CPUSHARE_LIBC_INTERNAL_H
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

/* From c/rt (rt.c only: system calls and mem*). */
long rt_read(int fd, void *buf, unsigned long n);
long rt_write(int fd, const void *buf, unsigned long n);
void rt_exit(int status) __attribute__((noreturn));
int rt_read_exact(void *buf, size_t n);   /* c/rt/rt.c: see rt.h */
void rt_write_all(const void *buf, size_t n);

/* The current fragment's inputs (set by crt.c before main runs). */
struct cpushare_inputs {
    const unsigned char *shared;
    size_t shared_len;
    const unsigned char *stdin_data; /* the fragment after its ARGV block */
    size_t stdin_len;
};
extern struct cpushare_inputs __cpushare_in;

/* malloc.c */
void __cpushare_malloc_init(unsigned char *start, unsigned char *end);

/* stdio.c */
void __cpushare_stdio_init(void);
void __cpushare_stdio_flush_all(void);
size_t __cpushare_stderr_tail(char *out, size_t cap);
/* Write one 'D' frame with these bytes (crt.c). */
void __cpushare_write_data(const void *p, size_t n);

/* printf.c: the formatting engine; out(ctx, bytes, n) receives the pieces. */
typedef void (*fmt_out_fn)(void *ctx, const char *p, size_t n);
int __cpushare_vformat(fmt_out_fn out, void *ctx, const char *fmt, va_list ap);

/* exit.c: run atexit handlers, flush, end the fragment with status. */
void __cpushare_end_fragment(int status) __attribute__((noreturn));
#endif
