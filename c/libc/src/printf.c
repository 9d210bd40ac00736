/* The printf engine: the full C11 format grammar (flags - + space # 0, width and precision
 * with *, length hh h l ll j z t L, conversions d i u o x X c s p n % e E f F g G a A).
 * Floating point is exact: digits come from the exact decimal expansion and are rounded
 * half-to-even (correctly rounded, like glibc). %Lf etc. convert the long double to double
 * first. Positional arguments (%1$d) are not supported: they print as written. */
#include "fmt_float.h"
#include "internal.h"
#include <stdint.h>
#include <string.h>

struct spec {
    int minus, plus, space, hash, zero;
    int width, prec; /* prec < 0: not given */
    int len;         /* 'H' hh, 'h', 'l', 'q' ll, 'j', 'z', 't', 'L', 0 */
    char conv;
};

struct sink {
    fmt_out_fn out;
    void *ctx;
    size_t total;
    char buf[256];
    int used;
};

static void flush(struct sink *s)
{
    if (s->used) {
        s->out(s->ctx, s->buf, (size_t)s->used);
        s->used = 0;
    }
}

static void put(struct sink *s, const char *p, size_t n)
{
    s->total += n;
    if (n > sizeof s->buf - (size_t)s->used) {
        flush(s);
        if (n > sizeof s->buf) {
            s->out(s->ctx, p, n);
            return;
        }
    }
    memcpy(s->buf + s->used, p, n);
    s->used += (int)n;
}

static void put_c(struct sink *s, char c)
{
    if (s->used == (int)sizeof s->buf)
        flush(s);
    s->buf[s->used++] = c;
    s->total++;
}

static void pad(struct sink *s, char c, long n)
{
    while (n-- > 0)
        put_c(s, c);
}

/* Emit prefix (sign, 0x) then the body of `body_len` bytes produced by `emit`, padded. */
static void field(struct sink *s, const struct spec *sp, const char *prefix, long body_len,
                  void (*emit)(struct sink *, const void *), const void *arg, int zero_ok)
{
    long plen = (long)strlen(prefix), total = plen + body_len;
    long padding = sp->width > total ? sp->width - total : 0;
    if (!sp->minus && !(sp->zero && zero_ok))
        pad(s, ' ', padding);
    put(s, prefix, (size_t)plen);
    if (!sp->minus && sp->zero && zero_ok)
        pad(s, '0', padding);
    emit(s, arg);
    if (sp->minus)
        pad(s, ' ', padding);
}

/* ---- integers ---- */

struct int_body {
    const char *digits;
    int ndigits, zeros;
};

static void emit_int(struct sink *s, const void *a)
{
    const struct int_body *b = a;
    pad(s, '0', b->zeros);
    put(s, b->digits, (size_t)b->ndigits);
}

static void fmt_int(struct sink *s, const struct spec *sp, uintmax_t v, int negative)
{
    char tmp[72];
    int n = 0, base = 10;
    const char *dig = "0123456789abcdef";
    if (sp->conv == 'o')
        base = 8;
    else if (sp->conv == 'x' || sp->conv == 'X' || sp->conv == 'p')
        base = 16;
    if (sp->conv == 'X')
        dig = "0123456789ABCDEF";
    for (uintmax_t t = v; t; t /= (unsigned)base)
        tmp[sizeof tmp - 1 - n++] = dig[t % (unsigned)base];
    int prec = sp->prec < 0 ? 1 : sp->prec;
    int zeros = prec > n ? prec - n : 0;
    if (sp->conv == 'o' && sp->hash && zeros == 0 && (n == 0 || tmp[sizeof tmp - n] != '0'))
        zeros = 1;
    const char *prefix = negative ? "-" : sp->plus ? "+" : sp->space ? " " : "";
    if (sp->conv == 'u' || sp->conv == 'o' || sp->conv == 'x' || sp->conv == 'X')
        prefix = "";
    if ((sp->hash && v != 0 && sp->conv == 'x') || sp->conv == 'p')
        prefix = "0x";
    if (sp->hash && v != 0 && sp->conv == 'X')
        prefix = "0X";
    struct int_body b = {tmp + sizeof tmp - n, n, zeros};
    field(s, sp, prefix, n + zeros, emit_int, &b, sp->prec < 0);
}

/* ---- strings ---- */

struct str_body {
    const char *p;
    size_t n;
};

static void emit_str(struct sink *s, const void *a)
{
    const struct str_body *b = a;
    put(s, b->p, b->n);
}

static void fmt_str(struct sink *s, const struct spec *sp, const char *p)
{
    if (!p)
        p = sp->prec < 0 || sp->prec >= 6 ? "(null)" : "";
    size_t n = sp->prec < 0 ? strlen(p) : strnlen(p, (size_t)sp->prec);
    struct str_body b = {p, n};
    field(s, sp, "", (long)n, emit_str, &b, 0);
}

/* ---- floating point ---- */

struct dec {
    char d[FMT_DIGITS_MAX + 16];
    int n, X; /* value = 0.d x 10^(X+1); n == 0 means zero */
};

static char digit_at(const struct dec *v, long k)
{
    long i = v->X - k;
    return (i >= 0 && i < v->n) ? v->d[i] : '0';
}

struct fbody {
    const struct dec *v;
    int style; /* 'e' or 'f' */
    int prec, point, upper;
};

static void emit_float(struct sink *s, const void *a)
{
    const struct fbody *b = a;
    const struct dec *v = b->v;
    if (b->style == 'f') {
        long top = v->X > 0 ? v->X : 0;
        for (long k = top; k >= 0; k--)
            put_c(s, digit_at(v, k));
        if (b->point)
            put_c(s, '.');
        for (long k = -1; k >= -(long)b->prec; k--)
            put_c(s, digit_at(v, k));
        return;
    }
    put_c(s, digit_at(v, v->X));
    if (b->point)
        put_c(s, '.');
    for (long k = 1; k <= b->prec; k++)
        put_c(s, digit_at(v, v->X - k));
    int x = v->n ? v->X : 0;
    put_c(s, b->upper ? 'E' : 'e');
    put_c(s, x < 0 ? '-' : '+');
    unsigned ax = (unsigned)(x < 0 ? -x : x);
    char e[8];
    int ne = 0;
    do {
        e[ne++] = (char)('0' + ax % 10);
        ax /= 10;
    } while (ax);
    if (ne < 2)
        e[ne++] = '0';
    while (ne)
        put_c(s, e[--ne]);
}

static long float_len(const struct fbody *b)
{
    if (b->style == 'f')
        return (b->v->X > 0 ? b->v->X + 1 : 1) + b->point + b->prec;
    int x = b->v->n ? b->v->X : 0, ax = x < 0 ? -x : x;
    return 1 + b->point + b->prec + 2 + (ax >= 100 ? (ax >= 1000 ? 4 : 3) : 2);
}

static void fmt_special(struct sink *s, const struct spec *sp, const char *prefix, double x)
{
    int upper = sp->conv >= 'A' && sp->conv <= 'Z';
    const char *t = x != x ? (upper ? "NAN" : "nan") : (upper ? "INF" : "inf");
    struct str_body b = {t, 3};
    char pre[3] = {0};
    memcpy(pre, prefix, strlen(prefix));
    field(s, sp, pre, 3, emit_str, &b, 0);
}

static void fmt_float(struct sink *s, struct spec *sp, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, 8);
    const char *prefix = (bits >> 63) ? "-" : sp->plus ? "+" : sp->space ? " " : "";
    if (x != x || x - x != 0) {
        fmt_special(s, sp, prefix, x);
        return;
    }
    static struct dec v; /* big: keep it off the stack */
    v.n = 0;
    v.X = 0;
    if (x != 0)
        v.n = __cpushare_exact_digits(x < 0 ? -x : x, v.d, &v.X);
    int prec = sp->prec < 0 ? 6 : sp->prec;
    char c = (char)(sp->conv | 32);
    struct fbody b = {&v, c == 'g' ? 'e' : c, prec, 0, sp->conv < 'a'};
    if (c == 'e') {
        v.n = __cpushare_round_digits(v.d, v.n, prec + 1, &v.X);
    } else if (c == 'f') {
        v.n = __cpushare_round_digits(v.d, v.n, v.X + 1 + prec, &v.X);
    } else { /* g */
        int P = prec == 0 ? 1 : prec;
        v.n = __cpushare_round_digits(v.d, v.n, P, &v.X);
        int X = v.n ? v.X : 0;
        if (P > X && X >= -4) {
            b.style = 'f';
            b.prec = P - 1 - X;
            if (!sp->hash)
                b.prec = v.n - 1 - X > 0 ? v.n - 1 - X : 0;
        } else {
            b.prec = P - 1;
            if (!sp->hash)
                b.prec = v.n > 1 ? v.n - 1 : 0;
        }
    }
    if (v.n == 0)
        v.X = 0;
    b.point = b.prec > 0 || sp->hash;
    field(s, sp, prefix, float_len(&b), emit_float, &b, 1);
}

struct hbody {
    char text[40];
    int n;
};

static void emit_hex(struct sink *s, const void *a)
{
    const struct hbody *b = a;
    put(s, b->text, (size_t)b->n);
}

static void fmt_hexfloat(struct sink *s, const struct spec *sp, double x)
{
    uint64_t bits;
    memcpy(&bits, &x, 8);
    const char *sign = (bits >> 63) ? "-" : sp->plus ? "+" : sp->space ? " " : "";
    if (x != x || x - x != 0) {
        fmt_special(s, sp, sign, x);
        return;
    }
    int upper = sp->conv == 'A';
    const char *dig = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    int be = (int)((bits >> 52) & 0x7ff), exp = 0;
    uint64_t frac = bits & ((1ull << 52) - 1), lead = be ? 1 : 0;
    if (be)
        exp = be - 1023;
    else if (frac)
        exp = -1022;
    int nd = 13;
    if (sp->prec >= 0 && sp->prec < 13) {
        int drop = 4 * (13 - sp->prec);
        uint64_t low = frac & ((1ull << drop) - 1), half = 1ull << (drop - 1);
        frac >>= drop;
        /* half to even on the last digit kept: the leading one when none follows */
        uint64_t odd = sp->prec > 0 ? (frac & 1) : (lead & 1);
        if (low > half || (low == half && odd))
            frac++;
        if (frac >> (4 * sp->prec)) {
            frac &= (1ull << (4 * sp->prec)) - 1;
            lead++;
        }
        nd = sp->prec;
    } else if (sp->prec < 0) {
        while (nd > 0 && !(frac & 15)) {
            frac >>= 4;
            nd--;
        }
    }
    struct hbody b;
    b.n = 0;
    b.text[b.n++] = (char)('0' + lead);
    if (nd > 0 || sp->hash || sp->prec > 0)
        b.text[b.n++] = '.';
    for (int i = nd - 1; i >= 0; i--)
        b.text[b.n++] = dig[(frac >> (4 * i)) & 15];
    int extra = sp->prec > 13 ? sp->prec - 13 : 0;
    b.text[b.n++] = upper ? 'P' : 'p';
    b.text[b.n++] = exp < 0 ? '-' : '+';
    unsigned ae = (unsigned)(exp < 0 ? -exp : exp);
    char e[8];
    int ne = 0;
    do {
        e[ne++] = (char)('0' + ae % 10);
        ae /= 10;
    } while (ae);
    while (ne)
        b.text[b.n++] = e[--ne];
    char prefix[4];
    size_t ls = strlen(sign);
    memcpy(prefix, sign, ls);
    memcpy(prefix + ls, upper ? "0X" : "0x", 3);
    if (extra) { /* zeros after the 13 digits: insert before the exponent */
        struct spec sp2 = *sp;
        sp2.width = 0;
        long total = (long)strlen(prefix) + b.n + extra;
        long padding = sp->width > total ? sp->width - total : 0;
        if (!sp->minus && !sp->zero)
            pad(s, ' ', padding);
        put(s, prefix, strlen(prefix));
        if (!sp->minus && sp->zero)
            pad(s, '0', padding);
        int pexp = b.n;
        while (b.text[pexp - 1] != 'p' && b.text[pexp - 1] != 'P')
            pexp--;
        put(s, b.text, (size_t)(pexp - 1));
        pad(s, '0', extra);
        put(s, b.text + pexp - 1, (size_t)(b.n - pexp + 1));
        if (sp->minus)
            pad(s, ' ', padding);
        (void)sp2;
        return;
    }
    field(s, sp, prefix, b.n, emit_hex, &b, 1);
}

/* ---- the format string ---- */

static const char *parse_spec(const char *f, struct spec *sp, va_list *ap)
{
    memset(sp, 0, sizeof *sp);
    sp->prec = -1;
    for (;; f++) {
        if (*f == '-') sp->minus = 1;
        else if (*f == '+') sp->plus = 1;
        else if (*f == ' ') sp->space = 1;
        else if (*f == '#') sp->hash = 1;
        else if (*f == '0') sp->zero = 1;
        else break;
    }
    if (*f == '*') {
        sp->width = va_arg(*ap, int);
        if (sp->width < 0) {
            sp->minus = 1;
            sp->width = -sp->width;
        }
        f++;
    } else {
        while (*f >= '0' && *f <= '9')
            sp->width = sp->width * 10 + (*f++ - '0');
    }
    if (*f == '.') {
        f++;
        sp->prec = 0;
        if (*f == '*') {
            sp->prec = va_arg(*ap, int);
            if (sp->prec < 0)
                sp->prec = -1;
            f++;
        } else {
            while (*f >= '0' && *f <= '9')
                sp->prec = sp->prec * 10 + (*f++ - '0');
        }
    }
    if (f[0] == 'h' && f[1] == 'h') { sp->len = 'H'; f += 2; }
    else if (f[0] == 'l' && f[1] == 'l') { sp->len = 'q'; f += 2; }
    else if (*f && strchr("hljztLq", *f)) sp->len = *f++;
    sp->conv = *f;
    return *f ? f + 1 : f;
}

static intmax_t signed_arg(const struct spec *sp, va_list *ap)
{
    switch (sp->len) {
    case 'H': return (signed char)va_arg(*ap, int);
    case 'h': return (short)va_arg(*ap, int);
    case 'l': return va_arg(*ap, long);
    case 'q': return va_arg(*ap, long long);
    case 'j': return va_arg(*ap, intmax_t);
    case 'z': return va_arg(*ap, long); /* ssize_t */
    case 't': return va_arg(*ap, long); /* ptrdiff_t */
    default: return va_arg(*ap, int);
    }
}

static uintmax_t unsigned_arg(const struct spec *sp, va_list *ap)
{
    switch (sp->len) {
    case 'H': return (unsigned char)va_arg(*ap, unsigned);
    case 'h': return (unsigned short)va_arg(*ap, unsigned);
    case 'l': return va_arg(*ap, unsigned long);
    case 'q': return va_arg(*ap, unsigned long long);
    case 'j': return va_arg(*ap, uintmax_t);
    case 'z': return va_arg(*ap, size_t);
    case 't': return va_arg(*ap, unsigned long);
    default: return va_arg(*ap, unsigned);
    }
}

static void store_count(const struct spec *sp, va_list *ap, size_t n)
{
    switch (sp->len) {
    case 'H': *va_arg(*ap, signed char *) = (signed char)n; break;
    case 'h': *va_arg(*ap, short *) = (short)n; break;
    case 'l': case 'z': case 't': case 'j': *va_arg(*ap, long *) = (long)n; break;
    case 'q': *va_arg(*ap, long long *) = (long long)n; break;
    default: *va_arg(*ap, int *) = (int)n;
    }
}

static void convert(struct sink *s, struct spec *sp, va_list *ap)
{
    switch (sp->conv) {
    case 'd': case 'i': {
        intmax_t v = signed_arg(sp, ap);
        fmt_int(s, sp, v < 0 ? -(uintmax_t)v : (uintmax_t)v, v < 0);
        break;
    }
    case 'u': case 'o': case 'x': case 'X':
        fmt_int(s, sp, unsigned_arg(sp, ap), 0);
        break;
    case 'p': {
        void *p = va_arg(*ap, void *);
        if (!p) {
            struct spec sp2 = *sp;
            sp2.prec = -1;
            fmt_str(s, &sp2, "(nil)");
        } else {
            fmt_int(s, sp, (uintptr_t)p, 0);
        }
        break;
    }
    case 'c': {
        char c = (char)va_arg(*ap, int);
        struct str_body b = {&c, 1};
        field(s, sp, "", 1, emit_str, &b, 0);
        break;
    }
    case 's':
        fmt_str(s, sp, va_arg(*ap, const char *));
        break;
    case 'e': case 'E': case 'f': case 'F': case 'g': case 'G': case 'a': case 'A': {
        double x = sp->len == 'L' ? (double)va_arg(*ap, long double) : va_arg(*ap, double);
        if (sp->conv == 'a' || sp->conv == 'A')
            fmt_hexfloat(s, sp, x);
        else
            fmt_float(s, sp, x);
        break;
    }
    case 'n':
        store_count(sp, ap, s->total);
        break;
    case '%':
        put_c(s, '%');
        break;
    default:
        break;
    }
}

int __cpushare_vformat(fmt_out_fn out, void *ctx, const char *fmt, va_list ap)
{
    struct sink s;
    s.out = out;
    s.ctx = ctx;
    s.total = 0;
    s.used = 0;
    va_list aq;
    va_copy(aq, ap);
    while (*fmt) {
        const char *pct = strchr(fmt, '%');
        if (!pct) {
            put(&s, fmt, strlen(fmt));
            break;
        }
        put(&s, fmt, (size_t)(pct - fmt));
        struct spec sp;
        const char *next = parse_spec(pct + 1, &sp, &aq);
        if (!sp.conv || !strchr("diuoxXpcseEfFgGaAn%", sp.conv)) {
            put(&s, pct, (size_t)(next - pct)); /* unknown: print as written */
        } else {
            convert(&s, &sp, &aq);
        }
        fmt = next;
    }
    va_end(aq);
    flush(&s);
    return s.total > 0x7fffffff ? -1 : (int)s.total;
}
