/* rainbow.c -- POV-Ray 3.7's rainbow { } (its trace.cpp, ComputeRainbow), applied to what a
 * ray sees before the fogs: where the ray's angle to the rainbow's direction falls inside
 * [angle - width/2, angle + width/2] (and within the arc angle, measured around the up
 * vector), the colour map's colour at that index is blended in, as much as
 * 1 - max(exp(-depth / distance), fade (1 - transmit) + transmit), filtered by the colour's
 * filter; several rainbows are averaged. POV-Ray jitters the index with its random sequence;
 * ours draws from a hash of the ray direction (same bytes from every worker). Included by
 * render.c after fog.c. */

static vec3 rainbow_one(const scene *s, const rainbow *rb, uint32_t i, vec3 D, double depth,
                        vec3 colour, int *seen)
{
    double x = vdot(D, rb->right), y = vdot(D, rb->up), l = x * x + y * y;
    if (l > 0.0)
        y /= rt_sqrt(l);
    double angle = rt_fabs(acos_det(y));
    double dot = vdot(D, rb->antisolar);
    if (angle > rb->arc_angle || dot < 0.0)
        return v3(0.0, 0.0, 0.0);
    double index = (acos_det(dot) - rb->angle) / rb->width;
    if (rb->jitter > 0.0)
        index += (2.0 * point_random(D, i, 0x7A1B, 0, 3) - 1.0) * rb->jitter;
    if (index < 0.0 || index > 1.0 - POV_EPSILON)
        return v3(0.0, 0.0, 0.0);
    double ft[2];
    vec3 cr = pigment_at(s, &rb->pig, v3(index, 0.0, 0.0), ft);
    double fade = 0.0;
    if (rb->falloff_width > 0.0 && angle > rb->falloff_angle) {
        fade = (angle - rb->falloff_angle) / rb->falloff_width;
        fade = (3.0 - 2.0 * fade) * fade * fade;
    }
    double k = rt_exp(-depth / rb->distance);
    double kmin = fade * (1.0 - ft[1]) + ft[1];
    k = k > kmin ? k : kmin;
    double ki = 1.0 - k, f = ft[0] * ki;
    (*seen)++;
    return v3(k * colour.x * ((1.0 - f) + f * cr.x) + ki * cr.x,
              k * colour.y * ((1.0 - f) + f * cr.y) + ki * cr.y,
              k * colour.z * ((1.0 - f) + f * cr.z) + ki * cr.z);
}

/* colour seen along D through the scene's rainbows up to depth (< 0: a miss) */
static vec3 apply_rainbows(const scene *s, vec3 D, double depth, vec3 colour)
{
    double d = depth < 0.0 ? FOG_BOUND_HUGE : depth;
    vec3 sum = v3(0.0, 0.0, 0.0);
    int seen = 0;
    for (uint32_t i = 0; i < s->n_rainbows; i++)
        sum = vadd(sum, rainbow_one(s, &s->rainbows[i], i, D, d, colour, &seen));
    return seen ? vscale(sum, 1.0 / seen) : colour;
}
