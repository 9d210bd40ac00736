/* parse.c -- the scene grammar of POV-Ray 3.7 (hosted C) on top of lex.c and expr.c.
 *
 * Supported: global_settings { assumed_gamma max_trace_level }; background; camera
 * { perspective location look_at angle right up direction sky }; light_source { <pos> color };
 * sphere, plane, box, cylinder, union (a group), object { IDENT }; translate/rotate/scale on
 * objects, unions, pigments and textures; pigment { colour | checker A B }; finish { ambient
 * diffuse brilliance phong phong_size specular roughness reflection }; texture { pigment
 * finish }; #default { texture | pigment | finish }. The directive language and expressions
 * are in lex.c and expr.c. Anything else is an error naming the file, line and word.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fn.h"
#include "lang.h"
#include "objects.h"
#include "pattern.h"
#include "pattern_shapes.h"
#include "warp.h"
#include "rt_math.h"

typedef struct camdef {
    vec3 cam_loc, cam_dir, cam_right, cam_up, cam_sky, cam_look;
    int cam_has_look, cam_has_angle, cam_has_angle_v;
    double cam_angle, cam_angle_v; /* cam_angle_v: the spherical camera's vertical angle */
    uint32_t cam_type;
    int cam_has_right_up;
    int cam_has_xf;
    xform cam_xf; /* translate/rotate/... after the other items */
    int cam_has_normal;
    tnormal cam_normal; /* camera { normal { } }: bends every camera ray */
} camdef;

static void camera_defaults(camdef *c)
{
    memset(c, 0, sizeof *c);
    c->cam_loc = v3(0, 0, 0);
    c->cam_dir = v3(0, 0, 1);
    c->cam_up = v3(0, 1, 0);
    c->cam_right = v3(1.33, 0, 0);
    c->cam_sky = v3(0, 1, 0);
}

struct pov_scene_state {
    plist out;
    light *lights;
    size_t nlights, caplights;
    camdef cam;
    vec3 background;
    uint32_t max_trace;
    double adc_bailout;   /* global_settings adc_bailout (default 1/255) */
    double assumed_gamma; /* < 0: not given */
    uint32_t noise_gen;   /* global_settings noise_generator (default 2) */
    vec3 irid_wl;         /* global_settings irid_wavelength (default 0.70, 0.52, 0.48) */
    uint32_t n_waves;     /* global_settings number_of_waves (0: POV-Ray's 10) */
    colour_map *maps;
    size_t nmaps, capmaps;
    pigment_entry *pent;  /* the entries of every pigment_map (scene.pentries) */
    size_t npent, cappent;
    normal_entry *nent;   /* the entries of every normal_map (scene.nentries) */
    size_t nnent, capnent;
    int has_sky;
    pigment sky[POV_SKY_MAX];
    texture def;          /* #default */
    uint32_t nfogs;
    fog fogs[POV_MAX_FOGS];
    uint32_t nrainbows;
    rainbow rainbows[POV_MAX_RAINBOWS];
};

/* ------------------------------------------------------------------ transforms */
typedef struct transform {
    int kind; /* 't' translate, 'r' rotate, 's' scale, 'm' any other (matrix, transform) */
    vec3 v;
    xform fwd, inv;
} transform;

static xform xf_identity(void)
{
    xform t;
    memset(&t, 0, sizeof t);
    t.m[0][0] = t.m[1][1] = t.m[2][2] = 1.0;
    return t;
}

/* a after b: (a o b)(p) = a(b(p)) */
static xform xf_compose(const xform *a, const xform *b)
{
    xform r;
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 4; j++) {
            double s = j == 3 ? a->m[i][3] : 0.0;
            for (int k = 0; k < 3; k++)
                s += a->m[i][k] * b->m[k][j];
            r.m[i][j] = s;
        }
    }
    return r;
}

static xform rot_axis(int axis, double deg)
{
    xform t = xf_identity();
    double a = deg * (RT_PI / 180.0);
    double c = rt_cos(a), s = rt_sin(a);
    int i = (axis + 1) % 3, j = (axis + 2) % 3;
    t.m[i][i] = c;
    t.m[j][j] = c;
    t.m[i][j] = -s;
    t.m[j][i] = s;
    return t;
}

static xform xf_transpose3(const xform *a)
{
    xform r = xf_identity();
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            r.m[i][j] = a->m[j][i];
    return r;
}

static int parse_transform(parser *P, transform *t);
static void *grow(parser *P, void *p, size_t *cap, size_t need, size_t size);

/* The inverse of the affine map a (0 when it is singular). */
static int xf_invert(const xform *a, xform *out)
{
    const double(*m)[4] = a->m;
    double c00 = m[1][1] * m[2][2] - m[1][2] * m[2][1], c01 = m[1][2] * m[2][0] - m[1][0] * m[2][2];
    double c02 = m[1][0] * m[2][1] - m[1][1] * m[2][0];
    double det = m[0][0] * c00 + m[0][1] * c01 + m[0][2] * c02;
    if (det == 0.0 || !(rt_fabs(det) < 1e300))
        return 0;
    xform r;
    r.m[0][0] = c00 / det;
    r.m[0][1] = (m[0][2] * m[2][1] - m[0][1] * m[2][2]) / det;
    r.m[0][2] = (m[0][1] * m[1][2] - m[0][2] * m[1][1]) / det;
    r.m[1][0] = c01 / det;
    r.m[1][1] = (m[0][0] * m[2][2] - m[0][2] * m[2][0]) / det;
    r.m[1][2] = (m[0][2] * m[1][0] - m[0][0] * m[1][2]) / det;
    r.m[2][0] = c02 / det;
    r.m[2][1] = (m[0][1] * m[2][0] - m[0][0] * m[2][1]) / det;
    r.m[2][2] = (m[0][0] * m[1][1] - m[0][1] * m[1][0]) / det;
    for (int i = 0; i < 3; i++)
        r.m[i][3] = -(r.m[i][0] * m[0][3] + r.m[i][1] * m[1][3] + r.m[i][2] * m[2][3]);
    *out = r;
    return 1;
}

/* matrix <m00, m01, m02, m10, m11, m12, m20, m21, m22, m30, m31, m32>: POV-Ray's 4x3
   matrix, a point (x, y, z, 1) times it. */
static void parse_matrix(parser *P, transform *t, int line)
{
    double v[12];
    int n = 0;
    expect(P, "<", "after 'matrix'");
    P->vec_depth++;
    while (n < 12) {
        v[n++] = parse_float(P, "a matrix entry");
        if (n < 12)
            opt_comma(P);
    }
    P->vec_depth--;
    expect(P, ">", "after the 12 matrix entries");
    t->kind = 'm';
    t->v = v3(0, 0, 0);
    for (int i = 0; i < 3; i++) {
        for (int j = 0; j < 3; j++)
            t->fwd.m[i][j] = v[3 * j + i];
        t->fwd.m[i][3] = v[9 + i];
    }
    if (!xf_invert(&t->fwd, &t->inv))
        perr(P, line, "singular matrix (it has no inverse)");
}

/* transform { [IDENT] transforms... [inverse] } or transform IDENT: one composed map. */
static void parse_transform_block(parser *P, transform *t, int line)
{
    int braces = is_punct(P, "{");
    if (braces)
        next(P);
    t->kind = 'm';
    t->v = v3(0, 0, 0);
    t->fwd = xf_identity();
    t->inv = xf_identity();
    for (;;) {
        transform u;
        token *tk = peek(P);
        if (braces && is_punct(P, "}")) {
            next(P);
            return;
        }
        if (tk->kind == T_IDENT && find_sym(P, tk->text) &&
            find_sym(P, tk->text)->v.kind == V_TRANSFORM) {
            const transform *d = find_sym(P, next(P).text)->v.xf;
            t->fwd = xf_compose(&d->fwd, &t->fwd);
            t->inv = xf_compose(&t->inv, &d->inv);
        } else if (braces && is_word(P, "inverse")) {
            next(P);
            xform f = t->fwd;
            t->fwd = t->inv;
            t->inv = f;
        } else if (braces && parse_transform(P, &u)) {
            t->fwd = xf_compose(&u.fwd, &t->fwd);
            t->inv = xf_compose(&t->inv, &u.inv);
        } else if (braces) {
            perr(P, tk->line, "unsupported word '%s' in transform", tk->text);
        } else {
            perr(P, line, "expected '{' or a transform identifier after 'transform'");
        }
        if (!braces)
            return;
    }
}

int parse_blob_transform(parser *P, xform *fwd, double *scale)
{
    transform t;
    int line = peek(P)->line;
    if (!parse_transform(P, &t))
        return 0;
    int uniform = t.kind == 's' && t.v.x == t.v.y && t.v.y == t.v.z && t.v.x > 0.0;
    if (t.kind != 't' && t.kind != 'r' && !uniform)
        perr(P, line, "unsupported: a blob component's transform other than translate, rotate "
             "and a uniform positive scale");
    *fwd = t.fwd;
    *scale = uniform ? t.v.x : 1.0;
    return 1;
}

static int parse_transform(parser *P, transform *t)
{
    token *tk = peek(P);
    if (tk->kind != T_IDENT)
        return 0;
    int line = tk->line;
    if (!strcmp(tk->text, "translate")) {
        next(P);
        t->kind = 't';
        t->v = parse_vector(P);
        t->fwd = xf_identity();
        t->inv = xf_identity();
        t->fwd.m[0][3] = t->v.x; t->fwd.m[1][3] = t->v.y; t->fwd.m[2][3] = t->v.z;
        t->inv.m[0][3] = -t->v.x; t->inv.m[1][3] = -t->v.y; t->inv.m[2][3] = -t->v.z;
        return 1;
    }
    if (!strcmp(tk->text, "scale")) {
        next(P);
        t->kind = 's';
        t->v = parse_vector(P);
        if (t->v.x == 0.0 || t->v.y == 0.0 || t->v.z == 0.0)
            perr(P, line, "scale by zero");
        t->fwd = xf_identity();
        t->inv = xf_identity();
        t->fwd.m[0][0] = t->v.x; t->fwd.m[1][1] = t->v.y; t->fwd.m[2][2] = t->v.z;
        t->inv.m[0][0] = 1.0 / t->v.x; t->inv.m[1][1] = 1.0 / t->v.y; t->inv.m[2][2] = 1.0 / t->v.z;
        return 1;
    }
    if (!strcmp(tk->text, "rotate")) {
        next(P);
        t->kind = 'r';
        t->v = parse_vector(P);
        xform rx = rot_axis(0, t->v.x), ry = rot_axis(1, t->v.y), rz = rot_axis(2, t->v.z);
        xform a = xf_compose(&ry, &rx);
        t->fwd = xf_compose(&rz, &a);
        t->inv = xf_transpose3(&t->fwd);
        return 1;
    }
    if (!strcmp(tk->text, "matrix")) {
        next(P);
        parse_matrix(P, t, line);
        return 1;
    }
    if (!strcmp(tk->text, "transform")) {
        next(P);
        parse_transform_block(P, t, line);
        return 1;
    }
    return 0;
}

static void pig_transform(pigment *pg, const transform *t)
{
    if (!pg->has_trans) {
        pg->inv = xf_identity();
        pg->has_trans = 1;
    }
    pg->inv = xf_compose(&pg->inv, &t->inv);
}

/* ------------------------------------------------------------------ textures */
/* A transform of a whole texture moves its pigment and its normal. */
static void tex_transform(pigment *pg, tnormal *n, const transform *t)
{
    pig_transform(pg, t);
    if (n->type != NRM_NONE)
        pig_transform(&n->pat, t);
}

/* The layers of a layered texture under a transformed one: copies, each transformed (the
   chain may be shared with an identifier or another object). */
static const texture *layers_transformed(parser *P, const texture *below, const transform *t)
{
    if (!below)
        return NULL;
    texture *c = xalloc(P, sizeof *c);
    *c = *below;
    tex_transform(&c->pig, &c->nrm, t);
    c->below = layers_transformed(P, below->below, t);
    return c;
}

static void texture_transform(parser *P, texture *tx, const transform *t);

/* A copy of a patterned texture with its pattern transformed. Its entries are left as they
   are: they are evaluated at the pattern's point, which the transform moves (POV-Ray's
   Transform_Textures moves only the pattern of a patterned texture). */
static const tmapdef *tmap_transformed(parser *P, const tmapdef *m, const transform *t)
{
    if (!m)
        return NULL;
    tmapdef *c = xalloc(P, sizeof *c);
    *c = *m;
    pig_transform(&c->pat, t);
    return c;
}

/* A transform of a whole (perhaps layered or patterned) texture. */
static void texture_transform(parser *P, texture *tx, const transform *t)
{
    tex_transform(&tx->pig, &tx->nrm, t);
    tx->below = layers_transformed(P, tx->below, t);
    tx->map = tmap_transformed(P, tx->map, t);
}

/* ``top`` (itself perhaps layered) laid on ``under``: POV-Ray's texture { } texture { },
   where each texture goes on top of those before it. */
static texture layered_on(parser *P, const texture *top, const texture *under)
{
    if (top->map || under->map)
        perr(P, P->line, "unsupported: a patterned texture (checker texture, texture_map) "
             "in a layered texture");
    texture out = *top;
    texture *u = xalloc(P, sizeof *u);
    *u = *under;
    if (!top->below) {
        out.below = u;
        return out;
    }
    texture *c = xalloc(P, sizeof *c);
    *c = layered_on(P, top->below, u);
    out.below = c;
    return out;
}

static pigment default_pigment(void)
{
    pigment p;
    memset(&p, 0, sizeof p);
    p.type = PIG_SOLID; /* black */
    return p;
}

/* irid { AMOUNT [thickness T] [turbulence U] } (POV-Ray takes U's first component) */
static void parse_irid(parser *P, finish *f)
{
    expect(P, "{", "after 'irid'");
    f->irid = parse_float(P, "irid");
    for (;;) {
        token t = next(P);
        if (t.kind == T_PUNCT && t.text[0] == '}')
            return;
        if (t.kind == T_IDENT && !strcmp(t.text, "thickness"))
            f->irid_thickness = parse_float(P, "thickness");
        else if (t.kind == T_IDENT && !strcmp(t.text, "turbulence"))
            f->irid_turb = parse_vector(P).x;
        else
            perr(P, t.line, "unsupported word '%s' in irid (thickness and turbulence are)",
                 t.text);
    }
}

static finish default_finish(void)
{
    finish f;
    memset(&f, 0, sizeof f);
    f.ambient = v3(0.1, 0.1, 0.1);
    f.diffuse = 0.6;
    f.brilliance = 1.0;
    f.phong_size = 40.0;
    f.roughness_exp = 1.0 / 0.05;
    f.reflection_falloff = 1.0;
    f.reflection_exp = 1.0;
    return f;
}

static vec3 rgb_of(value c) { return v3(c.c[0], c.c[1], c.c[2]); }

/* A colour with its filter and transmit (pigments and colour maps). */
static vec3 parse_colour_ft(parser *P, double ft[2])
{
    int line = peek(P)->line;
    value c = parse_colour5(P);
    if (!(rt_fabs(c.c[3]) <= 1.0e6 && rt_fabs(c.c[4]) <= 1.0e6))
        perr(P, line, "filter %g, transmit %g out of range (POV-Ray's contrast tricks go "
             "beyond 0..1, but not beyond +-1000000)", c.c[3], c.c[4]);
    ft[0] = c.c[3];
    ft[1] = c.c[4];
    return rgb_of(c);
}

/* A declared map of `kind` (pigment_map { PM }, normal_map { NM }, texture_map { TM }) as
   the map's whole body, or NULL when the next word is not one; its "}" is taken. */
static const value *map_ident(parser *P, int kind)
{
    token *t = peek(P);
    if (t->kind != T_IDENT)
        return NULL;
    symbol *s = find_sym(P, t->text);
    if (s && s->v.kind == V_BROKEN)
        perr(P, t->line, "'%s' cannot be used: %s", t->text, s->v.str);
    if (!s || s->v.kind != kind)
        return NULL;
    next(P);
    expect(P, "}", "after the map identifier");
    return &s->v;
}

static texture *ident_of_kind(parser *P, int kind)
{
    token *t = peek(P);
    if (t->kind != T_IDENT)
        return NULL;
    symbol *s = find_sym(P, t->text);
    if (!s || (kind == V_PIGMENT && (s->v.kind == V_VEC || s->v.kind == V_FLOAT)))
        return NULL; /* pigment { MyColour } is a colour expression */
    if (s->v.kind == V_ARRAY) { /* an element: a colour expression or an item */
        int line = t->line;
        value v = expr(P);
        texture *tx = xalloc(P, sizeof *tx);
        *tx = P->sc->def;
        if (kind == V_PIGMENT && (v.kind == V_VEC || v.kind == V_FLOAT)) {
            if (!(rt_fabs(v.c[3]) <= 1.0e6 && rt_fabs(v.c[4]) <= 1.0e6))
                perr(P, line, "filter %g, transmit %g out of range (POV-Ray's contrast tricks "
                     "go beyond 0..1, but not beyond +-1000000)", v.c[3], v.c[4]);
            tx->pig.type = PIG_SOLID;
            tx->pig.c1 = rgb_of(v);
            tx->pig.ft1[0] = v.c[3], tx->pig.ft1[1] = v.c[4];
            return tx;
        }
        if (v.kind != kind)
            perr(P, line, "array element of '%s' is a %s, expected a %s", t->text,
                 kind_name(v.kind), kind_name(kind));
        return v.tex;
    }
    if (s->v.kind == V_BROKEN)
        perr(P, t->line, "'%s' cannot be used: %s", t->text, s->v.str);
    if (s->v.kind != kind)
        perr(P, t->line, "'%s' is a %s, expected a %s", t->text, kind_name(s->v.kind),
             kind_name(kind));
    next(P);
    return s->v.tex;
}

static colour_map parse_colour_map_body(parser *P)
{
    colour_map m;
    memset(&m, 0, sizeof m);
    expect(P, "{", "after color_map");
    token *t = peek(P);
    if (t->kind == T_IDENT) {
        symbol *s = find_sym(P, t->text);
        if (s && s->v.kind == V_BROKEN)
            perr(P, t->line, "'%s' cannot be used: %s", t->text, s->v.str);
        if (s && s->v.kind == V_COLOUR_MAP) {
            next(P);
            m = *s->v.cmap;
            expect(P, "}", "after the color_map identifier");
            return m;
        }
    }
    while (is_punct(P, "[")) {
        int line = next(P).line;
        if (m.n == POV_MAP_MAX)
            perr(P, line, "color_map has more than %d entries", POV_MAP_MAX);
        double v = parse_float(P, "a color_map value"), v2 = 0;
        opt_comma(P);
        int old_form = !starts_colour(P) && (peek(P)->kind == T_NUM || is_punct(P, "-") ||
                                              is_punct(P, "("));
        if (old_form) { /* [v1, v2 colour1 colour2]: two entries */
            v2 = parse_float(P, "a color_map value");
            opt_comma(P);
        }
        for (int k = 0; k <= old_form; k++) {
            double at = k ? v2 : v;
            if (m.n == POV_MAP_MAX)
                perr(P, line, "color_map has more than %d entries", POV_MAP_MAX);
            double ft[2];
            vec3 c = parse_colour_ft(P, ft);
            /* (values out of order are kept: POV-Ray's search takes the first entry at or
               above the value, which stays well defined, e.g. woods.inc's T_Wood32) */
            m.v[m.n] = at;
            m.c[m.n] = c;
            m.ft[m.n][0] = ft[0], m.ft[m.n][1] = ft[1];
            m.n++;
        }
        expect(P, "]", "to close a color_map entry");
    }
    expect(P, "}", "to close color_map");
    if (!m.n)
        perr(P, P->line, "empty color_map");
    return m;
}

static uint32_t add_map(parser *P, const colour_map *m)
{
    struct pov_scene_state *c = P->sc;
    if (c->nmaps == c->capmaps) {
        c->capmaps = c->capmaps ? c->capmaps * 2 : 16;
        c->maps = xrealloc(P, c->maps, c->capmaps * sizeof *c->maps);
    }
    c->maps[c->nmaps] = *m;
    return (uint32_t)c->nmaps++;
}

static void parse_pattern_defaults(pigment *pg, uint32_t type);

/* checker C1, C2 as the checker pattern with the colour map [0 C1] [1 C2] (a value of 0 or 1
   picks a colour exactly), so that warps and turbulence move it as POV-Ray moves it */
static void checker_as_pattern(parser *P, pigment *pg)
{
    if (pg->type != PIG_CHECKER)
        return;
    colour_map m;
    memset(&m, 0, sizeof m);
    m.n = 2;
    m.v[1] = 1.0;
    m.c[0] = pg->c1, m.c[1] = pg->c2;
    memcpy(m.ft[0], pg->ft1, sizeof m.ft[0]);
    memcpy(m.ft[1], pg->ft2, sizeof m.ft[1]);
    parse_pattern_defaults(pg, PIG_CHECKER_MAP);
    pg->map = add_map(P, &m);
}

static const char *const WAVE_NAMES[WAVE_COUNT] = {"ramp_wave", "sine_wave", "triangle_wave",
                                                   "scallop_wave", "cubic_wave", "poly_wave"};

/* A pattern's defaults (POV-Ray's), keeping its transform. */
static void parse_pattern_defaults(pigment *pg, uint32_t type)
{
    const pattern_class *pc = pattern_by_type(type);
    pg->type = type;
    pg->wave = pc->default_wave;
    pg->frequency = 1.0;
    pg->exponent = 1.0;
    pg->octaves = 6;
    pg->omega = 0.5;
    pg->lambda = 2.0;
    pg->map = UINT32_MAX; /* set by color_map */
    pg->noise_gen = 0;
    pg->sub_n = 0;
    pattern_default_args(type, pg->arg);
}

static void parse_pigment_map_body(parser *P, pigment *pg);
static void parse_checker_pigments(parser *P, pigment *pg);
static void parse_pigment_body(parser *P, pigment *pg);
static void check_map(parser *P, pigment *pg, int line);

static void check_pattern_args(parser *P, const pigment *pg)
{
    int line = peek(P)->line;
    const double *a = pg->arg;
    if (pg->type == PIG_CRACKLE && !(a[3] > 0.0))
        perr(P, line, "crackle metric must be positive, got %g", a[3]);
    if (pg->type == PIG_MANDEL && !(a[0] >= 1.0 && a[0] <= 1e6))
        perr(P, line, "mandel needs 1..1000000 iterations, got %g", a[0]);
    if (pg->type == PIG_MANDEL && !(a[1] == 2.0 || a[1] == 3.0 || a[1] == 4.0))
        perr(P, line, "unsupported mandel exponent %g (2, 3 and 4 are supported)", a[1]);
    if (pg->type == PIG_MANDEL && a[8] >= 2.0 && a[1] != 2.0)
        perr(P, line, "magnet takes no exponent");
    if (pg->type == PIG_MANDEL && !(a[2] >= 0 && a[2] <= 8 && a[4] >= 0 && a[4] <= 6))
        perr(P, line, "mandel exterior type must be 0..8 and interior type 0..6");
    if (pg->type == PIG_MANDEL && (a[2] == 7 || a[2] == 8) && !(a[3] >= 1.0 && a[3] < 4e9))
        perr(P, line, "mandel exterior types 7 and 8 need a factor of at least 1");
    if (pg->type == PIG_BRICK && !(a[0] > 0 && a[1] > 0 && a[2] > 0))
        perr(P, line, "brick_size must be positive");
}

/* warp { turbulence T [octaves N] [omega W] [lambda L] }: the transforms so far move into
   wpre, the ones after it gather in inv (pattern.c pattern_space) */
/* hexagon / brick: up to pc->colours colours (a colour map [0 c1] [1 c2] ...) or pigments
   (a pigment_map), or nothing (the default map) */
/* the next item of a pattern's colour list (brick Gray70, Wheat): a colour expression */
static int starts_list_colour(parser *P)
{
    token *tk = peek(P);
    if (starts_colour(P) || tk->kind == T_NUM || is_punct(P, "<"))
        return 1;
    symbol *s = tk->kind == T_IDENT ? find_sym(P, tk->text) : NULL;
    return s && s->v.kind == V_VEC;
}

/* pg's pigment_map: its n entries e appended to the scene's (after those of the maps inside
   them, which their parsing appended first, so each refers only to earlier ones) */
static void add_pigment_entries(parser *P, pigment *pg, const pigment_entry *e, uint32_t n)
{
    struct pov_scene_state *c = P->sc;
    c->pent = grow(P, c->pent, &c->cappent, c->npent + n, sizeof *c->pent);
    memcpy(c->pent + c->npent, e, n * sizeof *e);
    pg->sub_first = (uint32_t)c->npent;
    pg->sub_n = n;
    c->npent += n;
}

static void parse_discrete_items(parser *P, pigment *pg, const pattern_class *pc)
{
    if (is_word(P, "pigment")) {
        pigment_entry e[3];
        uint32_t n = 0;
        while (n < pc->colours && is_word(P, "pigment")) {
            next(P);
            e[n].pig = default_pigment();
            parse_pigment_body(P, &e[n].pig);
            check_map(P, &e[n].pig, P->line);
            e[n].v = n;
            n++;
            opt_comma(P);
        }
        add_pigment_entries(P, pg, e, n);
        return;
    }
    if (!starts_list_colour(P))
        return;
    colour_map m;
    memset(&m, 0, sizeof m);
    while (m.n < pc->colours && starts_list_colour(P)) {
        m.v[m.n] = m.n;
        m.c[m.n] = parse_colour_ft(P, m.ft[m.n]);
        m.n++;
        opt_comma(P);
    }
    pg->map = add_map(P, &m);
}

/* A pattern's own keyword (pattern.c's PATTERN_ARGS); 0 if `w` is none of its words. */
static int parse_pattern_arg(parser *P, pigment *pg, const char *w)
{
    const pattern_arg *a = pattern_arg_by_name(pg->type, w);
    if (!a)
        return 0;
    next(P);
    if (a->n == 0) {
        pg->arg[a->first] = 1.0;
    } else if (a->n == 1) {
        pg->arg[a->first] = parse_float(P, w);
    } else if (a->n == 2) {
        pg->arg[a->first] = parse_float(P, w);
        opt_comma(P);
        pg->arg[a->first + 1] = parse_float(P, w);
    } else {
        vec3 v = parse_vector(P);
        pg->arg[a->first] = v.x, pg->arg[a->first + 1] = v.y, pg->arg[a->first + 2] = v.z;
    }
    check_pattern_args(P, pg);
    return 1;
}

/* Pattern keywords and modifiers in a pigment; 0 if the next word is none of them. */
/* julia <c>, N and magnet 1|2 mandel N / magnet 1|2 julia <c>, N: the mandel pattern's
   arguments with arg[8] its kind and arg[6], arg[7] the constant (pattern_shapes.c) */
static int parse_fractal_item(parser *P, pigment *pg, const token *tk)
{
    int julia = !strcmp(tk->text, "julia"), magnet = !strcmp(tk->text, "magnet");
    if ((!julia && !magnet) || find_sym(P, tk->text))
        return 0;
    int line = next(P).line, type = 0;
    parse_pattern_defaults(pg, PIG_MANDEL);
    if (magnet) {
        double t = parse_float(P, "the magnet type");
        if (t != 1.0 && t != 2.0)
            perr(P, line, "magnet type must be 1 or 2, got %g", t);
        type = (int)t;
        token w = next(P);
        if (strcmp(w.text, "mandel") && strcmp(w.text, "julia"))
            perr(P, w.line, "expected mandel or julia after magnet %d, got '%s'", type, w.text);
        julia = w.text[0] == 'j';
    }
    if (julia) {
        value c = expr(P);
        if (c.kind != V_VEC || c.n < 2)
            perr(P, line, "julia needs a 2D vector <real, imaginary>, got a %s",
                 kind_name(c.kind));
        pg->arg[6] = c.c[0], pg->arg[7] = c.c[1];
        opt_comma(P);
    }
    pg->arg[0] = parse_float(P, "the fractal's iterations");
    pg->arg[8] = magnet ? 2 + 2 * (type - 1) + julia : 1;
    check_pattern_args(P, pg);
    return 1;
}

static double opt_float(parser *P, const char *what, double absent);

/* POV-Ray's VNormalizeEq: each component times 1 / length; *len gets the length */
static vec3 pov_normalize(vec3 v, double *len)
{
    *len = rt_sqrt(v.x * v.x + v.y * v.y + v.z * v.z);
    if (*len == 0.0)
        return v;
    double k = 1.0 / *len;
    return v3(v.x * k, v.y * k, v.z * k);
}

/* [, LOW [, HIGH]] after a slope or altitude vector: arg[first] = LOW, arg[first + 1] =
   HIGH - LOW (0: none; a zero range given is ignored, as POV-Ray ignores it with a warning) */
static void parse_slope_range(parser *P, pigment *pg, int first)
{
    opt_comma(P);
    double lo = opt_float(P, "a slope range", 0.0);
    opt_comma(P);
    double hi = opt_float(P, "a slope range", 0.0);
    if (hi != 0.0 && hi == lo)
        lo = hi = 0.0;
    pg->arg[first] = lo;
    pg->arg[first + 1] = hi - lo;
}

/* slope VECTOR | slope { [point_at] VECTOR [, LOW [, HIGH]] [altitude VECTOR [, LOW [,
   HIGH]]] }, as POV-Ray 3.7's parser reads it (p_slope in pattern.c says what each holds) */
static void parse_slope(parser *P, pigment *pg, int line)
{
    vec3 alt = v3(0.0, 0.0, 0.0);
    if (!is_punct(P, "{")) {
        pg->vec = parse_vector(P);
    } else {
        next(P);
        if (is_word(P, "point_at")) {
            next(P);
            pg->arg[8] = 1.0;
        }
        pg->vec = parse_vector(P);
        parse_slope_range(P, pg, 0);
        if (is_word(P, "altitude")) {
            if (pg->arg[8] != 0.0)
                perr(P, peek(P)->line, "'altitude' cannot be used with 'point_at' in slope");
            next(P);
            alt = parse_vector(P);
            parse_slope_range(P, pg, 5);
        }
        expect(P, "}", "to close slope");
    }
    if (pg->arg[8] != 0.0) {
        pg->arg[7] = 1.0;
        return;
    }
    double slope_len, alt_len;
    pg->vec = pov_normalize(pg->vec, &slope_len);
    alt = pov_normalize(alt, &alt_len);
    if (slope_len + alt_len == 0.0)
        perr(P, line, "slope: zero length for both the slope and the altitude vector");
    pg->arg[2] = alt.x, pg->arg[3] = alt.y, pg->arg[4] = alt.z;
    pg->arg[7] = slope_len / (slope_len + alt_len);
}

static int parse_pattern_item(parser *P, pigment *pg)
{
    token *tk = peek(P);
    if (tk->kind != T_IDENT)
        return 0;
    int line = tk->line;
    if (parse_fractal_item(P, pg, tk))
        return 1;
    const pattern_class *pc = pattern_by_name(tk->text);
    if (pc) {
        next(P);
        parse_pattern_defaults(pg, pc->type);
        if (pc->type == PIG_SLOPE)
            parse_slope(P, pg, line);
        if (pc->type == PIG_GRADIENT) {
            vec3 g = parse_vector(P);
            if (vlen(g) == 0.0)
                perr(P, line, "gradient needs a non-zero vector");
            pg->vec = vnorm(g); /* POV-Ray normalizes it */
        }
        for (uint32_t i = 0; i < pc->lead; i++)
            pg->arg[i] = parse_float(P, pc->name);
        if (pc->type == PIG_FUNCTION)
            pg->arg[0] = fn_compile_block(P);
        if (pc->type == PIG_PIGMENT_PATTERN)
            pg->arg[0] = fn_pool_add_pigment(P);
        if (pc->colours && pc->type != PIG_CHECKER_MAP)
            parse_discrete_items(P, pg, pc);
        check_pattern_args(P, pg);
        return 1;
    }
    const char *w = tk->text;
    if (parse_pattern_arg(P, pg, w))
        return 1;
    if (!strcmp(w, "warp") || !strcmp(w, "turbulence"))
        checker_as_pattern(P, pg); /* a plain checker takes them as the checker pattern */
    if (!strcmp(w, "warp")) {
        next(P);
        warp_parse(P, pg, line);
        return 1;
    }
    if (!strcmp(w, "pigment_map")) {
        next(P);
        if (pg->type < PIG_GRADIENT)
            perr(P, line, "pigment_map needs a pattern before it");
        parse_pigment_map_body(P, pg);
        return 1;
    }
    if (!strcmp(w, "color_map") || !strcmp(w, "colour_map")) {
        next(P);
        colour_map m = parse_colour_map_body(P);
        pg->map = add_map(P, &m);
        return 1;
    }
    for (int i = 0; i < WAVE_COUNT; i++) {
        if (!strcmp(w, WAVE_NAMES[i])) {
            next(P);
            pg->wave = (uint32_t)i;
            if (i == WAVE_POLY && (peek(P)->kind == T_NUM || is_punct(P, "(")))
                pg->exponent = parse_float(P, "poly_wave");
            return 1;
        }
    }
    static const char *mods[] = {"turbulence", "octaves", "omega", "lambda", "frequency",
                                 "phase", "noise_generator"};
    int which = -1;
    for (int i = 0; i < 7; i++)
        if (!strcmp(w, mods[i]))
            which = i;
    if (which < 0)
        return 0;
    next(P);
    if (pg->type < PIG_GRADIENT && which != 0)
        perr(P, line, "unsupported word '%s' in a pigment without a pattern", w);
    switch (which) {
    case 0:
        pg->turb = parse_vector(P);
        pg->has_turb = 1;
        if (pg->type < PIG_GRADIENT)
            perr(P, line, "unsupported word 'turbulence' in a solid or checker pigment");
        break;
    case 1: {
        double o = parse_float(P, "octaves");
        if (!(o >= 1 && o <= 10))
            perr(P, line, "octaves must be in 1..10, got %g", o);
        pg->octaves = (uint32_t)o;
        break;
    }
    case 2: pg->omega = parse_float(P, "omega"); break;
    case 3: pg->lambda = parse_float(P, "lambda"); break;
    case 4: pg->frequency = parse_float(P, "frequency"); break;
    case 5: pg->phase = parse_float(P, "phase"); break;
    default: {
        double g = parse_float(P, "noise_generator");
        if (!(g == 1 || g == 2 || g == 3))
            perr(P, line, "noise_generator must be 1, 2 or 3, got %g", g);
        pg->noise_gen = (uint32_t)g;
    }
    }
    return 1;
}

/* A pattern pigment that reaches an object or the sky without a color_map gets POV-Ray's
   default map of its pattern. */
static void check_map(parser *P, pigment *pg, int line)
{
    if (pg->type >= PIG_GRADIENT && pg->map == UINT32_MAX && !pg->sub_n) {
        if (pg->type == PIG_AVERAGE)
            perr(P, line, "average needs a pigment_map");
        colour_map m;
        const pattern_class *pc = pattern_by_type(pg->type);
        /* only POV-Ray's mandel2 has a map of its own (not mandel3/4, julia or magnet) */
        if (pg->type == PIG_MANDEL && (pg->arg[1] != 2.0 || pg->arg[8] != 0.0))
            pc = pattern_by_type(PIG_GRADIENT);
        pattern_default_map(pc, &m);
        for (size_t i = 0; i < P->sc->nmaps; i++)
            if (!memcmp(&P->sc->maps[i], &m, sizeof m)) { /* one copy of each default */
                pg->map = (uint32_t)i;
                return;
            }
        pg->map = add_map(P, &m);
    }
}

/* The inside of pigment { } (or of a pigment_map entry), up to `close`. */
static void parse_pigment_items(parser *P, pigment *pg, const char *close)
{
    texture *s = ident_of_kind(P, V_PIGMENT);
    if (s)
        *pg = s->pig;
    for (;;) {
        transform t;
        token *tk = peek(P);
        if (is_punct(P, close)) { /* a pattern may get its color_map where it is used */
            next(P);
            return;
        }
        if (parse_transform(P, &t)) {
            pig_transform(pg, &t);
        } else if (parse_pattern_item(P, pg)) {
            continue;
        } else if (is_word(P, "checker")) {
            next(P);
            if (is_word(P, "pigment")) {
                parse_checker_pigments(P, pg);
                continue;
            }
            pg->type = PIG_CHECKER; /* POV-Ray's default colours: blue, then green */
            pg->c1 = (vec3){0, 0, 1}, pg->c2 = (vec3){0, 1, 0};
            if (starts_list_colour(P)) {
                pg->c1 = parse_colour_ft(P, pg->ft1);
                opt_comma(P);
            }
            if (starts_list_colour(P))
                pg->c2 = parse_colour_ft(P, pg->ft2);
        } else if (is_word(P, "image_map")) {
            int line = next(P).line;
            parse_pattern_defaults(pg, PIG_IMAGE_MAP);
            pg->arg[0] = image_parse_block(P, line, IMAGE_FOR_PIGMENT, NULL);
        } else if (is_word(P, "quick_color") || is_word(P, "quick_colour")) {
            next(P); /* POV-Ray uses it only at +Q5 and below: read and dropped */
            double ft[2];
            parse_colour_ft(P, ft);
        } else if (starts_colour(P) || (tk->kind == T_PUNCT && !is_punct(P, "}")) ||
                   tk->kind == T_NUM || (tk->kind == T_IDENT && find_sym(P, tk->text))) {
            pg->type = PIG_SOLID;
            pg->c1 = parse_colour_ft(P, pg->ft1);
        } else {
            perr(P, tk->line, "unsupported word '%s' in pigment", tk->text);
        }
    }
}

static void parse_pigment_body(parser *P, pigment *pg)
{
    expect(P, "{", "after 'pigment'");
    parse_pigment_items(P, pg, "}");
}

/* fn_compile.c: the { } of function { pigment { } } (a pigment, its map completed) or of
   function { pattern { } } (a pattern whose value is used) */
void parse_fn_pigment(parser *P, pigment *pg, int is_pattern)
{
    int line = peek(P)->line;
    *pg = default_pigment();
    parse_pigment_body(P, pg);
    if (is_pattern && pg->type < PIG_GRADIENT)
        perr(P, line, "pattern { } in a function needs a pattern (got a colour)");
    check_map(P, pg, line); /* a pattern's map goes unused; the reader checks every one */
}

/* checker pigment { A } pigment { B }: the checker pattern with the pigment_map [0 A] [1 B] */
static void parse_checker_pigments(parser *P, pigment *pg)
{
    pigment_entry e[2];
    for (int i = 0; i < 2; i++) {
        if (!is_word(P, "pigment"))
            perr(P, peek(P)->line, "checker needs two pigments");
        next(P);
        e[i].v = i;
        e[i].pig = default_pigment();
        parse_pigment_body(P, &e[i].pig);
        check_map(P, &e[i].pig, P->line);
        opt_comma(P);
    }
    parse_pattern_defaults(pg, PIG_CHECKER_MAP);
    add_pigment_entries(P, pg, e, 2);
}

/* An average's pigment_map entry may leave out its weight (POV-Ray takes 1) when the entry
   starts with a pattern; POV-Ray wants the weight before a colour or an identifier. */
static int weight_left_out(parser *P)
{
    token *tk = peek(P);
    return tk->kind == T_IDENT && !find_sym(P, tk->text) &&
           (pattern_by_name(tk->text) || !strcmp(tk->text, "checker") ||
            !strcmp(tk->text, "julia") || !strcmp(tk->text, "magnet"));
}

/* pigment_map { [value PIGMENT_ITEMS]... }: the entries are parsed (their own nested
   entries land in P->sc->pent first), then appended together, so an entry refers only to
   entries before it. */
static void parse_pigment_map_body(parser *P, pigment *pg)
{
    pigment_entry *tmp = xrealloc(P, NULL, POV_MAP_MAX * sizeof *tmp); /* nested maps recurse */
    uint32_t n = 0;
    int line = P->line;
    expect(P, "{", "after pigment_map");
    const value *id = map_ident(P, V_PIGMENT_MAP);
    if (id) {
        free(tmp);
        pg->sub_first = id->map_first;
        pg->sub_n = id->map_n;
        return;
    }
    while (!is_punct(P, "}")) {
        if (n == POV_MAP_MAX)
            perr(P, line, "pigment_map has more than %d entries", POV_MAP_MAX);
        expect(P, "[", "to open a pigment_map entry");
        double v = pg->type == PIG_AVERAGE && weight_left_out(P)
                       ? 1.0 : parse_float(P, "a pigment_map value");
        opt_comma(P);
        pigment e = default_pigment();
        parse_pigment_items(P, &e, "]");
        check_map(P, &e, line);
        if (n && pg->type != PIG_AVERAGE && v < tmp[n - 1].v)
            perr(P, line, "pigment_map values must be ascending (%g after %g)", v, tmp[n - 1].v);
        tmp[n].v = v;
        tmp[n++].pig = e;
    }
    next(P);
    if (!n)
        perr(P, line, "empty pigment_map");
    add_pigment_entries(P, pg, tmp, n);
    free(tmp);
}

static int opt_bool(parser *P, const char *what);

static double nonzero(parser *P, int line, const char *what)
{
    double v = parse_float(P, what);
    if (v == 0.0)
        perr(P, line, "%s must not be 0", what);
    return v;
}

/* reflection { [MIN,] MAX [fresnel [B]] [falloff F] [exponent E] [metallic [M]] }, as
   POV-Ray 3.7 reads it: one colour is both minimum and maximum, except that fresnel alone
   makes the minimum 0. */
static void parse_reflection_block(parser *P, finish *f)
{
    next(P);
    f->reflection_min = f->reflection = rgb_of(parse_colour5(P));
    opt_comma(P);
    int second = 0;
    token *n = peek(P);
    if (starts_colour(P) || n->kind == T_NUM || is_punct(P, "<") || is_punct(P, "(") ||
        is_punct(P, "-") || (n->kind == T_IDENT && find_sym(P, n->text))) {
        f->reflection = rgb_of(parse_colour5(P));
        second = 1;
    }
    for (;;) {
        token t = next(P);
        if (t.kind == T_PUNCT && t.text[0] == '}')
            return;
        if (t.kind == T_IDENT && !strcmp(t.text, "fresnel")) {
            f->fresnel = (uint32_t)opt_bool(P, "fresnel");
            if (f->fresnel && !second)
                f->reflection_min = v3(0.0, 0.0, 0.0);
        } else if (t.kind == T_IDENT && !strcmp(t.text, "falloff")) {
            f->reflection_falloff = parse_float(P, "falloff");
        } else if (t.kind == T_IDENT && !strcmp(t.text, "exponent")) {
            f->reflection_exp = 1.0 / nonzero(P, t.line, "exponent");
        } else if (t.kind == T_IDENT && !strcmp(t.text, "metallic")) {
            f->reflect_metallic = opt_float(P, "metallic", 1.0);
        } else {
            perr(P, t.line, "unsupported word '%s' in reflection { }", t.text);
        }
    }
}

static void parse_finish_body(parser *P, finish *f)
{
    expect(P, "{", "after 'finish'");
    texture *s = ident_of_kind(P, V_FINISH);
    if (s)
        *f = s->fin;
    for (;;) {
        token t = next(P);
        if (t.kind == T_PUNCT && t.text[0] == '}')
            return;
        if (t.kind != T_IDENT)
            perr(P, t.line, "expected a finish item, got '%s'", t.text);
        if (!strcmp(t.text, "ambient")) {
            f->ambient = rgb_of(parse_colour5(P));
        } else if (!strcmp(t.text, "diffuse")) {
            f->diffuse = parse_float(P, "diffuse");
        } else if (!strcmp(t.text, "brilliance")) {
            f->brilliance = parse_float(P, "brilliance");
        } else if (!strcmp(t.text, "phong")) {
            f->phong = parse_float(P, "phong");
        } else if (!strcmp(t.text, "phong_size")) {
            f->phong_size = parse_float(P, "phong_size");
        } else if (!strcmp(t.text, "specular")) {
            f->specular = parse_float(P, "specular");
        } else if (!strcmp(t.text, "roughness")) {
            double r = parse_float(P, "roughness");
            if (!(r > 0.0))
                perr(P, t.line, "roughness must be positive, got %g", r);
            f->roughness_exp = 1.0 / r;
        } else if (!strcmp(t.text, "metallic")) {
            f->metallic = opt_float(P, "metallic", 1.0);
        } else if (!strcmp(t.text, "reflection")) {
            if (is_punct(P, "{"))
                parse_reflection_block(P, f);
            else { /* the old syntax: one colour, minimum and maximum alike */
                f->reflection = f->reflection_min = rgb_of(parse_colour5(P));
                f->reflection_falloff = 1.0;
                f->fresnel = 0;
            }
        } else if (!strcmp(t.text, "reflection_exponent")) {
            f->reflection_exp = 1.0 / nonzero(P, t.line, "reflection_exponent");
        } else if (!strcmp(t.text, "conserve_energy")) {
            f->conserve_energy = (uint32_t)opt_bool(P, "conserve_energy");
        } else if (!strcmp(t.text, "emission")) {
            f->emission = rgb_of(parse_colour5(P));
        } else if (!strcmp(t.text, "crand")) {
            f->crand = parse_float(P, "crand");
        } else if (!strcmp(t.text, "irid")) {
            parse_irid(P, f);
        } else {
            perr(P, t.line, "unsupported word '%s' in finish", t.text);
        }
    }
}

/* the patterns with POV-Ray's own normal function, in NRM_BUMPS.. order, and the pattern
   whose modifiers (frequency, phase, control0, number_of_waves) they take */
static const char *const NORMAL_ONLY[] = {"bumps", "dents", "wrinkles", "waves", "ripples",
                                          "quilted"};
static const uint32_t NORMAL_ONLY_PAT[] = {PIG_BOZO, PIG_BOZO, PIG_BOZO, PIG_WAVES, PIG_RIPPLES,
                                           PIG_QUILTED};

/* A pattern keyword of a normal, with its optional bump_size; 0 if the word is none. */
/* The bump size that may follow a normal's pattern: normal { gradient x, 0.5 } */
static void parse_opt_bump_size(parser *P, tnormal *n)
{
    if (is_punct(P, ","))
        next(P);
    token *a = peek(P);
    if (a->kind == T_NUM || is_punct(P, "(") || is_punct(P, "-") ||
        (a->kind == T_IDENT && find_sym(P, a->text) && find_sym(P, a->text)->v.kind == V_FLOAT))
        n->amount = parse_float(P, "bump_size");
}

static int parse_block_normals(parser *P, tnormal *n, const char *name, int count);

static int parse_normal_pattern(parser *P, tnormal *n)
{
    token *tk = peek(P);
    if (tk->kind != T_IDENT)
        return 0;
    uint32_t type = NRM_NONE;
    uint32_t pat = PIG_BOZO;
    for (int i = 0; i < 6; i++)
        if (!strcmp(tk->text, NORMAL_ONLY[i]))
            type = NRM_BUMPS + (uint32_t)i, pat = NORMAL_ONLY_PAT[i];
    if (type != NRM_NONE) {
        next(P);
        pigment pg = n->pat;
        parse_pattern_defaults(&pg, pat);
        n->pat = pg;
    } else if (pattern_by_name(tk->text) || !strcmp(tk->text, "julia") ||
               !strcmp(tk->text, "magnet")) {
        parse_pattern_item(P, &n->pat);
        n->type = NRM_PATTERN;
        if ((n->pat.type == PIG_BRICK && parse_block_normals(P, n, "brick", 2)) ||
            (n->pat.type == PIG_HEXAGON && parse_block_normals(P, n, "hexagon", 3)))
            return 1;
        type = NRM_PATTERN;
    } else {
        return 0;
    }
    n->type = type;
    parse_opt_bump_size(P, n);
    return 1;
}

static void parse_normal_items(parser *P, tnormal *n, const char *close);
static void parse_normal_body(parser *P, tnormal *n);

/* n's normal_map: its k entries e appended to the scene's (after those of the maps inside
   them, which their parsing appended first) */
static void add_normal_entries(parser *P, tnormal *n, const normal_entry *e, uint32_t k)
{
    struct pov_scene_state *c = P->sc;
    c->nent = grow(P, c->nent, &c->capnent, c->nnent + k, sizeof *c->nent);
    memcpy(c->nent + c->nnent, e, k * sizeof *e);
    n->map_first = (uint32_t)c->nnent;
    n->map_n = k;
    c->nnent += k;
}

/* normal_map { [v NORMAL_ITEMS] ... } (average: [[weight] NORMAL_ITEMS], weight 1 when left
   out): the entries go after those of maps inside them, so each refers only to earlier ones */
static void parse_normal_map(parser *P, tnormal *n, int line)
{
    if (n->type != NRM_PATTERN)
        perr(P, line, "normal_map needs a pattern before it (normal { bozo normal_map { } })");
    if (n->pat.type == PIG_BRICK || n->pat.type == PIG_HEXAGON || n->pat.type == PIG_CHECKER)
        perr(P, line, "normal_map cannot be used with this normal type (brick, checker and "
             "hexagon have their own entries), as POV-Ray");
    expect(P, "{", "after normal_map");
    const value *id = map_ident(P, V_NORMAL_MAP);
    if (id) {
        n->map_first = id->map_first;
        n->map_n = id->map_n;
        return;
    }
    normal_entry *e = xalloc(P, sizeof *e * POV_MAP_MAX);
    uint32_t k = 0;
    int average = n->pat.type == PIG_AVERAGE;
    while (!is_punct(P, "}")) {
        if (k == POV_MAP_MAX)
            perr(P, line, "normal_map: more than %d entries", POV_MAP_MAX);
        expect(P, "[", "to start a normal_map entry");
        token *a = peek(P);
        int has_value = a->kind == T_NUM || is_punct(P, "-") || is_punct(P, "(") ||
                        (a->kind == T_IDENT && find_sym(P, a->text) &&
                         find_sym(P, a->text)->v.kind == V_FLOAT);
        e[k].v = average && !has_value ? 1.0 : parse_float(P, "a normal_map entry's value");
        opt_comma(P);
        e[k].n = P->sc->def.nrm; /* each entry starts from the #default normal, as POV-Ray */
        if (e[k].n.delta == 0.0)
            e[k].n.amount = 0.5, e[k].n.delta = 0.02;
        parse_normal_items(P, &e[k].n, "]");
        if (k && !average && e[k].v < e[k - 1].v)
            perr(P, line, "normal_map values must ascend (%g after %g)", e[k].v, e[k - 1].v);
        k++;
    }
    next(P);
    if (k == 0)
        perr(P, line, "normal_map needs at least one entry");
    add_normal_entries(P, n, e, k);
}

/* slope_map { [v <height, slope>]... }: kept as a colour map (height, slope, 0) */
static void parse_slope_map(parser *P, tnormal *n, int line)
{
    if (n->type != NRM_PATTERN || n->map_n)
        perr(P, line, "slope_map needs a pattern of its own before it (normal { onion "
             "slope_map { } })");
    expect(P, "{", "after slope_map");
    colour_map *m = xalloc(P, sizeof *m);
    memset(m, 0, sizeof *m);
    while (!is_punct(P, "}")) {
        if (m->n == POV_MAP_MAX)
            perr(P, line, "slope_map: more than %d entries", POV_MAP_MAX);
        expect(P, "[", "to start a slope_map entry");
        double v = parse_float(P, "a slope_map entry's value");
        opt_comma(P);
        value hs = expr(P);
        if (hs.kind != V_VEC || hs.n < 2)
            perr(P, line, "a slope_map entry needs <height, slope>");
        if (!(v >= 0.0 && v <= 1.0) || (m->n && v < m->v[m->n - 1]))
            perr(P, line, "slope_map values must ascend in 0..1 (got %g)", v);
        m->v[m->n] = v;
        m->c[m->n++] = v3(hs.c[0], hs.c[1], 0.0);
        expect(P, "]", "to close a slope_map entry");
    }
    next(P);
    if (m->n == 0)
        perr(P, line, "slope_map needs at least one entry");
    n->slope_map = add_map(P, m) + 1;
}

/* brick, checker and hexagon in a normal, as POV-Ray's Parse_Blend_List reads them: `count`
   normals after the pattern are its entries for the values 0, 1 (and 2). Without any, the
   pattern's own values perturb the normal as any pattern's do: flat inside each block, except
   where the samples around a point fall in two blocks (a plane through the checker's faces,
   the usual case, tilts every other square). Fewer than `count` are refused (POV-Ray 3.7
   crashes on them). Returns the number of normals read. */
static int parse_block_normals(parser *P, tnormal *n, const char *name, int count)
{
    normal_entry e[3];
    int k = 0, line = peek(P)->line;
    for (; k < count && is_word(P, "normal"); k++) {
        next(P);
        e[k].n = P->sc->def.nrm;
        e[k].v = k;
        parse_normal_body(P, &e[k].n);
        opt_comma(P);
    }
    if (k == 0)
        return 0;
    if (k < count)
        perr(P, line, "%s in a normal takes %d normals or none, got %d", name, count, k);
    add_normal_entries(P, n, e, (uint32_t)count);
    return k;
}

static void parse_normal_body(parser *P, tnormal *n)
{
    expect(P, "{", "after 'normal'");
    if (n->delta == 0.0) {
        n->amount = 0.5;
        n->delta = 0.02;
    }
    parse_normal_items(P, n, "}");
    if (n->pat.type == PIG_AVERAGE && !n->map_n)
        perr(P, P->line, "average in a normal needs a normal_map");
}

/* The inside of normal { } (or of a normal_map entry), up to `close`. */
static void parse_normal_items(parser *P, tnormal *n, const char *close)
{
    texture *s = ident_of_kind(P, V_NORMAL);
    if (s)
        *n = s->nrm;
    for (;;) {
        transform t;
        token *tk = peek(P);
        if (is_punct(P, close)) {
            next(P);
            break;
        }
        if (parse_transform(P, &t)) {
            pig_transform(&n->pat, &t);
        } else if (parse_normal_pattern(P, n)) {
            continue;
        } else if (is_word(P, "bump_size")) {
            next(P);
            n->amount = parse_float(P, "bump_size");
        } else if (is_word(P, "accuracy")) {
            next(P);
            n->delta = parse_float(P, "accuracy");
            if (!(n->delta > 0.0))
                perr(P, tk->line, "accuracy must be positive, got %g", n->delta);
        } else if (is_word(P, "normal_map")) {
            next(P);
            parse_normal_map(P, n, tk->line);
        } else if (is_word(P, "bump_map")) {
            int line = next(P).line;
            n->type = NRM_BUMP_MAP;
            parse_pattern_defaults(&n->pat, PIG_IMAGE_MAP);
            n->pat.arg[0] = image_parse_block(P, line, IMAGE_FOR_BUMP, &n->amount);
        } else if (is_word(P, "checker")) {
            next(P);
            n->type = NRM_PATTERN;
            parse_pattern_defaults(&n->pat, PIG_CHECKER_MAP);
            n->map_n = 0;
            if (!parse_block_normals(P, n, "checker", 2))
                parse_opt_bump_size(P, n);
        } else if (is_word(P, "slope_map")) {
            int line = next(P).line;
            parse_slope_map(P, n, line);
        } else if (n->type != NRM_NONE && !is_word(P, "pigment_map") &&
                   parse_pattern_item(P, &n->pat)) {
            continue;
        } else {
            perr(P, tk->line, "unsupported word '%s' in normal", tk->text);
        }
    }
}

static void parse_texture_pattern(parser *P, texture *tx, const char *close);
static void parse_material_map(parser *P, texture *tx);

/* The inside of texture { } (or of a texture_map entry), up to `close`. */
static void parse_texture_items(parser *P, texture *tx, const char *close)
{
    texture *s = ident_of_kind(P, V_TEXTURE);
    if (s)
        *tx = *s;
    for (;;) {
        transform t;
        token *tk = peek(P);
        if (is_punct(P, close)) {
            next(P);
            return;
        }
        if (parse_transform(P, &t)) {
            texture_transform(P, tx, &t);
        } else if (is_word(P, "pigment")) {
            next(P);
            parse_pigment_body(P, &tx->pig);
            tx->has_pig = 1;
        } else if (is_word(P, "finish")) {
            next(P);
            parse_finish_body(P, &tx->fin);
            tx->has_fin = 1;
        } else if (is_word(P, "normal")) {
            next(P);
            parse_normal_body(P, &tx->nrm);
            tx->has_nrm = 1;
        } else if (is_word(P, "material_map") && !tx->map) {
            parse_material_map(P, tx);
        } else if (tk->kind == T_IDENT && !tx->map &&
                   (pattern_by_name(tk->text) || !strcmp(tk->text, "checker") ||
                    !strcmp(tk->text, "tiles") || !strcmp(tk->text, "julia") ||
                    !strcmp(tk->text, "magnet"))) {
            parse_texture_pattern(P, tx, close);
        } else {
            perr(P, tk->line, "unsupported word '%s' in texture", tk->text);
        }
    }
}

static void parse_texture_body(parser *P, texture *tx)
{
    expect(P, "{", "after 'texture'");
    parse_texture_items(P, tx, "}");
}

/* One entry of a patterned texture: value v, the texture (its own patterns are refused). */
static uint32_t tmap_def_depth(const tmapdef *m)
{
    uint32_t d = 0;
    for (uint32_t i = 0; m && i < m->n; i++) {
        uint32_t k = tmap_def_depth(m->e[i].map);
        d = k > d ? k : d;
    }
    return m ? d + 1 : 0;
}

static void add_tmap_entry(parser *P, tmapdef *m, double v, const texture *e, int line)
{
    if (m->n == POV_MAP_MAX)
        perr(P, line, "texture_map has more than %d entries", POV_MAP_MAX);
    if (e->map && tmap_def_depth(e->map) >= POV_TMAP_DEPTH)
        perr(P, line, "patterned textures nested more than %d deep", POV_TMAP_DEPTH);
    if (m->pat.type == PIG_AVERAGE && !(v >= 0.0))
        perr(P, line, "an average's texture_map weights must not be negative, got %g", v);
    if (m->pat.type != PIG_AVERAGE && m->n && v < m->v[m->n - 1])
        perr(P, line, "texture_map values must not decrease (%g after %g)", v, m->v[m->n - 1]);
    m->v[m->n] = v;
    m->e[m->n++] = *e;
}

/* texture_map { [value TEXTURE_ITEMS]... } */
static void parse_texture_map_body(parser *P, tmapdef *m)
{
    int line = P->line;
    expect(P, "{", "after texture_map");
    const value *id = map_ident(P, V_TEXTURE_MAP);
    for (uint32_t i = 0; id && i < id->tmap->n; i++)
        add_tmap_entry(P, m, id->tmap->v[i], &id->tmap->e[i], line);
    if (id)
        return;
    while (!is_punct(P, "}")) {
        expect(P, "[", "to open a texture_map entry");
        double v = 1.0; /* an average's entry may leave out its weight (POV-Ray takes 1) */
        if (m->pat.type != PIG_AVERAGE || (!is_word(P, "texture") && !is_word(P, "pigment") &&
                                               !is_word(P, "finish") && !is_word(P, "normal")))
            v = parse_float(P, "a texture_map value");
        opt_comma(P);
        texture e = P->sc->def;
        if (is_word(P, "texture")) {
            next(P);
            parse_texture_body(P, &e);
            expect(P, "]", "to close a texture_map entry");
        } else {
            parse_texture_items(P, &e, "]");
        }
        add_tmap_entry(P, m, v, &e, line);
    }
    next(P);
}

/* One tile of tiles { }: texture { } [texture { }...] (layered, the last on top). */
static texture parse_tile(parser *P)
{
    if (!is_word(P, "texture"))
        perr(P, peek(P)->line, "tiles needs texture { } before and after tile2");
    next(P);
    texture e = P->sc->def;
    parse_texture_body(P, &e);
    while (is_word(P, "texture")) {
        next(P);
        texture top = P->sc->def;
        parse_texture_body(P, &top);
        e = layered_on(P, &top, &e);
    }
    return e;
}

/* texture { checker|hexagon|brick texture { } texture { } ... MODIFIERS } or texture {
   PATTERN texture_map { } MODIFIERS }: the pattern, its entries, then up to (not past)
   `close`, the pattern's modifiers and transforms of the whole. POV-Ray's old
   tiles { TEXTURES tile2 TEXTURES } is the checker texture of the two, tile2's first. */
static void parse_texture_pattern(parser *P, texture *tx, const char *close)
{
    int line = peek(P)->line;
    tmapdef *m = xalloc(P, sizeof *m);
    m->pat = default_pigment();
    m->v = xalloc(P, POV_MAP_MAX * sizeof *m->v);
    m->e = xalloc(P, POV_MAP_MAX * sizeof *m->e);
    if (is_word(P, "tiles")) {
        next(P);
        parse_pattern_defaults(&m->pat, PIG_CHECKER_MAP);
        expect(P, "{", "after 'tiles'");
        texture first = parse_tile(P);
        if (!is_word(P, "tile2"))
            perr(P, peek(P)->line, "tiles needs 'tile2' between its two textures");
        next(P);
        texture second = parse_tile(P);
        expect(P, "}", "to close tiles");
        add_tmap_entry(P, m, 0, &second, line); /* POV-Ray's tiles: tile2 on the even cells */
        add_tmap_entry(P, m, 1, &first, line);
    } else if (is_word(P, "checker")) {
        next(P);
        parse_pattern_defaults(&m->pat, PIG_CHECKER_MAP);
    } else {
        parse_pattern_item(P, &m->pat);
    }
    const pattern_class *pc = pattern_by_type(m->pat.type);
    while (pc->colours && m->n < pc->colours && is_word(P, "texture")) {
        next(P);
        texture e = P->sc->def;
        parse_texture_body(P, &e);
        add_tmap_entry(P, m, m->n, &e, line);
        opt_comma(P);
    }
    for (;;) {
        transform t;
        token *tk = peek(P);
        if (is_punct(P, close))
            break;
        if (parse_transform(P, &t)) {
            pig_transform(&m->pat, &t); /* the entries follow the pattern's point */
        } else if (is_word(P, "texture_map")) {
            next(P);
            parse_texture_map_body(P, m);
        } else if (!parse_pattern_item(P, &m->pat)) {
            perr(P, tk->line, "unsupported word '%s' in a patterned texture", tk->text);
        }
    }
    if (m->n == 0)
        perr(P, line, "a patterned texture needs its textures (texture_map { } or, after "
             "checker, hexagon or brick, texture { } texture { })");
    tx->map = m;
}

/* material_map { [TYPE] "FILE" [once] [interpolate N] [map_type N] texture { }... }: the
   image's palette index (or its red times 255) picks a texture, as POV-Ray's material_map;
   a patterned texture whose pattern's value is that number (arg[1]: how many textures) */
static void parse_material_map(parser *P, texture *tx)
{
    int line = next(P).line;
    tmapdef *m = xalloc(P, sizeof *m);
    m->pat = default_pigment();
    m->v = xalloc(P, POV_MAP_MAX * sizeof *m->v);
    m->e = xalloc(P, POV_MAP_MAX * sizeof *m->e);
    parse_pattern_defaults(&m->pat, PIG_IMAGE_MAP);
    m->pat.frequency = 0.0; /* the number as it is: no wave */
    m->pat.arg[0] = image_parse_block(P, line, IMAGE_FOR_MATERIAL, NULL);
    while (is_word(P, "texture")) {
        next(P);
        texture e = P->sc->def;
        parse_texture_body(P, &e);
        add_tmap_entry(P, m, m->n, &e, line);
    }
    expect(P, "}", "to close material_map (after its textures)");
    if (m->n == 0)
        perr(P, line, "material_map needs at least one texture { }");
    m->pat.arg[1] = m->n;
    tx->map = m;
}

/* ------------------------------------------------------------------ objects */
static void enter_matrix_mode(prim *p)
{
    if (!p->has_trans) {
        p->has_trans = 1;
        p->fwd = xf_identity();
        p->inv = xf_identity();
    }
}

static int uniform_scale(vec3 s)
{
    return rt_fabs(s.x) == rt_fabs(s.y) && rt_fabs(s.y) == rt_fabs(s.z);
}

static void fold_plane(prim *p, const transform *t)
{
    vec3 n = vnorm(xf_normal(&t->inv, p->a));
    vec3 q = xf_point(&t->fwd, vscale(p->a, p->r));
    p->a = n;
    p->r = vdot(n, q);
}

static void transform_geometry(prim *p, const transform *t)
{
    if (p->has_trans) {
        p->fwd = xf_compose(&t->fwd, &p->fwd);
        p->inv = xf_compose(&p->inv, &t->inv);
        return;
    }
    switch (p->type) {
    case OBJ_PLANE:
        fold_plane(p, t);
        return;
    case OBJ_SPHERE:
    case OBJ_CYLINDER:
        if (t->kind == 't') {
            p->a = vadd(p->a, t->v);
            p->b = vadd(p->b, t->v);
            return;
        }
        if (t->kind == 'r') {
            p->a = xf_point(&t->fwd, p->a);
            p->b = xf_point(&t->fwd, p->b);
            return;
        }
        if (t->kind == 's' && uniform_scale(t->v)) {
            p->a = vmul(p->a, t->v);
            p->b = vmul(p->b, t->v);
            p->r *= rt_fabs(t->v.x);
            return;
        }
        break;
    case OBJ_BOX:
        if (t->kind == 't') {
            p->a = vadd(p->a, t->v);
            p->b = vadd(p->b, t->v);
            return;
        }
        if (t->kind == 's') {
            vec3 a = vmul(p->a, t->v), b = vmul(p->b, t->v);
            p->a = v3(rt_fmin(a.x, b.x), rt_fmin(a.y, b.y), rt_fmin(a.z, b.z));
            p->b = v3(rt_fmax(a.x, b.x), rt_fmax(a.y, b.y), rt_fmax(a.z, b.z));
            return;
        }
        break;
    }
    enter_matrix_mode(p);
    p->fwd = t->fwd;
    p->inv = t->inv;
}

static void transform_list(parser *P, plist *l, size_t from, const transform *t)
{
    for (size_t i = from; i < l->n; i++) {
        transform_geometry(&l->v[i].p, t);
        if (l->v[i].textured) {
            tex_transform(&l->v[i].p.pig, &l->v[i].p.nrm, t);
            l->v[i].below = layers_transformed(P, l->v[i].below, t);
            l->v[i].map = tmap_transformed(P, l->v[i].map, t);
        }
        if (l->v[i].inside) {
            texture *in = xalloc(P, sizeof *in);
            *in = *l->v[i].inside;
            texture_transform(P, in, t);
            l->v[i].inside = in;
        }
    }
}

static void apply_texture(pprim *pp, const texture *tx)
{
    pp->p.pig = tx->pig;
    pp->p.fin = tx->fin;
    pp->p.nrm = tx->nrm;
    pp->below = tx->below;
    pp->map = tx->map;
    pp->textured = 1;
}

/* The texture an object has now (its top surface and the layers under it). */
static texture texture_of(const pprim *pp)
{
    return (texture){1, 1, 1, pp->p.pig, pp->p.fin, pp->p.nrm, pp->below, pp->map};
}

static uint32_t parse_object(parser *P, plist *l, const token *kw);

static int is_csg_word(const char *w)
{
    return !strcmp(w, "union") || !strcmp(w, "intersection") || !strcmp(w, "difference") ||
           !strcmp(w, "merge") || !strcmp(w, "mesh"); /* a mesh: a union of triangles */
}

static int is_object_word(const char *w)
{
    return prim_parser_of(w) || is_csg_word(w) || !strcmp(w, "object") || !strcmp(w, "mesh2");
}

/* One object being parsed: its primitives are l->v[from ..]; node is its inside test once
   sealed. A CSG block (union, intersection, difference, merge) takes objects as its
   children until the first modifier, then combines them (seal). */
typedef struct {
    plist *l;
    size_t from;
    const char *what;  /* the keyword, for messages */
    int is_group;      /* its texture goes to the children without one */
    int csg, sealed;
    csg_children kids;
    uint32_t node;
    uint32_t bound_node; /* bounded_by { } objects */
    int has_bound;
    uint32_t clip_node;  /* clipped_by { } objects */
    int has_clip;
    int had_texture;   /* a later texture { } is a layer on top of the first */
    size_t light_from; /* the scene's lights from here on are the group's (union { light_source }) */
} objbuild;

static void parse_light(parser *P, int in_group);

/* A CSG block's transform moves its lights too, as POV-Ray's light source unions. */
static void transform_lights(parser *P, size_t from, const transform *t)
{
    for (size_t i = from; i < P->sc->nlights; i++) {
        light *lt = &P->sc->lights[i];
        lt->pos = xf_point(&t->fwd, lt->pos);
        lt->point_at = xf_point(&t->fwd, lt->point_at);
        if (vlen(lt->dir) > 0.0)
            lt->dir = vnorm(xf_dir(&t->fwd, lt->dir));
        lt->axis1 = xf_dir(&t->fwd, lt->axis1);
        lt->axis2 = xf_dir(&t->fwd, lt->axis2);
    }
}

/* union { light_source { } ... }: a light of the scene that the block's transforms move. */
static void group_light(parser *P, objbuild *b, int line)
{
    if (b->l != &P->sc->out)
        perr(P, line, "unsupported: a light_source inside a declared object (put the %s in "
             "the scene itself)", b->what);
    parse_light(P, 1);
}

static void seal(parser *P, objbuild *b)
{
    if (b->sealed)
        return;
    b->node = csg_combine(P, b->l, b->what, &b->kids);
    csg_children_free(&b->kids);
    b->sealed = 1;
}

static void set_flags(plist *l, size_t from, uint32_t flags)
{
    for (size_t i = from; i < l->n; i++)
        l->v[i].p.flags |= flags;
}

/* A CSG child, or a union's object after its modifiers (POV-Ray wants children first;
   a union has always taken them anywhere here). */
static void parse_child(parser *P, objbuild *b, const token *kw)
{
    size_t f = b->l->n;
    if (b->sealed && strcmp(b->what, "union"))
        perr(P, kw->line, "'%s' after the modifiers of %s: its objects come first", kw->text,
             b->what);
    P->child_depth++;
    uint32_t nd = parse_object(P, b->l, kw);
    P->child_depth--;
    if (!b->sealed) {
        csg_children_add(P, &b->kids, f, nd);
        return;
    }
    uint32_t both[2] = {b->node, nd};
    b->node = plist_group(P, b->l, CSG_OR, both, 2);
}

/* clipped_by { OBJECT... } or clipped_by { bounded_by }: the object's surfaces count only
   inside every clipping object, which are not drawn themselves. */
static void parse_clip(parser *P, objbuild *b, int line)
{
    plist *l = b->l;
    size_t surf_end = l->n;
    csg_children cl = {0};
    expect(P, "{", "after 'clipped_by'");
    if (is_word(P, "bounded_by")) {
        next(P);
        if (!b->has_bound)
            perr(P, line, "unsupported: clipped_by { bounded_by } before bounded_by { }");
        csg_children_add(P, &cl, l->n, b->bound_node);
    }
    while (!is_punct(P, "}")) {
        token kw = next(P);
        if (kw.kind != T_IDENT || !is_object_word(kw.text))
            perr(P, kw.line, "expected an object in clipped_by, got '%s'", kw.text);
        size_t f = l->n;
        csg_children_add(P, &cl, f, parse_object(P, l, &kw));
    }
    next(P);
    if (!cl.n)
        perr(P, line, "clipped_by needs an object");
    set_flags(l, surf_end, PRIM_NO_SURFACE);
    uint32_t clip = plist_group(P, l, CSG_AND, cl.node, cl.n);
    csg_children_free(&cl);
    plist_add_cond(P, l, b->from, surf_end, clip);
    b->clip_node = clip;
    b->has_clip = 1;
    uint32_t both[2] = {b->node, clip};
    b->node = plist_group(P, l, CSG_AND, both, 2);
}

/* bounded_by { OBJECT... }: POV-Ray tests a ray against the bound before the object (a
   ray that misses it misses the object); its primitives join the list, not drawn, so that
   the object's later transforms move them too. */
static void parse_bound(parser *P, objbuild *b)
{
    plist *l = b->l;
    size_t start = l->n;
    csg_children bk = {0};
    int line = P->line;
    expect(P, "{", "after 'bounded_by'");
    if (is_word(P, "clipped_by")) { /* bounded_by { clipped_by }: the clip is the bound */
        next(P);
        if (!b->has_clip)
            perr(P, line, "unsupported: bounded_by { clipped_by } before clipped_by { }");
        expect(P, "}", "after bounded_by { clipped_by");
        b->bound_node = b->clip_node;
        b->has_bound = 1;
        return;
    }
    while (!is_punct(P, "}")) {
        token kw = next(P);
        if (kw.kind != T_IDENT || !is_object_word(kw.text))
            perr(P, kw.line, "expected an object in bounded_by, got '%s'", kw.text);
        size_t f = l->n;
        csg_children_add(P, &bk, f, parse_object(P, l, &kw));
    }
    next(P);
    set_flags(l, start, PRIM_NO_SURFACE);
    if (bk.n) {
        b->bound_node = plist_group(P, l, CSG_OR, bk.node, bk.n);
        b->has_bound = 1;
    }
    csg_children_free(&bk);
}

static const struct {
    const char *word;
    uint32_t flag;
} OBJECT_FLAGS[] = {
    {"no_shadow", PRIM_NO_SHADOW}, {"no_image", PRIM_NO_IMAGE},
    {"no_reflection", PRIM_NO_REFLECTION}, {"double_illuminate", PRIM_DOUBLE_ILLUMINATE},
};

/* An optional float after a word (metallic [M], hollow [on]): a number, '(', '-', a
   declared float or a boolean word starts one; else ``absent``. */
static double opt_float(parser *P, const char *what, double absent)
{
    token *n = peek(P);
    symbol *s = n->kind == T_IDENT ? find_sym(P, n->text) : NULL;
    if (n->kind == T_NUM || is_punct(P, "(") || is_punct(P, "-") ||
        (s && s->v.kind == V_FLOAT) || is_word(P, "on") || is_word(P, "off") ||
        is_word(P, "true") || is_word(P, "false") || is_word(P, "yes") || is_word(P, "no"))
        return parse_float(P, what);
    return absent;
}

/* An optional boolean after a flag word (hollow on, no_shadow off is not POV-Ray). */
static int opt_bool(parser *P, const char *what)
{
    return opt_float(P, what, 1.0) != 0.0;
}

/* Object words that only set a flag or are accepted without effect; 0 if kw is none. */
static int parse_flag_word(parser *P, objbuild *b, const token *kw)
{
    for (size_t k = 0; k < sizeof OBJECT_FLAGS / sizeof OBJECT_FLAGS[0]; k++)
        if (!strcmp(kw->text, OBJECT_FLAGS[k].word)) {
            set_flags(b->l, b->from, OBJECT_FLAGS[k].flag);
            return 1;
        }
    if (!strcmp(kw->text, "sturm")) /* our polynomial roots are Sturm's already */
        return 1;
    if (!strcmp(kw->text, "no_radiosity")) /* radiosity is refused: hidden from none */
        return 1;
    if (!strcmp(kw->text, "inside_vector")) { /* a mesh's: its triangles have no inside */
        parse_vector(P);
        return 1;
    }
    if (!strcmp(kw->text, "hierarchy")) {
        opt_bool(P, "hierarchy");
        return 1;
    }
    if (!strcmp(kw->text, "hollow")) {
        /* only media and fog inside an object see it: neither is supported */
        opt_bool(P, "hollow");
        return 1;
    }
    if (!strcmp(kw->text, "inverse")) {
        seal(P, b);
        b->node = plist_invert(P, b->l, b->node);
        return 1;
    }
    return 0;
}

/* texture / pigment / finish of an object; *utex collects a group's texture. */
/* A whole texture given to the object (texture { }, a material's): on top of one given
   before (a layered texture). */
static void put_object_texture(parser *P, objbuild *b, texture tx, texture *utex,
                               int *has_utex)
{
    plist *l = b->l;
    if (b->had_texture) { /* a layered texture: this one on top of those before */
        texture under = b->is_group ? *utex : texture_of(&l->v[b->from]);
        tx = layered_on(P, &tx, &under);
    }
    b->had_texture = 1;
    if (b->is_group) {
        *utex = tx;
        *has_utex = 1;
    } else {
        apply_texture(&l->v[b->from], &tx);
    }
}

/* interior_texture { }: the texture seen from inside, on the object or (a group) on each
   of its parts without one of its own */
static void parse_interior_texture(parser *P, objbuild *b)
{
    texture *in = xalloc(P, sizeof *in);
    *in = P->sc->def;
    int line = P->line;
    parse_texture_body(P, in);
    if (in->map)
        perr(P, line, "unsupported: a patterned interior_texture (checker, texture_map ...)");
    for (size_t i = b->from; i < b->l->n; i++)
        if (!b->l->v[i].inside || !b->is_group)
            b->l->v[i].inside = in;
}

static void parse_object_texture(parser *P, objbuild *b, const token *kw, texture *utex,
                                 int *has_utex)
{
    plist *l = b->l;
    if (!strcmp(kw->text, "texture")) {
        texture tx = P->sc->def;
        parse_texture_body(P, &tx);
        put_object_texture(P, b, tx, utex, has_utex);
        return;
    }
    texture cur = P->sc->def;
    if (b->is_group && *has_utex)
        cur = *utex;
    else if (!b->is_group && l->v[b->from].textured)
        cur = texture_of(&l->v[b->from]);
    if (kw->text[0] == 'p')
        parse_pigment_body(P, &cur.pig);
    else if (kw->text[0] == 'n')
        parse_normal_body(P, &cur.nrm);
    else
        parse_finish_body(P, &cur.fin);
    if (b->is_group) {
        *utex = cur;
        *has_utex = 1;
    } else {
        apply_texture(&l->v[b->from], &cur);
    }
}

/* A declared interior or material (#declare I = interior { }, #declare M = material { }):
   the interior's fields as a prim carries them, and a material's texture (its layers in one
   texture, as an object's). */
typedef struct matdef {
    prim inter;
    int has_interior, has_texture;
    texture tex;
} matdef;

static void copy_interior(prim *dst, const prim *src)
{
    dst->interior_id = src->interior_id, dst->ior = src->ior, dst->caustics = src->caustics;
    dst->fade_distance = src->fade_distance, dst->fade_power = src->fade_power;
    dst->fade_colour = src->fade_colour;
}

/* The declared value of kind `kind` (or an array element of it) named by the next token,
   taken; NULL if the next token names none. */
static const matdef *declared_mat(parser *P, int kind)
{
    token *t = peek(P);
    symbol *s = t->kind == T_IDENT ? find_sym(P, t->text) : NULL;
    if (s && s->v.kind == V_BROKEN)
        perr(P, t->line, "'%s' cannot be used: %s", t->text, s->v.str);
    if (s && s->v.kind == V_ARRAY) { /* material { MArr[i] } */
        token id = *t;
        value v = expr_any(P);
        if (v.kind == V_BROKEN)
            perr(P, id.line, "'%s' element cannot be used: %s", id.text, v.str);
        if (v.kind != kind)
            perr(P, id.line, "array element of '%s' is a %s, not a %s", id.text,
                 kind_name(v.kind), kind_name(kind));
        return v.mat;
    }
    if (!s || s->v.kind != kind)
        return NULL;
    next(P);
    return s->v.mat;
}

/* interior { [I] ior F caustics F fade_distance F fade_power F fade_colour C dispersion 1 }
   into p's interior fields (POV-Ray 3.7's defaults: ior 1, no fading, fade colour black);
   a declared interior I first gives its fields (and, unchanged, its identity: the objects
   sharing it are one interior to a ray, as POV-Ray shares the declared interior). */
static void parse_interior_body(parser *P, prim *p)
{
    static uint32_t next_id; /* one identity per interior { } written */
    expect(P, "{", "after 'interior'");
    const matdef *m = declared_mat(P, V_INTERIOR);
    if (m) {
        copy_interior(p, &m->inter);
    } else {
        p->interior_id = ++next_id;
        p->ior = 1.0;
    }
    for (int items = 0;; items++) {
        token t = next(P);
        if (t.kind == T_PUNCT && t.text[0] == '}')
            return;
        if (m && items == 0)
            p->interior_id = ++next_id; /* changed: an interior of its own */
        if (t.kind != T_IDENT)
            perr(P, t.line, "unexpected '%s' in interior", t.text);
        if (!strcmp(t.text, "ior")) {
            p->ior = parse_float(P, "ior");
            if (!(p->ior > 0.0 && p->ior < 1.0e6))
                perr(P, t.line, "ior must be above 0, got %g", p->ior);
        } else if (!strcmp(t.text, "caustics")) {
            p->caustics = parse_float(P, "caustics");
        } else if (!strcmp(t.text, "fade_distance")) {
            p->fade_distance = parse_float(P, "fade_distance");
        } else if (!strcmp(t.text, "fade_power")) {
            p->fade_power = parse_float(P, "fade_power");
        } else if (!strcmp(t.text, "fade_color") || !strcmp(t.text, "fade_colour")) {
            p->fade_colour = rgb_of(parse_colour5(P));
        } else if (!strcmp(t.text, "dispersion")) {
            double d = parse_float(P, "dispersion");
            if (d != 1.0)
                perr(P, t.line, "unsupported dispersion %g (only 1, no dispersion)", d);
        } else {
            perr(P, t.line, "unsupported word '%s' in interior", t.text);
        }
    }
}

/* material { [M] texture { }... interior { } }: the textures and interior as if given on
   the object; a declared material M first gives its texture and interior. */
static void parse_material_body(parser *P, objbuild *b, prim *inter, texture *utex,
                                int *has_utex)
{
    expect(P, "{", "after 'material'");
    const matdef *m = declared_mat(P, V_MATERIAL);
    if (m && m->has_interior)
        copy_interior(inter, &m->inter);
    if (m && m->has_texture)
        put_object_texture(P, b, m->tex, utex, has_utex);
    for (;;) {
        token t = next(P);
        if (t.kind == T_PUNCT && t.text[0] == '}')
            return;
        if (t.kind == T_IDENT && !strcmp(t.text, "texture"))
            parse_object_texture(P, b, &t, utex, has_utex);
        else if (t.kind == T_IDENT && !strcmp(t.text, "interior"))
            parse_interior_body(P, inter);
        else
            perr(P, t.line, "unsupported word '%s' in material (texture and interior are)",
                 t.text);
    }
}

/* Modifiers after an object's geometry (or a CSG block's children), up to and including
   '}'; apply to l->v[from..]. Returns the object's node. */
static uint32_t parse_object_mods(parser *P, objbuild *b)
{
    plist *l = b->l;
    texture utex = P->sc->def;
    int has_utex = 0;
    prim inter = {.interior_id = 0};
    for (;;) {
        transform t;
        token *tk = peek(P);
        if (is_punct(P, "}")) {
            next(P);
            break;
        }
        if (tk->kind != T_IDENT || !b->csg || !is_object_word(tk->text))
            seal(P, b);
        if (parse_transform(P, &t)) {
            transform_list(P, l, b->from, &t);
            transform_lights(P, b->light_from, &t);
            if (has_utex)
                texture_transform(P, &utex, &t);
            continue;
        }
        if (tk->kind != T_IDENT)
            perr(P, tk->line, "unexpected '%s' in %s", tk->text, b->what);
        token kw = next(P);
        if (b->csg && !strcmp(kw.text, "light_source"))
            group_light(P, b, kw.line);
        else if (b->csg && is_object_word(kw.text))
            parse_child(P, b, &kw);
        else if (parse_flag_word(P, b, &kw))
            continue;
        else if (!strcmp(kw.text, "clipped_by"))
            parse_clip(P, b, kw.line);
        else if (!strcmp(kw.text, "bounded_by"))
            parse_bound(P, b);
        else if (!strcmp(kw.text, "interior"))
            parse_interior_body(P, &inter);
        else if (!strcmp(kw.text, "material"))
            parse_material_body(P, b, &inter, &utex, &has_utex);
        else if (!strcmp(kw.text, "interior_texture"))
            parse_interior_texture(P, b);
        else if (!strcmp(kw.text, "texture") || !strcmp(kw.text, "pigment") ||
                 !strcmp(kw.text, "finish") || !strcmp(kw.text, "normal"))
            parse_object_texture(P, b, &kw, &utex, &has_utex);
        else
            perr(P, kw.line, "unsupported word '%s' in %s", kw.text, b->what);
    }
    seal(P, b);
    for (size_t i = b->from; i < l->n; i++)
        if (l->v[i].textured)
            check_map(P, &l->v[i].p.pig, P->line); /* (the layers under it: flatten_layers) */
    if (b->has_bound)
        plist_set_bound(l, b->from, l->n, b->bound_node);
    for (size_t i = b->from; inter.interior_id && i < l->n; i++)
        if (!l->v[i].p.interior_id) { /* a CSG child without its own: the group's */
            prim *q = &l->v[i].p;
            q->interior_id = inter.interior_id, q->ior = inter.ior, q->caustics = inter.caustics;
            q->fade_distance = inter.fade_distance, q->fade_power = inter.fade_power;
            q->fade_colour = inter.fade_colour;
        }
    if (b->is_group && has_utex)
        for (size_t i = b->from; i < l->n; i++)
            if (!l->v[i].textured) {
                apply_texture(&l->v[i], &utex);
                check_map(P, &l->v[i].p.pig, P->line);
            }
    return b->node;
}

static uint32_t object_mods(parser *P, plist *l, size_t from, uint32_t node, int is_group,
                            const char *what)
{
    objbuild b = {.l = l, .from = from, .what = what, .is_group = is_group, .sealed = 1,
                  .node = node, .light_from = P->sc->nlights};
    return parse_object_mods(P, &b);
}

/* object { ARRAY[i]... mods }: the element must be an object */
static uint32_t object_array_item(parser *P, plist *l, size_t from)
{
    token id = *peek(P);
    value v = expr(P);
    if (v.kind == V_BROKEN)
        perr(P, id.line, "'%s' element cannot be used: %s", id.text, v.str);
    if (v.kind != V_OBJECT)
        perr(P, id.line, "array element of '%s' is a %s, not an object", id.text,
             kind_name(v.kind));
    uint32_t nd = plist_append(P, l, v.obj);
    return object_mods(P, l, from, nd, v.obj->is_group || v.obj->n != 1, "object");
}

/* object { IDENT mods } or object { OBJECT mods } */
/* object { L [transforms] } at the top of the scene, L a declared light_source: the light
   (and its looks_like object) added as if written there, then moved. Its node is never used
   there; inside an object or CSG block (which would combine it) it is refused. */
static uint32_t object_light(parser *P, plist *l, const pov_macro *m, const token *id)
{
    if (l != &P->sc->out || P->child_depth)
        perr(P, id->line, "unsupported: the declared light_source '%s' inside an object or CSG "
             "block (use object { %s } in the scene itself)", id->text, id->text);
    size_t light_from = P->sc->nlights, from = l->n;
    lex_push_body(P, m);
    parse_light(P, 0);
    lex_pop_body(P);
    for (;;) {
        transform t;
        if (is_punct(P, "}")) {
            next(P);
            return 0;
        }
        if (!parse_transform(P, &t))
            perr(P, peek(P)->line, "unsupported: '%s' on a declared light_source (transforms "
                 "are supported)", peek(P)->text);
        transform_lights(P, light_from, &t);
        transform_list(P, l, from, &t);
    }
}

static uint32_t parse_object_ref(parser *P, plist *l, size_t from)
{
    if (peek(P)->kind == T_IDENT && is_object_word(peek(P)->text) &&
        !find_sym(P, peek(P)->text)) {
        token inner = next(P);
        uint32_t nd = parse_object(P, l, &inner);
        return object_mods(P, l, from, nd, l->n - from != 1, "object");
    }
    symbol *s = peek(P)->kind == T_IDENT ? find_sym(P, peek(P)->text) : NULL;
    if (s && s->v.kind == V_ARRAY) /* object { Arr[i] mods } */
        return object_array_item(P, l, from);
    token id = next(P);
    if (!s)
        perr(P, id.line, "expected an object identifier in object { }, got '%s'", id.text);
    if (s->v.kind == V_BROKEN)
        perr(P, id.line, "'%s' cannot be used: %s", id.text, s->v.str);
    if (s->v.kind == V_LIGHT)
        return object_light(P, l, s->v.mac, &id);
    if (s->v.kind != V_OBJECT)
        perr(P, id.line, "'%s' is a %s, not an object", id.text, kind_name(s->v.kind));
    plist *src = s->v.obj;
    uint32_t nd = plist_append(P, l, src);
    return object_mods(P, l, from, nd, src->is_group || src->n != 1, "object");
}

/* Parse one object into l; returns its node (its inside test). */
#include "mesh2_parse.c"

static uint32_t parse_object(parser *P, plist *l, const token *kw)
{
    prim p;
    memset(&p, 0, sizeof p);
    size_t from = l->n;
    expect(P, "{", "after the object keyword");
    if (is_csg_word(kw->text) || !strcmp(kw->text, "mesh2")) {
        objbuild b = {.l = l, .from = from, .what = kw->text, .is_group = 1, .csg = 1,
                      .light_from = P->sc->nlights};
        if (kw->text[4] == '2') {
            b.what = "mesh"; /* a union of its triangles */
            parse_mesh2_body(P, &b);
        }
        return parse_object_mods(P, &b);
    }
    if (!strcmp(kw->text, "object"))
        return parse_object_ref(P, l, from);
    const prim_parser *pp = prim_parser_of(kw->text);
    if (!pp)
        perr(P, kw->line, "unsupported word '%s'", kw->text);
    p.type = pp->type;
    pp->parse(P, &p, kw); /* may change the type (a cone with equal radii is a cylinder) */
    uint32_t nd = plist_push_prim(P, l, &p);
    return object_mods(P, l, from, nd, 0, kw->text);
}

/* ------------------------------------------------------------------ values of scene items */
static texture *new_texture(parser *P)
{
    texture *t = xalloc(P, sizeof *t);
    t->pig = default_pigment();
    t->fin = default_finish();
    return t;
}

static void parse_camera(parser *P, camdef *c);
static void parse_sky_body(parser *P, pigment *sky, int *has);

/* The value of '#declare I = interior { }' or '#declare M = material { }'. */
static matdef *parse_mat_value(parser *P, int is_material)
{
    matdef *m = xalloc(P, sizeof *m);
    memset(m, 0, sizeof *m);
    if (!is_material) {
        parse_interior_body(P, &m->inter);
        m->has_interior = 1;
        return m;
    }
    expect(P, "{", "after 'material'");
    const matdef *from = declared_mat(P, V_MATERIAL);
    if (from)
        *m = *from;
    for (;;) {
        token t = next(P);
        if (t.kind == T_PUNCT && t.text[0] == '}')
            return m;
        if (t.kind == T_IDENT && !strcmp(t.text, "texture")) {
            texture tx = P->sc->def;
            parse_texture_body(P, &tx);
            m->tex = m->has_texture ? layered_on(P, &tx, &m->tex) : tx;
            m->has_texture = 1;
        } else if (t.kind == T_IDENT && !strcmp(t.text, "interior")) {
            parse_interior_body(P, &m->inter);
            m->has_interior = 1;
        } else {
            perr(P, t.line, "unsupported word '%s' in material (texture and interior are)",
                 t.text);
        }
    }
}

/* spline { } (spline.c) or light_source { } (read again where it is used: object { L }) */
/* #declare M = pigment_map { } | normal_map { } | texture_map { }: the entries, parsed as a
   map of a pattern with ascending values (POV-Ray's identifiers carry no pattern); the
   pigment and normal entries stay in the scene's lists, where each use refers to them */
static int map_value(parser *P, value *out)
{
    token kw = next(P);
    if (kw.text[0] == 'p') {
        pigment pg = default_pigment();
        parse_pattern_defaults(&pg, PIG_BOZO);
        parse_pigment_map_body(P, &pg);
        out->kind = V_PIGMENT_MAP;
        out->map_first = pg.sub_first, out->map_n = pg.sub_n;
    } else if (kw.text[0] == 'n') {
        tnormal n = P->sc->def.nrm;
        n.type = NRM_PATTERN;
        parse_pattern_defaults(&n.pat, PIG_BOZO);
        parse_normal_map(P, &n, kw.line);
        out->kind = V_NORMAL_MAP;
        out->map_first = n.map_first, out->map_n = n.map_n;
    } else {
        tmapdef *m = xalloc(P, sizeof *m);
        m->pat = default_pigment();
        parse_pattern_defaults(&m->pat, PIG_BOZO);
        m->v = xalloc(P, POV_MAP_MAX * sizeof *m->v);
        m->e = xalloc(P, POV_MAP_MAX * sizeof *m->e);
        parse_texture_map_body(P, m);
        if (m->n == 0)
            perr(P, kw.line, "texture_map needs at least one entry");
        out->kind = V_TEXTURE_MAP;
        out->tmap = m;
    }
    return 1;
}

static int spline_or_light_value(parser *P, value *out)
{
    token kw = next(P);
    if (kw.text[0] == 's') {
        out->kind = V_SPLINE;
        out->spl = spline_parse(P);
        return 1;
    }
    out->kind = V_LIGHT;
    out->mac = lex_capture_block(P, "light_source");
    if (!out->mac)
        perr(P, kw.line, "expected '{' after 'light_source'");
    return 1;
}

int scene_item_value(parser *P, value *out)
{
    token *tk = peek(P);
    if (tk->kind != T_IDENT)
        return 0;
    memset(out, 0, sizeof *out);
    if (is_word(P, "pigment") || is_word(P, "finish") || is_word(P, "texture") ||
        is_word(P, "normal")) {
        token kw = next(P);
        texture *t = new_texture(P);
        if (kw.text[0] == 'n') {
            out->kind = V_NORMAL;
            t->nrm = P->sc->def.nrm;
            parse_normal_body(P, &t->nrm);
        } else if (kw.text[0] == 'p') { /* a declared pigment or finish starts from the */
            out->kind = V_PIGMENT;         /* #default one, as POV-Ray copies it */
            t->pig = P->sc->def.pig;
            parse_pigment_body(P, &t->pig);
        } else if (kw.text[0] == 'f') {
            out->kind = V_FINISH;
            t->fin = P->sc->def.fin;
            parse_finish_body(P, &t->fin);
        } else {
            out->kind = V_TEXTURE;
            *t = P->sc->def;
            parse_texture_body(P, t);
            while (raw_next_is_word(P, "texture")) { /* a layered texture: each on top */
                next(P);
                texture top = P->sc->def;
                parse_texture_body(P, &top);
                *t = layered_on(P, &top, t);
            }
        }
        out->tex = t;
        return 1;
    }
    if (is_word(P, "spline") || is_word(P, "light_source"))
        return spline_or_light_value(P, out);
    if (is_word(P, "interior") || is_word(P, "material")) {
        out->kind = next(P).text[0] == 'm' ? V_MATERIAL : V_INTERIOR;
        out->mat = parse_mat_value(P, out->kind == V_MATERIAL);
        return 1;
    }
    if (is_word(P, "transform")) {
        int line = next(P).line;
        out->kind = V_TRANSFORM;
        out->xf = xalloc(P, sizeof *out->xf);
        parse_transform_block(P, out->xf, line);
        return 1;
    }
    if (is_word(P, "color_map") || is_word(P, "colour_map")) {
        next(P);
        out->kind = V_COLOUR_MAP;
        out->cmap = xalloc(P, sizeof *out->cmap);
        *out->cmap = parse_colour_map_body(P);
        return 1;
    }
    if (is_word(P, "pigment_map") || is_word(P, "normal_map") || is_word(P, "texture_map"))
        return map_value(P, out);
    if (is_word(P, "sky_sphere")) {
        next(P);
        out->kind = V_SKY;
        out->sky = xalloc(P, POV_SKY_MAX * sizeof *out->sky);
        int has = 0;
        parse_sky_body(P, out->sky, &has);
        out->n = has;
        if (!has)
            perr(P, P->line, "unsupported: a declared sky_sphere without a pigment");
        return 1;
    }
    if (is_word(P, "camera")) {
        next(P);
        out->kind = V_CAMERA;
        out->cam = xalloc(P, sizeof *out->cam);
        parse_camera(P, out->cam);
        return 1;
    }
    if (is_object_word(tk->text)) {
        token kw = next(P);
        plist *l = xalloc(P, sizeof *l);
        l->root = parse_object(P, l, &kw);
        plist_keep(P, l);
        l->is_group = is_csg_word(kw.text) || !strcmp(kw.text, "mesh2");
        out->kind = V_OBJECT;
        out->obj = l;
        return 1;
    }
    static const char *items[] = {
        "polygon", "prism", "lathe", "sor", "superellipsoid", "blob",
        "slope_map",
        "density", "media", "function", "rainbow",
        "bicubic_patch", "parametric", "sphere_sweep", "ovus", "lemon", "density_map",
    };
    for (size_t i = 0; i < sizeof items / sizeof items[0]; i++)
        if (!strcmp(tk->text, items[i]))
            perr(P, tk->line, "unsupported word '%s'", tk->text);
    return 0;
}

void parse_default(parser *P)
{
    expect(P, "{", "after #default");
    for (;;) {
        token t = next(P);
        if (t.kind == T_PUNCT && t.text[0] == '}')
            return;
        if (t.kind == T_IDENT && !strcmp(t.text, "texture")) {
            texture tx = P->sc->def;
            parse_texture_body(P, &tx);
            P->sc->def = tx;
        } else if (t.kind == T_IDENT && !strcmp(t.text, "pigment")) {
            parse_pigment_body(P, &P->sc->def.pig);
        } else if (t.kind == T_IDENT && !strcmp(t.text, "finish")) {
            parse_finish_body(P, &P->sc->def.fin);
        } else if (t.kind == T_IDENT && !strcmp(t.text, "normal")) {
            parse_normal_body(P, &P->sc->def.nrm); /* normal { bump_size 1.5 }: a template */
        } else {
            perr(P, t.line, "unsupported word '%s' in #default", t.text);
        }
    }
}

/* ------------------------------------------------------------------ statements */
/* The lens cameras without options: their CAM_* type, or -1 for another word. */
static int camera_lens_type(const char *word)
{
    static const struct { const char *word; int type; } lens[] = {
        {"fisheye", CAM_FISHEYE}, {"panoramic", CAM_PANORAMIC}, {"spherical", CAM_SPHERICAL},
        {"omnimax", CAM_OMNIMAX}};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++)
        if (!strcmp(word, lens[i].word))
            return lens[i].type;
    return -1;
}

/* After a spherical camera's angle: does a second (vertical) one follow? */
static int peek_is_vertical_angle(parser *P)
{
    return is_punct(P, ",") || peek(P)->kind == T_NUM;
}

/* A camera transform: applied to the finished camera (location as a point, the other
   vectors as directions), as POV-Ray applies it after look_at. */
static void camera_transform(parser *P, camdef *c, const token *t)
{
    P->tok = *t; /* give the word back to parse_transform */
    P->have_tok = 1;
    transform tr;
    if (!parse_transform(P, &tr))
        perr(P, t->line, "expected a transform in camera, got '%s'", t->text);
    if (!c->cam_has_xf) {
        c->cam_xf = xf_identity();
        c->cam_has_xf = 1;
    }
    c->cam_xf = xf_compose(&tr.fwd, &c->cam_xf);
}

static void parse_camera(parser *P, camdef *c)
{
    camera_defaults(c);
    expect(P, "{", "after 'camera'");
    token *first = peek(P);
    if (first->kind == T_IDENT) {
        symbol *s = find_sym(P, first->text);
        if (s && s->v.kind == V_BROKEN)
            perr(P, first->line, "'%s' cannot be used: %s", first->text, s->v.str);
        if (s && s->v.kind == V_CAMERA) {
            next(P);
            *c = *s->v.cam;
        }
    }
    for (int items = 0;; items++) {
        token t = next(P);
        if (t.kind == T_PUNCT && t.text[0] == '}')
            break;
        if (t.kind != T_IDENT)
            perr(P, t.line, "expected a camera item, got '%s'", t.text);
        int is_xf = !strcmp(t.text, "translate") || !strcmp(t.text, "rotate") ||
                    !strcmp(t.text, "scale") || !strcmp(t.text, "matrix") ||
                    !strcmp(t.text, "transform");
        if (c->cam_has_xf && !is_xf && P->version < 3.495) /* 3.5 on: in any order */
            perr(P, t.line, "unsupported: '%s' after a camera transform before #version 3.5 "
                 "(put transforms last)", t.text);
        if (items && (!strcmp(t.text, "perspective") || !strcmp(t.text, "orthographic") ||
                      !strcmp(t.text, "cylinder") || !strcmp(t.text, "ultra_wide_angle") ||
                      camera_lens_type(t.text) >= 0))
            perr(P, t.line, "unsupported: '%s' after other camera items (put it first)", t.text);
        if (!strcmp(t.text, "ultra_wide_angle")) {
            c->cam_type = CAM_ULTRA_WIDE;
            continue;
        }
        if (camera_lens_type(t.text) >= 0) {
            c->cam_type = (uint32_t)camera_lens_type(t.text);
            continue;
        }
        if (!strcmp(t.text, "cylinder")) {
            double k = parse_float(P, "the cylinder camera type");
            if (!(k == 1 || k == 2 || k == 3 || k == 4))
                perr(P, t.line, "cylinder camera type must be 1, 2, 3 or 4, got %g", k);
            c->cam_type = CAM_CYL1 + (uint32_t)k - 1;
            continue;
        }
        if (!strcmp(t.text, "perspective")) {
            c->cam_type = CAM_PERSPECTIVE;
            continue;
        } else if (!strcmp(t.text, "orthographic")) {
            c->cam_type = CAM_ORTHOGRAPHIC;
            continue;
        } else if (!strcmp(t.text, "location")) {
            c->cam_loc = parse_vector(P);
        } else if (!strcmp(t.text, "look_at")) {
            c->cam_look = parse_vector(P);
            c->cam_has_look = 1;
        } else if (!strcmp(t.text, "angle")) {
            c->cam_angle = parse_float(P, "angle");
            if (c->cam_type == CAM_SPHERICAL && peek_is_vertical_angle(P)) {
                if (is_punct(P, ","))
                    next(P);
                c->cam_angle_v = parse_float(P, "the vertical angle");
                if (!(c->cam_angle_v > 0.0 && c->cam_angle_v <= 360.0))
                    perr(P, t.line, "the vertical angle must be in (0, 360], got %g",
                         c->cam_angle_v);
                c->cam_has_angle_v = 1;
            }
            if (CAM_ANGLE_TO_360(c->cam_type)) {
                if (!(c->cam_angle > 0.0 && c->cam_angle <= 360.0))
                    perr(P, t.line, "this camera's angle must be in (0, 360], got %g",
                         c->cam_angle);
            } else if (!(c->cam_angle > 0.0 && c->cam_angle < 180.0))
                perr(P, t.line, "camera angle must be in (0, 180), got %g", c->cam_angle);
            c->cam_has_angle = 1;
        } else if (!strcmp(t.text, "right")) {
            c->cam_right = parse_vector(P);
            c->cam_has_right_up = 1;
        } else if (!strcmp(t.text, "up")) {
            c->cam_up = parse_vector(P);
            c->cam_has_right_up = 1;
        } else if (!strcmp(t.text, "direction")) {
            c->cam_dir = parse_vector(P);
        } else if (!strcmp(t.text, "sky")) {
            c->cam_sky = parse_vector(P);
        } else if (!strcmp(t.text, "normal")) {
            if (c->cam_type >= CAM_FISHEYE)
                perr(P, t.line, "unsupported: a camera normal on a fisheye, panoramic, "
                     "spherical or omnimax camera");
            memset(&c->cam_normal, 0, sizeof c->cam_normal);
            c->cam_normal.delta = 0.02; /* POV-Ray's default accuracy */
            parse_normal_body(P, &c->cam_normal);
            c->cam_has_normal = 1;
        } else if (is_xf) {
            camera_transform(P, c, &t);
        } else {
            perr(P, t.line, "unsupported word '%s' in camera", t.text);
        }
    }
}

static void resolve_noise(parser *P, pigment *pg);

static void finish_camera(parser *P, scene *s)
{
    camdef *c = &P->sc->cam;
    s->has_cam_normal = c->cam_has_normal && c->cam_normal.type != NRM_NONE;
    if (s->has_cam_normal) {
        if (c->cam_type >= CAM_FISHEYE)
            perr(P, P->line, "unsupported: a camera normal on a fisheye, panoramic, spherical "
                 "or omnimax camera");
        s->cam_normal = c->cam_normal;
        resolve_noise(P, &s->cam_normal.pat);
    }
    vec3 dir = c->cam_dir, right = c->cam_right, up = c->cam_up;
    double dlen = vlen(dir), rlen = vlen(right), ulen = vlen(up);
    if (dlen == 0.0 || rlen == 0.0 || ulen == 0.0)
        perr(P, P->line, "camera direction, right and up must be non-zero");
    double handed = vdot(vcross(up, dir), right);
    s->camera_angle = c->cam_has_angle ? c->cam_angle
                      : c->cam_type == CAM_SPHERICAL ? 360.0 : 90.0;
    s->camera_angle_v = c->cam_has_angle_v ? c->cam_angle_v : s->camera_angle / 2.0;
    if (c->cam_has_angle && !CAM_ANGLE_TO_360(c->cam_type)) { /* the others normalise */
        dlen = rlen / rt_tan(c->cam_angle * RT_PI / 360.0) / 2.0;
        dir = vscale(vnorm(dir), dlen);
    }
    if (c->cam_has_look) {
        vec3 d = vsub(c->cam_look, c->cam_loc);
        if (vlen(d) == 0.0)
            perr(P, P->line, "camera look_at equals location");
        dir = vscale(vnorm(d), dlen);
        vec3 rr = handed > 0.0 ? vcross(c->cam_sky, dir) : vcross(dir, c->cam_sky);
        if (rt_fabs(rr.x) < POV_EPSILON && rt_fabs(rr.y) < POV_EPSILON &&
            rt_fabs(rr.z) < POV_EPSILON) /* looking along the sky: POV-Ray keeps right */
            rr = handed > 0.0 ? right : vscale(right, -1.0);
        right = vscale(vnorm(rr), rlen);
        vec3 uu = handed > 0.0 ? vcross(dir, right) : vcross(right, dir);
        up = vscale(vnorm(uu), ulen);
    }
    if (c->cam_type == CAM_ORTHOGRAPHIC && c->cam_has_look &&
        (c->cam_has_angle || !c->cam_has_right_up)) {
        /* the view is as wide as the (default) angle sees at the look_at distance */
        double k = vlen(vsub(c->cam_look, c->cam_loc)) / vlen(dir);
        right = vscale(right, k);
        up = vscale(up, k);
    }
    s->camera_type = c->cam_type;
    s->location = c->cam_loc;
    s->direction = dir;
    s->right = right;
    s->up = up;
    if (c->cam_has_xf) {
        s->location = xf_point(&c->cam_xf, s->location);
        s->direction = xf_dir(&c->cam_xf, s->direction);
        s->right = xf_dir(&c->cam_xf, s->right);
        s->up = xf_dir(&c->cam_xf, s->up);
    }
}

static void parse_global(parser *P)
{
    expect(P, "{", "after 'global_settings'");
    for (;;) {
        token t = next(P);
        if (t.kind == T_PUNCT && t.text[0] == '}')
            return;
        if (t.kind == T_IDENT && !strcmp(t.text, "assumed_gamma")) {
            double g = parse_float(P, "assumed_gamma");
            if (!(g > 0.0 && g <= 10.0))
                perr(P, t.line, "assumed_gamma must be in (0, 10], got %g", g);
            P->sc->assumed_gamma = g;
            P->working_gamma = g;
            P->assumed_gamma_given = 1;
        } else if (t.kind == T_IDENT && !strcmp(t.text, "number_of_waves")) {
            double n = parse_float(P, "number_of_waves");
            if (!(n >= 1 && n <= POV_MAX_WAVES))
                perr(P, t.line, "number_of_waves must be in 1..%d, got %g", POV_MAX_WAVES, n);
            P->sc->n_waves = (uint32_t)n;
        } else if (t.kind == T_IDENT && !strcmp(t.text, "noise_generator")) {
            double g = parse_float(P, "noise_generator");
            if (!(g == 1 || g == 2 || g == 3))
                perr(P, t.line, "noise_generator must be 1, 2 or 3, got %g", g);
            P->sc->noise_gen = (uint32_t)g;
        } else if (t.kind == T_IDENT && !strcmp(t.text, "irid_wavelength")) {
            vec3 wl = rgb_of(parse_colour5(P));
            if (!(wl.x > 0.0 && wl.y > 0.0 && wl.z > 0.0))
                perr(P, t.line, "irid_wavelength must be positive in each channel");
            P->sc->irid_wl = wl;
        } else if (t.kind == T_IDENT && !strcmp(t.text, "charset")) {
            token c = next(P);
            if (strcmp(c.text, "ascii") && strcmp(c.text, "utf8") && strcmp(c.text, "sys"))
                perr(P, c.line, "charset must be ascii, utf8 or sys, got '%s'", c.text);
            P->charset_not_ascii = strcmp(c.text, "ascii") != 0;
        } else if (t.kind == T_IDENT && !strcmp(t.text, "hf_gray_16")) {
            /* it asks for 16-bit grey output (in POV-Ray 3.7 a command-line option); with
               8-bit output POV-Ray 3.7's image is the same without it, and 8-bit output is
               all we write: read and left out (advanced/crater/crater_dat, slopemt_dat_37) */
            if (peek(P)->kind == T_NUM || is_word(P, "on") || is_word(P, "off") ||
                is_word(P, "true") || is_word(P, "false"))
                parse_float(P, "hf_gray_16");
        } else if (t.kind == T_IDENT && !strcmp(t.text, "max_trace_level")) {
            double m = parse_float(P, "max_trace_level");
            if (!(m >= 1.0 && m <= 256.0))
                perr(P, t.line, "max_trace_level must be in 1..256, got %g", m);
            P->sc->max_trace = (uint32_t)m;
        } else if (t.kind == T_IDENT && !strcmp(t.text, "adc_bailout")) {
            double a = parse_float(P, "adc_bailout");
            if (!(a >= 0.0 && a <= 1.0))
                perr(P, t.line, "adc_bailout must be in 0..1, got %g", a);
            P->sc->adc_bailout = a;
        } else {
            perr(P, t.line, "unsupported word '%s' in global_settings", t.text);
        }
    }
}

/* area_light AXIS1, AXIS2, N1, N2 and its modifiers; 0 if the word is none of them. */
static int parse_area_word(parser *P, light *lt, const token *tk)
{
    const char *w = tk->text;
    if (!strcmp(w, "area_light")) {
        lt->axis1 = parse_vector(P);
        opt_comma(P);
        lt->axis2 = parse_vector(P);
        opt_comma(P);
        double n1 = parse_float(P, "area_light size 1");
        opt_comma(P);
        double n2 = parse_float(P, "area_light size 2");
        if (!(n1 >= 1 && n1 <= POV_AREA_MAX && n2 >= 1 && n2 <= POV_AREA_MAX))
            perr(P, tk->line, "area_light sizes must be 1..%u, got %g and %g", POV_AREA_MAX, n1, n2);
        lt->area_n1 = (uint32_t)n1, lt->area_n2 = (uint32_t)n2;
    } else if (!strcmp(w, "adaptive")) {
        double a = parse_float(P, "adaptive");
        if (!(a >= 0 && a <= 64))
            perr(P, tk->line, "adaptive must be 0..64, got %g", a);
        lt->adaptive = (uint32_t)a;
    } else if (!strcmp(w, "jitter")) {
        lt->area_flags = opt_bool(P, "jitter") ? lt->area_flags | AREA_JITTER
                                               : lt->area_flags & ~AREA_JITTER;
    } else if (!strcmp(w, "circular")) {
        lt->area_flags = opt_bool(P, "circular") ? lt->area_flags | AREA_CIRCULAR
                                                 : lt->area_flags & ~AREA_CIRCULAR;
    } else if (!strcmp(w, "orient")) {
        lt->area_flags = opt_bool(P, "orient") ? lt->area_flags | AREA_ORIENT
                                               : lt->area_flags & ~AREA_ORIENT;
    } else {
        return 0;
    }
    return 1;
}

/* light_source words other than transforms; 0 if the word is none of them. */
static int parse_light_word(parser *P, light *lt, vec3 *point_at, double *radius,
                            double *falloff, const token *tk)
{
    const char *w = tk->text;
    if (!strcmp(w, "shadowless"))
        lt->flags |= LIGHT_SHADOWLESS;
    else if (!strcmp(w, "parallel"))
        lt->flags |= LIGHT_PARALLEL;
    else if (!strcmp(w, "cylinder")) { /* POV-Ray: its defaults, set here, as distances */
        lt->type = LIGHT_CYLINDER;
        lt->flags |= LIGHT_PARALLEL;
        *radius = 0.75;
        *falloff = 1.0;
        lt->tightness = 0.0;
    }
    else if (!strcmp(w, "spotlight"))
        lt->type = LIGHT_SPOT;
    else if (!strcmp(w, "point_at"))
        *point_at = parse_vector(P);
    else if (!strcmp(w, "radius"))
        *radius = parse_float(P, "radius");
    else if (!strcmp(w, "falloff"))
        *falloff = parse_float(P, "falloff");
    else if (!strcmp(w, "tightness"))
        lt->tightness = parse_float(P, "tightness");
    else if (!strcmp(w, "fade_distance"))
        lt->fade_distance = parse_float(P, "fade_distance");
    else if (!strcmp(w, "fade_power"))
        lt->fade_power = parse_float(P, "fade_power");
    else
        return parse_area_word(P, lt, tk);
    return 1;
}

/* looks_like { OBJECT } or { IDENT }: drawn without shadow, moved to the light's final
   position. POV-Ray applies modifiers after the object once it has moved it to the light:
   refused here. */
static void parse_looks_like(parser *P, size_t *from)
{
    expect(P, "{", "after 'looks_like'");
    symbol *s = peek(P)->kind == T_IDENT ? find_sym(P, peek(P)->text) : NULL;
    if (s && (s->v.kind == V_OBJECT || s->v.kind == V_BROKEN)) {
        token id = next(P);
        if (s->v.kind == V_BROKEN)
            perr(P, id.line, "'%s' cannot be used: %s", id.text, s->v.str);
        if (!is_punct(P, "}"))
            perr(P, peek(P)->line, "unsupported: '%s' after an object in looks_like",
                 peek(P)->text);
        const plist *src = s->v.obj;
        *from = P->sc->out.n;
        uint32_t nd = plist_append(P, &P->sc->out, src);
        object_mods(P, &P->sc->out, *from, nd, src->is_group || src->n != 1, "object");
        return;
    }
    token kw = next(P);
    if (kw.kind != T_IDENT || !is_object_word(kw.text))
        perr(P, kw.line, "expected an object in looks_like, got '%s'", kw.text);
    *from = P->sc->out.n;
    parse_object(P, &P->sc->out, &kw);
    expect(P, "}", "to close looks_like");
}

/* projected_through { OBJECT } or { IDENT }: objects only this light sees, through which
   alone it reaches a point (POV-Ray's TracePointLightShadowRay); its later transforms move
   them too. They are the scene's objects from *from on, never drawn (PRIM_PROJECTOR). */
static void parse_projector(parser *P, light *lt, size_t *from, int in_group, int line)
{
    if (in_group)
        perr(P, line, "unsupported: projected_through on a light_source inside a CSG block");
    if (lt->proj_n)
        perr(P, line, "a light_source takes one projected_through");
    plist *out = &P->sc->out;
    *from = out->n;
    expect(P, "{", "after 'projected_through'");
    symbol *s = peek(P)->kind == T_IDENT ? find_sym(P, peek(P)->text) : NULL;
    token kw = next(P);
    if (s && s->v.kind == V_BROKEN)
        perr(P, kw.line, "'%s' cannot be used: %s", kw.text, s->v.str);
    if (s && s->v.kind == V_OBJECT) {
        uint32_t nd = plist_append(P, out, s->v.obj);
        object_mods(P, out, *from, nd, s->v.obj->is_group || s->v.obj->n != 1, "object");
    } else if (kw.kind == T_IDENT && is_object_word(kw.text)) {
        parse_object(P, out, &kw);
        expect(P, "}", "to close projected_through");
    } else {
        perr(P, kw.line, "expected an object in projected_through, got '%s'", kw.text);
    }
    if (out->n == *from)
        perr(P, line, "projected_through needs an object with a surface");
    set_flags(out, *from, PRIM_PROJECTOR);
    lt->proj_first = (uint32_t)*from;
    lt->proj_n = (uint32_t)(out->n - *from);
}

/* The looks_like object (the scene's objects from `from` on) moved to the light's position
   when it is read; the light's later transforms move both. */
static void looks_at_light(parser *P, size_t from, vec3 pos)
{
    transform t = {'t', pos, xf_identity(), xf_identity()};
    t.fwd.m[0][3] = pos.x, t.fwd.m[1][3] = pos.y, t.fwd.m[2][3] = pos.z;
    t.inv.m[0][3] = -pos.x, t.inv.m[1][3] = -pos.y, t.inv.m[2][3] = -pos.z;
    transform_list(P, &P->sc->out, from, &t);
}

static void finish_light(parser *P, light *lt, vec3 point_at, double radius, double falloff,
                         size_t looks_from, int line)
{
    if (lt->type == LIGHT_CYLINDER) {
        if (!(falloff > 0.0) || radius < 0.0)
            perr(P, line, "cylinder light: falloff must be positive and radius not negative");
        lt->cos_radius = radius; /* distances (scene.h) */
        lt->cos_falloff = falloff;
    }
    if (lt->flags & LIGHT_PARALLEL) {
        lt->point_at = point_at;
        vec3 d = vsub(point_at, lt->pos);
        if (vlen(d) == 0.0)
            perr(P, line, "parallel light: point_at equals the light's location");
        lt->dir = vnorm(d);
    }
    if (lt->type == LIGHT_SPOT) {
        vec3 d = vsub(point_at, lt->pos);
        if (vlen(d) == 0.0)
            perr(P, line, "spotlight: point_at equals the light's location");
        lt->dir = vnorm(d);
        lt->cos_radius = rt_cos(radius * (RT_PI / 180.0));
        lt->cos_falloff = rt_cos(falloff * (RT_PI / 180.0));
    }
    if (lt->fade_power > 0.0 && !(lt->fade_distance > 0.0))
        perr(P, line, "fade_power needs a positive fade_distance");
    if (lt->fade_power < 0.0)
        perr(P, line, "fade_power must not be negative");
    if (!lt->area_n1 && (lt->area_flags || lt->adaptive))
        lt->area_flags = lt->adaptive = 0; /* POV-Ray ignores them without area_light */
    if ((lt->area_flags & AREA_CIRCULAR) && (lt->area_n1 < 2 || lt->area_n2 < 2))
        perr(P, line, "unsupported: a circular area_light of less than 2 x 2 lights");
    plist *out = &P->sc->out;
    if (looks_from == SIZE_MAX)
        return;
    for (size_t i = looks_from; i < out->n; i++) {
        out->v[i].p.flags |= PRIM_NO_SHADOW;
        if (!out->v[i].textured)
            apply_texture(&out->v[i], &P->sc->def);
    }
}

static void parse_light(parser *P, int in_group)
{
    struct pov_scene_state *c = P->sc;
    int line = peek(P)->line;
    expect(P, "{", "after 'light_source'");
    light lt;
    memset(&lt, 0, sizeof lt);
    lt.pos = parse_vector(P);
    opt_comma(P);
    lt.color = rgb_of(parse_colour5(P));
    vec3 point_at = v3(0, 0, 1);
    double radius = 30.0, falloff = 45.0; /* POV-Ray's spotlight defaults */
    size_t looks_from = SIZE_MAX, proj_from = SIZE_MAX;
    for (;;) {
        transform t;
        if (is_punct(P, "}")) {
            next(P);
            break;
        }
        if (parse_transform(P, &t)) {
            lt.pos = xf_point(&t.fwd, lt.pos);
            point_at = xf_point(&t.fwd, point_at);
            lt.axis1 = xf_dir(&t.fwd, lt.axis1);
            lt.axis2 = xf_dir(&t.fwd, lt.axis2);
            size_t moved = looks_from < proj_from ? looks_from : proj_from;
            if (moved != SIZE_MAX) /* looks_like and projected_through move with the light */
                transform_list(P, &c->out, moved, &t);
            continue;
        }
        token tk = next(P);
        if (tk.kind == T_IDENT && parse_light_word(P, &lt, &point_at, &radius, &falloff, &tk))
            continue;
        if (tk.kind == T_IDENT && !strcmp(tk.text, "projected_through")) {
            parse_projector(P, &lt, &proj_from, in_group, tk.line);
            continue;
        }
        if (tk.kind == T_IDENT && !strcmp(tk.text, "looks_like") && in_group)
            perr(P, tk.line, "unsupported: looks_like on a light_source inside a CSG block");
        if (tk.kind == T_IDENT && !strcmp(tk.text, "looks_like") && looks_from == SIZE_MAX) {
            parse_looks_like(P, &looks_from);
            looks_at_light(P, looks_from, lt.pos); /* where the light is now, as POV-Ray */
            continue;
        }
        perr(P, tk.line, "unsupported word '%s' in light_source", tk.text);
    }
    finish_light(P, &lt, point_at, radius, falloff, looks_from, line);
    if (c->nlights == c->caplights) {
        c->caplights = c->caplights ? c->caplights * 2 : 8;
        c->lights = xrealloc(P, c->lights, c->caplights * sizeof *c->lights);
    }
    c->lights[c->nlights++] = lt;
}

/* sky_sphere { [IDENT] pigment { }... transforms }: the sky's pigments into sky[], their
   number into *has. The sky's own transforms apply to all its pigments wherever they stand. */
static void parse_sky_body(parser *P, pigment *sky, int *has)
{
    expect(P, "{", "after 'sky_sphere'");
    transform acc = {.kind = 'm', .fwd = xf_identity(), .inv = xf_identity()};
    token *first = peek(P);
    symbol *s = first->kind == T_IDENT ? find_sym(P, first->text) : NULL;
    if (s && s->v.kind == V_BROKEN)
        perr(P, first->line, "'%s' cannot be used: %s", first->text, s->v.str);
    int layers = 0, moved = 0;
    if (s && s->v.kind == V_SKY) {
        next(P);
        layers = s->v.n;
        memcpy(sky, s->v.sky, (size_t)layers * sizeof *sky);
    }
    for (;;) {
        transform t;
        if (is_punct(P, "}")) {
            next(P);
            break;
        }
        if (parse_transform(P, &t)) {
            acc.fwd = xf_compose(&t.fwd, &acc.fwd);
            acc.inv = xf_compose(&acc.inv, &t.inv);
            moved = 1;
            continue;
        }
        token tk = next(P);
        if (tk.kind == T_IDENT && !strcmp(tk.text, "pigment")) {
            if (layers == POV_SKY_MAX)
                perr(P, tk.line, "unsupported: more than %d pigments in sky_sphere", POV_SKY_MAX);
            sky[layers] = default_pigment();
            parse_pigment_body(P, &sky[layers++]);
            continue;
        }
        perr(P, tk.line, "unsupported word '%s' in sky_sphere", tk.text);
    }
    *has = layers;
    for (int i = 0; i < layers; i++) {
        if (moved)
            pig_transform(&sky[i], &acc);
        check_map(P, &sky[i], P->line);
    }
}

static void parse_sky(parser *P)
{
    parse_sky_body(P, P->sc->sky, &P->sc->has_sky);
}

/* fog turbulence words: turbulence, octaves, omega, lambda, turb_depth */
static int parse_fog_turbulence(parser *P, fog *f, const token *t)
{
    if (!f->has_turb) { /* POV-Ray's classic turbulence defaults */
        f->turb.type = PIG_BOZO;
        f->turb.octaves = 6;
        f->turb.omega = 0.5;
        f->turb.lambda = 2.0;
        f->turb.frequency = 1.0;
        f->turb.exponent = 1.0;
        f->turb.noise_gen = 0; /* the scene's, set at the end */
    }
    const char *w = t->text;
    if (!strcmp(w, "turbulence"))
        f->turb.turb = parse_vector(P);
    else if (!strcmp(w, "octaves")) {
        double o = parse_float(P, "octaves");
        f->turb.octaves = o < 1 ? 1 : o > 10 ? 10 : (uint32_t)o;
    } else if (!strcmp(w, "omega"))
        f->turb.omega = parse_float(P, "omega");
    else if (!strcmp(w, "lambda"))
        f->turb.lambda = parse_float(P, "lambda");
    else if (!strcmp(w, "turb_depth"))
        f->turb_depth = parse_float(P, "turb_depth");
    else
        return 0;
    f->has_turb = 1;
    return 1;
}

/* fog { [fog_type 1|2] distance D colour [fog_offset O] [fog_alt A] [up V] } */
static void parse_fog(parser *P)
{
    struct pov_scene_state *c = P->sc;
    int line = peek(P)->line;
    expect(P, "{", "after 'fog'");
    fog f;
    memset(&f, 0, sizeof f);
    f.type = FOG_CONSTANT;
    f.alt = 1.0;
    f.up = v3(0, 1, 0);
    f.turb_depth = 0.5;
    for (;;) {
        if (is_punct(P, "}")) {
            next(P);
            break;
        }
        token *tk = peek(P);
        if (starts_colour(P) || tk->kind == T_PUNCT ||
            (tk->kind == T_IDENT && find_sym(P, tk->text))) {
            value col = parse_colour5(P);
            f.colour = rgb_of(col);
            f.filter = col.c[3];
            f.transmit = col.c[4];
            continue;
        }
        token t = next(P);
        if (t.kind == T_IDENT && !strcmp(t.text, "fog_type")) {
            double ty = parse_float(P, "fog_type");
            if (!(ty == 1 || ty == 2))
                perr(P, t.line, "fog_type must be 1 or 2, got %g", ty);
            f.type = (uint32_t)ty;
        } else if (t.kind == T_IDENT && !strcmp(t.text, "distance")) {
            f.distance = parse_float(P, "the fog distance");
        } else if (t.kind == T_IDENT && !strcmp(t.text, "fog_offset")) {
            f.offset = parse_float(P, "fog_offset");
        } else if (t.kind == T_IDENT && !strcmp(t.text, "fog_alt")) {
            f.alt = parse_float(P, "fog_alt");
            if (f.alt == 0.0)
                perr(P, t.line, "fog_alt must not be 0");
        } else if (t.kind == T_IDENT && parse_fog_turbulence(P, &f, &t)) {
            continue;
        } else if (t.kind == T_IDENT && !strcmp(t.text, "up")) {
            f.up = parse_vector(P);
            if (vlen(f.up) == 0.0)
                perr(P, t.line, "the fog's up vector must not be 0");
            f.up = vnorm(f.up);
        } else {
            perr(P, t.line, "unsupported word '%s' in fog", t.text);
        }
    }
    if (rt_fabs(f.distance) <= 1e-10) /* POV-Ray ignores a fog without distance */
        return;
    if (!(f.distance > 0.0))
        perr(P, line, "fog distance must be positive, got %g", f.distance);
    if (c->nfogs == POV_MAX_FOGS)
        perr(P, line, "more than %d fogs", POV_MAX_FOGS);
    c->fogs[c->nfogs++] = f;
}

/* The global settings a pattern takes at the end of the scene: noise_generator, and
   number_of_waves for waves and ripples (arg[0]). */
static void resolve_noise(parser *P, pigment *pg)
{
    if (pg->type >= PIG_GRADIENT && pg->noise_gen == 0)
        pg->noise_gen = P->sc->noise_gen;
    if (pg->type == PIG_WAVES || pg->type == PIG_RIPPLES)
        pg->arg[0] = P->sc->n_waves ? P->sc->n_waves : 10;
}

#include "rainbow_parse.c"

void fn_scratch_begin(parser *P, size_t mark[3])
{
    mark[0] = P->sc->nmaps;
    mark[1] = P->sc->npent;
    fn_pool_pigments(P, &mark[2]);
}

void fn_scratch_scene(parser *P, scene *s, const size_t mark[3])
{
    size_t n;
    pigment *pigs = fn_pool_pigments(P, &n);
    for (size_t i = mark[2]; i < n; i++) /* the call's pigments, as the scene's end would */
        resolve_noise(P, &pigs[i]);
    memset(s, 0, sizeof *s);
    fn_pool_view(P, s);
    s->maps = P->sc->maps;
    s->n_maps = (uint32_t)P->sc->nmaps;
    s->pentries = P->sc->pent;
    s->n_pentries = (uint32_t)P->sc->npent;
    s->noise_generator = P->sc->noise_gen;
    warp_pool_view(P, s);
    pattern_init();
    fn_bind(s);
    warp_bind(s);
}

void fn_scratch_end(parser *P, const size_t mark[3])
{
    P->sc->nmaps = mark[0];
    P->sc->npent = mark[1];
    fn_pool_drop_pigments(P, mark[2]);
    fn_bind(NULL);
    warp_bind(NULL);
}

static void parse_statement(parser *P)
{
    token t = next(P);
    if (t.kind != T_IDENT)
        perr(P, t.line, "unexpected '%s' at the top level", t.text);
    if (!strcmp(t.text, "camera")) {
        parse_camera(P, &P->sc->cam);
    } else if (!strcmp(t.text, "global_settings")) {
        parse_global(P);
    } else if (!strcmp(t.text, "background")) {
        expect(P, "{", "after 'background'");
        P->sc->background = rgb_of(parse_colour5(P));
        expect(P, "}", "to close background");
    } else if (!strcmp(t.text, "light_source")) {
        parse_light(P, 0);
    } else if (!strcmp(t.text, "default")) { /* the old spelling of #default */
        parse_default(P);
    } else if (!strcmp(t.text, "fog")) {
        parse_fog(P);
    } else if (!strcmp(t.text, "rainbow")) {
        parse_rainbow(P);
    } else if (!strcmp(t.text, "sky_sphere")) {
        parse_sky(P);
    } else if (is_object_word(t.text)) {
        size_t from = P->sc->out.n;
        parse_object(P, &P->sc->out, &t);
        for (size_t i = from; i < P->sc->out.n; i++)
            if (!P->sc->out.v[i].textured) {
                apply_texture(&P->sc->out.v[i], &P->sc->def);
                check_map(P, &P->sc->out.v[i].p.pig, t.line);
            }
    } else {
        perr(P, t.line, "unsupported word '%s'", t.text);
    }
}

void scene_free(scene *s)
{
    free(s->data);
    s->data = NULL;
    free(s->nodes);
    free(s->kids);
    free(s->conds);
    s->nodes = NULL;
    s->kids = NULL;
    s->conds = NULL;
    free(s->maps);
    s->maps = NULL;
    free(s->pentries);
    s->pentries = NULL;
    free(s->nentries);
    s->nentries = NULL;
    free(s->layers);
    s->layers = NULL;
    free(s->tmaps);
    s->tmaps = NULL;
    free(s->tentries);
    s->tentries = NULL;
    free(s->funcs);
    free(s->fcode);
    free(s->fpigs);
    free(s->images);
    free(s->ipx);
    free(s->ilut);
    s->images = NULL;
    s->ipx = NULL;
    s->ilut = NULL;
    s->funcs = NULL;
    s->fcode = NULL;
    s->fpigs = NULL;
    free(s->lights);
    free(s->prims);
    s->lights = NULL;
    s->prims = NULL;
}

void pov_parse_opts_init(pov_parse_opts *o, uint32_t width, uint32_t height)
{
    memset(o, 0, sizeof *o);
    o->default_library_paths = 1;
    o->image_width = width;
    o->image_height = height;
}

int pov_parse_opts_add_path(pov_parse_opts *o, const char *dir)
{
    if (o->n_library_paths == POV_MAX_LIBRARY_PATHS)
        return -1;
    o->library_paths[o->n_library_paths++] = dir;
    return 0;
}

int pov_parse_cli_opt(pov_parse_opts *o, const char *prog, const char *a, const char *v,
                      int *consumed)
{
    int plus = a[0] == '+';
    if (!strcmp(a, "-L") || !strcmp(a, "--library-path") || !strncmp(a, "+L", 2)) {
        const char *dir = plus ? a + 2 : v;
        if (!dir || !*dir) {
            fprintf(stderr, "%s: %s needs a folder\n", prog, a);
            return -1;
        }
        if (pov_parse_opts_add_path(o, dir) < 0) {
            fprintf(stderr, "%s: too many library paths (max %d)\n", prog, POV_MAX_LIBRARY_PATHS);
            return -1;
        }
        *consumed = plus ? 1 : 2;
        return 1;
    }
    if (!strcmp(a, "-K") || !strcmp(a, "--clock") || !strncmp(a, "+K", 2)) {
        const char *k = plus ? a + 2 : v;
        char *end = NULL;
        errno = 0;
        o->clock = k ? strtod(k, &end) : 0.0;
        if (!k || !*k || *end || errno || !(o->clock == o->clock)) {
            fprintf(stderr, "%s: %s needs a number, got '%s'\n", prog, a, k ? k : "");
            return -1;
        }
        *consumed = plus ? 1 : 2;
        return 1;
    }
    return 0;
}

#ifndef POV_SYSTEM_INI
#define POV_SYSTEM_INI "/etc/povray/3.7/povray.ini"
#endif

/* Library_Path entries of POV-Ray's own povray.ini, appended to o (kept in buf). */
static void add_ini_paths(pov_parse_opts *o, char *buf, size_t cap)
{
    FILE *f = fopen(POV_SYSTEM_INI, "r");
    if (!f)
        return;
    char line[1024];
    size_t used = 0;
    while (fgets(line, sizeof line, f)) {
        char *p = line;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "Library_Path", 12) != 0)
            continue;
        p += 12;
        while (*p == ' ' || *p == '\t' || *p == '=')
            p++;
        if (*p == '"')
            p++;
        size_t n = strcspn(p, "\";\r\n");
        while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
            n--;
        if (!n || used + n + 1 > cap || o->n_library_paths == POV_MAX_LIBRARY_PATHS)
            continue;
        memcpy(buf + used, p, n);
        buf[used + n] = 0;
        o->library_paths[o->n_library_paths++] = buf + used;
        used += n + 1;
    }
    fclose(f);
}

/* The scene's texture tables as they are filled (scene.layers, tmaps, tentries). */
typedef struct {
    tlayer *layers;
    size_t nlayers, caplayers;
    tmap *tmaps;
    size_t ntmaps, captmaps;
    tentry *tentries;
    size_t ntentries, captentries;
} tex_tables;

static void *grow(parser *P, void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    *cap = need * 2;
    void *q = realloc(p, *cap * size);
    if (!q) {
        free(p);
        perr(P, P->line, "out of memory");
    }
    return q;
}

/* A surface's pigment and normal ready to render: default colour map, noise generator. */
static void finish_surface(parser *P, pigment *pig, tnormal *nrm)
{
    check_map(P, pig, P->line);
    resolve_noise(P, pig);
    if (nrm->type != NRM_NONE)
        resolve_noise(P, &nrm->pat);
}

/* The layers under a top layer, appended to the layer table: their range. */
static void add_layers(parser *P, tex_tables *t, const texture *below, uint32_t *first,
                       uint32_t *n)
{
    *first = (uint32_t)t->nlayers;
    for (const texture *b = below; b; b = b->below) {
        if (t->nlayers - *first >= POV_MAX_LAYERS - 1)
            perr(P, P->line, "unsupported: a texture of more than %d layers", POV_MAX_LAYERS - 1);
        t->layers = grow(P, t->layers, &t->caplayers, t->nlayers + 1, sizeof *t->layers);
        tlayer *ly = &t->layers[t->nlayers++];
        ly->pig = b->pig;
        ly->fin = b->fin;
        ly->nrm = b->nrm;
        finish_surface(P, &ly->pig, &ly->nrm);
    }
    *n = (uint32_t)t->nlayers - *first;
}

/* A patterned texture appended to the tables: 1 + its index (prim.tmap). The patterned
   textures among its entries go first, so each map refers only to maps before it. */
static uint32_t add_tmap(parser *P, tex_tables *t, const tmapdef *m)
{
    uint32_t sub[POV_MAP_MAX];
    for (uint32_t i = 0; i < m->n; i++)
        sub[i] = m->e[i].map ? add_tmap(P, t, m->e[i].map) : 0;
    t->tentries = grow(P, t->tentries, &t->captentries, t->ntentries + m->n, sizeof *t->tentries);
    uint32_t first = (uint32_t)t->ntentries;
    t->ntentries += m->n;
    for (uint32_t i = 0; i < m->n; i++) {
        tentry *e = &t->tentries[first + i];
        memset(e, 0, sizeof *e);
        e->v = m->v[i];
        e->tmap = sub[i]; /* then the surface below is a default one, unused */
        e->pig = m->e[i].pig;
        e->fin = m->e[i].fin;
        e->nrm = m->e[i].nrm;
        finish_surface(P, &e->pig, &e->nrm);
        add_layers(P, t, m->e[i].below, &e->layer_first, &e->layer_n);
    }
    t->tmaps = grow(P, t->tmaps, &t->captmaps, t->ntmaps + 1, sizeof *t->tmaps);
    tmap *tm = &t->tmaps[t->ntmaps++];
    tm->pat = m->pat;
    resolve_noise(P, &tm->pat);
    tm->first = first;
    tm->n = m->n;
    return (uint32_t)t->ntmaps;
}

/* The layers under each object's top surface and its patterned texture, as the scene's
   tables (scene.layers, tmaps, tentries; prim.layer_first/layer_n, prim.tmap). */
static uint32_t add_inside(parser *P, tex_tables *t, const texture *in)
{
    t->tentries = grow(P, t->tentries, &t->captentries, t->ntentries + 1, sizeof *t->tentries);
    uint32_t at = (uint32_t)t->ntentries++;
    tentry *e = &t->tentries[at];
    memset(e, 0, sizeof *e);
    e->pig = in->pig;
    e->fin = in->fin;
    e->nrm = in->nrm;
    finish_surface(P, &e->pig, &e->nrm);
    add_layers(P, t, in->below, &t->tentries[at].layer_first, &t->tentries[at].layer_n);
    return at + 1;
}

static void flatten_textures(parser *P, const plist *l, scene *out)
{
    tex_tables t = {0};
    for (size_t i = 0; i < l->n; i++) {
        prim *p = &out->prims[i];
        add_layers(P, &t, l->v[i].below, &p->layer_first, &p->layer_n);
        p->tmap = l->v[i].map ? add_tmap(P, &t, l->v[i].map) : 0;
        p->inside_tex = l->v[i].inside ? add_inside(P, &t, l->v[i].inside) : 0;
    }
    out->n_layers = (uint32_t)t.nlayers, out->layers = t.layers;
    out->n_tmaps = (uint32_t)t.ntmaps, out->tmaps = t.tmaps;
    out->n_tentries = (uint32_t)t.ntentries, out->tentries = t.tentries;
}

static int parse_main(const char *name, const char *src, const pov_parse_opts *opts_in,
                      scene *out, char *err, size_t errlen)
{
    parser *P = calloc(1, sizeof *P);
    struct pov_scene_state *c = calloc(1, sizeof *c);
    pov_parse_opts *opts = malloc(sizeof *opts);
    char *inibuf = malloc(8192);
    if (!P || !c || !opts || !inibuf) {
        free(P), free(c), free(opts), free(inibuf);
        snprintf(err, errlen, "%s: out of memory", name);
        return -1;
    }
    *opts = *opts_in;
    if (opts->default_library_paths)
        add_ini_paths(opts, inibuf, 8192);
    jmp_buf jb;
    P->jb = &jb;
    P->sc = c;
    P->opts = opts;
    P->err = err;
    P->errlen = errlen;
    P->version = 3.62; /* POV-Ray 3.7 without #version */
    P->working_gamma = 1.0;
    const char *slash = strrchr(name, '/');
    if (slash)
        snprintf(P->main_dir, sizeof P->main_dir, "%.*s", (int)(slash - name), name);
    else
        snprintf(P->main_dir, sizeof P->main_dir, ".");
    lex_init(P, name, src);
    camera_defaults(&c->cam);
    c->background = v3(0, 0, 0);
    c->max_trace = 5;
    c->adc_bailout = 1.0 / 255.0;
    c->assumed_gamma = -1.0;
    c->noise_gen = 2;
    c->irid_wl = v3(0.70, 0.52, 0.48); /* POV-Ray 3.7's defaults (scenedata.cpp) */
    c->def.pig = default_pigment();
    c->def.fin = default_finish();
    int rc = -1;
    memset(out, 0, sizeof *out);
    if (setjmp(jb) == 0) {
        while (peek(P)->kind != T_EOF)
            parse_statement(P);
        finish_camera(P, out);
        out->background = c->background;
        out->max_trace_level = c->max_trace;
        out->adc_bailout = c->adc_bailout;
        out->irid_wavelength = c->irid_wl;
        out->noise_generator = c->noise_gen;
        /* POV-Ray 3.7: no assumed_gamma in a scene older than 3.7 turns gamma off */
        out->gamma = c->assumed_gamma > 0 ? c->assumed_gamma : P->version < 3.695 ? 0.0 : 1.0;
        out->n_lights = (uint32_t)c->nlights;
        out->lights = c->lights;
        c->lights = NULL;
        out->n_prims = (uint32_t)c->out.n;
        out->prims = malloc(sizeof(prim) * (c->out.n + 1));
        if (!out->prims)
            perr(P, P->line, "out of memory");
        for (size_t i = 0; i < c->out.n; i++) {
            out->prims[i] = c->out.v[i].p;
            resolve_noise(P, &out->prims[i].pig);
            if (out->prims[i].nrm.type != NRM_NONE)
                resolve_noise(P, &out->prims[i].nrm.pat);
        }
        flatten_textures(P, &c->out, out);
        plist_to_scene(P, &c->out, out);
        out->n_data = (uint32_t)P->ndata;
        out->data = P->data;
        P->data = NULL;
        for (size_t i = 0; i < c->out.n; i++)
            out->prims[i].d = out->data + out->prims[i].data_first;
        out->n_maps = (uint32_t)c->nmaps;
        out->maps = c->maps;
        c->maps = NULL;
        for (size_t i = 0; i < c->npent; i++)
            resolve_noise(P, &c->pent[i].pig);
        out->n_pentries = (uint32_t)c->npent;
        out->pentries = c->pent;
        c->pent = NULL;
        for (size_t i = 0; i < c->nnent; i++)
            resolve_noise(P, &c->nent[i].n.pat);
        out->n_nentries = (uint32_t)c->nnent;
        out->nentries = c->nent;
        c->nent = NULL;
        fn_pool_to_scene(P, out);
        image_pool_to_scene(P, out);
        warp_pool_to_scene(P, out);
        for (uint32_t i = 0; i < out->n_fpigs; i++)
            resolve_noise(P, &out->fpigs[i]);
        out->n_rainbows = c->nrainbows;
        memcpy(out->rainbows, c->rainbows, sizeof c->rainbows);
        for (uint32_t i = 0; i < out->n_rainbows; i++)
            resolve_noise(P, &out->rainbows[i].pig);
        out->n_fogs = c->nfogs;
        memcpy(out->fogs, c->fogs, sizeof c->fogs);
        for (uint32_t i = 0; i < out->n_fogs; i++)
            if (out->fogs[i].has_turb)
                resolve_noise(P, &out->fogs[i].turb);
        out->has_sky = (uint32_t)c->has_sky;
        out->sky_legacy = P->version < 3.695;
        for (int i = 0; i < c->has_sky; i++) {
            out->sky[i] = c->sky[i];
            resolve_noise(P, &out->sky[i]);
        }
        rc = 0;
    }
    for (size_t k = 0; k < P->nscopes; k++)
        free(P->scopes[k].v), free(P->scopes[k].slot);
    for (size_t i = 0; i < P->npool; i++)
        free(P->pool[i]);
    free(P->pool);
    plist_free(&c->out);
    free(P->data);
    fn_pool_free(P);
    image_pool_free(P);
    warp_pool_free(P);
    free(P->rand_state);
    free(c->lights);
    free(c->maps);
    free(c->pent);
    free(c->nent);
    free(c);
    free(P);
    free(opts);
    free(inibuf);
    return rc;
}

int pov_parse_string(const char *name, const char *src, scene *out, char *err, size_t errlen)
{
    pov_parse_opts o;
    pov_parse_opts_init(&o, 0, 0);
    return parse_main(name, src, &o, out, err, errlen);
}

static char *slurp(const char *path, char *err, size_t errlen)
{
    size_t n;
    errno = 0;
    char *buf = pov_read_file(path, &n);
    if (!buf) {
        snprintf(err, errlen, "%s: cannot open or read: %s", path,
                 strerror(errno ? errno : EIO));
        return NULL;
    }
    if (memchr(buf, 0, n)) {
        snprintf(err, errlen, "%s: binary file (contains NUL bytes), not a scene", path);
        free(buf);
        return NULL;
    }
    return buf;
}

int pov_parse_file_opts(const char *path, const pov_parse_opts *opts, scene *out, char *err,
                        size_t errlen)
{
    char *buf = slurp(path, err, errlen);
    if (!buf)
        return -1;
    int rc = parse_main(path, buf, opts, out, err, errlen);
    free(buf);
    return rc;
}

int pov_parse_file(const char *path, scene *out, char *err, size_t errlen)
{
    pov_parse_opts o;
    pov_parse_opts_init(&o, 0, 0);
    return pov_parse_file_opts(path, &o, out, err, errlen);
}
