/* errno, strerror, signal stubs, the "C" locale, time without clocks. */
#include <errno.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int errno;

static const struct {
    int code;
    const char *text;
} messages[] = {
    {0, "Success"}, {EPERM, "Operation not permitted"}, {ENOENT, "No such file or directory"},
    {EINTR, "Interrupted system call"}, {EIO, "Input/output error"},
    {EBADF, "Bad file descriptor"}, {EAGAIN, "Resource temporarily unavailable"},
    {ENOMEM, "Cannot allocate memory"}, {EACCES, "Permission denied"},
    {EEXIST, "File exists"}, {EISDIR, "Is a directory"}, {EINVAL, "Invalid argument"},
    {EMFILE, "Too many open files"}, {ENOSPC, "No space left on device"},
    {ESPIPE, "Illegal seek"}, {EROFS, "Read-only file system"}, {EPIPE, "Broken pipe"},
    {EDOM, "Numerical argument out of domain"}, {ERANGE, "Numerical result out of range"},
    {ENOSYS, "Function not implemented"}, {EILSEQ, "Invalid or incomplete multibyte or wide character"},
    {ENOTSUP, "Operation not supported"},
};

char *strerror(int errnum)
{
    for (size_t i = 0; i < sizeof messages / sizeof messages[0]; i++) {
        if (messages[i].code == errnum)
            return (char *)messages[i].text;
    }
    return (char *)"Unknown error";
}

__sighandler_t signal(int sig, __sighandler_t handler)
{
    (void)sig, (void)handler;
    return SIG_DFL;
}

int raise(int sig)
{
    if (sig == SIGABRT)
        abort();
    return 0;
}

char *setlocale(int category, const char *locale)
{
    (void)category;
    if (!locale || !*locale || strcmp(locale, "C") == 0 || strcmp(locale, "POSIX") == 0)
        return (char *)"C";
    return NULL;
}

struct lconv *localeconv(void)
{
    static struct lconv c = {".", "", "", "", "", "", "", "", "", "", 127, 127, 127, 127,
                             127, 127, 127, 127, 127, 127, 127, 127, 127, 127};
    return &c;
}

/* ---- time: no clocks; the calendar arithmetic is exact (proleptic Gregorian, UTC) ---- */

time_t time(time_t *t)
{
    if (t)
        *t = 0;
    return 0;
}

clock_t clock(void)
{
    return 0;
}

double difftime(time_t a, time_t b)
{
    return (double)a - (double)b;
}

static long days_from_civil(long y, int m, int d) /* days since 1970-01-01 */
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

struct tm *gmtime_r(const time_t *t, struct tm *out)
{
    long s = *t, days = s / 86400, rem = s % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    out->tm_hour = (int)(rem / 3600);
    out->tm_min = (int)(rem / 60 % 60);
    out->tm_sec = (int)(rem % 60);
    out->tm_wday = (int)(((days % 7) + 11) % 7); /* 1970-01-01 was a Thursday */
    long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097, yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long y = yoe + era * 400, doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
    long m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    out->tm_year = (int)(y - 1900);
    out->tm_mon = (int)(m - 1);
    out->tm_mday = (int)d;
    out->tm_yday = (int)(days - days_from_civil(y, 1, 1));
    out->tm_isdst = 0;
    out->tm_gmtoff = 0;
    out->tm_zone = "UTC";
    return out;
}

struct tm *localtime_r(const time_t *t, struct tm *out)
{
    return gmtime_r(t, out);
}

struct tm *gmtime(const time_t *t)
{
    static struct tm tm;
    return gmtime_r(t, &tm);
}

struct tm *localtime(const time_t *t)
{
    return gmtime(t);
}

time_t mktime(struct tm *tm)
{
    long mon = tm->tm_mon, y = tm->tm_year + 1900L + mon / 12;
    mon %= 12;
    if (mon < 0) {
        mon += 12;
        y--;
    }
    time_t t = days_from_civil(y, (int)mon + 1, 1) * 86400 + (tm->tm_mday - 1) * 86400L +
               tm->tm_hour * 3600L + tm->tm_min * 60L + tm->tm_sec;
    gmtime_r(&t, tm);
    return t;
}

static const char *const wday_names[] = {"Sunday", "Monday", "Tuesday", "Wednesday",
                                         "Thursday", "Friday", "Saturday"};
static const char *const mon_names[] = {"January", "February", "March", "April", "May",
                                        "June", "July", "August", "September", "October",
                                        "November", "December"};

static size_t put_str(char *s, size_t max, size_t n, const char *t, size_t len)
{
    for (size_t i = 0; i < len && n + i < max; i++)
        s[n + i] = t[i];
    return n + len;
}

static size_t put_num(char *s, size_t max, size_t n, long v, int width)
{
    char b[24];
    int k = 0, neg = v < 0;
    unsigned long u = (unsigned long)(neg ? -v : v);
    do {
        b[k++] = (char)('0' + u % 10);
        u /= 10;
    } while (u || k < width);
    if (neg)
        b[k++] = '-';
    char o[24];
    for (int i = 0; i < k; i++)
        o[i] = b[k - 1 - i];
    return put_str(s, max, n, o, (size_t)k);
}

size_t strftime(char *s, size_t max, const char *fmt, const struct tm *tm)
{
    size_t n = 0;
    for (; *fmt; fmt++) {
        if (*fmt != '%' || !fmt[1]) {
            n = put_str(s, max, n, fmt, 1);
            continue;
        }
        char c = *++fmt;
        const char *wd = wday_names[(tm->tm_wday % 7 + 7) % 7], *mn = mon_names[(tm->tm_mon % 12 + 12) % 12];
        char tmp[64];
        switch (c) {
        case 'a': n = put_str(s, max, n, wd, 3); break;
        case 'A': n = put_str(s, max, n, wd, strlen(wd)); break;
        case 'b': case 'h': n = put_str(s, max, n, mn, 3); break;
        case 'B': n = put_str(s, max, n, mn, strlen(mn)); break;
        case 'd': n = put_num(s, max, n, tm->tm_mday, 2); break;
        case 'e': n = put_str(s, max, n, tm->tm_mday < 10 ? " " : "", tm->tm_mday < 10);
                  n = put_num(s, max, n, tm->tm_mday, 1); break;
        case 'H': n = put_num(s, max, n, tm->tm_hour, 2); break;
        case 'I': n = put_num(s, max, n, (tm->tm_hour + 11) % 12 + 1, 2); break;
        case 'j': n = put_num(s, max, n, tm->tm_yday + 1, 3); break;
        case 'm': n = put_num(s, max, n, tm->tm_mon + 1, 2); break;
        case 'M': n = put_num(s, max, n, tm->tm_min, 2); break;
        case 'p': n = put_str(s, max, n, tm->tm_hour < 12 ? "AM" : "PM", 2); break;
        case 'S': n = put_num(s, max, n, tm->tm_sec, 2); break;
        case 'w': n = put_num(s, max, n, tm->tm_wday, 1); break;
        case 'y': n = put_num(s, max, n, (tm->tm_year + 1900) % 100, 2); break;
        case 'Y': n = put_num(s, max, n, tm->tm_year + 1900L, 1); break;
        case 'Z': n = put_str(s, max, n, "UTC", 3); break;
        case 'z': n = put_str(s, max, n, "+0000", 5); break;
        case 'n': n = put_str(s, max, n, "\n", 1); break;
        case 't': n = put_str(s, max, n, "\t", 1); break;
        case '%': n = put_str(s, max, n, "%", 1); break;
        case 'D': n += strftime(tmp, sizeof tmp, "%m/%d/%y", tm); n = put_str(s, max, n - strlen(tmp), tmp, strlen(tmp)); break;
        case 'F': n += strftime(tmp, sizeof tmp, "%Y-%m-%d", tm); n = put_str(s, max, n - strlen(tmp), tmp, strlen(tmp)); break;
        case 'T': n += strftime(tmp, sizeof tmp, "%H:%M:%S", tm); n = put_str(s, max, n - strlen(tmp), tmp, strlen(tmp)); break;
        case 'R': n += strftime(tmp, sizeof tmp, "%H:%M", tm); n = put_str(s, max, n - strlen(tmp), tmp, strlen(tmp)); break;
        case 'x': n += strftime(tmp, sizeof tmp, "%m/%d/%y", tm); n = put_str(s, max, n - strlen(tmp), tmp, strlen(tmp)); break;
        case 'X': n += strftime(tmp, sizeof tmp, "%H:%M:%S", tm); n = put_str(s, max, n - strlen(tmp), tmp, strlen(tmp)); break;
        case 'c': n += strftime(tmp, sizeof tmp, "%a %b %e %H:%M:%S %Y", tm); n = put_str(s, max, n - strlen(tmp), tmp, strlen(tmp)); break;
        default: n = put_str(s, max, n - 0, fmt - 1, 2); break;
        }
    }
    if (n >= max)
        return 0;
    s[n] = 0;
    return n;
}

char *asctime(const struct tm *tm)
{
    static char buf[32];
    strftime(buf, sizeof buf, "%a %b %e %H:%M:%S %Y\n", tm);
    return buf;
}

char *ctime(const time_t *t)
{
    return asctime(localtime(t));
}
