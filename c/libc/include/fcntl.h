/* fcntl.h: open() knows the same virtual read-only files as fopen (see stdio.h); anything
 * else fails with ENOENT. */
#ifndef _CPUSHARE_FCNTL_H
#define _CPUSHARE_FCNTL_H
#include <sys/types.h>
#define O_RDONLY 0
#define O_WRONLY 1
#define O_RDWR 2
#define O_CREAT 0100
#define O_EXCL 0200
#define O_TRUNC 01000
#define O_APPEND 02000
#define O_NONBLOCK 04000
#define O_BINARY 0
#define O_LARGEFILE 0
#define O_CLOEXEC 02000000
int open(const char *path, int flags, ...);
#endif
