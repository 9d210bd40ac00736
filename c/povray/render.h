/* render.h -- the raytracer core (freestanding-safe: rt_math + memcpy only). */
#ifndef POV_RENDER_H
#define POV_RENDER_H

#include "scene.h"

typedef struct bvh_node bvh_node;

/* The interiors a ray is inside, innermost last (interior.c): their identities and
   indices of refraction. */
#define POV_RAY_INTERIORS 32
typedef struct ray_media {
    uint32_t n;
    uint32_t key[POV_RAY_INTERIORS];
    double ior[POV_RAY_INTERIORS];
} ray_media;

/* A scene prepared for rendering: the bounded primitives in a BVH, planes apart. */
typedef struct {
    const scene *s;
    bvh_node *nodes;
    uint32_t n_nodes;
    uint32_t *order;        /* primitive indices, leaves point into this */
    uint32_t *unbounded;    /* planes */
    uint32_t n_unbounded;
    double enc_thr[256]; /* smallest linear value giving output code k */
    int has_clear;       /* some pigment has filter or transmit: shadows are filtered */
    const ray_media **media_cur; /* the interiors of the ray being traced (interior.c) */
    ray_media cam_media;         /* those around the camera, where camera rays start */
} render_ctx;

/* Build the acceleration structure. Returns 0, or -1 when alloc fails. */
int render_prepare(render_ctx *ctx, const scene *s, pov_alloc_fn alloc);

/* Called once per finished row of a tile with w*3 RGB8 bytes. */
typedef void (*row_fn)(void *user, uint32_t y, const uint8_t *rgb, uint32_t n_bytes);

/* Render the tile (x0, y0, w, h) of a W x H image; rowbuf must hold w*3 bytes. */
void render_tile(const render_ctx *ctx, uint32_t W, uint32_t H, uint32_t x0, uint32_t y0,
                 uint32_t w, uint32_t h, uint8_t *rowbuf, row_fn on_row, void *user);

/* The first surface along O + t D (D unit), t > 0: 1 and its distance, the primitive and
   its normal there (not turned toward the ray), or 0 (trace() of the scene language). */
int render_first_hit(const render_ctx *ctx, vec3 O, vec3 D, double *t, uint32_t *prim, vec3 *N);
/* Is P inside primitive i of the prepared scene (its own inside test)? */
int render_prim_inside(const render_ctx *ctx, uint32_t i, vec3 P);

/* One pixel's linear colour (before the output curve); for tests and tools. */
vec3 render_pixel(const render_ctx *ctx, uint32_t W, uint32_t H, uint32_t x, uint32_t y);

/* The linear colour of the sample at (x, y) in pixel units as POV-Ray 3.7 places it (pixel
   centres at whole numbers; anti-aliasing's sub-pixel samples, antialias.c). */
vec3 render_sample(const render_ctx *ctx, uint32_t W, uint32_t H, double x, double y);
/* The scene's output code of a linear value (the table of render_prepare). */
uint8_t render_encode_fast(const render_ctx *ctx, double v);

/* Linear value -> 8-bit sRGB code, floor(clip(srgb(v)) * 255 + 0.5). */
uint8_t render_encode(double v);
/* The same for a scene's gamma (scene.gamma: 0 = correction off, else assumed_gamma). */
uint8_t render_encode_gamma(double v, double gamma);

/* vector helpers shared with the parser */
static inline vec3 v3(double x, double y, double z) { vec3 r = {x, y, z}; return r; }
static inline vec3 vadd(vec3 a, vec3 b) { return v3(a.x + b.x, a.y + b.y, a.z + b.z); }
static inline vec3 vsub(vec3 a, vec3 b) { return v3(a.x - b.x, a.y - b.y, a.z - b.z); }
static inline vec3 vmul(vec3 a, vec3 b) { return v3(a.x * b.x, a.y * b.y, a.z * b.z); }
static inline vec3 vscale(vec3 a, double k) { return v3(a.x * k, a.y * k, a.z * k); }
static inline double vdot(vec3 a, vec3 b) { return a.x * b.x + a.y * b.y + a.z * b.z; }
static inline vec3 vcross(vec3 a, vec3 b)
{
    return v3(a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x);
}
double vlen(vec3 a);
vec3 vnorm(vec3 a);
vec3 xf_point(const xform *t, vec3 p);
vec3 xf_dir(const xform *t, vec3 d);
vec3 xf_normal(const xform *inv, vec3 n); /* inverse-transpose times n */

#endif
