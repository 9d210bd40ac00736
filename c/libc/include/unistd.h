/* unistd.h: the few POSIX calls portable programs use. fd 0 reads the fragment (like
 * stdin), fd 1 writes the result (like stdout, same buffer), fd 2 the kept stderr tail;
 * other descriptors come from open() on the virtual files. No processes, no clocks. */
#ifndef _CPUSHARE_UNISTD_H
#define _CPUSHARE_UNISTD_H
#include <sys/types.h>
#define STDIN_FILENO 0
#define STDOUT_FILENO 1
#define STDERR_FILENO 2
#ifndef SEEK_SET
#define SEEK_SET 0
#define SEEK_CUR 1
#define SEEK_END 2
#endif
ssize_t read(int fd, void *buf, size_t n);
ssize_t write(int fd, const void *buf, size_t n);
int close(int fd);
off_t lseek(int fd, off_t off, int whence);
int isatty(int fd);
int unlink(const char *path);
#endif
