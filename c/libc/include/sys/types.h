/* sys/types.h: the few POSIX types portable programs name. */
#ifndef _CPUSHARE_SYS_TYPES_H
#define _CPUSHARE_SYS_TYPES_H
#include <stddef.h>
typedef long ssize_t;
typedef long off_t;
typedef long off64_t;
typedef int pid_t;
typedef unsigned int mode_t;
typedef long time_t;
typedef long clock_t;
#endif
