/* fog.c -- POV-Ray 3.7's fog (freestanding-safe; render.c includes it).
 *
 * Constant fog lets exp(-depth / distance) of the colour behind through; ground fog uses
 * the mean density of its profile 1 / (1 + h^2), h = (height along up - offset) / alt,
 * between the two ends of the ray (the integral is an atan), with 1 below the offset. The
 * fog's transmit is the least it lets through, its filter tints what comes through; several
 * fogs multiply their attenuations and add their colours. Rays that hit nothing are
 * BOUND_HUGE long, as in POV-Ray.
 */

#define FOG_BOUND_HUGE 2.0e10

/* atan for any x from render.c's small_atan (|t| <= 1) */
static double fog_atan(double x)
{
    if (x > 1.0)
        return 0.5 * RT_PI - small_atan(1.0 / x);
    if (x < -1.0)
        return -0.5 * RT_PI - small_atan(1.0 / x);
    return small_atan(x);
}

static double ground_fog_density(const fog *f, vec3 O, vec3 D, double width)
{
    double y1 = vdot(O, f->up), y2 = vdot(vadd(O, vscale(D, width)), f->up);
    double start = (y1 - f->offset) / f->alt, end = (y2 - f->offset) / f->alt;
    if (start <= 0.0)
        return end <= 0.0 ? 1.0 : (fog_atan(end) - start) / (end - start);
    if (end <= 0.0)
        return (fog_atan(start) - end) / (start - end);
    double delta = start - end;
    if (rt_fabs(delta) > POV_EPSILON)
        return (fog_atan(start) - fog_atan(end)) / delta;
    return 1.0 / (start * start + 1.0);
}

/* Turbulence thins the fog: at the middle of the ray's stretch (scaled by the turbulence
   vector) the classic turbulence times turb_depth (at most 1) takes its share off the
   width, less so the denser the fog already is there. */
static double fog_turbulence_width(const fog *f, vec3 O, vec3 D, double width)
{
    vec3 P = vmul(vadd(O, vscale(D, width * 0.5)), f->turb.turb);
    double k = rt_exp(-width / f->distance);
    double t = pov_turbulence(P, &f->turb) * f->turb_depth;
    return width * (1.0 - k * (t < 1.0 ? t : 1.0));
}

/* colour seen through the scene's fogs along O + t D, t in [0, depth) (depth < 0: a miss) */
static vec3 apply_fog(const scene *s, vec3 O, vec3 D, double depth, vec3 colour)
{
    double width = depth < 0.0 ? FOG_BOUND_HUGE : depth;
    vec3 att_sum = v3(1.0, 1.0, 1.0), col_sum = v3(0.0, 0.0, 0.0);
    for (uint32_t i = 0; i < s->n_fogs; i++) {
        const fog *f = &s->fogs[i];
        double k = f->type == FOG_GROUND ? ground_fog_density(f, O, D, width) : 1.0;
        double w = f->has_turb ? fog_turbulence_width(f, O, D, width) : width;
        double att = rt_exp(-w * k / f->distance);
        if (att < f->transmit)
            att = f->transmit;
        double fl = f->filter;
        att_sum = v3(att_sum.x * att * ((1.0 - fl) + fl * f->colour.x),
                     att_sum.y * att * ((1.0 - fl) + fl * f->colour.y),
                     att_sum.z * att * ((1.0 - fl) + fl * f->colour.z));
        col_sum = vadd(col_sum, vscale(f->colour, 1.0 - att));
    }
    return vadd(col_sum, vmul(att_sum, colour));
}
