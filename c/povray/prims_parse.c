/* prims_parse.c -- the scene language of every primitive (hosted C, parser only).
 *
 * One parse_NAME per entry of POV_PRIMITIVES (scene.h): the geometry between the keyword's
 * '{' and the object modifiers; the table PRIM_PARSERS is generated from the list, so a
 * primitive without its parser does not link. Primitives with more numbers than a, b, r,
 * r2 keep them in the scene's data pool (scene_data_add). Transforms: parse.c folds the
 * ones POV-Ray folds into sphere, plane, box and cylinder; every other primitive keeps a
 * matrix pair.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "objects.h"
#include "prims.h"
#include "ttf.h"
#include "rt_math.h"

/* ------------------------------------------------------------------ primitives
   One parse_NAME per entry of POV_PRIMITIVES (scene.h): the geometry between the keyword's
   '{' and the object modifiers. */
static void parse_sphere(parser *P, prim *p, const token *kw)
{
    p->a = parse_vector(P);
    opt_comma(P);
    p->r = parse_float(P, "the sphere radius");
    if (!(p->r > 0.0))
        perr(P, kw->line, "sphere radius must be positive, got %g", p->r);
}

static void parse_plane(parser *P, prim *p, const token *kw)
{
    p->a = parse_vector(P);
    opt_comma(P);
    p->r = parse_float(P, "the plane distance");
    double len = vlen(p->a);
    if (len < 1e-10)
        perr(P, kw->line, "degenerate plane normal");
    p->a = v3(p->a.x / len, p->a.y / len, p->a.z / len);
}

static void parse_box(parser *P, prim *p, const token *kw)
{
    (void)kw;
    vec3 a = parse_vector(P);
    opt_comma(P);
    vec3 b = parse_vector(P);
    p->a = v3(rt_fmin(a.x, b.x), rt_fmin(a.y, b.y), rt_fmin(a.z, b.z));
    p->b = v3(rt_fmax(a.x, b.x), rt_fmax(a.y, b.y), rt_fmax(a.z, b.z));
}

static void parse_cylinder(parser *P, prim *p, const token *kw)
{
    p->a = parse_vector(P);
    opt_comma(P);
    p->b = parse_vector(P);
    opt_comma(P);
    p->r = parse_float(P, "the cylinder radius");
    if (!(p->r > 0.0))
        perr(P, kw->line, "cylinder radius must be positive, got %g", p->r);
    if (vlen(vsub(p->b, p->a)) < 1e-10)
        perr(P, kw->line, "degenerate cylinder: base and cap are the same point");
    if (is_word(P, "open")) {
        next(P);
        p->flags |= PRIM_OPEN;
    }
}

static void parse_cone(parser *P, prim *p, const token *kw)
{
    p->a = parse_vector(P);
    opt_comma(P);
    p->r = parse_float(P, "the cone base radius");
    opt_comma(P);
    p->b = parse_vector(P);
    opt_comma(P);
    p->r2 = parse_float(P, "the cone cap radius");
    if (!(p->r >= 0.0 && p->r2 >= 0.0 && p->r + p->r2 > 0.0))
        perr(P, kw->line, "cone radii must be >= 0 and not both 0, got %g and %g", p->r, p->r2);
    if (vlen(vsub(p->b, p->a)) < 1e-10)
        perr(P, kw->line, "degenerate cone: base and cap are the same point");
    if (p->r == p->r2) /* POV-Ray makes it a cylinder */
        p->type = OBJ_CYLINDER;
    if (is_word(P, "open")) {
        next(P);
        p->flags |= PRIM_OPEN;
    }
}

/* disc { centre, normal, radius [, hole radius] } */
static void parse_disc(parser *P, prim *p, const token *kw)
{
    p->a = parse_vector(P);
    opt_comma(P);
    vec3 n = parse_vector(P);
    opt_comma(P);
    p->r = parse_float(P, "the disc radius");
    if (is_punct(P, ",")) {
        next(P);
        p->r2 = parse_float(P, "the disc hole radius");
    }
    if (vlen(n) < 1e-10)
        perr(P, kw->line, "degenerate disc normal");
    p->b = vnorm(n);
    if (!(p->r > 0.0 && p->r2 >= 0.0 && p->r2 < p->r))
        perr(P, kw->line, "disc radius must be positive and above the hole radius, got %g "
             "and %g", p->r, p->r2);
}

/* triangle { p1, p2, p3 } */
static void parse_triangle(parser *P, prim *p, const token *kw)
{
    double d[9];
    for (int i = 0; i < 3; i++) {
        vec3 v = parse_vector(P);
        d[3 * i] = v.x, d[3 * i + 1] = v.y, d[3 * i + 2] = v.z;
        if (i < 2)
            opt_comma(P);
    }
    (void)kw;
    p->r = 0.0;
    prim_set_data(P, p, d, 9);
}

/* smooth_triangle { p1, n1, p2, n2, p3, n3 } */
static void parse_smooth_triangle(parser *P, prim *p, const token *kw)
{
    double d[18];
    for (int i = 0; i < 6; i++) {
        vec3 v = parse_vector(P);
        int at = i % 2 ? 9 + 3 * (i / 2) : 3 * (i / 2); /* points first, then normals */
        d[at] = v.x, d[at + 1] = v.y, d[at + 2] = v.z;
        if (i < 5)
            opt_comma(P);
    }
    (void)kw;
    p->type = OBJ_TRIANGLE;
    p->r = 1.0;
    prim_set_data(P, p, d, 18);
}

static void opt_sturm(parser *P)
{
    if (is_word(P, "sturm")) /* our solver is Sturm's already */
        next(P);
}

static void parse_torus(parser *P, prim *p, const token *kw)
{
    p->r = parse_float(P, "the torus major radius");
    opt_comma(P);
    p->r2 = parse_float(P, "the torus minor radius");
    if (!(p->r > 0.0 && p->r2 > 0.0))
        perr(P, kw->line, "torus radii must be positive, got %g and %g", p->r, p->r2);
    opt_sturm(P);
}

/* ------------------------------------------------------------------ prism */
enum { SPLINE_LINEAR = 1, SPLINE_QUADRATIC, SPLINE_CUBIC, SPLINE_BEZIER };

/* Segment i's coefficients A, B, C, D (x, z each) from the points, as POV-Ray's
   Compute_Prism makes them; out[8..11] its bounding rectangle. */
static void prism_segment(int type, const double *pt, int i, double *out)
{
    const double *p0 = pt + 2 * i, *p1 = p0 + 2, *p2 = p0 + 4, *p3 = p0 + 6;
    for (int c = 0; c < 2; c++) {
        double a = 0, b = 0, cc, d;
        if (type == SPLINE_LINEAR) {
            cc = p1[c] - p0[c], d = p0[c];
        } else if (type == SPLINE_QUADRATIC) {
            b = 0.5 * p0[c] - p1[c] + 0.5 * p2[c], cc = -0.5 * p0[c] + 0.5 * p2[c], d = p1[c];
        } else if (type == SPLINE_CUBIC) {
            a = -0.5 * p0[c] + 1.5 * p1[c] - 1.5 * p2[c] + 0.5 * p3[c];
            b = p0[c] - 2.5 * p1[c] + 2.0 * p2[c] - 0.5 * p3[c];
            cc = -0.5 * p0[c] + 0.5 * p2[c], d = p1[c];
        } else {
            a = p0[c] - 3.0 * p1[c] + 3.0 * p2[c] - p3[c];
            b = 3.0 * p1[c] - 6.0 * p2[c] + 3.0 * p3[c];
            cc = 3.0 * p2[c] - 3.0 * p3[c], d = p3[c];
        }
        out[c] = a, out[2 + c] = b, out[4 + c] = cc, out[6 + c] = d;
        /* the rectangle: the ends and the extrema in between */
        double lo = d, hi = d, e = a + b + cc + d;
        lo = lo < e ? lo : e, hi = hi > e ? hi : e;
        double qa = 3.0 * a, qb = 2.0 * b, qc = cc;
        double r[2];
        int n = 0;
        if (qa != 0.0) {
            double disc = qb * qb - 4.0 * qa * qc;
            if (disc >= 0.0) {
                double sq = rt_sqrt(disc);
                r[n++] = (-qb - sq) / (2.0 * qa), r[n++] = (-qb + sq) / (2.0 * qa);
            }
        } else if (qb != 0.0) {
            r[n++] = -qc / qb;
        }
        for (int k = 0; k < n; k++)
            if (r[k] >= 0.0 && r[k] <= 1.0) {
                double v = ((a * r[k] + b) * r[k] + cc) * r[k] + d;
                lo = lo < v ? lo : v, hi = hi > v ? hi : v;
            }
        out[8 + 2 * c] = lo, out[9 + 2 * c] = hi;
    }
}

/* n points <u, v> (each after an optional comma), as x, y pairs. */
static double *parse_points_2d(parser *P, int n)
{
    double *pt = xrealloc(P, NULL, 2 * (size_t)n * sizeof *pt);
    for (int i = 0; i < n; i++) {
        opt_comma(P);
        vec3 v = parse_vector(P);
        pt[2 * i] = v.x, pt[2 * i + 1] = v.y;
    }
    return pt;
}

/* The segments of the points, with POV-Ray's closing of each sub-curve; returns how many. */
static int prism_segments(parser *P, int type, const double *pt, int n, double *seg, int line)
{
    int need = type == SPLINE_LINEAR ? 1 : type == SPLINE_QUADRATIC ? 2 : 3, count = 0;
    const double eps = 1.0e-10;
    const double *first = type == SPLINE_LINEAR ? pt : pt + 2;
    for (int i = 0; i < n - 1; i++) {
        if (i + need >= n)
            perr(P, line, "too few points in prism (not closed? control points missing?)");
        prism_segment(type, pt, i, seg + 12 * count++);
        int close = type == SPLINE_LINEAR ? i + 1 : i + 2;
        if (type == SPLINE_BEZIER) {
            i += 3;
        } else if (rt_fabs(pt[2 * close] - first[0]) < eps &&
                   rt_fabs(pt[2 * close + 1] - first[1]) < eps) {
            i += type == SPLINE_LINEAR ? 1 : type == SPLINE_QUADRATIC ? 2 : 3;
            int next = type == SPLINE_LINEAR ? i + 1 : i + 2;
            if (next < n)
                first = pt + 2 * next;
        }
    }
    return count;
}

/* prism { [linear_sweep|conic_sweep] [linear_spline|quadratic_spline|cubic_spline|
   bezier_spline] H1, H2, N, <P0>, ... [open] [sturm] } */
static void parse_prism(parser *P, prim *p, const token *kw)
{
    static const char *const SPLINES[] = {"linear_spline", "quadratic_spline", "cubic_spline",
                                          "bezier_spline"};
    int type = SPLINE_LINEAR, conic = 0;
    for (;;) {
        int found = 0;
        for (int i = 0; i < 4; i++)
            if (is_word(P, SPLINES[i]))
                next(P), type = i + 1, found = 1;
        if (is_word(P, "linear_sweep"))
            next(P), conic = 0, found = 1;
        else if (is_word(P, "conic_sweep"))
            next(P), conic = 1, found = 1;
        if (!found)
            break;
    }
    double h1 = parse_float(P, "the prism's first height");
    opt_comma(P);
    double h2 = parse_float(P, "the prism's second height");
    opt_comma(P);
    double nf = parse_float(P, "the prism's number of points");
    if (!(nf >= 3 && nf <= 100000 && nf == (int)nf))
        perr(P, kw->line, "prism needs 3..100000 points, got %g", nf);
    int n = (int)nf;
    double *pt = parse_points_2d(P, n);
    if (h1 == h2)
        perr(P, kw->line, "prism heights must differ, got %g twice", h1);
    double *seg = xrealloc(P, NULL, 12 * (size_t)n * sizeof *seg);
    int count = prism_segments(P, type, pt, n, seg, kw->line);
    p->type = OBJ_PRISM;
    p->r = h1 < h2 ? h1 : h2, p->r2 = h1 < h2 ? h2 : h1;
    p->a = v3(conic, 0, type == SPLINE_LINEAR ? 1 : type == SPLINE_QUADRATIC ? 2 : 3);
    for (;;) {
        if (is_word(P, "open"))
            next(P), p->a.y = 1;
        else if (is_word(P, "sturm"))
            next(P);
        else
            break;
    }
    prim_set_data(P, p, seg, 12 * (size_t)count);
}

/* lathe { [linear_spline|quadratic_spline|cubic_spline|bezier_spline] N, <P>... [sturm] }:
   the segments as POV-Ray's Compute_Lathe makes them (its Bezier segments run from the
   first point of each four, unlike a prism's). */
static void parse_lathe(parser *P, prim *p, const token *kw)
{
    static const char *const SPLINES[] = {"linear_spline", "quadratic_spline", "cubic_spline",
                                          "bezier_spline"};
    int type = SPLINE_LINEAR;
    for (int i = 0; i < 4; i++)
        if (is_word(P, SPLINES[i]))
            next(P), type = i + 1;
    double nf = parse_float(P, "the lathe's number of points");
    int min = type == SPLINE_LINEAR ? 2 : type == SPLINE_QUADRATIC ? 3 : 4;
    if (!(nf >= min && nf <= 100000 && nf == (int)nf) || (type == SPLINE_BEZIER && (int)nf % 4))
        perr(P, kw->line, "lathe with %s needs %s%d..100000 points, got %g", SPLINES[type - 1],
             type == SPLINE_BEZIER ? "a multiple of 4, " : "", min, nf);
    int n = (int)nf;
    double *pt = parse_points_2d(P, n);
    int count = type == SPLINE_BEZIER ? n / 4 : n - min + 1;
    double *seg = xrealloc(P, NULL, 12 * (size_t)count * sizeof *seg);
    for (int j = 0; j < count; j++) {
        if (type != SPLINE_BEZIER) {
            prism_segment(type, pt, j, seg + 12 * j);
            continue;
        }
        double rev[8]; /* a prism's Bezier form of the reversed four: the same curve */
        for (int k = 0; k < 4; k++)
            rev[2 * k] = pt[8 * j + 2 * (3 - k)], rev[2 * k + 1] = pt[8 * j + 2 * (3 - k) + 1];
        prism_segment(type, rev, 0, seg + 12 * j);
    }
    if (is_word(P, "sturm"))
        next(P);
    p->type = OBJ_LATHE;
    p->a = v3(0, 0, type == SPLINE_LINEAR ? 1 : type == SPLINE_QUADRATIC ? 2 : 3);
    prim_set_data(P, p, seg, 12 * (size_t)count);
}

static int parse_numbers(parser *P, double *out, int max, const char *what);

/* superellipsoid { <e, n> }: both exponents positive. */
static void parse_superellipsoid(parser *P, prim *p, const token *kw)
{
    double v[2];
    if (parse_numbers(P, v, 2, "the superellipsoid exponents") != 2)
        perr(P, kw->line, "superellipsoid needs <e, n>");
    if (!(v[0] > 0.0 && v[1] > 0.0))
        perr(P, kw->line, "superellipsoid exponents must be positive, got <%g, %g>", v[0], v[1]);
    p->type = OBJ_SUPERELLIPSOID;
    p->r = v[0], p->r2 = v[1];
}

/* A blob component's strength: [strength] S. */
static double blob_strength(parser *P)
{
    opt_comma(P);
    if (is_word(P, "strength"))
        next(P);
    return parse_float(P, "the blob component's strength");
}

/* One component into c[0..8] (prims_blob.c's layout); kw: sphere, cylinder, component. */
static void parse_blob_component(parser *P, const token *kw, double *c)
{
    memset(c, 0, 9 * sizeof *c);
    vec3 a = v3(0, 0, 0), b = v3(0, 0, 0);
    if (!strcmp(kw->text, "component")) { /* the old form: component S, R, <centre> */
        c[1] = parse_float(P, "the blob component's strength");
        opt_comma(P);
        c[2] = parse_float(P, "the blob component's radius");
        opt_comma(P);
        a = parse_vector(P);
    } else {
        expect(P, "{", kw->text);
        a = parse_vector(P);
        opt_comma(P);
        if (kw->text[0] == 'c') {
            c[0] = 1.0;
            b = parse_vector(P);
            opt_comma(P);
        }
        c[2] = parse_float(P, "the blob component's radius");
        c[1] = blob_strength(P);
        xform fwd;
        double scale;
        while (parse_blob_transform(P, &fwd, &scale)) { /* rigid: the component moves */
            a = xf_point(&fwd, a), b = xf_point(&fwd, b);
            c[2] *= scale;
        }
        if (!is_punct(P, "}"))
            perr(P, peek(P)->line, "unsupported: '%s' in a blob component (its textures are)",
                 peek(P)->text);
        next(P);
    }
    if (!(c[2] > 0.0))
        perr(P, kw->line, "blob component radius must be positive, got %g", c[2]);
    if (c[0] == 1.0 && vlen(vsub(b, a)) == 0.0)
        perr(P, kw->line, "blob cylinder ends must differ");
    c[3] = a.x, c[4] = a.y, c[5] = a.z, c[6] = b.x, c[7] = b.y, c[8] = b.z;
}

/* blob { [threshold T] (sphere { } | cylinder { } | component S, R, <C>)... [sturm]
   [hierarchy [B]] }: the components up to the first object modifier. */
static void parse_blob(parser *P, prim *p, const token *kw)
{
    double *c = xrealloc(P, NULL, 9 * 16 * sizeof *c);
    size_t n = 0, cap = 16;
    p->type = OBJ_BLOB;
    p->r = 1.0; /* POV-Ray's default threshold */
    for (;;) {
        if (is_word(P, "threshold")) {
            next(P);
            p->r = parse_float(P, "the blob threshold");
        } else if (is_word(P, "sphere") || is_word(P, "cylinder") || is_word(P, "component")) {
            token t = next(P);
            if (n == BLOB_MAX_COMPONENTS)
                perr(P, t.line, "unsupported: a blob of more than %d components",
                     BLOB_MAX_COMPONENTS);
            if (n == cap)
                c = xrealloc(P, c, 9 * (cap *= 2) * sizeof *c);
            parse_blob_component(P, &t, c + 9 * n++);
        } else if (is_word(P, "sturm")) {
            next(P);
        } else if (is_word(P, "hierarchy")) {
            next(P);
            if (peek(P)->kind == T_NUM || is_word(P, "on") || is_word(P, "off") ||
                is_word(P, "true") || is_word(P, "false"))
                parse_float(P, "hierarchy");
        } else {
            break;
        }
    }
    if (!n)
        perr(P, kw->line, "blob needs at least one component");
    prim_set_data(P, p, c, 9 * n);
}

/* < n1, n2, ... > with up to max numbers; returns how many. */
static int parse_numbers(parser *P, double *out, int max, const char *what)
{
    int line = peek(P)->line;
    expect(P, "<", what);
    P->vec_depth++;
    int n = 0;
    for (;;) {
        if (n == max)
            perr(P, line, "%s: more than %d numbers", what, max);
        out[n++] = parse_float(P, what);
        if (is_punct(P, ">")) {
            next(P);
            break;
        }
        opt_comma(P);
    }
    P->vec_depth--;
    return n;
}

/* The coefficients of an order-n polynomial (n + 1)(n + 2)(n + 3) / 6 of them. */
static void parse_poly_body(parser *P, prim *p, int order, const token *kw)
{
    double c[120];
    int want = (order + 1) * (order + 2) * (order + 3) / 6;
    int got = parse_numbers(P, c, want, "the poly coefficients");
    if (got != want)
        perr(P, kw->line, "%s of order %d needs %d coefficients, got %d", kw->text, order,
             want, got);
    p->type = OBJ_POLY;
    p->r = order;
    prim_set_data(P, p, c, (size_t)want);
    opt_sturm(P);
}

static void parse_poly(parser *P, prim *p, const token *kw)
{
    double order = parse_float(P, "the poly order");
    if (!(order >= 2 && order <= 7 && order == (int)order))
        perr(P, kw->line, "unsupported poly order %g (2 to 7 are supported)", order);
    opt_comma(P);
    parse_poly_body(P, p, (int)order, kw);
}

static void parse_cubic(parser *P, prim *p, const token *kw) { parse_poly_body(P, p, 3, kw); }

static void parse_quartic(parser *P, prim *p, const token *kw) { parse_poly_body(P, p, 4, kw); }

static const char *parse_string(parser *P, const char *what)
{
    int line = peek(P)->line;
    value v = expr(P);
    if (v.kind != V_STRING)
        perr(P, line, "%s must be a string, got a %s", what, kind_name(v.kind));
    return v.str;
}

/* text { ttf "FONT", "STRING", thickness, offset }: the string's glyphs from z = 0 to z =
   thickness, each character moved by its advance (and kerning) plus offset. */
static void parse_text(parser *P, prim *p, const token *kw)
{
    if (!is_word(P, "ttf"))
        perr(P, kw->line, "unsupported: text without 'ttf' (got '%s')", peek(P)->text);
    next(P);
    const char *font = parse_string(P, "the font name");
    opt_comma(P);
    int sline = peek(P)->line;
    const char *str = parse_string(P, "the text");
    for (const char *c = str; *c && P->charset_not_ascii; c++)
        if ((unsigned char)*c >= 0x80) /* the same glyphs only for ASCII text */
            perr(P, sline, "unsupported: non-ASCII text with charset utf8 or sys");
    opt_comma(P);
    p->r = parse_float(P, "the text thickness");
    opt_comma(P);
    value off = expr(P);
    vec3 offset = off.kind == V_FLOAT ? v3(off.c[0], 0.0, 0.0) : v3(off.c[0], off.c[1], off.c[2]);
    if (off.kind != V_FLOAT && off.kind != V_VEC)
        perr(P, kw->line, "the text offset must be a number or a vector");
    if (!(p->r > 0.0))
        perr(P, kw->line, "text thickness must be positive, got %g", p->r);
    ttf_text(P, kw->line, font, str, offset, p);
}

/* quadric { <A, B, C>, <D, E, F>, <G, H, I>, J }: A x^2 + B y^2 + C z^2 + D xy + E xz +
   F yz + G x + H y + I z + J = 0, an order-2 poly */
static void parse_quadric(parser *P, prim *p, const token *kw)
{
    (void)kw;
    vec3 sq = parse_vector(P);
    opt_comma(P);
    vec3 mixed = parse_vector(P);
    opt_comma(P);
    vec3 lin = parse_vector(P);
    opt_comma(P);
    double j = parse_float(P, "the quadric constant");
    /* the poly order of terms: x2 xy xz x y2 yz y z2 z 1 */
    double c[10] = {sq.x, mixed.x, mixed.y, lin.x, sq.y, mixed.z, lin.y, sq.z, lin.z, j};
    p->type = OBJ_POLY;
    p->r = 2;
    prim_set_data(P, p, c, 10);
}

#include "prims_polygon_parse.c"
#include "prims_sor_parse.c"
#include "prims_bicubic_parse.c"
#include "prims_iso_parse.c"
#include "prims_hfield_parse.c"
#include "prims_julia_parse.c"

/* POV_PRIMITIVES, then the keywords that are another spelling of one of them */
#define POV_PRIM_PARSER(ENUM, name) {ENUM, #name, parse_##name},
static const prim_parser PRIM_PARSERS[] = {
    POV_PRIMITIVES(POV_PRIM_PARSER)
    {OBJ_POLY, "cubic", parse_cubic},
    {OBJ_POLY, "quartic", parse_quartic},
    {OBJ_POLY, "quadric", parse_quadric},
    {OBJ_TRIANGLE, "smooth_triangle", parse_smooth_triangle},
};
#undef POV_PRIM_PARSER

const prim_parser *prim_parser_of(const char *w)
{
    for (size_t i = 0; i < sizeof PRIM_PARSERS / sizeof PRIM_PARSERS[0]; i++)
        if (!strcmp(w, PRIM_PARSERS[i].name))
            return &PRIM_PARSERS[i];
    return NULL;
}

