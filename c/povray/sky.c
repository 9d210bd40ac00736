/* The sky_sphere (included by render.c): its pigments seen along the ray direction D, the
   last pigment on top, over the background. */

/* #version 3.7 and later, as POV-Ray 3.7's Trace::ComputeSky: from the top pigment down,
   each adds its colour times its opacity (1 - filter - transmit) times the light still
   passed by the pigments above it, which then passes colour * filter + transmit of it; the
   background behind them all as one more opaque layer. */
static vec3 sky_colour_37(const scene *s, vec3 D)
{
    vec3 sum = {0.0, 0.0, 0.0}, pass = {1.0, 1.0, 1.0};
    for (uint32_t i = s->has_sky; i-- > 0;) {
        double ft[2];
        vec3 c = pigment_at(s, &s->sky[i], D, ft);
        double opacity = 1.0 - ft[0] - ft[1];
        sum = vadd(sum, vmul(vscale(c, opacity), pass));
        pass = vmul(pass, vadd(vscale(c, ft[0]), v3(ft[1], ft[1], ft[1])));
    }
    return vadd(sum, vmul(s->background, pass));
}

/* Before #version 3.7 (POV-Ray 3.6's blend, kept by 3.7 for old scenes): each pigment adds
   its colour times (1 - filter - transmit) times trans, where trans is |filter| + |transmit|
   of the products of the filters and transmits above it; the background is seen through
   the product colour times the product filter plus the product transmit. */
static vec3 sky_colour_36(const scene *s, vec3 D)
{
    vec3 sum = {0.0, 0.0, 0.0}, fc = {1.0, 1.0, 1.0};
    double ff = 1.0, tt = 1.0, trans = 1.0;
    for (uint32_t i = s->has_sky; i-- > 0;) {
        double ft[2];
        vec3 c = pigment_at(s, &s->sky[i], D, ft);
        sum = vadd(sum, vscale(c, trans * (1.0 - ft[0] - ft[1])));
        fc = vmul(fc, c);
        ff *= ft[0], tt *= ft[1];
        trans = rt_fabs(ff) + rt_fabs(tt);
    }
    return vadd(sum, vmul(s->background, vadd(vscale(fc, ff), v3(tt, tt, tt))));
}

static vec3 sky_colour(const scene *s, vec3 D)
{
    return s->sky_legacy ? sky_colour_36(s, D) : sky_colour_37(s, D);
}
