/* stdio.h for sandbox programs. stdout becomes the fragment's result ('D' frames); stdin
 * reads the fragment (after its optional ARGV block); stderr is kept (its last 2 KiB) for the
 * message of a failed fragment. fopen opens read-only the virtual files
 * "/cpushare/fragment" (= stdin's bytes) and "/cpushare/shared" (the job's shared input);
 * any other name fails with ENOENT (EROFS when writing a virtual file). */
#ifndef _CPUSHARE_STDIO_H
#define _CPUSHARE_STDIO_H
#include <stddef.h>
#include <stdarg.h>
typedef struct __cpushare_file FILE;
typedef long fpos_t;
#ifndef _CPUSHARE_SSIZE_T
#define _CPUSHARE_SSIZE_T
#endif
#define EOF (-1)
int fileno(FILE *f);
FILE *fdopen(int fd, const char *mode);
#define BUFSIZ 8192
#define FILENAME_MAX 4096
#define FOPEN_MAX 16
#define L_tmpnam 32
#define TMP_MAX 0
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#define _IOFBF 0
#define _IOLBF 1
#define _IONBF 2
extern FILE *stdin, *stdout, *stderr;
FILE *fopen(const char *path, const char *mode);
FILE *freopen(const char *path, const char *mode, FILE *f);
FILE *tmpfile(void);
char *tmpnam(char *s);
int fclose(FILE *f);
int fflush(FILE *f);
size_t fread(void *p, size_t size, size_t n, FILE *f);
size_t fwrite(const void *p, size_t size, size_t n, FILE *f);
int fgetc(FILE *f);
int getc(FILE *f);
int getchar(void);
int ungetc(int c, FILE *f);
char *fgets(char *s, int n, FILE *f);
int fputc(int c, FILE *f);
int putc(int c, FILE *f);
int putchar(int c);
int fputs(const char *s, FILE *f);
int puts(const char *s);
int fseek(FILE *f, long off, int whence);
long ftell(FILE *f);
void rewind(FILE *f);
int fgetpos(FILE *f, fpos_t *pos);
int fsetpos(FILE *f, const fpos_t *pos);
int feof(FILE *f);
int ferror(FILE *f);
void clearerr(FILE *f);
int setvbuf(FILE *f, char *buf, int mode, size_t size);
void setbuf(FILE *f, char *buf);
void perror(const char *s);
int remove(const char *path);
int rename(const char *from, const char *to);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sprintf(char *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int snprintf(char *s, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vprintf(const char *fmt, va_list ap);
int vfprintf(FILE *f, const char *fmt, va_list ap);
int vsprintf(char *s, const char *fmt, va_list ap);
int vsnprintf(char *s, size_t n, const char *fmt, va_list ap);
#define getc(f) fgetc(f)
#define putc(c, f) fputc(c, f)
#endif
