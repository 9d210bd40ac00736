/* expr.c -- values and expressions of the POV-Ray 3.7 scene language (hosted C).
 *
 * Precedence as in POV-Ray's reference ("Numeric Expressions"): c ? a : b, |, &,
 * comparisons (< <= = != >= >), + -, * /, unary + - !, then .x/.red... and [index].
 * Floats promote to vectors and colours component-wise; vectors have 2 to 5 components
 * (colours: red green blue filter transmit). The parser runs on the buyer's machine only,
 * so it may use libm.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "pattern.h"

value fval(double f)
{
    value r;
    memset(&r, 0, sizeof r);
    r.kind = V_FLOAT;
    r.n = 1;
    for (int i = 0; i < 5; i++)
        r.c[i] = f;
    return r;
}

value vvec(vec3 v)
{
    value r;
    memset(&r, 0, sizeof r);
    r.kind = V_VEC;
    r.n = 3;
    r.c[0] = v.x;
    r.c[1] = v.y;
    r.c[2] = v.z;
    return r;
}

static value vecn(int n, const double *c)
{
    value r;
    memset(&r, 0, sizeof r);
    r.kind = V_VEC;
    r.n = n;
    for (int i = 0; i < n; i++)
        r.c[i] = c[i];
    return r;
}

static value sval(parser *P, const char *s)
{
    value r;
    memset(&r, 0, sizeof r);
    r.kind = V_STRING;
    r.str = pool_str(P, s, strlen(s));
    return r;
}

const char *kind_name(int kind)
{
    static const char *names[V_NKINDS] = {"float", "vector", "string", "array", "pigment",
                                          "finish", "texture", "object", "macro", "broken",
                                          "colour_map", "camera", "normal", "transform",
                                          "function", "sky_sphere", "interior",
                                          "material", "spline", "light_source",
                                          "pigment_map", "normal_map", "texture_map"};
    return kind >= 0 && kind < V_NKINDS ? names[kind] : "?";
}

static void check_finite(parser *P, const value *v, int line)
{
    for (int i = 0; i < (v->kind == V_FLOAT ? 1 : v->n); i++)
        if (!isfinite(v->c[i]))
            perr(P, line, "expression is not a finite number (division by zero?)");
}

static double want_float(parser *P, value v, int line, const char *what)
{
    if (v.kind != V_FLOAT)
        perr(P, line, "expected a float for %s, got a %s", what, kind_name(v.kind));
    return v.c[0];
}

static value want_vec(parser *P, value v, int line, const char *what)
{
    if (v.kind == V_FLOAT) {
        v.kind = V_VEC;
        v.n = 3;
        return v;
    }
    if (v.kind != V_VEC)
        perr(P, line, "expected a vector for %s, got a %s", what, kind_name(v.kind));
    return v;
}

static vec3 as3(value v) { return v3(v.c[0], v.c[1], v.c[2]); }

int value_true(parser *P, value v, int line)
{
    return want_float(P, v, line, "a condition") != 0.0;
}

/* a op b, floats promoted, vectors of different sizes padded with 0 */
static value arith(parser *P, value a, value b, char op, int line)
{
    if (a.kind == V_FLOAT && b.kind == V_FLOAT) {
        double x = a.c[0], y = b.c[0];
        double r = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y;
        value v = fval(r);
        check_finite(P, &v, line);
        return v;
    }
    if ((a.kind != V_FLOAT && a.kind != V_VEC) || (b.kind != V_FLOAT && b.kind != V_VEC))
        perr(P, line, "cannot use '%c' on a %s and a %s", op,
             kind_name(a.kind), kind_name(b.kind));
    int n = a.kind == V_VEC ? a.n : 0;
    if (b.kind == V_VEC && b.n > n)
        n = b.n;
    double r[5];
    for (int i = 0; i < n; i++) {
        double x = a.kind == V_FLOAT ? a.c[0] : i < a.n ? a.c[i] : 0.0;
        double y = b.kind == V_FLOAT ? b.c[0] : i < b.n ? b.c[i] : 0.0;
        r[i] = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y;
    }
    value v = vecn(n, r);
    check_finite(P, &v, line);
    return v;
}

/* ------------------------------------------------------------------ arrays */
static value parse_array_init(parser *P, pov_array *a, int dim, int *off, int line)
{
    expect(P, "{", "to start an array initializer");
    for (int i = 0; i < a->dims[dim]; i++) {
        if (dim + 1 < a->ndim) {
            parse_array_init(P, a, dim + 1, off, line);
        } else {
            a->items[*off] = expr_any(P);
            a->set[*off] = 1;
            (*off)++;
        }
        if (i + 1 < a->dims[dim]) { /* the comma is optional, as POV-Ray's Parse_Comma */
            opt_comma(P);
            if (is_punct(P, "}"))
                perr(P, line, "too few items in the array initializer (%d of %d)", i + 1,
                     a->dims[dim]);
        }
    }
    opt_comma(P);
    expect(P, "}", "to close the array initializer (or too many items)");
    value v = fval(0);
    return v;
}

static value parse_array(parser *P, int line)
{
    pov_array *a = xalloc(P, sizeof *a);
    a->total = 1;
    while (raw_peek_punct(P, "[", 1)) {
        if (P->have_tok)
            next(P);
        if (a->ndim == 5)
            perr(P, line, "arrays have at most 5 dimensions");
        double d = parse_float(P, "an array size");
        expect(P, "]", "after an array size");
        if (!(d >= 1 && d <= 1e7))
            perr(P, line, "array size must be in 1..10000000, got %g", d);
        a->dims[a->ndim++] = (int)d;
        a->total *= (int)d;
        if (a->total > 10000000)
            perr(P, line, "array too large");
    }
    if (!a->ndim)
        perr(P, line, "array needs a size: array[N]");
    a->items = xalloc(P, sizeof(value) * (size_t)a->total);
    a->set = xalloc(P, (size_t)a->total);
    if (raw_peek_punct(P, "{", 0)) {
        int off = 0;
        parse_array_init(P, a, 0, &off, line);
    }
    value v;
    memset(&v, 0, sizeof v);
    v.kind = V_ARRAY;
    v.arr = a;
    return v;
}

static value index_array(parser *P, value v, const char *name, int line)
{
    pov_array *a = v.arr;
    int off = 0;
    for (int i = 0; i < a->ndim; i++) {
        expect(P, "[", "for an array index");
        double d = parse_float(P, "an array index");
        expect(P, "]", "after an array index");
        int k = (int)d;
        if (k < 0 || k >= a->dims[i])
            perr(P, line, "index %d out of range for '%s' (size %d)", k, name, a->dims[i]);
        off = off * a->dims[i] + k;
    }
    if (!a->set[off])
        perr(P, line, "array element of '%s' used before it was set", name);
    return a->items[off];
}

/* ------------------------------------------------------------------ functions */
typedef struct {
    const char *name;
    int nargs; /* -1: variadic (min, max) */
    double (*f1)(double);
} func1;

static double f_deg(double x) { return x * 180.0 / M_PI; }
static double f_rad(double x) { return x * M_PI / 180.0; }
static double f_int(double x) { return trunc(x); }
static double f_abs(double x) { return fabs(x); }

static const func1 FUNCS1[] = {
    {"abs", 1, f_abs},   {"acos", 1, acos},   {"acosh", 1, acosh}, {"asin", 1, asin},
    {"asinh", 1, asinh}, {"atan", 1, atan},   {"atanh", 1, atanh}, {"ceil", 1, ceil},
    {"cos", 1, cos},     {"cosh", 1, cosh},   {"degrees", 1, f_deg}, {"exp", 1, exp},
    {"floor", 1, floor}, {"int", 1, f_int},   {"ln", 1, log},      {"log", 1, log10},
    {"radians", 1, f_rad}, {"sin", 1, sin},   {"sinh", 1, sinh},   {"sqrt", 1, sqrt},
    {"tan", 1, tan},     {"tanh", 1, tanh},
};

static value arg(parser *P) { return expr(P); }

static double farg(parser *P, const char *what)
{
    int line = peek(P)->line;
    return want_float(P, arg(P), line, what);
}

static value varg(parser *P, const char *what)
{
    int line = peek(P)->line;
    return want_vec(P, arg(P), line, what);
}

static const char *strarg(parser *P, const char *what)
{
    int line = peek(P)->line;
    value v = arg(P);
    if (v.kind != V_STRING)
        perr(P, line, "%s needs a string, got a %s", what, kind_name(v.kind));
    return v.str;
}

static vec3 rotate_vec(vec3 p, vec3 deg)
{
    double a[3] = {deg.x * M_PI / 180, deg.y * M_PI / 180, deg.z * M_PI / 180};
    double c, s, t;
    c = cos(a[0]); s = sin(a[0]);
    t = p.y * c - p.z * s; p.z = p.y * s + p.z * c; p.y = t;
    c = cos(a[1]); s = sin(a[1]);
    t = p.z * s + p.x * c; p.z = p.z * c - p.x * s; p.x = t;
    c = cos(a[2]); s = sin(a[2]);
    t = p.x * c - p.y * s; p.y = p.x * s + p.y * c; p.x = t;
    return p;
}

static vec3 axis_rotate(vec3 p, vec3 axis, double deg)
{
    double l = sqrt(vdot(axis, axis));
    vec3 k = vscale(axis, 1.0 / l);
    double a = deg * M_PI / 180, c = cos(a), s = sin(a);
    /* Rodrigues' rotation formula */
    return vadd(vadd(vscale(p, c), vscale(vcross(k, p), s)), vscale(k, vdot(k, p) * (1 - c)));
}

/* seed(N) opens a random stream and returns its number; rand(S) is the stream's next value
   in [0, 1]. POV-Ray 3.7's generator: next = next * 1812433253 + 12345 (mod 2^32),
   value = next / (2^32 - 1). */
/* str()'s number format as POV-Ray 3.7 prints it: P decimals (6 when P < 0), at least L
   characters, zero-padded to -L when L < 0 (str(2, -4, 1) is "02.0", str(0.5, 0, -1)
   "0.500000") */
static void str_number(char *buf, size_t size, double v, int l, int p)
{
    snprintf(buf, size, l < 0 ? "%0*.*f" : "%*.*f", l < 0 ? -l : l, p < 0 ? 6 : p, v);
}

/* vstr(N, V, Sep, L, P): N (2..5) components of V, each as str(c, L, P), Sep between */
static value vstr_call(parser *P, const token *t)
{
    expect(P, "(", "after vstr");
    int n = (int)farg(P, "vstr");
    expect(P, ",", "in vstr");
    int line = peek(P)->line;
    value v = arg(P);
    if (v.kind != V_FLOAT && v.kind != V_VEC)
        perr(P, line, "vstr needs a vector, got a %s", kind_name(v.kind));
    expect(P, ",", "in vstr");
    const char *sep = strarg(P, "vstr");
    expect(P, ",", "in vstr");
    int l = (int)farg(P, "vstr");
    expect(P, ",", "in vstr");
    int p = (int)farg(P, "vstr");
    expect(P, ")", "after vstr");
    if (n < 2 || n > 5)
        perr(P, t->line, "vstr needs 2..5 components, got %d", n);
    char buf[1024], num[128];
    size_t len = 0;
    buf[0] = 0;
    for (int i = 0; i < n; i++) {
        /* a float gives the first component only: vstr(2, 7, ...) is "7, 0" in POV-Ray */
        double c = v.kind == V_FLOAT ? (i ? 0.0 : v.c[0]) : i < v.n ? v.c[i] : 0.0;
        str_number(num, sizeof num, c, l, p);
        len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? sep : "", num);
        if (len >= sizeof buf)
            perr(P, t->line, "vstr result longer than %zu characters", sizeof buf - 1);
    }
    return sval(P, buf);
}

static value random_stream(parser *P, const token *t)
{
    expect(P, "(", "after the function name");
    double a = farg(P, t->text);
    expect(P, ")", "after the argument");
    if (t->text[0] == 's') {
        if (!(a >= -2147483648.0 && a < 2147483648.0))
            perr(P, t->line, "seed(%g): out of the range of an int", a);
        if (P->nrand == P->caprand) {
            P->caprand = P->caprand ? P->caprand * 2 : 16;
            P->rand_state = xrealloc(P, P->rand_state, P->caprand * sizeof *P->rand_state);
        }
        P->rand_state[P->nrand] = (uint32_t)(int32_t)a;
        return fval((double)P->nrand++);
    }
    if (!(a >= 0 && a < (double)P->nrand))
        perr(P, t->line, "rand(%g): no such random stream (seed() opens one)", a);
    uint32_t *st = &P->rand_state[(size_t)a];
    *st = *st * 1812433253u + 12345u;
    return fval((double)*st / 4294967295.0);
}

static value call_builtin(parser *P, const token *t, int *found)
{
    const char *n = t->text;
    *found = 1;
    for (size_t i = 0; i < sizeof FUNCS1 / sizeof FUNCS1[0]; i++) {
        if (!strcmp(n, FUNCS1[i].name)) {
            expect(P, "(", "after the function name");
            double x = farg(P, n);
            expect(P, ")", "after the function argument");
            value v = fval(FUNCS1[i].f1(x));
            if (!isfinite(v.c[0]))
                perr(P, t->line, "%s(%g) is not a finite number", n, x);
            return v;
        }
    }
    if (!strcmp(n, "pow") || !strcmp(n, "atan2") || !strcmp(n, "mod") || !strcmp(n, "div")) {
        expect(P, "(", "after the function name");
        double a = farg(P, n);
        expect(P, ",", "between the arguments");
        double b = farg(P, n);
        expect(P, ")", "after the arguments");
        double r = n[0] == 'p' ? pow(a, b) : n[0] == 'a' ? atan2(a, b) : n[0] == 'm' ? fmod(a, b)
                                                                                     : trunc(a / b);
        if (!isfinite(r))
            perr(P, t->line, "%s(%g, %g) is not a finite number", n, a, b);
        return fval(r);
    }
    if (!strcmp(n, "min") || !strcmp(n, "max")) {
        expect(P, "(", "after the function name");
        double r = farg(P, n);
        while (is_punct(P, ",")) {
            next(P);
            double b = farg(P, n);
            r = n[1] == 'i' ? fmin(r, b) : fmax(r, b);
        }
        expect(P, ")", "after the arguments");
        return fval(r);
    }
    if (!strcmp(n, "select")) {
        expect(P, "(", "after select");
        double c = farg(P, "select");
        expect(P, ",", "in select");
        value a = expr_any(P);
        expect(P, ",", "in select");
        value b = expr_any(P), r = c < 0 ? a : b;
        if (is_punct(P, ",")) {
            next(P);
            value d = expr_any(P);
            r = c < 0 ? a : c == 0 ? b : d;
        }
        expect(P, ")", "after select");
        return r;
    }
    if (!strcmp(n, "vlength") || !strcmp(n, "vnormalize")) {
        expect(P, "(", "after the function name");
        vec3 v = as3(varg(P, n));
        expect(P, ")", "after the argument");
        double l = sqrt(vdot(v, v));
        if (n[1] == 'l')
            return fval(l);
        if (l == 0)
            perr(P, t->line, "vnormalize of a zero vector");
        return vvec(vscale(v, 1.0 / l));
    }
    if (!strcmp(n, "vdot") || !strcmp(n, "vcross") || !strcmp(n, "vrotate")) {
        expect(P, "(", "after the function name");
        vec3 a = as3(varg(P, n));
        expect(P, ",", "between the arguments");
        vec3 b = as3(varg(P, n));
        expect(P, ")", "after the arguments");
        if (n[1] == 'd')
            return fval(vdot(a, b));
        return vvec(n[1] == 'c' ? vcross(a, b) : rotate_vec(a, b));
    }
    if (!strcmp(n, "vaxis_rotate")) {
        expect(P, "(", "after vaxis_rotate");
        vec3 a = as3(varg(P, n));
        expect(P, ",", "in vaxis_rotate");
        vec3 ax = as3(varg(P, n));
        expect(P, ",", "in vaxis_rotate");
        double d = farg(P, n);
        expect(P, ")", "after vaxis_rotate");
        if (vdot(ax, ax) == 0)
            perr(P, t->line, "vaxis_rotate around a zero axis");
        return vvec(axis_rotate(a, ax, d));
    }
    if (!strcmp(n, "trace"))
        return trace_call(P, t);
    if (!strcmp(n, "inside"))
        return inside_call(P, t);
    if (!strcmp(n, "vturbulence")) { /* vturbulence(Lambda, Omega, Octaves, V): POV-Ray's
                                          DTurbulence, as a turbulence warp displaces */
        expect(P, "(", "after vturbulence");
        pigment pg;
        memset(&pg, 0, sizeof pg);
        pg.lambda = farg(P, n);
        opt_comma(P);
        pg.omega = farg(P, n);
        opt_comma(P);
        double oct = farg(P, n);
        opt_comma(P);
        vec3 v = as3(varg(P, n));
        expect(P, ")", "after vturbulence");
        if (!(oct >= 1 && oct <= 10))
            perr(P, t->line, "vturbulence octaves must be in 1..10, got %g", oct);
        pg.octaves = (uint32_t)oct;
        pattern_init(); /* the noise tables (made once) */
        return vvec(pov_dturbulence(v, &pg));
    }
    if (!strcmp(n, "defined")) {
        expect(P, "(", "after defined");
        token id = next(P);
        expect(P, ")", "after defined");
        return fval(id.kind == T_IDENT && find_sym(P, id.text) != NULL ? 1.0 : 0.0);
    }
    if (!strcmp(n, "dimension_size") || !strcmp(n, "dimensions")) {
        expect(P, "(", "after the function name");
        token id = next(P);
        symbol *s = id.kind == T_IDENT ? find_sym(P, id.text) : NULL;
        if (!s || s->v.kind != V_ARRAY)
            perr(P, id.line, "%s needs an array identifier, got '%s'", n, id.text);
        double d = 1;
        if (n[9] == '_') {
            expect(P, ",", "in dimension_size");
            d = farg(P, n);
        }
        expect(P, ")", "after the arguments");
        pov_array *a = s->v.arr;
        if (n[9] != '_')
            return fval(a->ndim);
        int k = (int)d;
        return fval(k >= 1 && k <= a->ndim ? a->dims[k - 1] : 0);
    }
    if (!strcmp(n, "strlen") || !strcmp(n, "val") || !strcmp(n, "asc") ||
        !strcmp(n, "file_exists")) {
        expect(P, "(", "after the function name");
        const char *s = strarg(P, n);
        expect(P, ")", "after the argument");
        if (n[0] == 's')
            return fval((double)strlen(s));
        if (n[0] == 'v')
            return fval(atof(s));
        if (n[0] == 'a')
            return fval((unsigned char)s[0]);
        perr(P, t->line, "unsupported word 'file_exists'");
    }
    if (!strcmp(n, "strcmp")) {
        expect(P, "(", "after strcmp");
        const char *a = strarg(P, n);
        expect(P, ",", "in strcmp");
        const char *b = strarg(P, n);
        expect(P, ")", "after strcmp");
        int c = strcmp(a, b);
        return fval(c < 0 ? -1 : c > 0);
    }
    if (!strcmp(n, "concat")) {
        expect(P, "(", "after concat");
        char buf[4096];
        size_t len = 0;
        buf[0] = 0;
        for (;;) {
            const char *s = strarg(P, n);
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s", s);
            if (len >= sizeof buf)
                perr(P, t->line, "concat result longer than %zu characters", sizeof buf - 1);
            if (!is_punct(P, ","))
                break;
            next(P);
        }
        expect(P, ")", "after concat");
        return sval(P, buf);
    }
    if (!strcmp(n, "str")) {
        expect(P, "(", "after str");
        double v = farg(P, n);
        expect(P, ",", "in str");
        int l = (int)farg(P, n);
        expect(P, ",", "in str");
        int p = (int)farg(P, n);
        expect(P, ")", "after str");
        char buf[128];
        str_number(buf, sizeof buf, v, l, p);
        return sval(P, buf);
    }
    if (!strcmp(n, "vstr"))
        return vstr_call(P, t);
    if (!strcmp(n, "min_extent") || !strcmp(n, "max_extent")) {
        expect(P, "(", "after min_extent/max_extent");
        value o = expr_any(P);
        expect(P, ")", "after min_extent/max_extent");
        return object_extent(P, &o, n[1] == 'a', t->line);
    }
    if (!strcmp(n, "chr")) {
        expect(P, "(", "after chr");
        int c = (int)farg(P, n);
        expect(P, ")", "after chr");
        char buf[2] = {(char)c, 0};
        return sval(P, buf);
    }
    if (!strcmp(n, "substr")) {
        expect(P, "(", "after substr");
        const char *s = strarg(P, n);
        expect(P, ",", "in substr");
        int st = (int)farg(P, n);
        expect(P, ",", "in substr");
        int l = (int)farg(P, n);
        expect(P, ")", "after substr");
        int sl = (int)strlen(s);
        if (st < 1 || l < 0 || st - 1 + l > sl)
            perr(P, t->line, "substr(\"%s\", %d, %d) is out of the string", s, st, l);
        return value_str_n(P, s + st - 1, (size_t)l);
    }
    if (!strcmp(n, "strupr") || !strcmp(n, "strlwr")) {
        expect(P, "(", "after the function name");
        const char *s = strarg(P, n);
        expect(P, ")", "after the argument");
        value v = sval(P, s);
        for (char *c = v.str; *c; c++)
            *c = n[3] == 'u' ? (char)toupper((unsigned char)*c) : (char)tolower((unsigned char)*c);
        return v;
    }
    *found = 0;
    return fval(0);
}

value value_str_n(parser *P, const char *s, size_t n)
{
    value r;
    memset(&r, 0, sizeof r);
    r.kind = V_STRING;
    r.str = pool_str(P, s, n);
    return r;
}

/* ------------------------------------------------------------------ colours */
static int colour_word(const char *w)
{
    static const char *ws[] = {"rgb", "rgbf", "rgbt", "rgbft", "srgb", "srgbf", "srgbt",
                               "srgbft", "red", "green", "blue", "filter", "transmit"};
    for (size_t i = 0; i < sizeof ws / sizeof ws[0]; i++)
        if (!strcmp(w, ws[i]))
            return 1;
    return 0;
}

int starts_colour(parser *P)
{
    token *t = peek(P);
    return t->kind == T_IDENT && (!strcmp(t->text, "color") || !strcmp(t->text, "colour") ||
                                  colour_word(t->text));
}

static double srgb_decode(double v)
{
    return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

/* rgb/rgbf/... V : the colour keyword already consumed as kw */
static value colour_form(parser *P, const token *kw)
{
    const char *w = kw->text;
    int s = w[0] == 's';
    const char *form = w + s; /* rgb, rgbf, rgbt, rgbft */
    int line = peek(P)->line;
    value v = expr(P); /* the operand */
    double c[5] = {0, 0, 0, 0, 0};
    int want = (int)strlen(form);
    if (v.kind == V_FLOAT) {
        for (int i = 0; i < want; i++)
            c[i] = v.c[0];
    } else if (v.kind == V_VEC) {
        for (int i = 0; i < want && i < v.n; i++)
            c[i] = v.c[i];
    } else {
        perr(P, line, "%s needs a vector, got a %s", w, kind_name(v.kind));
    }
    if (!strcmp(form, "rgbt")) {
        c[4] = c[3];
        c[3] = 0;
    }
    if (s) /* sRGB -> linear -> the working space of assumed_gamma */
        for (int i = 0; i < 3; i++)
            c[i] = P->working_gamma == 1.0 ? srgb_decode(c[i])
                                           : pow(srgb_decode(c[i]), 1.0 / P->working_gamma);
    return vecn(5, c);
}

static int colour_component(const token *t)
{
    static const char *const words[5] = {"red", "green", "blue", "filter", "transmit"};
    if (t->kind != T_IDENT)
        return -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(t->text, words[i]))
            return i;
    return -1;
}

/* [color] (EXPRESSION | COMPONENT F) [COMPONENT F]...: a colour, then (as POV-Ray allows,
   `color rgb 1 filter 0.5`, `color Red transmit 0.3`) components set one by one. */
value parse_colour5(parser *P)
{
    if (is_word(P, "color") || is_word(P, "colour"))
        next(P);
    value c = vecn(5, (double[5]){0, 0, 0, 0, 0});
    token *t = peek(P);
    if (colour_component(t) < 0) {
        int line = t->line;
        value v = expr(P);
        if (v.kind == V_FLOAT) {
            c = vecn(5, v.c);
        } else {
            if (v.kind != V_VEC)
                perr(P, line, "expected a colour, got a %s", kind_name(v.kind));
            for (int i = 0; i < v.n; i++)
                c.c[i] = v.c[i];
            c.n = 5;
        }
    }
    int i;
    while ((i = colour_component(peek(P))) >= 0) {
        token kw = next(P);
        c.c[i] = parse_float(P, kw.text);
    }
    return c;
}

/* A colour for the renderer: only red, green and blue; filter/transmit must be 0. */
vec3 parse_colour(parser *P, int line, const char *where)
{
    value c = parse_colour5(P);
    if (c.c[3] != 0.0 || c.c[4] != 0.0)
        perr(P, line, "unsupported: transparent colour (filter %g, transmit %g) in %s",
             c.c[3], c.c[4], where);
    return v3(c.c[0], c.c[1], c.c[2]);
}

/* ------------------------------------------------------------------ expressions */
static value postfix(parser *P, value v, int line)
{
    while (is_punct(P, ".")) {
        next(P);
        token c = next(P);
        static const char *names[][2] = {{"x", "red"}, {"y", "green"}, {"z", "blue"},
                                         {"t", "filter"}, {"transmit", "transmit"}};
        int idx = -1;
        for (int i = 0; i < 5; i++)
            if (!strcmp(c.text, names[i][0]) || !strcmp(c.text, names[i][1]))
                idx = i;
        if (!strcmp(c.text, "u"))
            idx = 0;
        if (!strcmp(c.text, "v"))
            idx = 1;
        if (!strcmp(c.text, "gray") || !strcmp(c.text, "grey")) {
            value w = want_vec(P, v, line, ".gray");
            v = fval(w.c[0] * 0.297 + w.c[1] * 0.589 + w.c[2] * 0.114);
            continue;
        }
        if (idx < 0)
            perr(P, c.line, "unsupported word '.%s'", c.text);
        if (v.kind == V_FLOAT)
            continue;
        if (v.kind != V_VEC)
            perr(P, c.line, "'.%s' of a %s", c.text, kind_name(v.kind));
        v = fval(idx < v.n ? v.c[idx] : 0.0);
    }
    return v;
}

static value vector_literal(parser *P, int line)
{
    double c[5];
    int n = 0;
    P->vec_depth++;
    for (;;) {
        if (n == 5)
            perr(P, line, "vectors have at most 5 components");
        value e = expr(P);
        c[n++] = want_float(P, e, line, "a vector component");
        token s = next(P);
        if (s.kind == T_PUNCT && s.text[0] == '>')
            break;
        if (s.kind != T_PUNCT || s.text[0] != ',') { /* the comma is optional: <0 20 0> */
            P->tok = s;
            P->have_tok = 1;
        } else if (is_punct(P, ">")) { /* a trailing comma, <1, 0, 0,> (POV-Ray takes it) */
            next(P);
            break;
        }
    }
    P->vec_depth--;
    if (n < 2)
        perr(P, line, "a vector needs at least 2 components");
    return vecn(n, c);
}

static value keyword_value(parser *P, const token *t, int *found)
{
    const pov_parse_opts *o = P->opts;
    struct { const char *w; double v; } k[] = {
        {"pi", M_PI}, {"tau", 2 * M_PI}, {"true", 1}, {"yes", 1}, {"on", 1}, {"false", 0},
        {"no", 0}, {"off", 0}, {"clock", o->clock}, {"clock_delta", 0}, {"clock_on", 0},
        {"initial_clock", 0}, {"final_clock", 0}, {"frame_number", 0}, {"initial_frame", 0},
        {"final_frame", 0}, {"image_width", o->image_width}, {"image_height", o->image_height},
        {"version", P->version},
    };
    *found = 1;
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++)
        if (!strcmp(t->text, k[i].w))
            return fval(k[i].v);
    static const char *axes[] = {"x", "y", "z"};
    for (int i = 0; i < 3; i++) {
        if (!strcmp(t->text, axes[i])) {
            double c[3] = {0, 0, 0};
            c[i] = 1;
            return vecn(3, c);
        }
    }
    if (!strcmp(t->text, "t"))
        return vecn(4, (double[]){0, 0, 0, 1});
    if (!strcmp(t->text, "u"))
        return vecn(2, (double[]){1, 0});
    if (!strcmp(t->text, "v"))
        return vecn(2, (double[]){0, 1});
    *found = 0;
    return fval(0);
}

int expr_keyword_float(parser *P, const token *t, double *v)
{
    int found = 0;
    value k = keyword_value(P, t, &found);
    if (!found || k.kind != V_FLOAT)
        return 0;
    *v = k.c[0];
    return 1;
}

static value primary(parser *P)
{
    token t = next(P);
    if (t.kind == T_NUM)
        return postfix(P, fval(t.num), t.line);
    if (t.kind == T_STRING)
        return value_str_n(P, t.str, strlen(t.str));
    if (t.kind == T_PUNCT && t.text[0] == '(') {
        int saved = P->vec_depth;
        P->vec_depth = 0;
        value v = expr(P);
        P->vec_depth = saved;
        expect(P, ")", "to close '('");
        return postfix(P, v, t.line);
    }
    if (t.kind == T_PUNCT && t.text[0] == '<')
        return postfix(P, vector_literal(P, t.line), t.line);
    if (t.kind != T_IDENT)
        perr(P, t.line, "expected a number or vector, got '%s'", t.text);
    symbol *s = find_sym(P, t.text);
    if (s) {
        value v = s->v;
        if (v.kind == V_BROKEN)
            perr(P, t.line, "'%s' cannot be used: %s", t.text, v.str);
        if (v.kind == V_ARRAY && is_punct(P, "["))
            v = index_array(P, v, t.text, t.line);
        if ((v.kind == V_FUNCTION || v.kind == V_SPLINE) && !is_punct(P, "("))
            return v; /* a function by its name: a macro's argument (math.inc's fn_Gradient(F)) */
        if (v.kind == V_SPLINE)
            return postfix(P, spline_call(P, v.spl, &t), t.line);
        if (v.kind == V_FUNCTION)
            v = userfunc_call(P, v.mac, &t);
        return postfix(P, v, t.line);
    }
    int found;
    value v = keyword_value(P, &t, &found);
    if (found)
        return postfix(P, v, t.line);
    if (!strcmp(t.text, "color") || !strcmp(t.text, "colour")) {
        P->have_tok = 1;
        P->tok = t;
        return parse_colour5(P);
    }
    if (colour_word(t.text) && strcmp(t.text, "red") && strcmp(t.text, "green") &&
        strcmp(t.text, "blue") && strcmp(t.text, "filter") && strcmp(t.text, "transmit"))
        return colour_form(P, &t);
    if (!strcmp(t.text, "array"))
        return parse_array(P, t.line);
    v = call_builtin(P, &t, &found);
    if (found)
        return postfix(P, v, t.line);
    if (!strcmp(t.text, "seed") || !strcmp(t.text, "rand"))
        return postfix(P, random_stream(P, &t), t.line);
    perr(P, t.line, "unsupported word '%s' (not a declared identifier or keyword here)",
         t.text);
}

static value unary(parser *P)
{
    if (is_punct(P, "-")) {
        int line = next(P).line;
        value v = unary(P);
        return arith(P, fval(0), v, '-', line);
    }
    if (is_punct(P, "+")) {
        next(P);
        return unary(P);
    }
    if (is_punct(P, "!")) {
        int line = next(P).line;
        return fval(!value_true(P, unary(P), line));
    }
    return primary(P);
}

static value term(parser *P)
{
    value v = unary(P);
    while (is_punct(P, "*") || is_punct(P, "/")) {
        token op = next(P);
        v = arith(P, v, unary(P), op.text[0], op.line);
    }
    return v;
}

static value sum(parser *P)
{
    value v = term(P);
    while (is_punct(P, "+") || is_punct(P, "-")) {
        token op = next(P);
        v = arith(P, v, term(P), op.text[0], op.line);
    }
    return v;
}

static int is_cmp(parser *P)
{
    if (is_punct(P, "=") || is_punct(P, "!="))
        return 1;
    if (P->vec_depth)
        return 0;
    return is_punct(P, "<") || is_punct(P, ">") || is_punct(P, "<=") || is_punct(P, ">=");
}

static value compare(parser *P)
{
    value v = sum(P);
    /* a vector followed by '<' is two items without a comma (box { <..> <..> }), as in
       POV-Ray: comparisons take floats only */
    while (is_cmp(P) && !(v.kind == V_VEC && is_punct(P, "<"))) {
        token op = next(P);
        value b = sum(P);
        if (v.kind != V_FLOAT || b.kind != V_FLOAT)
            perr(P, op.line, "'%s' compares floats, got a %s and a %s", op.text,
                 kind_name(v.kind), kind_name(b.kind));
        double x = v.c[0], y = b.c[0];
        int r = !strcmp(op.text, "=") ? x == y : !strcmp(op.text, "!=") ? x != y
              : !strcmp(op.text, "<") ? x < y : !strcmp(op.text, ">") ? x > y
              : !strcmp(op.text, "<=") ? x <= y : x >= y;
        v = fval(r);
    }
    return v;
}

static value logic_and(parser *P)
{
    value v = compare(P);
    while (is_punct(P, "&")) {
        int line = next(P).line;
        value b = compare(P);
        v = fval(value_true(P, v, line) && value_true(P, b, line));
    }
    return v;
}

static value logic_or(parser *P)
{
    value v = logic_and(P);
    while (is_punct(P, "|")) {
        int line = next(P).line;
        value b = logic_and(P);
        v = fval(value_true(P, v, line) || value_true(P, b, line));
    }
    return v;
}

value expr(parser *P)
{
    value c = logic_or(P);
    if (!is_punct(P, "?"))
        return c;
    int line = next(P).line;
    value a = expr(P);
    expect(P, ":", "in 'c ? a : b'");
    value b = expr(P);
    return value_true(P, c, line) ? a : b;
}

value expr_any(parser *P)
{
    token *t = peek(P);
    if (t->kind == T_IDENT && !strcmp(t->text, "array") && !find_sym(P, "array")) {
        int line = next(P).line;
        return parse_array(P, line); /* no look-ahead past its '}' */
    }
    if (t->kind == T_IDENT && !strcmp(t->text, "function") && !find_sym(P, "function")) {
        token kw = next(P); /* a macro whose value is a function (math.inc's fn_Gradient) */
        return userfunc_declare(P, &kw);
    }
    if (t->kind == T_IDENT) {
        symbol *s = find_sym(P, t->text);
        if (s && s->v.kind != V_FLOAT && s->v.kind != V_VEC && s->v.kind != V_STRING &&
            s->v.kind != V_ARRAY && s->v.kind != V_FUNCTION && s->v.kind != V_SPLINE) {
            token id = next(P);
            if (s->v.kind == V_BROKEN && is_punct(P, "(")) /* a call of a failed declaration */
                perr(P, id.line, "'%s' cannot be used: %s", id.text, s->v.str);
            return s->v;
        }
        if (s && s->v.kind == V_ARRAY) {
            token id = next(P);
            if (!is_punct(P, "["))
                return s->v;
            value v = index_array(P, s->v, id.text, id.line);
            if (v.kind == V_FLOAT || v.kind == V_VEC)
                return arith(P, fval(0), v, '+', id.line); /* allow no further ops */
            return v;
        }
        value v;
        if (!s && scene_item_value(P, &v))
            return v;
    }
    return expr(P);
}

/* A scene item's float or vector (a radius, a count, a location): as POV-Ray's Parse_Float
   and Parse_Vector, only sums of terms -- a comparison, '&', '|' or '?:' needs parentheses
   there -- so 'prism { 0, 1, 4 <-1, 0>, ...' reads the count 4 and then a vector. (#if,
   #while, #declare and function arguments take whole expressions.) */
double parse_float(parser *P, const char *what)
{
    int line = peek(P)->line;
    return want_float(P, sum(P), line, what);
}

vec3 parse_vector(parser *P)
{
    int line = peek(P)->line;
    return as3(want_vec(P, sum(P), line, "a vector"));
}
