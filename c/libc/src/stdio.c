/* FILE streams in the sandbox. Three kinds:
 *   read  - a read-only view of bytes in memory (stdin = the fragment, the virtual files)
 *   out   - stdout: buffered, each flush becomes one 'D' frame of the result
 *   err   - stderr: the last STDERR_TAIL bytes are kept for the failed fragment's message
 * fopen knows only the virtual names below; everything else fails with ENOENT. */
#include "internal.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OUT_BUF_BYTES (256 * 1024) /* one D frame per 256 KiB: fewer wake-ups of the runner */
#define STDERR_TAIL 2048
#define MAX_FILES 16

enum kind { K_CLOSED, K_READ, K_OUT, K_ERR };

struct __cpushare_file {
    enum kind kind;
    int eof, err, unget; /* unget: -1 or the pushed-back byte */
    const unsigned char *data;
    size_t len, pos;
};

static struct __cpushare_file files[3 + MAX_FILES];
FILE *stdin = &files[0], *stdout = &files[1], *stderr = &files[2];
static unsigned char out_buf[OUT_BUF_BYTES];
static size_t out_len;
static char err_ring[STDERR_TAIL];
static size_t err_total;

static const struct {
    const char *name;
    int shared;
} virtual_files[] = {
    {"/cpushare/fragment", 0},
    {"/cpushare/shared", 1},
};

void __cpushare_stdio_init(void)
{
    memset(files, 0, sizeof files);
    files[0] = (struct __cpushare_file){K_READ, 0, 0, -1, __cpushare_in.stdin_data,
                                        __cpushare_in.stdin_len, 0};
    files[1].kind = K_OUT;
    files[1].unget = -1;
    files[2].kind = K_ERR;
    files[2].unget = -1;
    out_len = 0;
    err_total = 0;
}

static void flush_out(void)
{
    if (out_len) {
        __cpushare_write_data(out_buf, out_len);
        out_len = 0;
    }
}

void __cpushare_stdio_flush_all(void)
{
    flush_out();
}

size_t __cpushare_stderr_tail(char *out, size_t cap)
{
    size_t n = err_total < STDERR_TAIL ? err_total : STDERR_TAIL;
    if (n > cap)
        n = cap;
    size_t start = err_total - n;
    for (size_t i = 0; i < n; i++)
        out[i] = err_ring[(start + i) % STDERR_TAIL];
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        n--;
    return n;
}

static int lookup(const char *path, const unsigned char **data, size_t *len)
{
    for (size_t i = 0; i < sizeof virtual_files / sizeof virtual_files[0]; i++) {
        if (strcmp(path, virtual_files[i].name) == 0) {
            *data = virtual_files[i].shared ? __cpushare_in.shared : __cpushare_in.stdin_data;
            *len = virtual_files[i].shared ? __cpushare_in.shared_len : __cpushare_in.stdin_len;
            return 1;
        }
    }
    return 0;
}

static int open_into(FILE *f, const char *path, const char *mode)
{
    const unsigned char *data;
    size_t len;
    if (!lookup(path, &data, &len)) {
        errno = ENOENT;
        return -1;
    }
    if (mode[0] != 'r' || strchr(mode, '+')) {
        errno = EROFS;
        return -1;
    }
    *f = (struct __cpushare_file){K_READ, 0, 0, -1, data, len, 0};
    return 0;
}

FILE *fopen(const char *path, const char *mode)
{
    for (int i = 3; i < 3 + MAX_FILES; i++) {
        if (files[i].kind == K_CLOSED)
            return open_into(&files[i], path, mode) == 0 ? &files[i] : NULL;
    }
    errno = EMFILE;
    return NULL;
}

FILE *freopen(const char *path, const char *mode, FILE *f)
{
    if (!path) { /* change of mode only: reading stays reading */
        if (f->kind == K_READ && mode[0] == 'r' && !strchr(mode, '+'))
            return f;
        errno = EBADF;
        return NULL;
    }
    fflush(f);
    f->kind = K_CLOSED;
    return open_into(f, path, mode) == 0 ? f : NULL;
}

FILE *tmpfile(void)
{
    errno = EROFS;
    return NULL;
}

char *tmpnam(char *s)
{
    (void)s;
    return NULL;
}

int fclose(FILE *f)
{
    int r = fflush(f);
    if (f != stdout && f != stderr)
        f->kind = K_CLOSED;
    return r;
}

int fflush(FILE *f)
{
    if (!f || f->kind == K_OUT)
        flush_out();
    return 0;
}

static void err_append(const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        err_ring[(err_total + i) % STDERR_TAIL] = (char)p[i];
    err_total += n;
}

static size_t write_bytes(FILE *f, const unsigned char *p, size_t n)
{
    if (f->kind == K_ERR) {
        err_append(p, n);
        return n;
    }
    if (f->kind != K_OUT) {
        f->err = 1;
        errno = EBADF;
        return 0;
    }
    if (n >= OUT_BUF_BYTES) {
        flush_out();
        __cpushare_write_data(p, n);
        return n;
    }
    if (n > OUT_BUF_BYTES - out_len)
        flush_out();
    memcpy(out_buf + out_len, p, n);
    out_len += n;
    return n;
}

size_t fwrite(const void *p, size_t size, size_t n, FILE *f)
{
    size_t total;
    if (size == 0 || n == 0 || __builtin_mul_overflow(size, n, &total))
        return 0;
    return write_bytes(f, p, total) / size;
}

int fputc(int c, FILE *f)
{
    unsigned char b = (unsigned char)c;
    if (f->kind == K_OUT && out_len < OUT_BUF_BYTES) {
        out_buf[out_len++] = b;
        return b;
    }
    return write_bytes(f, &b, 1) == 1 ? b : EOF;
}

#undef putc
int putc(int c, FILE *f)
{
    return fputc(c, f);
}

int putchar(int c)
{
    return fputc(c, stdout);
}

int fputs(const char *s, FILE *f)
{
    size_t n = strlen(s);
    return write_bytes(f, (const unsigned char *)s, n) == n ? 0 : EOF;
}

int puts(const char *s)
{
    if (fputs(s, stdout) == EOF)
        return EOF;
    return fputc('\n', stdout) == EOF ? EOF : 0;
}

static int readable(FILE *f)
{
    if (f->kind == K_READ)
        return 1;
    f->err = 1;
    errno = EBADF;
    return 0;
}

int fgetc(FILE *f)
{
    if (f->unget >= 0) {
        int c = f->unget;
        f->unget = -1;
        return c;
    }
    if (f->kind == K_READ && f->pos < f->len)
        return f->data[f->pos++];
    if (readable(f))
        f->eof = 1;
    return EOF;
}

#undef getc
int getc(FILE *f)
{
    return fgetc(f);
}

int getchar(void)
{
    return fgetc(stdin);
}

int ungetc(int c, FILE *f)
{
    if (c == EOF || f->unget >= 0)
        return EOF;
    f->unget = (unsigned char)c;
    f->eof = 0;
    return (unsigned char)c;
}

size_t fread(void *p, size_t size, size_t n, FILE *f)
{
    size_t want, got = 0;
    if (size == 0 || n == 0 || __builtin_mul_overflow(size, n, &want) || !readable(f))
        return 0;
    unsigned char *d = p;
    if (f->unget >= 0 && want > 0) {
        d[got++] = (unsigned char)f->unget;
        f->unget = -1;
    }
    size_t avail = f->len - f->pos, take = want - got < avail ? want - got : avail;
    memcpy(d + got, f->data + f->pos, take);
    f->pos += take;
    got += take;
    if (got < want)
        f->eof = 1;
    return got / size;
}

char *fgets(char *s, int n, FILE *f)
{
    int i = 0;
    if (n <= 0)
        return NULL;
    while (i < n - 1) {
        int c = fgetc(f);
        if (c == EOF)
            break;
        s[i++] = (char)c;
        if (c == '\n')
            break;
    }
    if (i == 0)
        return NULL;
    s[i] = 0;
    return s;
}

int fseek(FILE *f, long off, int whence)
{
    if (f->kind != K_READ) {
        errno = ESPIPE;
        return -1;
    }
    long base = whence == SEEK_SET ? 0 : whence == SEEK_CUR ? (long)f->pos - (f->unget >= 0)
              : whence == SEEK_END ? (long)f->len : -1;
    if (base < 0 || off < -base || (unsigned long)(base + off) > f->len) {
        errno = EINVAL;
        return -1;
    }
    f->pos = (size_t)(base + off);
    f->unget = -1;
    f->eof = 0;
    return 0;
}

long ftell(FILE *f)
{
    if (f->kind != K_READ) {
        errno = ESPIPE;
        return -1;
    }
    return (long)f->pos - (f->unget >= 0);
}

void rewind(FILE *f)
{
    fseek(f, 0, SEEK_SET);
    f->err = 0;
}

int fgetpos(FILE *f, fpos_t *pos)
{
    long p = ftell(f);
    if (p < 0)
        return -1;
    *pos = p;
    return 0;
}

int fsetpos(FILE *f, const fpos_t *pos)
{
    return fseek(f, *pos, SEEK_SET);
}

int feof(FILE *f)
{
    return f->eof;
}

int ferror(FILE *f)
{
    return f->err;
}

void clearerr(FILE *f)
{
    f->eof = f->err = 0;
}

int setvbuf(FILE *f, char *buf, int mode, size_t size)
{
    (void)f, (void)buf, (void)mode, (void)size;
    return 0; /* the buffering is fixed: output only leaves at flushes and at the end */
}

void setbuf(FILE *f, char *buf)
{
    setvbuf(f, buf, buf ? _IOFBF : _IONBF, BUFSIZ);
}

void perror(const char *s)
{
    if (s && *s)
        fprintf(stderr, "%s: %s\n", s, strerror(errno));
    else
        fprintf(stderr, "%s\n", strerror(errno));
}

int remove(const char *path)
{
    const unsigned char *d;
    size_t n;
    errno = lookup(path, &d, &n) ? EROFS : ENOENT;
    return -1;
}

int rename(const char *from, const char *to)
{
    (void)to;
    return remove(from);
}

/* ---- printf family on top of __cpushare_vformat ---- */

static void to_file(void *ctx, const char *p, size_t n)
{
    write_bytes(ctx, (const unsigned char *)p, n);
}

int vfprintf(FILE *f, const char *fmt, va_list ap)
{
    return __cpushare_vformat(to_file, f, fmt, ap);
}

int fprintf(FILE *f, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(f, fmt, ap);
    va_end(ap);
    return r;
}

int vprintf(const char *fmt, va_list ap)
{
    return vfprintf(stdout, fmt, ap);
}

int printf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vfprintf(stdout, fmt, ap);
    va_end(ap);
    return r;
}

struct sbuf {
    char *s;
    size_t cap, len;
};

static void to_buf(void *ctx, const char *p, size_t n)
{
    struct sbuf *b = ctx;
    if (b->len < b->cap) {
        size_t room = b->cap - b->len;
        memcpy(b->s + b->len, p, n < room ? n : room);
    }
    b->len += n;
}

int vsnprintf(char *s, size_t n, const char *fmt, va_list ap)
{
    struct sbuf b = {s, n ? n - 1 : 0, 0};
    int r = __cpushare_vformat(to_buf, &b, fmt, ap);
    if (n)
        s[b.len < b.cap ? b.len : b.cap] = 0;
    return r;
}

int snprintf(char *s, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsnprintf(s, n, fmt, ap);
    va_end(ap);
    return r;
}

int vsprintf(char *s, const char *fmt, va_list ap)
{
    return vsnprintf(s, (size_t)-1 >> 1, fmt, ap);
}

int sprintf(char *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = vsprintf(s, fmt, ap);
    va_end(ap);
    return r;
}

int fileno(FILE *f)
{
    if (f == stdin || f == stdout || f == stderr)
        return (int)(f - stdin);
    errno = EBADF;
    return -1; /* streams from fopen have no descriptor */
}

FILE *fdopen(int fd, const char *mode)
{
    (void)mode;
    if (fd >= 0 && fd <= 2)
        return &files[fd];
    errno = EBADF;
    return NULL;
}
