/* spline.c -- POV-Ray 3.7's splines (reference manual, "Splines"; its splines.cpp for the
 * exact interpolation): spline { [linear_spline | quadratic_spline | cubic_spline |
 * natural_spline] [SPLINE_ID] T1, V1 [,] T2, V2 ... } and calls S(t [, TYPE]) while parsing.
 * The entries are kept sorted by T (a repeated T replaces the value); a value has 1 to 5
 * numbers (a float stands for all of them) and a call gives a vector of as many as the
 * longest entry, at least 2, as POV-Ray's splines do. Outside the entries'
 * range a call gives the first or last value; cubic_spline (Catmull-Rom) gives the second or
 * the next-to-last, and the two values' mean when there are only two, as POV-Ray does.
 */
#include <string.h>

#include "lang.h"

enum { SPL_LINEAR, SPL_QUADRATIC, SPL_CUBIC, SPL_NATURAL };

typedef struct {
    double par, vec[5], coeff[5];
} spline_entry;

struct pov_spline {
    int type, terms;
    size_t n, cap;
    spline_entry *e;
};

static const char *const TYPE_WORDS[] = {"linear_spline", "quadratic_spline", "cubic_spline",
                                         "natural_spline"};

static int type_word(const token *t)
{
    for (int i = 0; i < 4; i++)
        if (t->kind == T_IDENT && !strcmp(t->text, TYPE_WORDS[i]))
            return i;
    return -1;
}

/* splines.cpp's findt: 0 at or before the first T, n at or past the last, else the first
   entry whose T is at least p (its binary search stops there on an equal T) */
static size_t find_t(const pov_spline *s, double p)
{
    size_t i = 0;
    if (s->n == 0 || p <= s->e[0].par)
        return 0;
    if (p >= s->e[s->n - 1].par)
        return s->n;
    while (i < s->n && s->e[i].par < p)
        i++;
    return i;
}

static void insert(parser *P, pov_spline *s, double p, const double v[5])
{
    size_t i = find_t(s, p);
    if (s->n && i < s->n && s->e[i].par == p) {
        memcpy(s->e[i].vec, v, sizeof s->e[i].vec);
        return;
    }
    if (s->n && i == s->n && s->e[i - 1].par == p) {
        memcpy(s->e[i - 1].vec, v, sizeof s->e[i - 1].vec);
        return;
    }
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        spline_entry *bigger = xalloc(P, s->cap * sizeof *bigger);
        if (s->n)
            memcpy(bigger, s->e, s->n * sizeof *bigger);
        s->e = bigger;
    }
    memmove(&s->e[i + 1], &s->e[i], (s->n - i) * sizeof *s->e);
    memset(&s->e[i], 0, sizeof s->e[i]);
    s->e[i].par = p;
    memcpy(s->e[i].vec, v, sizeof s->e[i].vec);
    s->n++;
}

/* natural_spline's second derivatives (splines.cpp's Precompute_Cubic_Coeffs) */
static void natural_coeffs(parser *P, pov_spline *s)
{
    size_t n = s->n;
    for (size_t i = 0; i < n; i++)
        memset(s->e[i].coeff, 0, sizeof s->e[i].coeff);
    if (n < 3)
        return;
    double *h = xalloc(P, 4 * n * sizeof *h), *b = h + n, *u = b + n, *v = u + n;
    for (int k = 0; k < 5; k++) {
        for (size_t i = 0; i + 1 < n; i++) {
            h[i] = s->e[i + 1].par - s->e[i].par;
            b[i] = (s->e[i + 1].vec[k] - s->e[i].vec[k]) / h[i];
        }
        u[1] = 2 * (h[0] + h[1]);
        v[1] = 6 * (b[1] - b[0]);
        for (size_t i = 2; i + 1 < n; i++) {
            u[i] = 2 * (h[i] + h[i - 1]) - (h[i - 1] * h[i - 1]) / u[i - 1];
            v[i] = 6 * (b[i] - b[i - 1]) - (h[i - 1] * v[i - 1]) / u[i - 1];
        }
        for (size_t i = n - 2; i > 0; i--)
            s->e[i].coeff[k] = (v[i] - h[i] * s->e[i + 1].coeff[k]) / u[i];
    }
}

static double linear_at(const spline_entry *e, size_t i, int k, double p)
{
    return (p - e[i].par) * (e[i + 1].vec[k] - e[i].vec[k]) / (e[i + 1].par - e[i].par) +
           e[i].vec[k];
}

static double quadratic_at(const spline_entry *e, size_t i, int k, double p)
{
    double p1 = e[i - 1].par, p2 = e[i].par, p3 = e[i + 1].par;
    double v1 = e[i - 1].vec[k], v2 = e[i].vec[k], v3 = e[i + 1].vec[k];
    double n = (p2 - p1) * (p3 - p1) * (p3 - p2);
    double a = (-p2 * v1 + p3 * v1 + p1 * v2 - p3 * v2 - p1 * v3 + p2 * v3) / n;
    double b = (p2 * p2 * v1 - p3 * p3 * v1 - p1 * p1 * v2 + p3 * p3 * v2 + p1 * p1 * v3 -
                p2 * p2 * v3) / n;
    double c = (-p2 * p2 * p3 * v1 + p2 * p3 * p3 * v1 + p1 * p1 * p3 * v2 -
                p1 * p3 * p3 * v2 - p1 * p1 * p2 * v3 + p1 * p2 * p2 * v3) / n;
    return (a * p + b) * p + c;
}

static double natural_at(const spline_entry *e, size_t i, int k, double p)
{
    double h = e[i + 1].par - e[i].par, d = p - e[i].par;
    double t = e[i].coeff[k] / 2.0 + (d * (e[i + 1].coeff[k] - e[i].coeff[k])) / (6.0 * h);
    t = -(h / 6.0) * (e[i + 1].coeff[k] + 2.0 * e[i].coeff[k]) +
        (e[i + 1].vec[k] - e[i].vec[k]) / h + d * t;
    return e[i].vec[k] + d * t;
}

static double catmull_rom_at(const spline_entry *e, size_t i, int k, double p)
{
    double dt = e[i + 1].par - e[i].par, u = (p - e[i].par) / dt;
    double s0 = (e[i].vec[k] - e[i - 1].vec[k]) / (e[i].par - e[i - 1].par);
    double s1 = (e[i + 1].vec[k] - e[i].vec[k]) / dt;
    double s2 = (e[i + 2].vec[k] - e[i + 1].vec[k]) / (e[i + 2].par - e[i + 1].par);
    double dp0 = (s0 + s1) / 2.0 * dt, dp1 = (s2 + s1) / 2.0 * dt;
    return e[i].vec[k] * (2 * u * u * u - 3 * u * u + 1) +
           e[i + 1].vec[k] * (3 * u * u - 2 * u * u * u) + dp0 * (u * u * u - 2 * u * u + u) +
           dp1 * (u * u * u - u * u);
}

static double value_at(const pov_spline *s, int type, size_t i, int k, double p)
{
    const spline_entry *e = s->e;
    if (type == SPL_CUBIC) {
        if (s->n == 2)
            return (e[0].vec[k] + e[1].vec[k]) / 2.0;
        if (i < 2)
            return e[1].vec[k];
        if (i >= s->n - 1)
            return e[s->n - 2].vec[k];
        return catmull_rom_at(e, i - 1, k, p);
    }
    if (i == 0)
        return e[0].vec[k];
    if (i >= s->n)
        return e[s->n - 1].vec[k];
    if (type == SPL_LINEAR || (type == SPL_QUADRATIC && s->n == 2))
        return linear_at(e, i - 1, k, p);
    if (type == SPL_QUADRATIC)
        return quadratic_at(e, i > 1 ? i - 1 : i, k, p);
    return natural_at(e, i - 1, k, p);
}

pov_spline *spline_parse(parser *P)
{
    pov_spline *s = xalloc(P, sizeof *s);
    memset(s, 0, sizeof *s);
    s->terms = 2; /* POV-Ray's GenericSpline starts with 2: a spline of floats gives <f, f> */
    int line = peek(P)->line;
    expect(P, "{", "after 'spline'");
    for (;;) {
        token *t = peek(P);
        int type = type_word(t);
        const symbol *id = t->kind == T_IDENT ? find_sym(P, t->text) : NULL;
        if (t->kind == T_PUNCT && t->text[0] == '}') {
            next(P);
            break;
        }
        if (type >= 0) {
            next(P);
            s->type = type;
        } else if (id && id->v.kind == V_SPLINE) {
            next(P);
            const pov_spline *o = id->v.spl;
            for (size_t i = 0; i < o->n; i++)
                insert(P, s, o->e[i].par, o->e[i].vec);
            s->type = o->type;
            s->terms = o->terms > s->terms ? o->terms : s->terms;
        } else {
            double p = parse_float(P, "a spline entry's parameter");
            opt_comma(P);
            int vline = peek(P)->line;
            value v = expr(P);
            if (v.kind != V_FLOAT && v.kind != V_VEC)
                perr(P, vline, "a spline entry's value must be a float or vector, got a %s",
                     kind_name(v.kind));
            int terms = v.kind == V_FLOAT ? 1 : v.n;
            double c[5] = {0, 0, 0, 0, 0};
            for (int k = 0; k < 5; k++) /* a float stands for all five, as POV-Ray's */
                c[k] = v.kind == V_FLOAT ? v.c[0] : k < terms ? v.c[k] : 0.0;
            s->terms = terms > s->terms ? terms : s->terms;
            insert(P, s, p, c);
            opt_comma(P);
        }
    }
    if (s->n == 0)
        perr(P, line, "a spline needs at least one entry (T, value)");
    natural_coeffs(P, s); /* for natural_spline, or a call that asks for it */
    return s;
}

value spline_call(parser *P, const pov_spline *s, const token *name)
{
    expect(P, "(", "after a spline's name");
    double p = parse_float(P, "the spline's parameter");
    int type = s->type;
    if (is_punct(P, ",")) {
        next(P);
        token t = next(P);
        type = type_word(&t);
        if (type < 0)
            perr(P, t.line, "expected a spline type (linear_spline, quadratic_spline, "
                 "cubic_spline, natural_spline) after %s's parameter, got '%s'", name->text,
                 t.text);
    }
    expect(P, ")", "after the spline's parameter");
    size_t i = find_t(s, p);
    value v;
    memset(&v, 0, sizeof v);
    v.kind = V_VEC;
    v.n = s->terms;
    for (int k = 0; k < s->terms; k++)
        v.c[k] = s->n == 1 ? s->e[0].vec[k] : value_at(s, type, i, k, p);
    return v;
}
