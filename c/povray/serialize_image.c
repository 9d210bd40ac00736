/* serialize_image.c -- the scene's images and warps (version 9), included by serialize.c
 * after its helpers. The warps: u32 n, then each u32 type, u32 octaves, the transform before
 * it (12 f64), its 15 numbers (f64). The images: u32 n, images (u32 w, h, channels, indexed, max, px_first, lut_first, lut_n,
 * map_type, interpolate, once, use_colour; f64 width, height, offset_u, offset_v, all_filter,
 * all_transmit); u32 n, samples (u16 each, then 0 or 2 bytes to a multiple of 4); u32 n, the
 * colour tables (f32 each). The reader checks every image against the pools and every
 * sample against its image's table, so the renderer reads no sample or entry out of range. */

#ifndef POV_FREESTANDING
static void put_images(wbuf *w, const scene *s)
{
    put_u32(w, s->n_images);
    for (uint32_t i = 0; i < s->n_images; i++) {
        const image_ref *im = &s->images[i];
        const uint32_t u[12] = {im->w, im->h, im->channels, im->indexed, im->max,
                                im->px_first, im->lut_first, im->lut_n, im->map_type,
                                im->interpolate, im->once, im->use_colour};
        for (int k = 0; k < 12; k++)
            put_u32(w, u[k]);
        const double d[6] = {im->width, im->height, im->offset_u, im->offset_v,
                             im->all_filter, im->all_transmit};
        for (int k = 0; k < 6; k++)
            put_f64(w, d[k]);
    }
    put_u32(w, s->n_ipx);
    for (uint32_t i = 0; i < s->n_ipx; i++) {
        uint8_t b[2] = {(uint8_t)s->ipx[i], (uint8_t)(s->ipx[i] >> 8)};
        put_bytes(w, b, 2);
    }
    if (s->n_ipx % 2) {
        uint8_t pad[2] = {0, 0};
        put_bytes(w, pad, 2);
    }
    put_u32(w, s->n_ilut);
    for (uint32_t i = 0; i < s->n_ilut; i++) {
        union { float f; uint32_t u; } v;
        v.f = s->ilut[i];
        put_u32(w, v.u);
    }
}
#endif

static const char *check_image(const scene *s, const image_ref *im)
{
    if (im->w < 1 || im->h < 1 || im->w > 65535u || im->h > 65535u ||
        (uint64_t)im->w * im->h > (1u << 26) || im->channels < 1 || im->channels > 4 ||
        im->indexed > 1 || (im->indexed && im->channels != 1) ||
        (im->max != 255u && im->max != 65535u))
        return "scene data: bad image size or samples";
    uint64_t n = (uint64_t)im->w * im->h * im->channels;
    if (im->px_first > s->n_ipx || n > s->n_ipx - im->px_first ||
        im->lut_first > s->n_ilut || im->lut_n > s->n_ilut - im->lut_first)
        return "scene data: image beyond its pools";
    uint32_t entries = im->indexed ? im->lut_n / 5 : 0;
    if (im->indexed ? (im->lut_n % 5 || entries < 1 || entries > 256) : im->lut_n != im->max + 1)
        return "scene data: bad image colour table";
    if ((im->map_type > 2 && im->map_type != IMAP_TORUS) || im->interpolate == 1 ||
        im->interpolate > IMAP_NORM_DIST || im->once > 1 || im->use_colour > 1 ||
        !(im->width > 0.0) || !(im->height > 0.0))
        return "scene data: bad image mapping";
    uint32_t limit = im->indexed ? entries - 1 : im->max;
    const uint16_t *px = s->ipx + im->px_first;
    for (uint64_t k = 0; k < n; k++)
        if (px[k] > limit)
            return "scene data: image sample beyond its colour table";
    return 0;
}

static void get_image_records(rbuf *r, scene *s, pov_alloc_fn alloc)
{
    s->n_images = get_count(r, POV_MAX_IMAGES, 96, "scene data: bad images");
    s->images = alloc(sizeof(image_ref) * ((size_t)s->n_images + 1));
    if (!s->images) {
        fail(r, "out of memory for images");
        return;
    }
    for (uint32_t i = 0; !r->err && i < s->n_images; i++) {
        image_ref *im = &s->images[i];
        uint32_t *u[12] = {&im->w, &im->h, &im->channels, &im->indexed, &im->max,
                           &im->px_first, &im->lut_first, &im->lut_n, &im->map_type,
                           &im->interpolate, &im->once, &im->use_colour};
        for (int k = 0; k < 12; k++)
            *u[k] = get_u32(r);
        double *d[6] = {&im->width, &im->height, &im->offset_u, &im->offset_v,
                        &im->all_filter, &im->all_transmit};
        for (int k = 0; k < 6; k++)
            *d[k] = get_f64(r);
    }
}

static void get_images(rbuf *r, scene *s, pov_alloc_fn alloc)
{
    get_image_records(r, s, alloc);
    s->n_ipx = r->err ? 0 : get_count(r, POV_MAX_IMAGE_SAMPLES, 2, "scene data: bad image samples");
    s->ipx = r->err ? 0 : alloc(sizeof(uint16_t) * ((size_t)s->n_ipx + 1));
    if (!r->err && !s->ipx)
        fail(r, "out of memory for image samples");
    for (uint32_t i = 0; !r->err && i < s->n_ipx; i++) {
        s->ipx[i] = (uint16_t)(r->p[r->pos] | r->p[r->pos + 1] << 8);
        r->pos += 2;
    }
    if (!r->err && s->n_ipx % 2) {
        if (r->len - r->pos < 2)
            fail(r, "scene data truncated");
        else
            r->pos += 2;
    }
    s->n_ilut = r->err ? 0 : get_count(r, POV_MAX_IMAGES * 65536u, 4, "scene data: bad image tables");
    s->ilut = r->err ? 0 : alloc(sizeof(float) * ((size_t)s->n_ilut + 1));
    if (!r->err && !s->ilut)
        fail(r, "out of memory for image tables");
    for (uint32_t i = 0; !r->err && i < s->n_ilut; i++) {
        union { float f; uint32_t u; } v;
        v.u = get_u32(r);
        if (!rt_isfinite(v.f))
            fail(r, "scene data holds a non-finite number");
        s->ilut[i] = v.f;
    }
    for (uint32_t i = 0; !r->err && i < s->n_images; i++) {
        const char *why = check_image(s, &s->images[i]);
        if (why)
            fail(r, why);
    }
    r->n_images = r->err ? 0 : s->n_images;
}

#ifndef POV_FREESTANDING
static void put_warps(wbuf *w, const scene *s)
{
    put_u32(w, s->n_warps);
    for (uint32_t i = 0; i < s->n_warps; i++) {
        const warp_item *wi = &s->warps[i];
        put_u32(w, wi->type);
        put_u32(w, wi->octaves);
        put_xform(w, &wi->pre);
        for (int k = 0; k < POV_WARP_ARGS; k++)
            put_f64(w, wi->a[k]);
    }
}
#endif

static void get_warps(rbuf *r, scene *s, pov_alloc_fn alloc)
{
    s->n_warps = get_count(r, MAX_PRIMS, 8 + 8 * (12 + POV_WARP_ARGS), "scene data: bad warps");
    s->warps = r->err ? 0 : alloc(sizeof(warp_item) * ((size_t)s->n_warps + 1));
    if (!r->err && !s->warps)
        fail(r, "out of memory for warps");
    for (uint32_t i = 0; !r->err && i < s->n_warps; i++) {
        warp_item *w = &s->warps[i];
        w->type = get_u32(r);
        w->octaves = get_u32(r);
        get_xform(r, &w->pre);
        for (int k = 0; k < POV_WARP_ARGS; k++)
            w->a[k] = get_f64(r);
        const char *why = r->err ? 0 : warp_check(w);
        if (why)
            fail(r, why);
    }
    r->n_warps = r->err ? 0 : s->n_warps;
}
