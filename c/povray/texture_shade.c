/* texture_shade.c -- what a ray sees of an object's texture: one surface with the layers
 * under it (texture { } texture { }), or a patterned texture whose pattern picks one such
 * surface or blends two (checker/hexagon/brick textures, texture_map). Included by render.c
 * (freestanding: the sandboxed client renders with it too). */

static void add_lights(const render_ctx *ctx, const finish *f, vec3 P, vec3 N, vec3 D, vec3 pig,
                       double opacity, int two_sided, vec3 *col);

/* A top layer and the layers under it (scene.layers[layer_first .. + layer_n)). */
typedef struct {
    const pigment *pig;
    const finish *fin;
    const tnormal *nrm;
    uint32_t layer_first, layer_n;
} surface;

static surface surface_of_prim(const prim *p)
{
    return (surface){&p->pig, &p->fin, &p->nrm, p->layer_first, p->layer_n};
}

static surface surface_of_entry(const tentry *e)
{
    return (surface){&e->pig, &e->fin, &e->nrm, e->layer_first, e->layer_n};
}

/* Layer k of a surface: 0 is its top, then those under it. */
static void layer_of(const scene *s, const surface *sf, uint32_t k, const pigment **pig,
                     const finish **fin, const tnormal **nrm)
{
    if (k == 0) {
        *pig = sf->pig, *fin = sf->fin, *nrm = sf->nrm;
        return;
    }
    const tlayer *l = &s->layers[sf->layer_first + k - 1];
    *pig = &l->pig, *fin = &l->fin, *nrm = &l->nrm;
}

/* An average texture (texture { average texture_map { [w T]... } }): each entry's weight,
   w over the sum of the weights, as POV-Ray averages whole textures; 0 for other maps. */
static double average_weight(const scene *s, const tmap *m, uint32_t i)
{
    double sum = 0.0;
    for (uint32_t k = 0; k < m->n; k++)
        sum += s->tentries[m->first + k].v;
    return sum > 0.0 ? s->tentries[m->first + i].v / sum : 0.0;
}

/* Where a patterned texture's entries are evaluated: the map's own point, its transforms and
   warps applied to Q (POV-Ray's ComputeOneTextureColour hands its Warp_EPoint on as the
   entries' ipoint), so what transforms the map moves its entries too. */
static vec3 tmap_point(const tmap *m, vec3 Q)
{
    return pattern_warp(&m->pat, pattern_space(&m->pat, Q));
}

/* The entries of patterned texture m at its point q (tmap_point), as POV-Ray's blend map
   search finds them: one (returns 1, *ia) or two blended (returns 2: *ia with weight *wa,
   *ib with 1 - *wa). */
static int tmap_pick(const scene *s, const tmap *m, vec3 q, uint32_t *ia, uint32_t *ib,
                     double *wa)
{
    double v = pattern_value_warped(&m->pat, q);
    const tentry *e = &s->tentries[m->first];
    uint32_t last = m->n - 1, i = 0;
    if (v >= e[last].v) {
        *ia = m->first + last;
        return 1;
    }
    while (v > e[i].v)
        i++;
    *ia = m->first + i;
    if (v == e[i].v || i == 0)
        return 1;
    *ib = m->first + i - 1;
    *wa = (v - e[i - 1].v) / (e[i].v - e[i - 1].v);
    return 2;
}

/* What a surface lets through at Q: the product of colour * filter + transmit over every
   layer; zero when a layer is opaque. */
static vec3 surface_filter(const scene *s, const surface *sf, vec3 Q)
{
    vec3 f = v3(1.0, 1.0, 1.0);
    for (uint32_t k = 0; k <= sf->layer_n; k++) {
        const pigment *pg;
        const finish *fin;
        const tnormal *nr;
        layer_of(s, sf, k, &pg, &fin, &nr);
        double ft[2];
        vec3 c = pigment_at(s, pg, Q, ft);
        if (ft[0] == 0.0 && ft[1] == 0.0)
            return v3(0.0, 0.0, 0.0);
        f = vmul(f, v3(c.x * ft[0] + ft[1], c.y * ft[0] + ft[1], c.z * ft[0] + ft[1]));
    }
    return f;
}

static vec3 map_filter(const scene *s, const tmap *m, vec3 Q);

/* What a texture_map entry lets through at Q: its surface, or its own patterned texture. */
static vec3 entry_filter(const scene *s, const tentry *e, vec3 Q)
{
    if (e->tmap)
        return map_filter(s, &s->tmaps[e->tmap - 1], Q);
    surface sf = surface_of_entry(e);
    return surface_filter(s, &sf, Q);
}

/* What patterned texture m lets through at Q: its entries' filters, weighted (average) or
   the one or two its pattern picks, blended. */
static vec3 map_filter(const scene *s, const tmap *m, vec3 Q)
{
    Q = tmap_point(m, Q);
    if (m->pat.type == PIG_AVERAGE) {
        vec3 f = v3(0.0, 0.0, 0.0);
        for (uint32_t i = 0; i < m->n; i++)
            f = vadd(f, vscale(entry_filter(s, &s->tentries[m->first + i], Q),
                               average_weight(s, m, i)));
        return f;
    }
    uint32_t ia, ib = 0;
    double wa = 1.0;
    int n = tmap_pick(s, m, Q, &ia, &ib, &wa);
    vec3 fa = entry_filter(s, &s->tentries[ia], Q);
    if (n == 1)
        return fa;
    return vadd(vscale(fa, wa), vscale(entry_filter(s, &s->tentries[ib], Q), 1.0 - wa));
}

/* What object p lets through at Q (a shadow ray crossing it; inside: where its surface
   faces away from the ray, its interior_texture if it has one). */
static vec3 texture_filter_at(const scene *s, const prim *p, vec3 Q, int inside)
{
    if (inside && p->inside_tex)
        return entry_filter(s, &s->tentries[p->inside_tex - 1], Q);
    if (p->tmap)
        return map_filter(s, &s->tmaps[p->tmap - 1], Q);
    surface sf = surface_of_prim(p);
    return surface_filter(s, &sf, Q);
}

/* The same, N being the surface's normal at Q facing against the shadow ray (POV-Ray's
   ComputeShadowColour hands it to the slope pattern). */
static vec3 texture_filter(const scene *s, const prim *p, vec3 Q, vec3 N, int inside)
{
    pattern_set_surface(Q, N);
    vec3 f = texture_filter_at(s, p, Q, inside);
    pattern_no_surface();
    return f;
}

static double sqr(double x) { return x * x; }

/* How much of a reflected ray a layer adds, at the cosine of the angle of incidence cosi,
   as POV-Ray 3.7 computes it (its trace.cpp: ComputeReflectivity, then the reflection's
   metallic tint); *w: the weight the reflected ray is traced with. Without interiors every
   object has POV-Ray's default index of refraction 1, for which Fresnel's term is 0. */
static inline __attribute__((always_inline)) vec3
layer_reflectivity(const finish *f, vec3 pig, double cosi, double ior, double *w)
{
    vec3 hi = f->reflection, lo = f->reflection_min, r;
    if (f->fresnel) {
        double sqx = ior * ior + cosi * cosi - 1.0, k = 1.0;
        if (sqx > 0.0) {
            double g = rt_sqrt(sqx);
            k = 0.5 * (sqr(g - cosi) / sqr(g + cosi));
            k *= 1.0 + sqr(cosi * (g + cosi) - 1.0) / sqr(cosi * (g - cosi) + 1.0);
            k = rt_fmin(1.0, rt_fmax(0.0, k));
        }
        r = vadd(vscale(hi, k), vscale(lo, 1.0 - k));
        *w *= max3(r);
    } else {
        *w *= rt_fmax(max3(hi), max3(lo));
        double frac = rt_fabs(f->reflection_falloff - 1.0) > POV_EPSILON
                      ? rt_pow(1.0 - cosi, f->reflection_falloff) : 1.0 - cosi;
        r = rt_fabs(frac) < POV_EPSILON ? lo : rt_fabs(frac - 1.0) < POV_EPSILON ? hi
            : vadd(vscale(hi, frac), vscale(lo, 1.0 - frac));
    }
    if (f->reflect_metallic != 0.0) {
        double m = f->reflect_metallic, x = rt_fabs(acos_det(cosi)) / (0.5 * RT_PI);
        double F = rt_fmin(1.0, rt_fmax(0.0, 0.014567225 / sqr(x - 1.12) - 0.011612903));
        r = v3(r.x * (1.0 + m * (1.0 - F) * (pig.x - 1.0)), r.y * (1.0 + m * (1.0 - F) * (pig.y - 1.0)),
               r.z * (1.0 + m * (1.0 - F) * (pig.z - 1.0)));
    }
    return r;
}

/* D mirrored by the (perturbed) normal LN; a ray that would leave below the surface (raw
   normal N) is mirrored again by N, as POV-Ray 3.7's ComputeReflection does. Unit length. */
static vec3 reflected(vec3 D, vec3 LN, vec3 N)
{
    vec3 R = vadd(D, vscale(LN, -2.0 * vdot(D, LN)));
    double n = vdot(R, N);
    if (n >= 0.0)
        return R; /* unit already (D and LN are): POV-Ray's normalisation changes nothing */
    R = vdot(R, LN) < 0.0 ? vadd(D, vscale(N, -2.0 * vdot(D, N))) : vadd(R, vscale(N, -2.0 * n));
    return vnorm(R);
}

static vec3 trace(const render_ctx *ctx, vec3 O, vec3 D, double weight, uint32_t level);
#include "interior.c"

static int reflects(const finish *f)
{
    return max3(f->reflection) > 0.0 || max3(f->reflection_min) > 0.0;
}

/* A layer that reflects, as the lighting pass saw it: its finish, perturbed normal and
   colour, and the weight of what reached it (the reflection pass needs nothing else). */
typedef struct {
    const finish *f;
    vec3 LN, pig;
    double weight;
    uint32_t k;
} reflecting_layer;

/* A layer's reflection at P (N: the raw normal, D: the ray). */
static inline __attribute__((always_inline)) vec3
layer_reflection(const render_ctx *ctx, const reflecting_layer *r, vec3 P, vec3 N, vec3 D,
                 uint32_t level, double ior)
{
    const finish *f = r->f;
    double w = r->weight;
    vec3 refl = layer_reflectivity(f, r->pig, -vdot(D, r->LN), ior, &w);
    if (refl.x == 0.0 && refl.y == 0.0 && refl.z == 0.0)
        return v3(0.0, 0.0, 0.0);
    vec3 R = reflected(D, r->LN, N);
    vec3 rc = trace(ctx, P, R, w, level);
    if (f->irid != 0.0)
        rc = irid_tint(ctx->s, f, R, D, r->LN, P, rc);
    if (f->reflection_exp != 1.0)
        rc = v3(rt_pow(rc.x, f->reflection_exp), rt_pow(rc.y, f->reflection_exp),
                rt_pow(rc.z, f->reflection_exp));
    return vmul(refl, rc);
}

/* Where a surface's textures are evaluated: Q, the hit point or, inside patterned textures,
   the last map's point (tmap_point), and the maps on the way there, whose transforms a
   layer's normal goes through before its own perturbation and back after (POV-Ray's
   warps list in ComputeLightedTexture). */
typedef struct {
    vec3 Q;
    const pigment *outer[POV_TMAP_DEPTH];
    uint32_t n;
} tex_at;

/* N perturbed by a layer's normal at `at`. */
static vec3 layer_normal(const scene *s, const tnormal *nr, const tex_at *at, vec3 N)
{
    for (uint32_t i = 0; i < at->n; i++)
        N = normal_to_pattern(at->outer[i], N);
    N = perturb_normal(s, nr, N, at->Q);
    for (uint32_t i = at->n; i-- > 0;)
        N = normal_from_pattern(at->outer[i], N);
    return N;
}

/* The colour at P of a surface, layer by layer from the top as POV-Ray 3.7 lights a
   layered texture (its trace.cpp, ComputeLightedTexture): each layer's ambient, emission,
   diffuse and highlights scaled by its opacity and by the filter of the layers above it
   (filcol, which each layer multiplies by colour * filter + transmit, and by 1 - its
   reflectivity with conserve_energy); what gets through every layer continues the ray;
   then each layer's reflection, weighted by what reached that layer. N faces the ray and
   is not perturbed yet: each layer perturbs it with its own normal. Its pigments and
   normals are evaluated where `at` says, the lights, reflections and refraction at P. */
static inline __attribute__((always_inline)) vec3
shade_surface(const render_ctx *ctx, const surface *sf, const prim *p, vec3 P, const tex_at *at,
              vec3 N, vec3 D, double depth, double weight, uint32_t level)
{
    const scene *s = ctx->s;
    double rior = interior_relative_ior(s, *ctx->media_cur, p);
    vec3 topN = N, curN = N; /* curN: the last layer's perturbed normal (POV-Ray's PNormal) */
    vec3 col = v3(0.0, 0.0, 0.0), filcol = v3(1.0, 1.0, 1.0);
    double trans = 1.0;
    reflecting_layer refl[POV_MAX_LAYERS];
    uint32_t nrefl = 0;
    for (uint32_t k = 0; k <= sf->layer_n && trans > s->adc_bailout; k++) {
        const pigment *pg;
        const finish *f;
        const tnormal *nr;
        layer_of(s, sf, k, &pg, &f, &nr);
        pattern_set_surface(P, curN); /* the slope pattern's normal, as POV-Ray's PNormal */
        vec3 LN = N;
        if (nr->type != NRM_NONE)
            LN = curN = layer_normal(s, nr, at, N);
        if (k == 0)
            topN = LN;
        double ft[2];
        pattern_set_surface(P, curN);
        vec3 pig = pigment_at(s, pg, at->Q, ft);
        pattern_no_surface();
        int clear = ft[0] != 0.0 || ft[1] != 0.0;
        double opacity = clear ? 1.0 - ft[0] - ft[1] : 1.0; /* POV-Ray 3.7's opacity() */
        vec3 lc = vmul(pig, f->ambient);
        if (clear)
            lc = vscale(lc, opacity);
        if (max3(f->emission) > 0.0)
            lc = vadd(lc, vscale(vmul(pig, f->emission), opacity));
        add_lights(ctx, f, P, LN, D, pig, opacity, (p->flags & PRIM_DOUBLE_ILLUMINATE) != 0,
                   &lc);
        col = vadd(col, vmul(lc, filcol));
        int reflecting = reflects(f);
        if (reflecting)
            refl[nrefl++] = (reflecting_layer){f, LN, pig, weight * trans, k};
        filcol = vmul(filcol, v3(pig.x * ft[0] + ft[1], pig.y * ft[0] + ft[1],
                                 pig.z * ft[0] + ft[1]));
        if (f->conserve_energy && reflecting) {
            double w = 1.0;
            vec3 r = layer_reflectivity(f, pig, -vdot(D, LN), rior, &w);
            filcol = vmul(filcol, v3(rt_fmin(1.0, 1.0 - r.x), rt_fmin(1.0, 1.0 - r.y),
                                     rt_fmin(1.0, 1.0 - r.z)));
        }
        trans = rt_fmin(1.0, rt_fabs(grey(filcol)));
    }
    int tir = 0;
    if (trans > s->adc_bailout) { /* the light through the surface (interior.c) */
        double w1 = rt_fmax(rt_fabs(filcol.x), rt_fmax(rt_fabs(filcol.y), rt_fabs(filcol.z)));
        vec3 tc = interior_transmit(ctx, p, P, topN, N, D, depth, weight * w1, level, &tir);
        col = vadd(col, tir ? tc : vmul(tc, filcol)); /* totally reflected: not filtered */
    }
    for (uint32_t i = 0; i < nrefl; i++) {
        if (tir && refl[i].k == 0) /* POV-Ray skips the reflections by the top normal */
            continue;
        col = vadd(col, layer_reflection(ctx, &refl[i], P, N, D, level, rior));
    }
    return col;
}

static vec3 shade_map(const render_ctx *ctx, const tmap *m, const prim *p, vec3 P,
                      const tex_at *at, vec3 N, vec3 D, double depth, double weight,
                      uint32_t level);

/* A texture_map entry's colour at P: its surface, or its own patterned texture. */
static vec3 shade_entry(const render_ctx *ctx, const tentry *e, const prim *p, vec3 P,
                        const tex_at *at, vec3 N, vec3 D, double depth, double weight,
                        uint32_t level)
{
    if (e->tmap)
        return shade_map(ctx, &ctx->s->tmaps[e->tmap - 1], p, P, at, N, D, depth, weight,
                         level);
    surface sf = surface_of_entry(e);
    return shade_surface(ctx, &sf, p, P, at, N, D, depth, weight, level);
}

/* A patterned texture's colour at P: the one or two entries its pattern picks, their lit
   colours blended as POV-Ray blends the textures of a texture_map, each evaluated at the
   map's point (an entry may be a patterned texture itself: the scene reader has checked they
   nest at most POV_TMAP_DEPTH deep, each map's entries naming only maps before it). */
static __attribute__((noinline)) vec3 shade_map(const render_ctx *ctx, const tmap *m,
                                                const prim *p, vec3 P, const tex_at *at,
                                                vec3 N, vec3 D, double depth, double weight,
                                                uint32_t level)
{
    const scene *s = ctx->s;
    tex_at in = *at;
    in.Q = tmap_point(m, at->Q);
    if (in.n < POV_TMAP_DEPTH)
        in.outer[in.n++] = &m->pat;
    if (m->pat.type == PIG_AVERAGE) {
        vec3 c = v3(0.0, 0.0, 0.0);
        for (uint32_t i = 0; i < m->n; i++) {
            double w = average_weight(s, m, i);
            c = vadd(c, vscale(shade_entry(ctx, &s->tentries[m->first + i], p, P, &in, N, D,
                                           depth, weight * w, level), w));
        }
        return c;
    }
    uint32_t ia, ib = 0;
    double wa = 1.0;
    pattern_set_surface(P, N);
    int n = tmap_pick(s, m, in.Q, &ia, &ib, &wa);
    pattern_no_surface();
    vec3 ca = shade_entry(ctx, &s->tentries[ia], p, P, &in, N, D, depth, weight, level);
    if (n == 1)
        return ca;
    vec3 cb = shade_entry(ctx, &s->tentries[ib], p, P, &in, N, D, depth, weight, level);
    return vadd(vscale(ca, wa), vscale(cb, 1.0 - wa));
}

/* The colour of object p at P: its own surface or its patterned texture; seen from inside
   (its surface faced away from the ray), its interior_texture if it has one. */
static vec3 shade(const render_ctx *ctx, const prim *p, vec3 P, vec3 N, vec3 D, double depth,
                  double weight, uint32_t level, int inside)
{
    tex_at at;
    at.Q = P, at.n = 0;
    if (inside && p->inside_tex)
        return shade_entry(ctx, &ctx->s->tentries[p->inside_tex - 1], p, P, &at, N, D, depth,
                           weight, level);
    if (p->tmap)
        return shade_map(ctx, &ctx->s->tmaps[p->tmap - 1], p, P, &at, N, D, depth, weight,
                         level);
    surface sf = surface_of_prim(p);
    return shade_surface(ctx, &sf, p, P, &at, N, D, depth, weight, level);
}
