/* normals.c -- normal { } perturbation as POV-Ray 3.7 computes it (freestanding-safe;
 * render.c includes it).
 *
 * A pattern without a normal function of its own is sampled at four points around the
 * pattern-space point (the corners of a tetrahedron, POV-Ray's "pyramid" vectors, at
 * distance delta = accuracy, default 0.02); the slope, times bump_size * -5 * 0.02 / delta,
 * is added to the normal. bumps adds bump_size times POV-Ray's DNoise, dents the same
 * scaled by noise^3, wrinkles the sum of |DNoise| over ten octaves. The perturbation is
 * computed in pattern space and carried back by the pattern transform's inverse transpose.
 */

static const vec3 PYRAMID[4] = {
    {0.942809041582063, -0.333333333333333, 0.0},
    {-0.471404520791032, -0.333333333333333, 0.816496580927726},
    {-0.471404520791032, -0.333333333333333, -0.816496580927726},
    {0.0, 1.0, 0.0},
};

static vec3 wrinkles_at(vec3 q)
{
    vec3 r = {0.0, 0.0, 0.0};
    double scale = 1.0;
    for (int i = 0; i < 10; i++, scale *= 2.0) {
        vec3 v = pov_dnoise(vscale(q, scale));
        r = vadd(r, v3(rt_fabs(v.x / scale), rt_fabs(v.y / scale), rt_fabs(v.z / scale)));
    }
    return r;
}

/* POV-Ray's Do_Slope_Map: the entries around v (as a blend map searches them), their
   heights and slopes joined by its Hermite cubic */
static double slope_value(const colour_map *m, double v)
{
    uint32_t last = m->n - 1, cur = 0, prev = 0;
    if (v >= m->v[last]) {
        cur = prev = last;
    } else {
        while (v > m->v[cur])
            prev = cur++;
    }
    if (prev == cur)
        return m->c[cur].x;
    double t = (v - m->v[prev]) / (m->v[cur] - m->v[prev]), tt = t * t, ttt = tt * t;
    double p0 = m->c[prev].x, s0 = m->c[prev].y, p1 = m->c[cur].x, s1 = m->c[cur].y;
    double r = ttt * (s0 + s1 + 2.0 * (p0 - p1));
    r += -tt * (2.0 * s0 + s1 + 3.0 * (p0 - p1));
    return r + t * s0 + p0;
}

/* The perturbation in pattern space at pattern-space point q. A pattern's turbulence warps
   q once before the four samples (POV-Ray's Warp_EPoint), not each sample. */
static vec3 normal_offset(const scene *s, const tnormal *n, vec3 q)
{
    const pigment *pg = &n->pat;
    if (n->type == NRM_PATTERN) { /* warped once, as POV-Ray, then sampled */
        double k = n->amount * -5.0 * (0.02 / n->delta);
        const colour_map *slope = n->slope_map && n->slope_map <= s->n_maps ?
                                  &s->maps[n->slope_map - 1] : NULL;
        vec3 d = {0.0, 0.0, 0.0};
        q = pattern_warp(pg, q);
        for (int i = 0; i < 4; i++) {
            double v = pattern_value_warped(pg, vadd(q, vscale(PYRAMID[i], n->delta)));
            if (slope)
                v = slope_value(slope, v);
            d = vadd(d, vscale(PYRAMID[i], v * k));
        }
        return d;
    }
    if (pg->has_turb)
        q = vadd(q, vmul(pov_dturbulence(q, pg), pg->turb));
    if (n->type == NRM_BUMPS)
        return vscale(pov_dnoise(q), n->amount);
    if (n->type == NRM_DENTS) {
        double v = pov_noise(q, pg->noise_gen);
        return vscale(pov_dnoise(q), v * v * v * n->amount);
    }
    if (n->type == NRM_WAVES || n->type == NRM_RIPPLES) /* pattern_shapes.c */
        return normal_waves(q, pg, n->amount, n->type == NRM_RIPPLES);
    if (n->type == NRM_QUILTED)
        return normal_quilted(q, pg, n->amount);
    return vscale(wrinkles_at(q), n->amount); /* NRM_WRINKLES */
}

/* (inv^T)^-1 n: a world normal into pattern space (inv: world -> pattern). */
static vec3 normal_into_pattern(const xform *inv, vec3 n)
{
    /* the columns of inv^T are the rows of inv: solve inv^T x = n by Cramer's rule */
    vec3 c0 = v3(inv->m[0][0], inv->m[0][1], inv->m[0][2]);
    vec3 c1 = v3(inv->m[1][0], inv->m[1][1], inv->m[1][2]);
    vec3 c2 = v3(inv->m[2][0], inv->m[2][1], inv->m[2][2]);
    double det = vdot(c0, vcross(c1, c2));
    if (det == 0.0)
        return n;
    return v3(vdot(n, vcross(c1, c2)) / det, vdot(c0, vcross(n, c2)) / det,
              vdot(c0, vcross(c1, n)) / det);
}

/* A normal through the pattern's transforms, as POV-Ray's Warp_Normal goes through its warp
   list (the transforms after a warp, then those before it), normalised; and back, as its
   UnWarp_Normal. A warp's own displacement leaves normals alone. */
static vec3 normal_to_pattern(const pigment *pg, vec3 N)
{
    if (!pg->has_trans)
        return N;
    N = normal_into_pattern(&pg->inv, N);
    const warp_item *w = warps_of(pg);
    for (uint32_t i = w ? pg->warp_n : 0; i-- > 0;)
        N = normal_into_pattern(&w[i].pre, N);
    return vnorm(N);
}

static vec3 normal_from_pattern(const pigment *pg, vec3 r)
{
    const warp_item *w = pg->has_trans ? warps_of(pg) : 0;
    for (uint32_t i = 0; w && i < pg->warp_n; i++)
        r = xf_normal(&w[i].pre, r);
    if (pg->has_trans)
        r = xf_normal(&pg->inv, r);
    return vnorm(r);
}

#define POV_NORMAL_MAP_DEPTH 16 /* normal_maps inside normal_maps: deeper is ignored */

static vec3 perturb_normal_d(const scene *s, const tnormal *n, vec3 N, vec3 P, int depth);

/* normal_map in pattern space (POV-Ray's Perturb_Normal with a normal blend map, and
   Do_Average_Normals): the entries' normals at the warped point q, the two around the
   pattern's value blended linearly; average: summed by weight (single precision, as POV-Ray)
   over the weights' total. Np is the normal in pattern space. */
static vec3 normal_map_blend(const scene *s, const tnormal *n, vec3 Np, vec3 q, int depth)
{
    const pigment *pg = &n->pat;
    const normal_entry *e = &s->nentries[n->map_first];
    uint32_t last = n->map_n - 1;
    q = pattern_warp(pg, q);
    if (pg->type == PIG_AVERAGE) {
        vec3 sum = {0.0, 0.0, 0.0};
        float total = 0.0f;
        for (uint32_t i = 0; i <= last; i++) {
            float w = (float)e[i].v;
            sum = vadd(sum, vscale(perturb_normal_d(s, &e[i].n, Np, q, depth + 1), w));
            total += w;
        }
        return total != 0.0f ? vscale(sum, 1.0 / total) : Np;
    }
    double v = pattern_value_warped(pg, q);
    uint32_t cur = 0, prev = 0;
    if (v >= e[last].v) {
        cur = prev = last;
    } else {
        while (v > e[cur].v)
            prev = cur++;
    }
    vec3 r = perturb_normal_d(s, &e[cur].n, Np, q, depth + 1);
    if (prev == cur)
        return r;
    vec3 p1 = perturb_normal_d(s, &e[prev].n, Np, q, depth + 1);
    double v2 = (v - e[prev].v) / (e[cur].v - e[prev].v);
    return vadd(vscale(p1, 1.0 - v2), vscale(r, v2));
}

/* N (unit, facing the viewer) perturbed by n at world point P: as POV-Ray, the normal goes
   into pattern space (normalised), gets the perturbation there, and comes back. A normal_map
   that names entries the scene lacks, or nests too deep, leaves N as it is. */
static vec3 perturb_normal(const scene *s, const tnormal *n, vec3 N, vec3 P)
{
    return perturb_normal_d(s, n, N, P, 0);
}

static vec3 perturb_normal_d(const scene *s, const tnormal *n, vec3 N, vec3 P, int depth)
{
    const pigment *pg = &n->pat;
    if (n->type == NRM_NONE) /* a block pattern's entry left out: the default, no normal */
        return N;
    if (n->map_n) {
        if (depth >= POV_NORMAL_MAP_DEPTH || n->map_first > s->n_nentries ||
            n->map_n > s->n_nentries - n->map_first)
            return N;
        vec3 r = normal_map_blend(s, n, normal_to_pattern(pg, N), pattern_space(pg, P), depth);
        return normal_from_pattern(pg, r);
    }
    if (n->type == NRM_BUMP_MAP) { /* imagemap.c: the image's slope replaces the normal */
        vec3 q = pattern_warp(pg, pattern_space(pg, P));
        return normal_from_pattern(pg, image_bump_normal(s, n, q, normal_to_pattern(pg, N)));
    }
    if (n->amount == 0.0)
        return N;
    vec3 q = pattern_space(pg, P); /* the transforms and a warp { } (POV-Ray's Warp_EPoint) */
    vec3 r = vadd(normal_to_pattern(pg, N), normal_offset(s, n, q));
    return normal_from_pattern(pg, r);
}
