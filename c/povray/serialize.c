/* serialize.c -- the scene's binary form (the job's shared input).
 *
 * Little-endian: u32 magic "PVSC", u32 version, camera (4 vec3, u32 type, f64 angle, f64 vertical angle (version 3)),
 * background (vec3), u32 max_trace_level, f64 adc_bailout, f64 gamma (version 2), u32 n_lights, lights (pos, colour, flags, type, dir, cos radius, cos falloff, tightness, fade distance, fade power; version 6: u32 area n1, n2, adaptive, flags, vec3 axis1, axis2), u32 n_prims,
 * prims: u32 type, u32 flags, u32 has_trans, vec3 a, vec3 b, f64 r, f64 r2, [fwd 12 f64,
 * inv 12 f64], u32 cond_first, u32 cond_n (version 4),
 * u32 data_first, u32 data_n, u32 bound, u32 layer_first, u32 layer_n (version 6) (version 4: fogs before the data pool (u32 n,
 * then type, distance, colour, filter, transmit, offset, alt, up), then numbers in the data pool written before the
 * prims as u32 n_data, f64...; version 6: then the texture layers under the objects' top
 * ones, u32 n_layers, each a pigment, finish and normal like a prim's; then the
 * texture_map entries, u32 n, each f64 value, u32 layer_first, u32 layer_n and a surface,
 * and the patterned textures, u32 n, each a pattern pigment, u32 first entry, u32 count;
 * a prim's u32 tmap follows its layer_n), pigment (u32 type, u32 has_trans, vec3 c1, vec3 c2, [inv 12 f64]),
 * finish (vec3 ambient, f64 diffuse brilliance phong phong_size specular roughness_exp
 * metallic, vec3 reflection; version 6: vec3 reflection_min, f64 falloff, f64 1/exponent, f64 reflection
 * metallic, u32 fresnel, u32 conserve_energy, vec3 emission, f64 crand), u32 normal type [f64 amount, f64 delta, pigment] (version 4);
 * then the CSG tree (version 4): u32 n_nodes, nodes (u32 kind,
 * invert, first, n), u32 n_kids, kids (u32), u32 n_conds, conds (u32); version 7: each finish
 * ends with f64 irid, irid thickness, irid turbulence, and the scene with vec3
 * irid_wavelength, u32 noise_generator, u32 n_rainbows, rainbows (vec3 antisolar, up, right, f64
 * angle, width, distance, jitter, arc angle, falloff angle, falloff width, pigment). Version 8
 * (2026-12-05) adds fields named where they are written: a pattern has 9 parameters (6
 * before); a warp repeat (u32 axis, f64 width, vec3 offset, vec3 flip) follows a pattern's
 * warp; a normal ends with u32 map_first, map_n (its normal_map) and u32 slope_map; a prim's
 * u32 inside_tex (interior_texture) follows its tmap; after the rainbows, the render-time
 * functions (fn.h): u32 n, function pigments; u32 n, instructions (u32 op, u32 a, f64 k);
 * u32 n, functions (u32 first, n, n_locals); then u32 n, the normal_map entries (f64 value,
 * normal), each referring only to entries before it. Version 9 (2026-12-05): the images
 * and the warps (serialize_image.c) after the lights; a pattern's warp fields are u32
 * warp_first, warp_n (its list among the warps). Version 10 (2026-12-05): a light ends with
 * vec3 point_at (parallel area lights aim their samples from it) and u32 proj_first, proj_n
 * (its projected_through objects among the prims); a texture_map entry ends
 * with u32 tmap (a patterned texture inside a patterned texture). vec3 = 3 f64. Reading checks every length, count, type and that every
 * number is finite. scene_serialize is hosted (malloc); the rest is freestanding-safe.
 */
#include "scene.h"
#include "fn.h"
#include "prims.h"
#include "warp.h"
#include "rt_math.h"

#ifndef POV_FREESTANDING
#include <stdlib.h>
#endif

#define MAX_LIGHTS 4096u
#define MAX_PRIMS 4000000u
#define MAX_MAPS 16384u
#define MAX_DATA 200000000u
#define MAX_TRACE 256u

/* ------------------------------------------------------------------ writer (hosted) */
#ifndef POV_FREESTANDING
typedef struct {
    uint8_t *p;
    size_t len, cap;
    int oom;
} wbuf;

static void put_bytes(wbuf *w, const void *src, size_t n)
{
    if (w->oom)
        return;
    if (w->len + n > w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 4096;
        while (cap < w->len + n)
            cap *= 2;
        uint8_t *np = realloc(w->p, cap);
        if (!np) {
            w->oom = 1;
            return;
        }
        w->p = np;
        w->cap = cap;
    }
    const uint8_t *s = src;
    for (size_t i = 0; i < n; i++)
        w->p[w->len + i] = s[i];
    w->len += n;
}

static void put_u32(wbuf *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put_bytes(w, b, 4);
}

static void put_f64(wbuf *w, double d)
{
    union { double d; uint64_t u; } v;
    v.d = d;
    uint8_t b[8];
    for (int i = 0; i < 8; i++)
        b[i] = (uint8_t)(v.u >> (8 * i));
    put_bytes(w, b, 8);
}

static void put_vec(wbuf *w, vec3 v)
{
    put_f64(w, v.x);
    put_f64(w, v.y);
    put_f64(w, v.z);
}

static void put_xform(wbuf *w, const xform *t)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            put_f64(w, t->m[i][j]);
}

static void put_pigment(wbuf *w, const pigment *pg)
{
    put_u32(w, pg->type);
    put_u32(w, pg->has_trans);
    put_vec(w, pg->c1);
    put_vec(w, pg->c2);
    put_f64(w, pg->ft1[0]);
    put_f64(w, pg->ft1[1]);
    put_f64(w, pg->ft2[0]);
    put_f64(w, pg->ft2[1]);
    if (pg->has_trans)
        put_xform(w, &pg->inv);
    if (pg->type < PIG_GRADIENT)
        return;
    put_u32(w, pg->map);
    put_u32(w, pg->wave);
    put_f64(w, pg->frequency);
    put_f64(w, pg->phase);
    put_f64(w, pg->exponent);
    put_vec(w, pg->vec);
    put_u32(w, pg->has_turb);
    put_u32(w, pg->octaves);
    put_u32(w, pg->noise_gen);
    put_vec(w, pg->turb);
    put_f64(w, pg->omega);
    put_f64(w, pg->lambda);
    for (int i = 0; i < POV_PATTERN_ARGS; i++)
        put_f64(w, pg->arg[i]);
    put_u32(w, pg->sub_first);
    put_u32(w, pg->sub_n);
    put_u32(w, pg->warp_first); /* version 9: the warp list (serialize_image.c) */
    put_u32(w, pg->warp_n);
}

static void put_normal(wbuf *w, const tnormal *n)
{
    put_u32(w, n->type);
    if (n->type != NRM_NONE) {
        put_f64(w, n->amount);
        put_f64(w, n->delta);
        put_pigment(w, &n->pat);
        put_u32(w, n->map_first); /* version 8 */
        put_u32(w, n->map_n);
        put_u32(w, n->slope_map);
    }
}

/* What a ray sees of a surface: a prim's top layer or a layer under it. */
static void put_surface(wbuf *w, const pigment *pig, const finish *f, const tnormal *nrm)
{
    put_pigment(w, pig);
    put_vec(w, f->ambient);
    put_f64(w, f->diffuse);
    put_f64(w, f->brilliance);
    put_f64(w, f->phong);
    put_f64(w, f->phong_size);
    put_f64(w, f->specular);
    put_f64(w, f->roughness_exp);
    put_f64(w, f->metallic);
    put_vec(w, f->reflection);
    put_vec(w, f->reflection_min);
    put_f64(w, f->reflection_falloff);
    put_f64(w, f->reflection_exp);
    put_f64(w, f->reflect_metallic);
    put_u32(w, f->fresnel);
    put_u32(w, f->conserve_energy);
    put_vec(w, f->emission);
    put_f64(w, f->crand);
    put_f64(w, f->irid);
    put_f64(w, f->irid_thickness);
    put_f64(w, f->irid_turb);
    put_normal(w, nrm);
}

static void put_csg(wbuf *w, const scene *s)
{
    put_u32(w, s->n_nodes);
    for (uint32_t i = 0; i < s->n_nodes; i++) {
        put_u32(w, s->nodes[i].kind);
        put_u32(w, s->nodes[i].invert);
        put_u32(w, s->nodes[i].first);
        put_u32(w, s->nodes[i].n);
    }
    put_u32(w, s->n_kids);
    for (uint32_t i = 0; i < s->n_kids; i++)
        put_u32(w, s->kids[i]);
    put_u32(w, s->n_conds);
    for (uint32_t i = 0; i < s->n_conds; i++)
        put_u32(w, s->conds[i]);
}

/* version 8: the render-time functions (fn.h) */
static void put_functions(wbuf *w, const scene *s)
{
    put_u32(w, s->n_fpigs);
    for (uint32_t i = 0; i < s->n_fpigs; i++)
        put_pigment(w, &s->fpigs[i]);
    put_u32(w, s->n_fcode);
    for (uint32_t i = 0; i < s->n_fcode; i++) {
        put_u32(w, s->fcode[i].op);
        put_u32(w, s->fcode[i].a);
        put_f64(w, s->fcode[i].k);
    }
    put_u32(w, s->n_funcs);
    for (uint32_t i = 0; i < s->n_funcs; i++) {
        put_u32(w, s->funcs[i].first);
        put_u32(w, s->funcs[i].n);
        put_u32(w, s->funcs[i].n_locals);
    }
}

static void put_rainbows(wbuf *w, const scene *s)
{
    put_u32(w, s->n_rainbows);
    for (uint32_t i = 0; i < s->n_rainbows; i++) {
        const rainbow *rb = &s->rainbows[i];
        put_vec(w, rb->antisolar);
        put_vec(w, rb->up);
        put_vec(w, rb->right);
        put_f64(w, rb->angle);
        put_f64(w, rb->width);
        put_f64(w, rb->distance);
        put_f64(w, rb->jitter);
        put_f64(w, rb->arc_angle);
        put_f64(w, rb->falloff_angle);
        put_f64(w, rb->falloff_width);
        put_pigment(w, &rb->pig);
    }
}

static void put_images(wbuf *w, const scene *s); /* serialize_image.c */
static void put_warps(wbuf *w, const scene *s);

uint8_t *scene_serialize(const scene *s, size_t *len_out)
{
    wbuf w = {0};
    put_u32(&w, POV_SCENE_MAGIC);
    put_u32(&w, POV_SCENE_VERSION);
    put_vec(&w, s->location);
    put_vec(&w, s->direction);
    put_vec(&w, s->right);
    put_vec(&w, s->up);
    put_u32(&w, s->camera_type);
    put_f64(&w, s->camera_angle);
    put_f64(&w, s->camera_angle_v);
    put_vec(&w, s->background);
    put_u32(&w, s->max_trace_level);
    put_f64(&w, s->adc_bailout);
    put_f64(&w, s->gamma);
    put_u32(&w, s->n_lights);
    for (uint32_t i = 0; i < s->n_lights; i++) {
        put_vec(&w, s->lights[i].pos);
        put_vec(&w, s->lights[i].color);
        put_u32(&w, s->lights[i].flags);
        put_u32(&w, s->lights[i].type);
        put_vec(&w, s->lights[i].dir);
        put_f64(&w, s->lights[i].cos_radius);
        put_f64(&w, s->lights[i].cos_falloff);
        put_f64(&w, s->lights[i].tightness);
        put_f64(&w, s->lights[i].fade_distance);
        put_f64(&w, s->lights[i].fade_power);
        put_u32(&w, s->lights[i].area_n1);
        put_u32(&w, s->lights[i].area_n2);
        put_u32(&w, s->lights[i].adaptive);
        put_u32(&w, s->lights[i].area_flags);
        put_vec(&w, s->lights[i].axis1);
        put_vec(&w, s->lights[i].axis2);
        put_vec(&w, s->lights[i].point_at); /* version 10 */
        put_u32(&w, s->lights[i].proj_first);
        put_u32(&w, s->lights[i].proj_n);
    }
    put_images(&w, s); /* version 9 */
    put_warps(&w, s);
    put_u32(&w, s->n_maps);
    for (uint32_t i = 0; i < s->n_maps; i++) {
        put_u32(&w, s->maps[i].n);
        for (uint32_t k = 0; k < s->maps[i].n; k++) {
            put_f64(&w, s->maps[i].v[k]);
            put_vec(&w, s->maps[i].c[k]);
            put_f64(&w, s->maps[i].ft[k][0]);
            put_f64(&w, s->maps[i].ft[k][1]);
        }
    }
    put_u32(&w, s->n_pentries);
    for (uint32_t i = 0; i < s->n_pentries; i++) {
        put_f64(&w, s->pentries[i].v);
        put_pigment(&w, &s->pentries[i].pig);
    }
    put_u32(&w, s->has_sky);
    if (s->has_sky)
        put_u32(&w, s->sky_legacy);
    for (uint32_t i = 0; i < s->has_sky; i++)
        put_pigment(&w, &s->sky[i]);
    put_u32(&w, s->has_cam_normal);
    if (s->has_cam_normal)
        put_normal(&w, &s->cam_normal);
    put_u32(&w, s->n_fogs);
    for (uint32_t i = 0; i < s->n_fogs; i++) {
        const fog *f = &s->fogs[i];
        put_u32(&w, f->type);
        put_f64(&w, f->distance);
        put_vec(&w, f->colour);
        put_f64(&w, f->filter);
        put_f64(&w, f->transmit);
        put_f64(&w, f->offset);
        put_f64(&w, f->alt);
        put_vec(&w, f->up);
        put_u32(&w, f->has_turb);
        if (f->has_turb) {
            put_f64(&w, f->turb_depth);
            put_pigment(&w, &f->turb);
        }
    }
    put_u32(&w, s->n_data);
    for (uint32_t i = 0; i < s->n_data; i++)
        put_f64(&w, s->data[i]);
    put_u32(&w, s->n_layers);
    for (uint32_t i = 0; i < s->n_layers; i++)
        put_surface(&w, &s->layers[i].pig, &s->layers[i].fin, &s->layers[i].nrm);
    put_u32(&w, s->n_tentries);
    for (uint32_t i = 0; i < s->n_tentries; i++) {
        const tentry *e = &s->tentries[i];
        put_f64(&w, e->v);
        put_u32(&w, e->layer_first);
        put_u32(&w, e->layer_n);
        put_surface(&w, &e->pig, &e->fin, &e->nrm);
        put_u32(&w, e->tmap); /* version 10 */
    }
    put_u32(&w, s->n_tmaps);
    for (uint32_t i = 0; i < s->n_tmaps; i++) {
        put_pigment(&w, &s->tmaps[i].pat);
        put_u32(&w, s->tmaps[i].first);
        put_u32(&w, s->tmaps[i].n);
    }
    put_u32(&w, s->n_prims);
    for (uint32_t i = 0; i < s->n_prims; i++) {
        const prim *p = &s->prims[i];
        put_u32(&w, p->type);
        put_u32(&w, p->flags);
        put_u32(&w, p->has_trans);
        put_vec(&w, p->a);
        put_vec(&w, p->b);
        put_f64(&w, p->r);
        put_f64(&w, p->r2);
        if (p->has_trans) {
            put_xform(&w, &p->fwd);
            put_xform(&w, &p->inv);
        }
        put_u32(&w, p->cond_first);
        put_u32(&w, p->cond_n);
        put_u32(&w, p->data_first);
        put_u32(&w, p->data_n);
        put_u32(&w, p->bound);
        put_u32(&w, p->layer_first);
        put_u32(&w, p->layer_n);
        put_u32(&w, p->tmap);
        put_u32(&w, p->inside_tex); /* version 8 */
        put_surface(&w, &p->pig, &p->fin, &p->nrm);
        put_u32(&w, p->interior_id);
        if (p->interior_id) {
            put_f64(&w, p->ior);
            put_f64(&w, p->caustics);
            put_f64(&w, p->fade_distance);
            put_f64(&w, p->fade_power);
            put_vec(&w, p->fade_colour);
        }
    }
    put_csg(&w, s);
    put_vec(&w, s->irid_wavelength);
    put_u32(&w, s->noise_generator);
    put_rainbows(&w, s);
    put_functions(&w, s);
    put_u32(&w, s->n_nentries); /* version 8: the normal_map entries */
    for (uint32_t i = 0; i < s->n_nentries; i++) {
        put_f64(&w, s->nentries[i].v);
        put_normal(&w, &s->nentries[i].n);
    }
    if (w.oom) {
        free(w.p);
        return NULL;
    }
    *len_out = w.len;
    return w.p;
}
#endif

/* ------------------------------------------------------------------ reader */
typedef struct {
    const uint8_t *p;
    size_t len, pos;
    const char *err;
    uint32_t sub_limit;   /* a pigment read now may use pigment_map entries below this */
    const uint8_t *depth; /* the nesting depth of each pigment_map entry read so far */
    uint32_t n_images;    /* images read (version 9): image_map pigments name one of these */
    uint32_t n_warps;     /* warps read (version 9): pigments' warp lists are among these */
} rbuf;

static int fail(rbuf *r, const char *msg)
{
    if (!r->err)
        r->err = msg;
    return -1;
}

static uint32_t get_u32(rbuf *r)
{
    if (r->err || r->len - r->pos < 4) {
        fail(r, "scene data truncated");
        return 0;
    }
    const uint8_t *b = r->p + r->pos;
    r->pos += 4;
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static double get_f64(rbuf *r)
{
    if (r->err || r->len - r->pos < 8) {
        fail(r, "scene data truncated");
        return 0.0;
    }
    union { double d; uint64_t u; } v;
    v.u = 0;
    for (int i = 0; i < 8; i++)
        v.u |= (uint64_t)r->p[r->pos + i] << (8 * i);
    r->pos += 8;
    if (!rt_isfinite(v.d)) {
        fail(r, "scene data holds a non-finite number");
        return 0.0;
    }
    return v.d;
}

static double vdot3(vec3 a, vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }

static vec3 get_vec(rbuf *r)
{
    vec3 v;
    v.x = get_f64(r);
    v.y = get_f64(r);
    v.z = get_f64(r);
    return v;
}

static void get_xform(rbuf *r, xform *t)
{
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 4; j++)
            t->m[i][j] = get_f64(r);
}

/* need_map: a pigment's pattern needs its colour map (a normal's does not) */
static int get_pigment(rbuf *r, pigment *pg, uint32_t n_maps, int need_map)
{
    pg->type = get_u32(r);
    pg->has_trans = get_u32(r);
    if (pg->type >= PIG_COUNT || pg->has_trans > 1)
        return fail(r, "scene data: bad pigment");
    pg->c1 = get_vec(r);
    pg->c2 = get_vec(r);
    pg->ft1[0] = get_f64(r);
    pg->ft1[1] = get_f64(r);
    pg->ft2[0] = get_f64(r);
    pg->ft2[1] = get_f64(r);
    if (pg->has_trans)
        get_xform(r, &pg->inv);
    pg->warp_n = 0; /* a solid or checker pigment has none of the pattern fields */
    pg->sub_n = 0;
    if (pg->type < PIG_GRADIENT)
        return r->err ? -1 : 0;
    pg->map = get_u32(r);
    pg->wave = get_u32(r);
    pg->frequency = get_f64(r);
    pg->phase = get_f64(r);
    pg->exponent = get_f64(r);
    pg->vec = get_vec(r);
    pg->has_turb = get_u32(r);
    pg->octaves = get_u32(r);
    pg->noise_gen = get_u32(r);
    pg->turb = get_vec(r);
    pg->omega = get_f64(r);
    pg->lambda = get_f64(r);
    for (int i = 0; i < POV_PATTERN_ARGS; i++)
        pg->arg[i] = get_f64(r);
    pg->sub_first = get_u32(r);
    pg->sub_n = get_u32(r);
    pg->warp_first = get_u32(r);
    pg->warp_n = get_u32(r);
    if (!r->err && (pg->warp_n > POV_MAX_WARPS || pg->warp_first > r->n_warps ||
                    pg->warp_n > r->n_warps - pg->warp_first || (pg->warp_n && !pg->has_trans)))
        return fail(r, "scene data: bad warp list");
    if (!r->err && (pg->sub_n > POV_MAP_MAX || pg->sub_first > r->sub_limit ||
                    pg->sub_n > r->sub_limit - pg->sub_first ||
                    (pg->type == PIG_AVERAGE && need_map && pg->sub_n == 0) ||
                    (!need_map && pg->sub_n)))
        return fail(r, "scene data: bad pigment_map reference");
    if (!r->err && pg->sub_n) {
        need_map = 0; /* the entries stand for the colour map */
        for (uint32_t k = 0; k < pg->sub_n; k++)
            if (r->depth[pg->sub_first + k] >= POV_PIGMENT_DEPTH_MAX)
                return fail(r, "scene data: pigment_map nested too deep");
    }
    if (!r->err && pg->type == PIG_IMAGE_MAP &&
        !(pg->arg[0] >= 0.0 && pg->arg[0] < r->n_images && pg->arg[0] == rt_floor(pg->arg[0])))
        return fail(r, "scene data: image_map names no image");
    if (!r->err && pg->type == PIG_IMAGE_MAP && /* material_map: how many textures, or 0 */
        !(pg->arg[1] >= 0.0 && pg->arg[1] <= POV_MAP_MAX && pg->arg[1] == rt_floor(pg->arg[1])))
        return fail(r, "scene data: bad material_map");
    if (!r->err && ((need_map && pg->map >= n_maps) || pg->wave >= WAVE_COUNT || pg->has_turb > 1 ||
                    pg->octaves < 1 || pg->octaves > 32 || pg->noise_gen < 1 ||
                    pg->noise_gen > 3))
        return fail(r, "scene data: bad pattern pigment");
    return r->err ? -1 : 0;
}

/* The pigment_map entries: entry k may refer only to entries below k (so evaluation ends),
   at most POV_PIGMENT_DEPTH_MAX deep. Afterwards every pigment may use all of them. */
static int get_pentries(rbuf *r, scene *s, pov_alloc_fn alloc)
{
    s->n_pentries = get_u32(r);
    if (!r->err && (s->n_pentries > MAX_PRIMS || (size_t)s->n_pentries * 8 > r->len - r->pos))
        return fail(r, "scene data: too many pigment_map entries");
    if (r->err)
        return -1;
    s->pentries = alloc(sizeof(pigment_entry) * ((size_t)s->n_pentries + 1));
    uint8_t *depth = alloc((size_t)s->n_pentries + 1);
    if (!s->pentries || !depth)
        return fail(r, "out of memory for pigment_map entries");
    r->depth = depth;
    for (uint32_t k = 0; k < s->n_pentries && !r->err; k++) {
        s->pentries[k].v = get_f64(r);
        r->sub_limit = k;
        if (get_pigment(r, &s->pentries[k].pig, s->n_maps, 1) < 0)
            return -1;
        const pigment *pg = &s->pentries[k].pig;
        uint8_t d = 1;
        for (uint32_t j = 0; j < pg->sub_n; j++)
            if (depth[pg->sub_first + j] + 1 > d)
                d = (uint8_t)(depth[pg->sub_first + j] + 1);
        depth[k] = d;
    }
    r->sub_limit = s->n_pentries;
    return r->err ? -1 : 0;
}

static int get_normal(rbuf *r, tnormal *n, uint32_t n_maps)
{
    n->type = get_u32(r);
    if (r->err || n->type == NRM_NONE)
        return r->err ? -1 : 0;
    if (n->type >= NRM_COUNT)
        return fail(r, "scene data: bad normal type");
    n->amount = get_f64(r);
    n->delta = get_f64(r);
    if (get_pigment(r, &n->pat, n_maps, 0) < 0)
        return -1;
    n->map_first = get_u32(r); /* checked where it is used (normals.c): the entries come last */
    n->map_n = get_u32(r);
    n->slope_map = get_u32(r);
    if (!r->err && (n->slope_map > n_maps || (n->slope_map && n->type != NRM_PATTERN)))
        return fail(r, "scene data: bad slope_map");
    if (n->pat.type < PIG_GRADIENT || !(n->delta > 0.0) ||
        (n->type == NRM_BUMP_MAP) != (n->pat.type == PIG_IMAGE_MAP))
        return fail(r, "scene data: bad normal pattern");
    return 0;
}

static int get_surface(rbuf *r, pigment *pig, finish *f, tnormal *nrm, uint32_t n_maps)
{
    if (get_pigment(r, pig, n_maps, 1) < 0)
        return -1;
    f->ambient = get_vec(r);
    f->diffuse = get_f64(r);
    f->brilliance = get_f64(r);
    f->phong = get_f64(r);
    f->phong_size = get_f64(r);
    f->specular = get_f64(r);
    f->roughness_exp = get_f64(r);
    f->metallic = get_f64(r);
    f->reflection = get_vec(r);
    f->reflection_min = get_vec(r);
    f->reflection_falloff = get_f64(r);
    f->reflection_exp = get_f64(r);
    f->reflect_metallic = get_f64(r);
    f->fresnel = get_u32(r);
    f->conserve_energy = get_u32(r);
    f->emission = get_vec(r);
    f->crand = get_f64(r);
    f->irid = get_f64(r);
    f->irid_thickness = get_f64(r);
    f->irid_turb = get_f64(r);
    if (!r->err && (f->fresnel > 1 || f->conserve_energy > 1))
        return fail(r, "scene data: bad finish flags");
    return get_normal(r, nrm, n_maps);
}

/* The texture layers under the objects' top ones. */
static int get_layers(rbuf *r, scene *s, pov_alloc_fn alloc)
{
    s->n_layers = get_u32(r);
    if (!r->err && (s->n_layers > MAX_PRIMS || (size_t)s->n_layers * 200 > r->len - r->pos))
        return fail(r, "scene data: too many texture layers");
    if (r->err)
        return -1;
    s->layers = alloc(sizeof(tlayer) * ((size_t)s->n_layers + 1));
    if (!s->layers)
        return fail(r, "out of memory for texture layers");
    for (uint32_t i = 0; i < s->n_layers; i++)
        if (get_surface(r, &s->layers[i].pig, &s->layers[i].fin, &s->layers[i].nrm, s->n_maps) < 0)
            return -1;
    return 0;
}

/* A range of scene.layers (under an object's or a texture_map entry's top layer). */
static int get_layer_range(rbuf *r, uint32_t *first, uint32_t *n, uint32_t n_layers)
{
    *first = get_u32(r);
    *n = get_u32(r);
    if (!r->err && (*first > n_layers || *n > n_layers - *first || *n >= POV_MAX_LAYERS))
        return fail(r, "scene data: texture layers out of range");
    return r->err ? -1 : 0;
}

/* Map i's depth from its entries' maps, which must come before it (so that shading one
   ends), nested at most POV_TMAP_DEPTH deep; -1 when they do not. */
static int tmap_depth(scene *s, uint32_t i)
{
    tmap *m = &s->tmaps[i];
    m->depth = 1;
    for (uint32_t k = 0; k < m->n; k++) {
        uint32_t sub = s->tentries[m->first + k].tmap;
        if (sub > i)
            return -1;
        if (sub && s->tmaps[sub - 1].depth + 1 > m->depth)
            m->depth = s->tmaps[sub - 1].depth + 1;
    }
    return m->depth <= POV_TMAP_DEPTH ? 0 : -1;
}

/* The patterned textures: their entries (each a surface and its layers), then the maps
   (a pattern and a range of entries with ascending values; an average's are weights). */
static int get_tmaps(rbuf *r, scene *s, pov_alloc_fn alloc)
{
    s->n_tentries = get_u32(r);
    if (!r->err && (s->n_tentries > MAX_PRIMS || (size_t)s->n_tentries * 200 > r->len - r->pos))
        return fail(r, "scene data: too many texture_map entries");
    if (r->err)
        return -1;
    s->tentries = alloc(sizeof(tentry) * ((size_t)s->n_tentries + 1));
    if (!s->tentries)
        return fail(r, "out of memory for texture_map entries");
    for (uint32_t i = 0; i < s->n_tentries; i++) {
        tentry *e = &s->tentries[i];
        e->v = get_f64(r);
        if (get_layer_range(r, &e->layer_first, &e->layer_n, s->n_layers) < 0 ||
            get_surface(r, &e->pig, &e->fin, &e->nrm, s->n_maps) < 0)
            return -1;
        e->tmap = get_u32(r); /* checked with the map holding the entry */
    }
    s->n_tmaps = get_u32(r);
    if (!r->err && (s->n_tmaps > MAX_PRIMS || (size_t)s->n_tmaps * 100 > r->len - r->pos))
        return fail(r, "scene data: too many patterned textures");
    if (r->err)
        return -1;
    s->tmaps = alloc(sizeof(tmap) * ((size_t)s->n_tmaps + 1));
    if (!s->tmaps)
        return fail(r, "out of memory for patterned textures");
    for (uint32_t i = 0; i < s->n_tmaps; i++) {
        tmap *m = &s->tmaps[i];
        if (get_pigment(r, &m->pat, s->n_maps, 0) < 0)
            return -1;
        m->first = get_u32(r);
        m->n = get_u32(r);
        if (!r->err && (m->pat.type < PIG_GRADIENT || m->n < 1 || m->n > POV_MAP_MAX ||
                        m->first > s->n_tentries || m->n > s->n_tentries - m->first))
            return fail(r, "scene data: bad patterned texture");
        for (uint32_t k = 1; k < m->n && !r->err && m->pat.type != PIG_AVERAGE; k++)
            if (s->tentries[m->first + k].v < s->tentries[m->first + k - 1].v)
                return fail(r, "scene data: texture_map values out of order");
        for (uint32_t k = 0; k < m->n && !r->err && m->pat.type == PIG_AVERAGE; k++)
            if (!(s->tentries[m->first + k].v >= 0.0)) /* an average's weights */
                return fail(r, "scene data: negative average weight");
        if (!r->err && tmap_depth(s, i) < 0)
            return fail(r, "scene data: bad patterned texture inside a patterned texture");
    }
    for (uint32_t i = 0; i < s->n_tentries && !r->err; i++) /* those of no map too */
        if (s->tentries[i].tmap > s->n_tmaps)
            return fail(r, "scene data: bad patterned texture inside a patterned texture");
    return r->err ? -1 : 0;
}

static int get_prim(rbuf *r, prim *p, uint32_t n_maps, const double *data, uint32_t n_data,
                    uint32_t n_layers, uint32_t n_tmaps)
{
    p->type = get_u32(r);
    p->flags = get_u32(r);
    p->has_trans = get_u32(r);
    if (p->flags & ~PRIM_FLAGS_ALL)
        return fail(r, "scene data: bad object flags");
    const prim_class *pc = prim_class_of(p->type);
    if (!pc)
        return fail(r, "scene data: unknown object type");
    if (p->has_trans > 1)
        return fail(r, "scene data: bad transform flag");
    p->a = get_vec(r);
    p->b = get_vec(r);
    p->r = get_f64(r);
    p->r2 = get_f64(r);
    if (p->has_trans) {
        get_xform(r, &p->fwd);
        get_xform(r, &p->inv);
    }
    p->cond_first = get_u32(r);
    p->cond_n = get_u32(r);
    p->data_first = get_u32(r);
    p->data_n = get_u32(r);
    p->bound = get_u32(r);
    if (!r->err && (p->data_first > n_data || p->data_n > n_data - p->data_first))
        return fail(r, "scene data: object's numbers out of range");
    p->d = data + p->data_first;
    if (get_layer_range(r, &p->layer_first, &p->layer_n, n_layers) < 0)
        return -1;
    p->tmap = get_u32(r);
    if (!r->err && p->tmap > n_tmaps)
        return fail(r, "scene data: object's patterned texture out of range");
    p->inside_tex = get_u32(r); /* checked against scene.tentries by the caller */
    if (get_surface(r, &p->pig, &p->fin, &p->nrm, n_maps) < 0)
        return -1;
    p->interior_id = get_u32(r);
    p->ior = 1.0;
    if (p->interior_id) {
        p->ior = get_f64(r);
        p->caustics = get_f64(r);
        p->fade_distance = get_f64(r);
        p->fade_power = get_f64(r);
        p->fade_colour = get_vec(r);
        if (!r->err && !(p->ior > 0.0 && p->ior < 1.0e6 && rt_fabs(p->caustics) < 1.0e6 &&
                         rt_fabs(p->fade_distance) < 1.0e12 && rt_fabs(p->fade_power) < 1.0e6 &&
                         rt_fabs(p->fade_colour.x) + rt_fabs(p->fade_colour.y) +
                         rt_fabs(p->fade_colour.z) < 1.0e6))
            return fail(r, "scene data: interior out of range");
    }
    const char *bad = pc->check(p);
    if (bad)
        return fail(r, bad);
    return 0;
}

static void get_rainbows(rbuf *r, scene *s)
{
    s->n_rainbows = get_u32(r);
    if (!r->err && s->n_rainbows > POV_MAX_RAINBOWS)
        fail(r, "scene data: too many rainbows");
    for (uint32_t i = 0; i < s->n_rainbows && !r->err; i++) {
        rainbow *rb = &s->rainbows[i];
        rb->antisolar = get_vec(r);
        rb->up = get_vec(r);
        rb->right = get_vec(r);
        rb->angle = get_f64(r);
        rb->width = get_f64(r);
        rb->distance = get_f64(r);
        rb->jitter = get_f64(r);
        rb->arc_angle = get_f64(r);
        rb->falloff_angle = get_f64(r);
        rb->falloff_width = get_f64(r);
        if (get_pigment(r, &rb->pig, s->n_maps, 1) < 0)
            return;
        if (!r->err && (rb->pig.type < PIG_GRADIENT || rb->width == 0.0 ||
                        rb->distance == 0.0))
            fail(r, "scene data: bad rainbow");
    }
}

static void get_fogs(rbuf *r, scene *s)
{
    s->n_fogs = get_u32(r);
    if (!r->err && s->n_fogs > POV_MAX_FOGS)
        fail(r, "scene data: too many fogs");
    for (uint32_t i = 0; i < s->n_fogs && !r->err; i++) {
        fog *f = &s->fogs[i];
        f->type = get_u32(r);
        f->distance = get_f64(r);
        f->colour = get_vec(r);
        f->filter = get_f64(r);
        f->transmit = get_f64(r);
        f->offset = get_f64(r);
        f->alt = get_f64(r);
        f->up = get_vec(r);
        f->has_turb = get_u32(r);
        if (!r->err && f->has_turb > 1)
            fail(r, "scene data: bad fog");
        if (!r->err && f->has_turb) {
            f->turb_depth = get_f64(r);
            get_pigment(r, &f->turb, 0, 0);
            if (!r->err && f->turb.type < PIG_GRADIENT)
                fail(r, "scene data: bad fog turbulence");
        }
        if (!r->err && ((f->type != FOG_CONSTANT && f->type != FOG_GROUND) ||
                        !(f->distance > 0.0) || (f->type == FOG_GROUND && f->alt == 0.0)))
            fail(r, "scene data: bad fog");
    }
}

/* A u32 array of n entries (n read first, at most max); NULL after fail(). */
static uint32_t *get_u32s(rbuf *r, uint32_t *n, uint32_t max, pov_alloc_fn alloc)
{
    *n = get_u32(r);
    if (!r->err && (*n > max || (size_t)*n * 4 > r->len - r->pos))
        fail(r, "scene data: CSG table too large or truncated");
    if (r->err)
        return 0;
    uint32_t *v = alloc(sizeof(uint32_t) * ((size_t)*n + 1));
    if (!v) {
        fail(r, "out of memory for the CSG tables");
        return 0;
    }
    for (uint32_t i = 0; i < *n; i++)
        v[i] = get_u32(r);
    return v;
}

/* One node's check; depth[] holds the depth of every earlier node. */
static const char *check_node(const scene *s, uint32_t i, uint8_t *depth)
{
    const csg_node *nd = &s->nodes[i];
    if (nd->kind >= CSG_KIND_COUNT || nd->invert > 1)
        return "scene data: bad CSG node";
    depth[i] = 1;
    if (nd->kind == CSG_LEAF)
        return nd->first < s->n_prims ? 0 : "scene data: CSG leaf names no object";
    if (nd->first > s->n_kids || nd->n > s->n_kids - nd->first)
        return "scene data: CSG node children out of range";
    for (uint32_t k = 0; k < nd->n; k++) {
        uint32_t c = s->kids[nd->first + k];
        if (c >= i)
            return "scene data: CSG child after its parent";
        if (depth[c] + 1 > depth[i])
            depth[i] = (uint8_t)(depth[c] + 1);
    }
    return depth[i] > POV_CSG_MAX_DEPTH ? "scene data: CSG nesting too deep" : 0;
}

static void get_csg(rbuf *r, scene *s, pov_alloc_fn alloc)
{
    s->n_nodes = get_u32(r);
    if (!r->err && (s->n_nodes > MAX_PRIMS * 4u || (size_t)s->n_nodes * 16 > r->len - r->pos))
        fail(r, "scene data: too many CSG nodes");
    if (r->err)
        return;
    s->nodes = alloc(sizeof(csg_node) * ((size_t)s->n_nodes + 1));
    uint8_t *depth = alloc((size_t)s->n_nodes + 1);
    if (!s->nodes || !depth) {
        fail(r, "out of memory for the CSG tables");
        return;
    }
    for (uint32_t i = 0; i < s->n_nodes; i++) {
        s->nodes[i].kind = get_u32(r);
        s->nodes[i].invert = get_u32(r);
        s->nodes[i].first = get_u32(r);
        s->nodes[i].n = get_u32(r);
    }
    s->kids = get_u32s(r, &s->n_kids, MAX_PRIMS * 8u, alloc);
    s->conds = get_u32s(r, &s->n_conds, MAX_PRIMS * 64u, alloc);
    for (uint32_t i = 0; i < s->n_nodes && !r->err; i++) {
        const char *bad = check_node(s, i, depth);
        if (bad)
            fail(r, bad);
    }
    for (uint32_t i = 0; i < s->n_conds && !r->err; i++)
        if (s->conds[i] >= s->n_nodes)
            fail(r, "scene data: CSG condition names no node");
    for (uint32_t i = 0; i < s->n_prims && !r->err; i++) {
        const prim *p = &s->prims[i];
        if (p->cond_first > s->n_conds || p->cond_n > s->n_conds - p->cond_first)
            fail(r, "scene data: object's CSG conditions out of range");
        if (p->bound > s->n_nodes)
            fail(r, "scene data: object's bound names no node");
    }
}

/* A count of records of at least `min_bytes` each that the rest of the data can hold */
static uint32_t get_count(rbuf *r, uint32_t max, size_t min_bytes, const char *what)
{
    uint32_t n = get_u32(r);
    if (!r->err && (n > max || (size_t)n * min_bytes > r->len - r->pos))
        fail(r, what);
    return r->err ? 0 : n;
}

/* version 10: each light's projected_through objects are objects of the scene that only
   that light sees (PRIM_PROJECTOR), and every such object belongs to a light */
static void check_projectors(rbuf *r, const scene *s)
{
    for (uint32_t i = 0; i < s->n_lights; i++) {
        const light *lt = &s->lights[i];
        if (lt->proj_first > s->n_prims || lt->proj_n > s->n_prims - lt->proj_first) {
            fail(r, "scene data: projected_through objects out of range");
            return;
        }
        for (uint32_t k = 0; k < lt->proj_n; k++)
            if (!(s->prims[lt->proj_first + k].flags & PRIM_PROJECTOR)) {
                fail(r, "scene data: projected_through object drawn as well");
                return;
            }
    }
}

/* version 8: the normal_map entries, each referring only to entries before it (an entry
   without a normal, a block pattern's default, leaves the normal as it is) */
static void get_normal_entries(rbuf *r, scene *s, pov_alloc_fn alloc)
{
    s->n_nentries = get_count(r, MAX_MAPS, 12, "scene data: bad normal_map entries");
    s->nentries = alloc(sizeof(normal_entry) * ((size_t)s->n_nentries + 1));
    if (!s->nentries)
        fail(r, "out of memory for normal_map entries");
    for (uint32_t i = 0; s->nentries && !r->err && i < s->n_nentries; i++) {
        normal_entry *e = &s->nentries[i];
        e->v = get_f64(r);
        if (get_normal(r, &e->n, s->n_maps) < 0)
            return;
        if (e->n.map_first > i || e->n.map_n > i - e->n.map_first)
            fail(r, "scene data: bad normal_map entry");
    }
}

/* version 8: the function pigments (every pigment_map entry usable), code and records */
static void get_functions(rbuf *r, scene *s, pov_alloc_fn alloc)
{
    s->n_fpigs = get_count(r, MAX_MAPS, 8, "scene data: bad function pigments");
    s->fpigs = alloc(sizeof(pigment) * ((size_t)s->n_fpigs + 1));
    for (uint32_t i = 0; s->fpigs && !r->err && i < s->n_fpigs; i++)
        get_pigment(r, &s->fpigs[i], s->n_maps, 1);
    s->n_fcode = get_count(r, POV_FN_MAX_CODE, 16, "scene data: bad function code");
    s->fcode = alloc(sizeof(fn_instr) * ((size_t)s->n_fcode + 1));
    for (uint32_t i = 0; s->fcode && !r->err && i < s->n_fcode; i++) {
        s->fcode[i].op = get_u32(r);
        s->fcode[i].a = get_u32(r);
        s->fcode[i].k = get_f64(r);
    }
    s->n_funcs = get_count(r, POV_FN_MAX_CODE, 12, "scene data: bad function records");
    s->funcs = alloc(sizeof(fn_def) * ((size_t)s->n_funcs + 1));
    for (uint32_t i = 0; s->funcs && !r->err && i < s->n_funcs; i++) {
        s->funcs[i].first = get_u32(r);
        s->funcs[i].n = get_u32(r);
        s->funcs[i].n_locals = get_u32(r);
    }
    if (!s->fpigs || !s->fcode || !s->funcs)
        fail(r, "out of memory for functions");
    const char *err = r->err ? 0 : fn_check(s);
    if (err)
        fail(r, err);
}

#include "serialize_image.c"

int scene_deserialize(const uint8_t *data, size_t len, scene *s, pov_alloc_fn alloc,
                      const char **err)
{
    rbuf r = {data, len, 0, 0, 0, 0, 0, 0};
    if (get_u32(&r) != POV_SCENE_MAGIC) {
        *err = r.err ? r.err : "not a scene (bad magic)";
        return -1;
    }
    if (get_u32(&r) != POV_SCENE_VERSION) {
        *err = r.err ? r.err : "unsupported scene format version";
        return -1;
    }
    s->location = get_vec(&r);
    s->direction = get_vec(&r);
    s->right = get_vec(&r);
    s->up = get_vec(&r);
    s->camera_type = get_u32(&r);
    s->camera_angle = get_f64(&r);
    s->camera_angle_v = get_f64(&r);
    if (!r.err && s->camera_type >= CAM_COUNT)
        fail(&r, "scene data: unknown camera type");
    s->background = get_vec(&r);
    s->max_trace_level = get_u32(&r);
    s->adc_bailout = get_f64(&r);
    s->gamma = get_f64(&r);
    if (!r.err && !(s->gamma >= 0.0 && s->gamma <= 10.0))
        fail(&r, "scene data: gamma out of range 0..10");
    if (!r.err && !(s->adc_bailout >= 0.0 && s->adc_bailout <= 1.0))
        fail(&r, "scene data: adc_bailout out of range 0..1");
    s->n_lights = get_u32(&r);
    if (!r.err && (s->max_trace_level < 1 || s->max_trace_level > MAX_TRACE))
        fail(&r, "scene data: max_trace_level out of range 1..256");
    if (!r.err && s->n_lights > MAX_LIGHTS)
        fail(&r, "scene data: too many lights");
    if (!r.err && (size_t)s->n_lights * 152 > len - r.pos)
        fail(&r, "scene data truncated (lights)");
    if (r.err) {
        *err = r.err;
        return -1;
    }
    s->lights = alloc(sizeof(light) * (s->n_lights + 1));
    if (!s->lights) {
        *err = "out of memory for lights";
        return -1;
    }
    for (uint32_t i = 0; i < s->n_lights; i++) {
        s->lights[i].pos = get_vec(&r);
        s->lights[i].color = get_vec(&r);
        s->lights[i].flags = get_u32(&r);
        if (!r.err && (s->lights[i].flags & ~LIGHT_FLAGS_ALL))
            fail(&r, "scene data: bad light flags");
        light *lt = &s->lights[i];
        lt->type = get_u32(&r);
        lt->dir = get_vec(&r);
        lt->cos_radius = get_f64(&r);
        lt->cos_falloff = get_f64(&r);
        lt->tightness = get_f64(&r);
        lt->fade_distance = get_f64(&r);
        lt->fade_power = get_f64(&r);
        lt->area_n1 = get_u32(&r);
        lt->area_n2 = get_u32(&r);
        lt->adaptive = get_u32(&r);
        lt->area_flags = get_u32(&r);
        lt->axis1 = get_vec(&r);
        lt->axis2 = get_vec(&r);
        lt->point_at = get_vec(&r);
        lt->proj_first = get_u32(&r); /* checked once the objects are read */
        lt->proj_n = get_u32(&r);
        if (!r.err && (lt->type >= LIGHT_TYPE_COUNT || lt->fade_power < 0.0 ||
                       (lt->fade_power > 0.0 && !(lt->fade_distance > 0.0))))
            fail(&r, "scene data: bad light");
        if (!r.err && (((lt->flags & LIGHT_PARALLEL) && vdot3(lt->dir, lt->dir) == 0.0) ||
                       (lt->type == LIGHT_CYLINDER && !(lt->cos_falloff > 0.0))))
            fail(&r, "scene data: bad parallel or cylinder light");
        if (!r.err && (lt->area_n1 > POV_AREA_MAX || lt->area_n2 > POV_AREA_MAX ||
                       (lt->area_n1 == 0) != (lt->area_n2 == 0) || lt->adaptive > 64 ||
                       (lt->area_flags & ~AREA_FLAGS_ALL) ||
                       ((lt->area_flags & AREA_CIRCULAR) && (lt->area_n1 < 2 || lt->area_n2 < 2))))
            fail(&r, "scene data: bad area light");
    }
    if (!r.err)
        get_images(&r, s, alloc); /* version 9 */
    if (!r.err)
        get_warps(&r, s, alloc);
    s->n_maps = get_u32(&r);
    if (!r.err && (s->n_maps > MAX_MAPS || (size_t)s->n_maps * 4 > len - r.pos))
        fail(&r, "scene data: too many colour maps");
    if (r.err) {
        *err = r.err;
        return -1;
    }
    s->maps = alloc(sizeof(colour_map) * (s->n_maps + 1));
    if (!s->maps) {
        *err = "out of memory for colour maps";
        return -1;
    }
    for (uint32_t i = 0; i < s->n_maps && !r.err; i++) {
        colour_map *m = &s->maps[i];
        m->n = get_u32(&r);
        if (!r.err && (m->n < 1 || m->n > POV_MAP_MAX)) {
            fail(&r, "scene data: colour map size out of range 1..256");
            break;
        }
        for (uint32_t k = 0; k < m->n && !r.err; k++) {
            m->v[k] = get_f64(&r);
            m->c[k] = get_vec(&r);
            m->ft[k][0] = get_f64(&r);
            m->ft[k][1] = get_f64(&r);
        }
    }
    if (get_pentries(&r, s, alloc) < 0) {
        *err = r.err;
        return -1;
    }
    s->has_sky = get_u32(&r);
    if (!r.err && s->has_sky > POV_SKY_MAX)
        fail(&r, "scene data: more sky pigments than POV_SKY_MAX");
    s->sky_legacy = !r.err && s->has_sky ? get_u32(&r) : 0;
    if (!r.err && s->sky_legacy > 1)
        fail(&r, "scene data: bad sky blend flag");
    for (uint32_t i = 0; !r.err && i < s->has_sky; i++)
        get_pigment(&r, &s->sky[i], s->n_maps, 1);
    s->has_cam_normal = get_u32(&r);
    if (!r.err && s->has_cam_normal > 1)
        fail(&r, "scene data: bad camera normal flag");
    if (!r.err && s->has_cam_normal &&
        (get_normal(&r, &s->cam_normal, s->n_maps) < 0 || s->cam_normal.type == NRM_NONE ||
         s->camera_type >= CAM_FISHEYE))
        fail(&r, r.err ? r.err : "scene data: bad camera normal");
    get_fogs(&r, s);
    s->n_data = get_u32(&r);
    if (!r.err && (s->n_data > MAX_DATA || (size_t)s->n_data * 8 > len - r.pos))
        fail(&r, "scene data: too many object numbers");
    if (r.err) {
        *err = r.err;
        return -1;
    }
    s->data = alloc(sizeof(double) * ((size_t)s->n_data + 1));
    if (!s->data) {
        *err = "out of memory for object numbers";
        return -1;
    }
    for (uint32_t i = 0; i < s->n_data; i++)
        s->data[i] = get_f64(&r);
    if (get_layers(&r, s, alloc) < 0 || get_tmaps(&r, s, alloc) < 0) {
        *err = r.err;
        return -1;
    }
    s->n_prims = get_u32(&r);
    if (!r.err && s->n_prims > MAX_PRIMS)
        fail(&r, "scene data: too many objects");
    if (!r.err && (size_t)s->n_prims * 200 > len - r.pos) /* 200 = smallest object record */
        fail(&r, "scene data truncated (objects)");
    if (r.err) {
        *err = r.err;
        return -1;
    }
    s->prims = alloc(sizeof(prim) * (s->n_prims + 1));
    if (!s->prims) {
        *err = "out of memory for objects";
        return -1;
    }
    for (uint32_t i = 0; i < s->n_prims; i++) {
        if (get_prim(&r, &s->prims[i], s->n_maps, s->data, s->n_data, s->n_layers,
                     s->n_tmaps) < 0)
            break;
        if (s->prims[i].inside_tex > s->n_tentries) {
            fail(&r, "scene data: object's interior_texture out of range");
            break;
        }
    }
    if (!r.err)
        check_projectors(&r, s);
    if (!r.err)
        get_csg(&r, s, alloc);
    s->irid_wavelength = get_vec(&r);
    s->noise_generator = get_u32(&r);
    if (!r.err)
        get_rainbows(&r, s);
    if (!r.err && (s->noise_generator < 1 || s->noise_generator > 3))
        fail(&r, "scene data: noise_generator out of range 1..3");
    if (!r.err && !(s->irid_wavelength.x > 0.0 && s->irid_wavelength.y > 0.0 &&
                    s->irid_wavelength.z > 0.0))
        fail(&r, "scene data: irid_wavelength must be positive");
    if (!r.err)
        get_functions(&r, s, alloc);
    if (!r.err)
        get_normal_entries(&r, s, alloc);
    if (!r.err && r.pos != len)
        fail(&r, "scene data has trailing bytes");
    if (r.err) {
        *err = r.err;
        return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ tiles */
static void le32(uint8_t *b, uint32_t v)
{
    b[0] = (uint8_t)v;
    b[1] = (uint8_t)(v >> 8);
    b[2] = (uint8_t)(v >> 16);
    b[3] = (uint8_t)(v >> 24);
}

static uint32_t f32_bits(float f)
{
    union { float f; uint32_t u; } c;
    c.f = f;
    return c.u;
}

static float bits_f32(uint32_t u)
{
    union { float f; uint32_t u; } c;
    c.u = u;
    return c.f;
}

uint32_t tile_encode(const tile_spec *t, uint8_t out[POV_TILE_AA_BYTES])
{
    int aa = t->aa.method != 0;
    le32(out, POV_TILE_MAGIC);
    le32(out + 4, aa ? POV_TILE_AA_VERSION : POV_TILE_VERSION);
    le32(out + 8, t->W);
    le32(out + 12, t->H);
    le32(out + 16, t->x0);
    le32(out + 20, t->y0);
    le32(out + 24, t->w);
    le32(out + 28, t->h);
    if (!aa)
        return POV_TILE_BYTES;
    le32(out + 32, t->aa.method);
    le32(out + 36, t->aa.depth);
    le32(out + 40, f32_bits(t->aa.threshold));
    le32(out + 44, f32_bits(t->aa.jitter));
    return POV_TILE_AA_BYTES;
}

/* version 2's anti-aliasing fields (after the rectangle) */
static int tile_decode_aa(rbuf *r, aa_opts *aa, const char **err)
{
    aa->method = get_u32(r);
    aa->depth = get_u32(r);
    aa->threshold = bits_f32(get_u32(r));
    aa->jitter = bits_f32(get_u32(r));
    if (aa->method < 1 || aa->method > 2 || aa->depth < 1 || aa->depth > POV_AA_MAX_DEPTH) {
        *err = "tile: anti-aliasing method must be 1 or 2 and depth 1..9";
        return -1;
    }
    if (!(aa->threshold >= 0.0f && aa->threshold <= 1.0f) ||
        !(aa->jitter >= 0.0f && aa->jitter <= 1.0f)) {
        *err = "tile: anti-aliasing threshold and jitter must be numbers in 0..1";
        return -1;
    }
    return 0;
}

int tile_decode(const uint8_t *data, size_t len, tile_spec *t, const char **err)
{
    rbuf r = {data, len, 0, 0, 0, 0, 0, 0};
    if (len != POV_TILE_BYTES && len != POV_TILE_AA_BYTES) {
        *err = "tile must be exactly 32 bytes (48 with anti-aliasing)";
        return -1;
    }
    if (get_u32(&r) != POV_TILE_MAGIC) {
        *err = "tile: bad magic (expected 'TILE')";
        return -1;
    }
    uint32_t version = get_u32(&r);
    if (version != (len == POV_TILE_BYTES ? POV_TILE_VERSION : POV_TILE_AA_VERSION)) {
        *err = "tile: unsupported version";
        return -1;
    }
    t->W = get_u32(&r);
    t->H = get_u32(&r);
    t->x0 = get_u32(&r);
    t->y0 = get_u32(&r);
    t->w = get_u32(&r);
    t->h = get_u32(&r);
    t->aa.method = t->aa.depth = 0;
    t->aa.threshold = t->aa.jitter = 0.0f;
    if (version == POV_TILE_AA_VERSION && tile_decode_aa(&r, &t->aa, err) < 0)
        return -1;
    if (t->W == 0 || t->H == 0 || t->W > POV_MAX_DIM || t->H > POV_MAX_DIM) {
        *err = "tile: image size out of range 1..65536";
        return -1;
    }
    if (t->w == 0 || t->h == 0 || t->x0 >= t->W || t->y0 >= t->H || t->w > t->W - t->x0 ||
        t->h > t->H - t->y0) {
        *err = "tile: rectangle empty or outside the image";
        return -1;
    }
    return 0;
}
