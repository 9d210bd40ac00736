/* warp_parse.c -- warp { } in the scene language (hosted), as POV-Ray 3.7 reads it (its
 * Parse_Warp): turbulence, repeat, black_hole, planar, spherical, cylindrical, toroidal and
 * cubic, with their options and defaults. A pattern's warps go to the scene's warp pool; a
 * pigment that gains a warp gets a fresh copy of its list (declared pigments share theirs).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lang.h"
#include "render.h"
#include "warp.h"

struct warp_pool {
    warp_item *v;
    size_t n, cap;
};

static struct warp_pool *pool(parser *P)
{
    if (!P->warps) {
        P->warps = calloc(1, sizeof *P->warps);
        if (!P->warps)
            perr(P, P->line, "out of memory");
    }
    return P->warps;
}

static xform identity(void)
{
    xform t;
    memset(&t, 0, sizeof t);
    t.m[0][0] = t.m[1][1] = t.m[2][2] = 1.0;
    return t;
}

static void set_vec(double *a, vec3 v) { a[0] = v.x, a[1] = v.y, a[2] = v.z; }

/* the number after word w, when w comes next */
static int take_float(parser *P, const char *w, double *out)
{
    if (!is_word(P, w))
        return 0;
    next(P);
    *out = parse_float(P, w);
    return 1;
}

static int take_vector(parser *P, const char *w, double *out)
{
    if (!is_word(P, w))
        return 0;
    next(P);
    set_vec(out, parse_vector(P));
    return 1;
}

static void parse_turbulence(parser *P, warp_item *w)
{
    set_vec(w->a + WA_TURB, parse_vector(P));
    w->octaves = 6, w->a[WA_OMEGA] = 0.5, w->a[WA_LAMBDA] = 2.0;
    for (;;) {
        int line = peek(P)->line;
        double o;
        if (take_float(P, "octaves", &o)) {
            if (!(o >= 1 && o <= 10))
                perr(P, line, "octaves must be in 1..10, got %g", o);
            w->octaves = (uint32_t)o;
        } else if (!take_float(P, "omega", &w->a[WA_OMEGA]) &&
                   !take_float(P, "lambda", &w->a[WA_LAMBDA])) {
            return;
        }
    }
}

static void parse_repeat(parser *P, warp_item *w, int line)
{
    vec3 r = parse_vector(P);
    double c[3] = {r.x, r.y, r.z};
    if ((c[0] != 0.0) + (c[1] != 0.0) + (c[2] != 0.0) != 1)
        perr(P, line, "warp repeat needs a vector along one axis (x * 2, ...), got <%g, %g, %g>",
             r.x, r.y, r.z);
    uint32_t axis = c[0] != 0.0 ? 0 : c[1] != 0.0 ? 1 : 2;
    w->a[WA_AXIS] = axis, w->a[WA_WIDTH] = c[axis];
    w->a[WA_FLIP] = w->a[WA_FLIP + 1] = w->a[WA_FLIP + 2] = 1.0;
    for (;;) {
        double f[3];
        if (take_vector(P, "offset", w->a + WA_OFFSET))
            continue;
        if (!take_vector(P, "flip", f))
            return;
        for (int i = 0; i < 3; i++)
            w->a[WA_FLIP + i] = f[i] != 0.0 ? -1.0 : 1.0;
    }
}

static void parse_black_hole(parser *P, warp_item *w, int line)
{
    set_vec(w->a + WA_CENTER, parse_vector(P));
    opt_comma(P);
    w->a[WA_RADIUS] = parse_float(P, "the black hole's radius");
    if (!(w->a[WA_RADIUS] > 0.0))
        perr(P, line, "black_hole radius must be positive, got %g", w->a[WA_RADIUS]);
    w->a[WA_STRENGTH] = 1.0, w->a[WA_FALLOFF] = 2.0;
    for (;;) {
        if (is_word(P, "inverse")) {
            next(P);
            w->a[WA_INVERSE] = 1.0;
        } else if (take_vector(P, "repeat", w->a + WA_REPEAT)) {
            w->a[WA_HAS_REPEAT] = 1.0;
        } else if (take_vector(P, "turbulence", w->a + WA_JITTER)) {
            w->a[WA_HAS_JITTER] = 1.0;
        } else if (!take_float(P, "strength", &w->a[WA_STRENGTH]) &&
                   !take_float(P, "falloff", &w->a[WA_FALLOFF])) {
            break;
        }
    }
    /* repeated: the hole kept inside its block, as POV-Ray 3.7.0 keeps it (its centre at
       least the radius from the block's sides along every repeated axis) */
    double r = w->a[WA_RADIUS];
    for (int i = 0; w->a[WA_HAS_REPEAT] != 0.0 && i < 3; i++) {
        double rep = w->a[WA_REPEAT + i], *c = &w->a[WA_CENTER + i];
        if (rep > 0.0 && *c < r)
            *c = r;
        if (rep > 0.0 && *c + r > rep)
            *c = rep - r;
    }
}

/* planar [<orientation>, offset] | spherical|cylindrical|toroidal [orientation V]
   [dist_exp E] [major_radius R] */
static void parse_mapping(parser *P, warp_item *w)
{
    w->a[WA_ORIENT + 2] = 1.0; /* <0, 0, 1> */
    if (w->type == WARP_PLANAR) {
        if (!is_punct(P, "}")) {
            set_vec(w->a + WA_ORIENT, vnorm(parse_vector(P)));
            opt_comma(P);
            w->a[WA_PLANE_OFFSET] = parse_float(P, "the planar warp's offset");
        }
        return;
    }
    w->a[WA_MAJOR] = 1.0;
    for (;;) {
        if (is_word(P, "orientation")) {
            next(P);
            set_vec(w->a + WA_ORIENT, vnorm(parse_vector(P)));
        } else if (!take_float(P, "dist_exp", &w->a[WA_DIST_EXP]) &&
                   !(w->type == WARP_TOROIDAL &&
                     take_float(P, "major_radius", &w->a[WA_MAJOR]))) {
            return;
        }
    }
}

static const struct {
    const char *word;
    uint32_t type;
} WARP_WORDS[] = {
    {"turbulence", WARP_TURBULENCE}, {"repeat", WARP_REPEAT},
    {"black_hole", WARP_BLACK_HOLE}, {"planar", WARP_PLANAR},
    {"spherical", WARP_SPHERICAL},   {"cylindrical", WARP_CYLINDRICAL},
    {"toroidal", WARP_TOROIDAL},     {"cubic", WARP_CUBIC},
};

static uint32_t warp_type(parser *P)
{
    token *t = peek(P);
    for (size_t i = 0; i < sizeof WARP_WORDS / sizeof WARP_WORDS[0]; i++)
        if (t->kind == T_IDENT && !strcmp(t->text, WARP_WORDS[i].word)) {
            next(P);
            return WARP_WORDS[i].type;
        }
    perr(P, t->line, "unsupported warp '%s' (turbulence, repeat, black_hole, planar, "
         "spherical, cylindrical, toroidal and cubic are)", t->text);
}

/* the pigment's list with w appended, as a fresh copy at the pool's end */
static void append(parser *P, pigment *pg, const warp_item *w, int line)
{
    struct warp_pool *wp = pool(P);
    if (pg->warp_n >= POV_MAX_WARPS)
        perr(P, line, "more than %d warps in one pattern", POV_MAX_WARPS);
    size_t need = wp->n + pg->warp_n + 1;
    if (need > wp->cap) {
        wp->cap = need * 2;
        wp->v = xrealloc(P, wp->v, wp->cap * sizeof *wp->v);
    }
    memcpy(wp->v + wp->n, wp->v + pg->warp_first, pg->warp_n * sizeof *wp->v);
    wp->v[wp->n + pg->warp_n] = *w;
    pg->warp_first = (uint32_t)wp->n;
    pg->warp_n++;
    wp->n = need;
}

void warp_parse(parser *P, pigment *pg, int line)
{
    if (pg->type < PIG_GRADIENT)
        perr(P, line, "unsupported: warp in a pigment without a pattern (a solid colour or a "
             "plain checker; checker pigment { } pigment { } takes warps)");
    expect(P, "{", "after warp");
    warp_item w;
    memset(&w, 0, sizeof w);
    w.type = warp_type(P);
    if (w.type == WARP_TURBULENCE)
        parse_turbulence(P, &w);
    else if (w.type == WARP_REPEAT)
        parse_repeat(P, &w, line);
    else if (w.type == WARP_BLACK_HOLE)
        parse_black_hole(P, &w, line);
    else if (w.type != WARP_CUBIC)
        parse_mapping(P, &w);
    if (!is_punct(P, "}"))
        perr(P, peek(P)->line, "unsupported word '%s' in warp %s", peek(P)->text,
             WARP_WORDS[w.type - 1].word);
    next(P);
    w.pre = pg->has_trans ? pg->inv : identity(); /* the transforms before it */
    pg->inv = identity();
    pg->has_trans = 1;
    append(P, pg, &w, line);
}

void warp_pool_view(parser *P, scene *s)
{
    s->warps = P->warps ? P->warps->v : NULL;
    s->n_warps = P->warps ? (uint32_t)P->warps->n : 0;
}

void warp_pool_to_scene(parser *P, scene *out)
{
    warp_pool_view(P, out);
    if (P->warps)
        P->warps->v = NULL, P->warps->n = P->warps->cap = 0;
}

void warp_pool_free(parser *P)
{
    if (!P->warps)
        return;
    free(P->warps->v);
    free(P->warps);
    P->warps = NULL;
}
