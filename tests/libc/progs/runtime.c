/* Exercises the sandbox C library's runtime: argv[1] picks the behaviour
 * (tests/libc/test_runtime.py). */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int counter;
static int initialised = 7;
static char scratch[4096];

static void bye(void)
{
    printf("atexit ran\n");
}

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "globals";
    counter++;
    initialised++;
    if (strcmp(what, "globals") == 0) {
        printf("counter=%d initialised=%d scratch=%d\n", counter, initialised, scratch[100]);
        scratch[100] = 1;
    } else if (strcmp(what, "exit") == 0) {
        atexit(bye);
        printf("before exit\n");
        exit(atoi(argv[2]));
    } else if (strcmp(what, "abort") == 0) {
        fprintf(stderr, "about to abort\n");
        abort();
    } else if (strcmp(what, "assert") == 0) {
        assert(counter == 42);
    } else if (strcmp(what, "oom") == 0) {
        size_t n = 0;
        while (malloc(1 << 20))
            n++;
        printf("megabytes=%zu errno=%d\n", n, errno == ENOMEM);
    } else if (strcmp(what, "files") == 0) {
        errno = 0;
        FILE *f = fopen("/etc/passwd", "r");
        printf("passwd=%p enoent=%d\n", (void *)f, errno == ENOENT);
        f = fopen("/cpushare/shared", "w");
        printf("write=%p erofs=%d\n", (void *)f, errno == EROFS);
        f = fopen("/cpushare/shared", "rb");
        char buf[64] = {0};
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        printf("shared=%zu '%s' eof=%d\n", n, buf, feof(f));
        fclose(f);
    } else if (strcmp(what, "copy") == 0) {
        static char big[1 << 16];
        size_t n;
        while ((n = fread(big, 1, sizeof big, stdin)) > 0)
            fwrite(big, 1, n, stdout);
    } else if (strcmp(what, "nos") == 0) {
        printf("time=%ld clock=%ld env=%p system=%d\n", (long)time(NULL), (long)clock(),
               (void *)getenv("PATH"), system("ls"));
        printf("rand=%d,%d,%d\n", rand(), rand(), rand());
    } else if (strcmp(what, "segv") == 0) {
        volatile int *p = (int *)(long)counter - 1;
        *p = 1;
    } else if (strcmp(what, "args") == 0) {
        for (int i = 0; i <= argc; i++)
            printf("[%s]", argv[i] ? argv[i] : "NULL");
        printf("\n");
    }
    return 0;
}
