/* area_light.c -- soft shadows of an area light as POV-Ray 3.7 samples them (its trace.cpp:
 * TraceAreaLightShadowRay, TraceAreaLightSubsetShadowRay): the corners of the n1 x n2 grid
 * first, a region split in four while it is shallower than `adaptive` or its corners'
 * colours differ by more than 0.1, each grid point's shadow ray traced once, the light's
 * colour the average of the four corners, recursively. The light still shines from its
 * centre; only its shadow is sampled. POV-Ray's jitter draws from a random sequence shared
 * by the whole render; ours is a hash of the shading point, the light and the grid point,
 * so every worker computes the same bytes for the same pixel. Included by render.c. */

/* A number in [0, 1) from the bits of P and four small integers (splitmix64's finaliser):
   the renderer's randomness (area light jitter, crand), the same on every worker. */
static double point_random(vec3 P, uint32_t light, uint32_t u, uint32_t v, uint32_t axis)
{
    union { double d; uint64_t u; } x = {P.x}, y = {P.y}, z = {P.z};
    uint64_t h = x.u ^ (y.u * 0x9e3779b97f4a7c15ull) ^ (z.u * 0xc2b2ae3d27d4eb4full) ^
                 ((uint64_t)light << 40) ^ ((uint64_t)u << 24) ^ ((uint64_t)v << 8) ^ axis;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebull;
    h ^= h >> 31;
    return (double)(h >> 11) * (1.0 / 9007199254740992.0);
}

typedef struct {
    const render_ctx *ctx;
    const light *lt;
    uint32_t index;     /* the light's, for the jitter */
    vec3 P, lcol, axis1, axis2;
    vec3 grid[POV_AREA_MAX * POV_AREA_MAX];
    uint8_t done[POV_AREA_MAX * POV_AREA_MAX];
} area_walk;

/* The offset from the light's centre of grid point (u, v), as POV-Ray places it. */
static vec3 area_offset(const area_walk *a, uint32_t u, uint32_t v)
{
    const light *lt = a->lt;
    double ju = u, jv = v;
    if (lt->area_flags & AREA_JITTER) {
        ju += point_random(a->P, a->index, u, v, 0) - 0.5;
        jv += point_random(a->P, a->index, u, v, 1) - 0.5;
    }
    if (lt->area_flags & AREA_CIRCULAR) {
        ju = ju / (lt->area_n1 - 1) - 0.5 + 0.001;
        jv = jv / (lt->area_n2 - 1) - 0.5 + 0.001;
        double k = rt_fmax(rt_fabs(ju), rt_fabs(jv)) / rt_sqrt(ju * ju + jv * jv);
        return vadd(vscale(a->axis1, ju * k), vscale(a->axis2, jv * k));
    }
    vec3 o = v3(0.0, 0.0, 0.0);
    if (lt->area_n1 > 1)
        o = vscale(a->axis1, ju / (double)(lt->area_n1 - 1) - 0.5);
    if (lt->area_n2 > 1)
        o = vadd(o, vscale(a->axis2, jv / (double)(lt->area_n2 - 1) - 0.5));
    return o;
}

/* The light's colour as seen through whatever is between P and grid point (u, v). */
static vec3 area_sample(area_walk *a, uint32_t u, uint32_t v)
{
    uint32_t k = u * a->lt->area_n2 + v;
    if (a->done[k])
        return a->grid[k];
    vec3 S = vadd(a->lt->pos, area_offset(a, u, v)), L;
    double dist;
    if (a->lt->flags & LIGHT_PARALLEL) { /* POV-Ray: from point_at through the grid point, */
        L = vnorm(vsub(S, a->lt->point_at)); /* as far as the point's projection on it */
        dist = vdot(L, vsub(S, a->P));
    } else {
        L = vsub(S, a->P);
        dist = vlen(L);
        L = vscale(L, 1.0 / dist);
    }
    vec3 c = vmul(a->lcol, light_path(a->ctx, a->lt, a->P, L, dist));
    a->done[k] = 1;
    a->grid[k] = c;
    return c;
}

static double colour_distance(vec3 a, vec3 b)
{
    return rt_fabs(a.x - b.x) + rt_fabs(a.y - b.y) + rt_fabs(a.z - b.z);
}

static vec3 area_region(area_walk *a, uint32_t u1, uint32_t v1, uint32_t u2, uint32_t v2,
                        uint32_t level)
{
    vec3 c[4] = {area_sample(a, u1, v1), area_sample(a, u2, v1), area_sample(a, u1, v2),
                 area_sample(a, u2, v2)};
    if ((u2 - u1 > 1 || v2 - v1 > 1) &&
        (level < a->lt->adaptive || colour_distance(c[0], c[1]) > 0.1 ||
         colour_distance(c[1], c[3]) > 0.1 || colour_distance(c[3], c[2]) > 0.1 ||
         colour_distance(c[2], c[0]) > 0.1)) {
        uint32_t ul = (u1 + u2) / 2, uh = (u1 + u2 + 1) / 2; /* floor, ceil of the middle */
        uint32_t vl = (v1 + v2) / 2, vh = (v1 + v2 + 1) / 2;
        c[0] = area_region(a, u1, v1, ul, vl, level + 1);
        c[1] = area_region(a, uh, v1, u2, vl, level + 1);
        c[2] = area_region(a, u1, vh, ul, v2, level + 1);
        c[3] = area_region(a, uh, vh, u2, v2, level + 1);
    }
    return vscale(vadd(vadd(c[0], c[1]), vadd(c[2], c[3])), 0.25);
}

/* The colour of area light lt at P (lcol: its colour, attenuated; L: the unit direction to
   its centre). Zero when every sample is blocked. */
static vec3 area_light_colour(const render_ctx *ctx, const light *lt, vec3 P, vec3 L, vec3 lcol)
{
    area_walk walk, *a = &walk;
    for (uint32_t k = 0; k < lt->area_n1 * lt->area_n2; k++)
        a->done[k] = 0;
    a->ctx = ctx, a->lt = lt, a->index = (uint32_t)(lt - ctx->s->lights), a->P = P;
    a->lcol = lcol, a->axis1 = lt->axis1, a->axis2 = lt->axis2;
    if (lt->area_flags & AREA_ORIENT) { /* the grid faces P, square, as long as axis 1 */
        double len = vlen(lt->axis1);
        vec3 up = rt_fabs(rt_fabs(L.z) - 1.0) < 0.01 ? v3(0.0, 1.0, 0.0) : v3(0.0, 0.0, 1.0);
        vec3 a1 = vnorm(vcross(L, up));
        a->axis1 = vscale(a1, len);
        a->axis2 = vscale(vnorm(vcross(L, a1)), len);
    }
    return area_region(a, 0, 0, lt->area_n1 - 1, lt->area_n2 - 1, 0);
}
