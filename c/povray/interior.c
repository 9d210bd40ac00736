/* interior.c -- interior { ior fade_distance fade_power fade_colour caustics }: refraction
 * and total internal reflection as POV-Ray 3.7 traces them (its trace.cpp:
 * ComputeRefraction, TraceRefractionRay, ComputeRelativeIOR, the distance attenuation of
 * ComputeLightedTexture and ComputeShadowTexture, and the fake caustics of the latter).
 * A ray carries the interiors it is inside (ray_media, innermost last); the camera's rays
 * start with those around the camera. Included by render.c (freestanding). */

/* The identity of p's interior: its interior { }, or (POV-Ray's default interior) the
   object itself. */
static uint32_t interior_key(const scene *s, const prim *p)
{
    return p->interior_id ? p->interior_id : 0x80000000u | (uint32_t)(p - s->prims);
}

static double interior_ior(const prim *p) { return p->interior_id ? p->ior : 1.0; }

static int media_find(const ray_media *m, uint32_t key)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (m->key[i] == key)
            return (int)i;
    return -1;
}

static void media_remove(ray_media *m, int i)
{
    for (uint32_t k = (uint32_t)i; k + 1 < m->n; k++) {
        m->key[k] = m->key[k + 1];
        m->ior[k] = m->ior[k + 1];
    }
    m->n--;
}

static void media_append(ray_media *m, uint32_t key, double ior)
{
    if (m->n < POV_RAY_INTERIORS) { /* deeper nesting: the innermost are not kept */
        m->key[m->n] = key;
        m->ior[m->n++] = ior;
    }
}

/* The interiors around the camera: every object with an interior whose inside (and CSG
   conditions) hold at O, as POV-Ray's InitRayContainerState finds them. */
static void interior_camera_media(const scene *s, vec3 O, ray_media *m)
{
    m->n = 0;
    for (uint32_t i = 0; i < s->n_prims; i++) {
        const prim *p = &s->prims[i];
        if (!p->interior_id || media_find(m, p->interior_id) >= 0)
            continue;
        vec3 q = p->has_trans ? xf_point(&p->inv, O) : O;
        if (PRIM_CLASSES[p->type].inside(p, q) > 0 && conditions_hold(s, p, O))
            media_append(m, p->interior_id, p->ior);
    }
}

/* ComputeRelativeIOR: the ratio Fresnel's reflectivity uses at a surface of p. */
static double interior_relative_ior(const scene *s, const ray_media *m, const prim *p)
{
    double ior = interior_ior(p);
    if (m->n == 0)
        return ior;
    if (media_find(m, interior_key(s, p)) >= 0)
        return m->n == 1 ? 1.0 / ior : m->ior[m->n - 1] / ior;
    return ior / m->ior[m->n - 1];
}

/* The attenuation of light that travelled depth inside p's interior (ray inside it). */
static vec3 interior_fade(const prim *p, double depth, int shadow)
{
    if (!p->interior_id || rt_fabs(p->fade_distance) <= POV_EPSILON ||
        (shadow && !(p->fade_power > 0.0)))
        return v3(1.0, 1.0, 1.0);
    vec3 fc = p->fade_colour;
    if (p->fade_power >= 1000.0) {
        double d = depth / p->fade_distance;
        return v3(rt_exp(-(1.0 - fc.x) * d), rt_exp(-(1.0 - fc.y) * d), rt_exp(-(1.0 - fc.z) * d));
    }
    double att = 1.0 + rt_pow(depth / p->fade_distance, p->fade_power);
    return v3(fc.x + (1.0 - fc.x) / att, fc.y + (1.0 - fc.y) / att, fc.z + (1.0 - fc.z) / att);
}

/* The light through p's surface at P (ComputeRefraction): the ray's interiors updated as
   POV-Ray updates them, then traced straight on (same index: a continued ray) or bent by
   Heckbert's method; *tir set when it is totally reflected instead (by the top layer's
   normal TN, traced as a reflected ray). Then faded by the distance inside. */
static vec3 interior_transmit(const render_ctx *ctx, const prim *p, vec3 P, vec3 TN, vec3 N,
                              vec3 D, double depth, double weight, uint32_t level, int *tir)
{
    const scene *s = ctx->s;
    const ray_media *in = *ctx->media_cur;
    ray_media out = *in;
    uint32_t key = interior_key(s, p);
    double my = interior_ior(p), ior;
    int at = media_find(&out, key);
    if (out.n == 0) {
        media_append(&out, key, my);
        ior = 1.0 / my;
    } else if (at == (int)out.n - 1) {
        media_remove(&out, at);
        ior = out.n == 0 ? my : my / out.ior[out.n - 1];
    } else if (at >= 0) {
        media_remove(&out, at);
        ior = 1.0;
    } else {
        ior = out.ior[out.n - 1] / my;
        media_append(&out, key, my);
    }
    vec3 c;
    *tir = 0;
    *ctx->media_cur = &out;
    if (rt_fabs(ior - 1.0) < POV_EPSILON) {
        c = trace(ctx, P, D, weight, level - 1); /* continues the ray */
    } else {
        double n = vdot(D, TN);
        vec3 ln = TN;
        if (n <= 0.0)
            n = -n;
        else
            ln = vscale(TN, -1.0);
        double t = 1.0 + ior * ior * (n * n - 1.0);
        if (t < 0.0) {
            *tir = 1;
            *ctx->media_cur = in;
            c = trace(ctx, P, reflected(D, TN, N), weight, level);
        } else {
            t = ior * n - rt_sqrt(t);
            c = trace(ctx, P, vadd(vscale(D, ior), vscale(ln, t)), weight, level);
        }
    }
    *ctx->media_cur = in;
    if (media_find(in, key) >= 0)
        c = vmul(c, interior_fade(p, depth, 0));
    return c;
}

/* Shadow rays (ComputeShadowTexture, ComputeShadowMedia): POV-Ray's fake caustics,
   1 + |N.L|^caustics per layer, the fading when the shadow ray is inside p's interior, then
   the shadow ray's interiors updated (entering or leaving p). */
static vec3 interior_shadow(const render_ctx *ctx, const prim *p, vec3 Q, vec3 L,
                            const hit_info *h, double depth, uint32_t layers, ray_media *sm)
{
    vec3 k = v3(1.0, 1.0, 1.0);
    uint32_t key = interior_key(ctx->s, p);
    int at = media_find(sm, key);
    if (p->interior_id && p->caustics != 0.0) {
        vec3 N = prim_normal(p, Q, h);
        if (vdot(N, L) > 0.0)
            N = vscale(N, -1.0);
        double c = 1.0 + rt_pow(rt_fabs(vdot(N, L)), p->caustics);
        for (uint32_t i = 0; i < layers; i++)
            k = vscale(k, c);
    }
    if (at >= 0)
        k = vmul(k, interior_fade(p, depth, 1));
    if (at >= 0)
        media_remove(sm, at);
    else
        media_append(sm, key, interior_ior(p));
    return k;
}
