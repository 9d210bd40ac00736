/* imagemap_parse.c -- image_map { } and bump_map { } read as POV-Ray 3.7 reads them (its
 * Parse_Image, Parse_Image_Map, Parse_Bump_Map): the file found as #include finds it,
 * decoded once (image.c), its samples and colour table added to the scene's image pools.
 *
 * Gamma as POV-Ray 3.7 applies it to an image's colours: an image_map's file is decoded by
 * the gamma its file declares (PNG's sRGB or gAMA chunk), else by sRGB (a scene of 3.7 or
 * later) or not at all (an older scene with assumed_gamma), then encoded into the scene's
 * working gamma (assumed_gamma); an older scene without assumed_gamma takes the samples as
 * they are. `gamma G` (or `gamma srgb`) overrides the file's. A bump_map takes its samples
 * as they are unless `gamma` is given. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include "image.h"
#include "lang.h"

struct image_pool {
    image_ref *refs;
    size_t nrefs, caprefs;
    uint16_t *px;
    size_t npx, cappx;
    float *lut;
    size_t nlut, caplut;
    struct image_file *files;
    size_t nfiles, capfiles;
};

/* A file decoded once: its samples at pool.px[px_first ..], its palette and gamma kept. */
typedef struct image_file {
    char path[4096];
    pov_image img; /* px freed once copied */
    uint32_t px_first;
} image_file;

static const struct {
    const char *word;
    uint32_t format;
} TYPES[] = {
    {"png", IMG_PNG}, {"gif", IMG_GIF}, {"tga", IMG_TGA},   {"ppm", IMG_PPM},
    {"pgm", IMG_PGM}, {"jpeg", IMG_JPEG}, {"iff", IMG_FORMAT_COUNT}, {"tiff", IMG_FORMAT_COUNT},
    {"sys", IMG_FORMAT_COUNT}, {"exr", IMG_FORMAT_COUNT}, {"hdr", IMG_FORMAT_COUNT},
    {"bmp", IMG_FORMAT_COUNT}, {"pot", IMG_POT},
};
#define N_TYPES (sizeof TYPES / sizeof TYPES[0])

static const struct {
    const char *ext;
    uint32_t format;
} EXTENSIONS[] = {
    {".png", IMG_PNG}, {".gif", IMG_GIF}, {".tga", IMG_TGA}, {".ppm", IMG_PPM},
    {".pgm", IMG_PGM}, {".jpg", IMG_JPEG}, {".jpeg", IMG_JPEG}, {".pot", IMG_POT},
};

static struct image_pool *pool(parser *P)
{
    if (!P->imgs) {
        P->imgs = calloc(1, sizeof *P->imgs);
        if (!P->imgs)
            perr(P, P->line, "out of memory");
    }
    return P->imgs;
}

static void *grow_to(parser *P, void *p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    *cap = c;
    return xrealloc(P, p, c * size);
}

/* The type word (or NULL when none comes) */
static uint32_t parse_type(parser *P, int *given)
{
    token *tk = peek(P);
    *given = 0;
    if (tk->kind != T_IDENT)
        return IMG_AUTO;
    if (!strcmp(tk->text, "function"))
        perr(P, tk->line, "unsupported: an image made by a function (use an image file)");
    for (size_t i = 0; i < N_TYPES; i++)
        if (!strcmp(tk->text, TYPES[i].word)) {
            next(P);
            if (TYPES[i].format == IMG_FORMAT_COUNT)
                perr(P, tk->line, "unsupported image type '%s' (png, gif, tga, ppm, pgm, "
                     "jpeg and pot are)", TYPES[i].word);
            *given = 1;
            return TYPES[i].format;
        }
    return IMG_AUTO;
}

static uint32_t format_of_name(parser *P, const char *name, int line)
{
    const char *dot = strrchr(name, '.');
    for (size_t i = 0; dot && i < sizeof EXTENSIONS / sizeof EXTENSIONS[0]; i++)
        if (!strcasecmp(dot, EXTENSIONS[i].ext))
            return EXTENSIONS[i].format;
    perr(P, line, "cannot tell the image type of '%s': give it before the name (png, gif, "
         "tga, ppm, pgm or jpeg)", name);
}

static image_file *load(parser *P, const char *name, uint32_t format, int line)
{
    struct image_pool *ip = pool(P);
    char path[4096];
    size_t len = 0;
    const uint8_t *data = (const uint8_t *)lang_find_file(P, name, line, "image file", &len,
                                                          path, sizeof path);
    for (size_t i = 0; i < ip->nfiles; i++)
        if (!strcmp(ip->files[i].path, path))
            return &ip->files[i];
    ip->files = grow_to(P, ip->files, &ip->capfiles, ip->nfiles + 1, sizeof *ip->files);
    image_file *f = &ip->files[ip->nfiles];
    memset(f, 0, sizeof *f);
    char err[256];
    if (image_decode(data, len, format, &f->img, err, sizeof err) != 0)
        perr(P, line, "image file '%s': %s", path, err);
    ip->nfiles++;
    snprintf(f->path, sizeof f->path, "%s", path);
    size_t n = (size_t)f->img.w * f->img.h * f->img.channels;
    if (ip->npx + n > POV_MAX_IMAGE_SAMPLES)
        perr(P, line, "image file '%s': the scene's images exceed %u samples", path,
             POV_MAX_IMAGE_SAMPLES);
    ip->px = grow_to(P, ip->px, &ip->cappx, ip->npx + n, sizeof *ip->px);
    memcpy(ip->px + ip->npx, f->img.px, n * sizeof *ip->px);
    f->px_first = (uint32_t)ip->npx;
    ip->npx += n;
    free(f->img.px);
    f->img.px = NULL;
    return f;
}

/* how the colour samples read: decode (the file's curve), then encode (the working one) */
typedef struct {
    int correct;      /* 0: samples as they are */
    double decode;    /* > 0: x^decode; -1: the sRGB curve */
    double work;      /* assumed_gamma (0: none, the decoded value as it is) */
} gamma_curve;

static double srgb_to_linear(double x)
{
    return x <= 0.04045 ? x / 12.92 : pow((x + 0.055) / 1.055, 2.4);
}

static double transcode(const gamma_curve *g, double x)
{
    if (!g->correct)
        return x;
    double lin = g->decode < 0 ? srgb_to_linear(x) : pow(x, g->decode);
    return g->work > 0 && g->work != 1.0 ? pow(lin, 1.0 / g->work) : lin;
}

/* POV-Ray 3.7's Parse_Image gamma handling; colour_use: an image_map (its colours are
   gamma-corrected), not a bump_map */
static gamma_curve curve_for(parser *P, const pov_image *img, int colour_use, double override)
{
    gamma_curve g = {0, 0.0, colour_use ? P->working_gamma : 0.0};
    if (override != 0.0) {
        g.correct = 1;
        g.decode = override;
    } else if (colour_use && (P->version >= 3.695 || P->assumed_gamma_given)) {
        g.correct = 1;
        g.decode = img->file_gamma != 0.0 ? img->file_gamma
                   : P->version >= 3.695  ? -1.0
                                          : P->working_gamma;
    }
    return g;
}

static void add_lut(parser *P, image_ref *r, const pov_image *img, const gamma_curve *g)
{
    struct image_pool *ip = pool(P);
    size_t n = img->palette_n ? (size_t)img->palette_n * 5 : (size_t)r->max + 1;
    ip->lut = grow_to(P, ip->lut, &ip->caplut, ip->nlut + n, sizeof *ip->lut);
    float *lut = ip->lut + ip->nlut;
    for (uint32_t i = 0; i < img->palette_n; i++) {
        for (int k = 0; k < 3; k++)
            lut[i * 5 + k] = (float)transcode(g, img->palette[i][k] / 255.0);
        lut[i * 5 + 3] = 0.0f;
        lut[i * 5 + 4] = (float)(1.0 - img->palette[i][3] / 255.0);
    }
    /* POV-Ray 3.7.0 keeps an 8-bit grey image's decoded values in 8 bits (truncated) */
    int grey8 = g->correct && !img->palette_n && img->channels == 1 && r->max == 255;
    for (size_t v = 0; !img->palette_n && v < n; v++) {
        double x = transcode(g, (double)v / r->max);
        lut[v] = (float)(grey8 ? floor(x * 255.0) / 255.0 : x);
    }
    r->lut_first = (uint32_t)ip->nlut;
    r->lut_n = (uint32_t)n;
    ip->nlut += n;
}

/* filter|transmit all F, or N, F (an indexed image's entry N) */
static void parse_filter_transmit(parser *P, image_ref *r, int k, const char *word, int line)
{
    float *lut = pool(P)->lut + r->lut_first;
    if (is_word(P, "all")) {
        next(P);
        double v = parse_float(P, word);
        *(k == 3 ? &r->all_filter : &r->all_transmit) = v;
        for (uint32_t i = 0; r->indexed && i < r->lut_n / 5; i++)
            lut[i * 5 + (uint32_t)k] = (float)v;
        return;
    }
    double reg = parse_float(P, word);
    if (!r->indexed)
        perr(P, line, "%s N, V needs an image with a palette (use '%s all V')", word, word);
    int i = (int)(reg + 0.01);
    if (i < 0 || (uint32_t)i >= r->lut_n / 5)
        perr(P, line, "%s entry %d is not in the image's palette of %u colours", word, i,
             (unsigned)(r->lut_n / 5));
    opt_comma(P);
    lut[(uint32_t)i * 5 + (uint32_t)k] = (float)parse_float(P, word);
}

static void parse_uv(parser *P, double *u, double *v)
{
    vec3 p = parse_vector(P);
    *u = p.x;
    *v = p.y;
}

static int parse_item(parser *P, image_ref *r, double *bump_size, int use)
{
    token *tk = peek(P);
    int line = tk->line;
    if (tk->kind != T_IDENT)
        return 0;
    char w[64]; /* the token's text is gone once the next one is read */
    snprintf(w, sizeof w, "%s", tk->text);
    if (!strcmp(w, "once")) {
        next(P);
        r->once = 1;
    } else if (!strcmp(w, "interpolate")) {
        next(P);
        double v = parse_float(P, "interpolate");
        if (v != 0 && v != IMAP_BILINEAR && v != IMAP_BICUBIC && v != IMAP_NORM_DIST)
            perr(P, line, "interpolate must be 2, 3 or 4, got %g", v);
        r->interpolate = (uint32_t)v;
    } else if (!strcmp(w, "map_type")) {
        next(P);
        double v = parse_float(P, "map_type");
        if (v != IMAP_PLANAR && v != IMAP_SPHERICAL && v != IMAP_CYLINDRICAL && v != IMAP_TORUS)
            perr(P, line, "map_type must be 0, 1, 2 or 5, got %g", v);
        r->map_type = (uint32_t)v;
    } else if (use != IMAGE_FOR_MATERIAL &&
               (!strcmp(w, "use_color") || !strcmp(w, "use_colour") || !strcmp(w, "use_index"))) {
        next(P);
        r->use_colour = w[4] == 'c';
    } else if (!strcmp(w, "repeat")) {
        next(P);
        double u, v;
        parse_uv(P, &u, &v);
        if (!(u > 0.0 && v > 0.0))
            perr(P, line, "repeat needs two positive numbers, got <%g, %g>", u, v);
        r->width = r->w * u;
        r->height = r->h * v;
    } else if (!strcmp(w, "offset")) {
        next(P);
        parse_uv(P, &r->offset_u, &r->offset_v);
        r->offset_u *= -(double)r->w;
        r->offset_v *= -(double)r->h;
    } else if (bump_size && !strcmp(w, "bump_size")) {
        next(P);
        *bump_size = parse_float(P, "bump_size");
    } else if (use == IMAGE_FOR_PIGMENT && (!strcmp(w, "filter") || !strcmp(w, "transmit"))) {
        next(P);
        parse_filter_transmit(P, r, w[0] == 'f' ? 3 : 4, w, line);
    } else {
        return 0;
    }
    return 1;
}

/* The block after image_map or bump_map: { [TYPE] "FILE" [gamma G] items }. Returns the
   scene's image index; bump_size (a bump_map's) may be set by its items. */
uint32_t image_parse_block(parser *P, int line, int use, double *bump_size)
{
    static const char *const WHAT[] = {"image_map", "bump_map", "material_map"};
    int colour_use = use == IMAGE_FOR_PIGMENT;
    char after[32];
    snprintf(after, sizeof after, "after '%s'", WHAT[use]);
    expect(P, "{", after);
    int given;
    uint32_t format = parse_type(P, &given);
    int name_line = peek(P)->line;
    value v = expr(P);
    if (v.kind != V_STRING)
        perr(P, name_line, "an image's file name must be a string, got a %s", kind_name(v.kind));
    if (!given)
        format = format_of_name(P, v.str, name_line);
    double override = 0.0;
    if (is_word(P, "gamma")) {
        next(P);
        if (is_word(P, "srgb")) {
            next(P);
            override = -1.0;
        } else if (!((override = parse_float(P, "gamma")) > 0.0)) {
            perr(P, name_line, "an image's gamma must be positive, got %g", override);
        }
    }
    if (is_word(P, "premultiplied"))
        perr(P, peek(P)->line, "unsupported: premultiplied (images are read with straight alpha)");
    image_file *f = load(P, v.str, format, name_line);
    image_ref r;
    memset(&r, 0, sizeof r);
    r.w = f->img.w, r.h = f->img.h, r.channels = f->img.channels;
    r.indexed = f->img.palette_n > 0;
    r.max = f->img.bits == 16 ? 65535u : 255u;
    r.px_first = f->px_first;
    r.use_colour = 1;
    r.width = r.w, r.height = r.h;
    gamma_curve g = curve_for(P, &f->img, colour_use, override);
    add_lut(P, &r, &f->img, &g);
    while (parse_item(P, &r, use == IMAGE_FOR_BUMP ? bump_size : NULL, use))
        ;
    if (use == IMAGE_FOR_MATERIAL && is_word(P, "texture")) {
        /* the caller reads the textures and the closing brace */
    } else if (!is_punct(P, "}")) {
        perr(P, peek(P)->line, "unsupported word '%s' in %s", peek(P)->text, WHAT[use]);
    } else {
        next(P);
    }
    struct image_pool *ip = pool(P);
    if (ip->nrefs >= POV_MAX_IMAGES)
        perr(P, line, "more than %u image maps in one scene", POV_MAX_IMAGES);
    ip->refs = grow_to(P, ip->refs, &ip->caprefs, ip->nrefs + 1, sizeof *ip->refs);
    ip->refs[ip->nrefs] = r;
    return (uint32_t)ip->nrefs++;
}

void image_pool_to_scene(parser *P, scene *out)
{
    struct image_pool *ip = P->imgs;
    if (!ip)
        return;
    out->n_images = (uint32_t)ip->nrefs;
    out->images = ip->refs;
    out->n_ipx = (uint32_t)ip->npx;
    out->ipx = ip->px;
    out->n_ilut = (uint32_t)ip->nlut;
    out->ilut = ip->lut;
    ip->refs = NULL, ip->px = NULL, ip->lut = NULL;
    ip->nrefs = ip->npx = ip->nlut = 0;
}

void image_pool_free(parser *P)
{
    struct image_pool *ip = P->imgs;
    if (!ip)
        return;
    free(ip->refs);
    free(ip->px);
    free(ip->lut);
    free(ip->files);
    free(ip);
    P->imgs = NULL;
}

/* ------------------------------------------------------------------ height_field */

/* POV-Ray's IntEncode: a value in [0, 1] to 0..max, rounded */
static double int_encode(double v, double max)
{
    double q = floor(v * max + 0.5);
    return q < 0.0 ? 0.0 : q > max ? max : q;
}

/* POV-Ray 3.7.0's image_height_at for a decoded file's pixel (float arithmetic as its image
   store does it): a palette index times 256; grey times 65535; 8-bit colour red as the high
   byte and green as the low one; 16-bit colour its grey */
static double height_of(const pov_image *img, const uint16_t *px)
{
    if (img->palette_n)
        return px[0] * 256.0;
    float max = img->bits == 16 ? 65535.0f : 255.0f;
    float r = px[0] / max;
    if (img->channels <= 2)
        return (double)(uint16_t)(r * 65535.0f);
    float g = px[1] / max, b = px[2] / max;
    if (img->bits == 16)
        return (double)(uint16_t)((float)(r * 0.297 + g * 0.589 + b * 0.114) * 65535.0f);
    return (double)(uint16_t)((r * 256.0 + g) * 255.0);
}

static double *file_heights(parser *P, int line, uint32_t *w, uint32_t *h)
{
    int given;
    uint32_t format = parse_type(P, &given);
    int name_line = peek(P)->line;
    value v = expr(P);
    if (v.kind != V_STRING)
        perr(P, name_line, "a height_field's file name must be a string, got a %s",
             kind_name(v.kind));
    if (!given)
        format = format_of_name(P, v.str, name_line);
    if (is_word(P, "gamma") || is_word(P, "premultiplied"))
        perr(P, peek(P)->line, "unsupported word '%s' in height_field (heights are read as "
             "the file stores them)", peek(P)->text);
    image_file *f = load(P, v.str, format, name_line);
    *w = f->img.w, *h = f->img.h;
    if (*w < 2 || *h < 2)
        perr(P, line, "height_field image '%s' of %ux%u pixels: at least 2x2 needed", v.str,
             (unsigned)*w, (unsigned)*h);
    double *out = xalloc(P, sizeof(double) * (size_t)*w * *h);
    const uint16_t *px = P->imgs->px + f->px_first;
    for (uint32_t z = 0; z < *h; z++)
        for (uint32_t x = 0; x < *w; x++)
            out[(size_t)z * *w + x] = height_of(&f->img, px + ((size_t)(*h - 1 - z) * *w + x) *
                                                         f->img.channels);
    return out;
}

/* function W, H { }: POV-Ray keeps the values as a 16-bit grey image (a float function) or
   a 16-bit RGBA one (a pigment); the heights come from those as from a file */
static double *function_heights(parser *P, int line, uint32_t *w, uint32_t *h)
{
    double fw = parse_float(P, "the height_field function's width");
    opt_comma(P);
    double fh = parse_float(P, "the height_field function's height");
    *w = (uint32_t)(int)(fw + 0.5), *h = (uint32_t)(int)(fh + 0.5);
    if (!(fw + 0.5 >= 2.0 && fh + 0.5 >= 2.0 && fw <= 8192.0 && fh <= 8192.0))
        perr(P, line, "height_field function size must be 2..8192 each, got %g, %g", fw, fh);
    size_t n = (size_t)*w * *h;
    double *vals = xalloc(P, sizeof(double) * n * 4), *out = xalloc(P, sizeof(double) * n);
    int pigment = fn_grid_now(P, *w, *h, vals);
    pov_image img = {.channels = pigment ? 4 : 1, .bits = 16};
    for (uint32_t z = 0; z < *h; z++)
        for (uint32_t x = 0; x < *w; x++) {
            size_t i = (size_t)(*h - 1 - z) * *w + x; /* image row y = 0 is the function's */
            uint16_t px[4] = {0};
            for (uint32_t k = 0; k < img.channels; k++)
                px[k] = (uint16_t)int_encode(vals[i * img.channels + k], 65535.0);
            out[(size_t)z * *w + x] = height_of(&img, px);
        }
    return out;
}

double *image_parse_heights(parser *P, int line, uint32_t *w, uint32_t *h)
{
    if (is_word(P, "function")) {
        next(P);
        return function_heights(P, line, w, h);
    }
    return file_heights(P, line, w, h);
}
