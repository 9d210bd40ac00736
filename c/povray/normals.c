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

/* The perturbation in pattern space at pattern-space point q. A pattern's turbulence warps
   q once before the four samples (POV-Ray's Warp_EPoint), not each sample. */
static vec3 normal_offset(const tnormal *n, vec3 q)
{
    const pigment *pg = &n->pat;
    if (n->type == NRM_PATTERN) { /* warped once, as POV-Ray, then sampled */
        double k = n->amount * -5.0 * (0.02 / n->delta);
        vec3 d = {0.0, 0.0, 0.0};
        q = pattern_warp(pg, q);
        for (int i = 0; i < 4; i++) {
            double v = pattern_value_warped(pg, vadd(q, vscale(PYRAMID[i], n->delta)));
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

/* N (unit, facing the viewer) perturbed by n at world point P: as POV-Ray, the normal goes
   into pattern space (normalised), gets the perturbation there, and comes back. */
static vec3 perturb_normal(const tnormal *n, vec3 N, vec3 P)
{
    if (n->amount == 0.0)
        return N;
    const pigment *pg = &n->pat;
    vec3 q = pg->has_trans ? xf_point(&pg->inv, P) : P;
    vec3 Np = pg->has_trans ? vnorm(normal_into_pattern(&pg->inv, N)) : N;
    vec3 r = vadd(Np, normal_offset(n, q));
    if (pg->has_trans)
        r = xf_normal(&pg->inv, r);
    return vnorm(r);
}
