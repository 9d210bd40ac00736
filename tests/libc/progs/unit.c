/* Unit tests of the sandbox C library: prints what the calls return. tests/libc/test_unit.py
 * builds it with cpushare-cc (run in the sandbox) and with the host's C library (run
 * natively) and requires the same output. Only behaviour ISO C pins down is printed. */
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static jmp_buf jb;
static int depth;

static void dive(int n)
{
    if (n == 0)
        longjmp(jb, 42);
    depth++;
    dive(n - 1);
}

static void strings(void)
{
    char buf[64];
    strcpy(buf, "hello");
    strcat(buf, ", world");
    printf("strlen=%zu cmp=%d ncmp=%d chr=%s rchr=%s str=%s\n", strlen(buf),
           strcmp("abc", "abd") < 0, strncmp("abcx", "abcy", 3), strchr(buf, 'o'),
           strrchr(buf, 'o'), strstr(buf, "wor"));
    printf("spn=%zu cspn=%zu pbrk=%s\n", strspn("aabbc", "ab"), strcspn("xyz1", "0123456789"),
           strpbrk("hello", "lo"));
    char tok[] = "a,b,,c";
    for (char *t = strtok(tok, ","); t; t = strtok(NULL, ","))
        printf("tok=%s ", t);
    printf("\n");
    memset(buf, 'x', 10);
    buf[10] = 0;
    printf("memset=%s memchr=%d memcmp=%d\n", buf, memchr(buf, 'x', 10) == buf,
           memcmp("ab", "ac", 2) < 0);
    char *d = strdup("dup");
    printf("strdup=%s strncpy=", d);
    strncpy(buf, "abcdef", 3);
    buf[3] = 0;
    printf("%s\n", buf);
    free(d);
    for (int c = 0; c < 128; c += 7)
        printf("%d%d%d%d%d ", !!isalpha(c), !!isdigit(c), !!isspace(c), !!ispunct(c),
               toupper(c));
    printf("\n");
}

static void numbers(void)
{
    char *end;
    printf("strtol=%ld %ld %ld %lu\n", strtol("  -123xyz", &end, 10), strtol("0x1f", NULL, 0),
           strtol("0777", NULL, 0), strtoul("ffff", NULL, 16));
    printf("end=%s atoi=%d atol=%ld\n", end, atoi("42"), atol("-7"));
    errno = 0;
    long big = strtol("99999999999999999999", NULL, 10);
    printf("overflow=%d %d\n", big == LONG_MAX, errno == ERANGE);
    printf("strtod=%.17g %.17g %.17g %g %g\n", strtod("0.1", NULL), strtod("1e23", NULL),
           strtod("2.2250738585072011e-308", NULL), strtod("inf", NULL), strtod("-0x1.8p3", NULL));
    printf("abs=%d labs=%ld div=%d,%d\n", abs(-5), labs(-6L), div(17, 5).quot, div(17, 5).rem);
    int a[] = {5, 3, 9, 1, 7, 3, 8, 2, 6, 4, 0, 11, 15, 13, 12, 14, 10};
    size_t n = sizeof a / sizeof a[0];
    qsort(a, n, sizeof a[0], cmp_int);
    for (size_t i = 0; i < n; i++)
        printf("%d ", a[i]);
    int key = 7;
    int *hit = bsearch(&key, a, n, sizeof a[0], cmp_int);
    printf("found=%d\n", hit ? *hit : -1);
}

static void formats(void)
{
    printf("[%5d][%-5d][%05d][%+d][% d][%x][%#X][%#o][%.3d][%ld][%lld][%hhd][%c][%%]\n", 42,
           42, 42, 42, 42, 255, 255, 8, 7, LONG_MIN, LLONG_MAX, 300, 'z');
    printf("[%10.3s][%-10s][%*d][%-*d][%.*f]\n", "abcdef", "left", 6, 1, 6, 1, 2, 3.14159);
    printf("[%f][%e][%g][%g][%g][%G][%.0f][%.0f][%.0f][%#.0f]\n", 1.5, 12345.678, 0.0001,
           0.00001, 123456789.0, 1e-10, 0.5, 1.5, 2.5, 3.0);
    printf("[%.3e][%10.4f][%-10.2e][%+.2g][%#g][%g][%g]\n", 9.9996, -3.14159, 1234.5, 0.000123,
           1.0, 100000.0, 1000000.0);
    printf("[%a][%A][%.2a][%a][%a]\n", 1.0, -0.375, 3.14159, 0.0, 1e-320);
    printf("[%f][%F][%e][%g]\n", INFINITY, -INFINITY, NAN, -0.0);
    printf("[%.20f][%.30e]\n", 0.1, 1.0 / 3.0);
    printf("[%s][%5s][%.1s]\n", "x", "ab", "xyz");
    int cnt;
    printf("abc%n|\n", &cnt);
    printf("n=%d\n", cnt);
    char sn[8];
    int r = snprintf(sn, sizeof sn, "%s", "truncated string");
    printf("snprintf=%d '%s'\n", r, sn);
}

static void maths(void)
{
    printf("%.17g %.17g %.17g %.17g %.17g\n", sqrt(2.0), floor(-2.5), ceil(-2.5), trunc(-2.7),
           round(2.5));
    printf("%.17g %.17g %.17g\n", fmod(10.5, 3.0), fmod(-7.25, 2.0), fmod(1e300, 3.0));
    int e;
    double m = frexp(48.0, &e);
    double ip, fp = modf(-3.75, &ip);
    printf("frexp=%g,%d ldexp=%g modf=%g,%g\n", m, e, ldexp(0.75, 4), fp, ip);
    printf("%.10g %.10g %.10g %.10g %.10g\n", exp(1.0), log(10.0), pow(2.0, 0.5), sin(1.0),
           cos(1.0));
    printf("%.10g %.10g %.10g %.10g %.10g %.10g\n", atan(1.0), atan2(-1.0, -1.0), asin(0.5),
           acos(0.5), tanh(0.5), log10(1000.0));
    printf("%d %d %d\n", isnan(NAN), isinf(-INFINITY) != 0, signbit(-0.0) != 0);
}

int main(void)
{
    strings();
    numbers();
    formats();
    maths();
    int *p = malloc(1000 * sizeof *p);
    for (int i = 0; i < 1000; i++)
        p[i] = i;
    p = realloc(p, 100000 * sizeof *p);
    int *z = calloc(1000, sizeof *z);
    long sum = 0;
    for (int i = 0; i < 1000; i++)
        sum += p[i] + z[i];
    printf("heap sum=%ld\n", sum);
    free(p);
    free(z);
    int v = setjmp(jb);
    if (v == 0)
        dive(10);
    printf("longjmp=%d depth=%d\n", v, depth);
    assert(depth == 10);
    return 0;
}
