/* prims.h -- the primitive table (freestanding-safe); see prims.c. */
#ifndef POV_PRIMS_H
#define POV_PRIMS_H

#include "scene.h"

typedef struct {
    double t;
    int side; /* box: face (0..5); cylinder: 0 side, 1 base cap, 2 top cap; text: segment
                 (>= 0) or cap (-1 front, -2 back) */
    double s; /* text: the segment's parameter at the hit */
    vec3 n;   /* julia_fractal: the normal found with the hit (object space) */
} hit_info;

/* julia_fractal (prims_julia.c): its numbers in the data pool */
enum { JULIA_C = 0, JULIA_SLICE = 4, JULIA_SLICE_DIST = 8, JULIA_ITERATIONS, JULIA_PRECISION,
       JULIA_EXIT, JULIA_RADIUS2, JULIA_ALGEBRA, JULIA_SUBTYPE, JULIA_DATA_N };
enum { JULIA_QUATERNION = 0, JULIA_HYPERCOMPLEX = 1 };
enum { JULIA_SQR = 0, JULIA_CUBE = 1 };
#define JULIA_MAX_ITERATIONS 256
/* components of one blob (its intersection works in a buffer sized by the largest blob of
   the scene: blob_prepare, prims_blob.c) */
#define BLOB_MAX_COMPONENTS 65536

typedef struct {
    uint32_t type;    /* OBJ_* */
    const char *name; /* the scene-language keyword */
    /* nearest hit with t in [tmin, tmax), ray in object space (D not unit when transformed) */
    int (*isect)(const prim *p, vec3 O, vec3 D, double tmin, double tmax, hit_info *h);
    /* object-space normal at object-space point q (not yet normalised for transforms) */
    vec3 (*normal)(const prim *p, vec3 q, const hit_info *h);
    /* object-space bounding box; 0 = unbounded (kept out of the BVH) */
    int (*bounds)(const prim *p, vec3 *lo, vec3 *hi);
    /* POV-Ray's inside test at object-space point q: 1 inside, -1 outside, 0 on a boundary
       that is neither (a sphere's surface: POV-Ray's strict comparisons); an inverted
       object is inside where this answers -1 */
    int (*inside)(const prim *p, vec3 q);
    /* the scene reader's check of the fields: NULL when fine, else a message */
    const char *(*check)(const prim *p);
} prim_class;

/* isosurface (prims_iso.c): its numbers in the data pool, and the most hits of one ray */
enum { ISO_FN, ISO_THRESHOLD, ISO_ACCURACY, ISO_MAX_GRADIENT, ISO_MAX_TRACE, ISO_DATA_N };
#define ISO_MAX_HITS 16

/* NULL for an unknown type. */
const prim_class *prim_class_of(uint32_t type);

#endif
