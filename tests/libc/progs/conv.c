/* Number conversion oracle for tests/libc/test_conversions.py: one command per stdin line.
 *   s TEXT        -> strtod(TEXT) as 16 hex digits of its bits, then the characters consumed
 *   S TEXT        -> strtof(TEXT) as 8 hex digits
 *   p FMT HEXBITS -> printf(FMT, the double with these bits)
 * The same source is built with the host's C library for comparison. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    static char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        size_t n = strlen(line);
        if (n && line[n - 1] == '\n')
            line[--n] = 0;
        if (line[0] == 's') {
            char *end;
            double d = strtod(line + 2, &end);
            uint64_t b;
            memcpy(&b, &d, 8);
            printf("%016llx %d\n", (unsigned long long)b, (int)(end - (line + 2)));
        } else if (line[0] == 'S') {
            float f = strtof(line + 2, NULL);
            uint32_t b;
            memcpy(&b, &f, 4);
            printf("%08x\n", b);
        } else if (line[0] == 'p') {
            char *fmt = line + 2, *sp = strrchr(fmt, ' ');
            *sp = 0;
            uint64_t b = strtoull(sp + 1, NULL, 16);
            double d;
            memcpy(&d, &b, 8);
            printf(fmt, d);
            putchar('\n');
        }
    }
    return 0;
}
