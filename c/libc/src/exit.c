/* exit, atexit, abort, assert failures: each ends the current fragment (see crt.c). */
#include "internal.h"
#include <stdio.h>
#include <stdlib.h>

#define MAX_ATEXIT 64

static void (*handlers[MAX_ATEXIT])(void);
static int n_handlers;

int atexit(void (*fn)(void))
{
    if (n_handlers == MAX_ATEXIT)
        return -1;
    handlers[n_handlers++] = fn;
    return 0;
}

void exit(int status)
{
    while (n_handlers > 0)
        handlers[--n_handlers]();
    __cpushare_stdio_flush_all();
    __cpushare_end_fragment(status);
}

void _Exit(int status)
{
    __cpushare_stdio_flush_all();
    __cpushare_end_fragment(status);
}

void abort(void)
{
    fputs("abort()\n", stderr);
    __cpushare_end_fragment(134);
}

void __cpushare_assert_fail(const char *expr, const char *file, int line, const char *func)
{
    fprintf(stderr, "%s:%d: %s: Assertion `%s' failed.\n", file, line, func, expr);
    abort();
}
