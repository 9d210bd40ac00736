/* scene.h -- the flattened scene the renderer works on.
 *
 * The parser (parse.c, hosted) turns a .pov file into this form: unions are flattened,
 * transforms are folded into the primitives where POV-Ray folds them (sphere: similarity
 * transforms; box: translate/scale; cylinder: translate/rotate/uniform scale; plane: all)
 * and kept as a matrix pair otherwise. serialize.c writes it to a compact little-endian
 * binary form (the job's shared input) and reads it back with bounds checks; render.c
 * (freestanding) renders it.
 */
#ifndef POV_SCENE_H
#define POV_SCENE_H

#include <stddef.h>
#include <stdint.h>

typedef struct { double x, y, z; } vec3;

/* POV-Ray's EPSILON (its frame.h): the one tolerance its shapes, patterns, fog, lighting and
   anti-aliasing compare against; ours too, wherever we follow its code. */
#define POV_EPSILON 1.0e-10

/* Affine map p' = m[.][0..2] * p + m[.][3], row-major 3x4. */
typedef struct { double m[3][4]; } xform;

/* Pigment types: solid and checker here, the patterns of pattern.c after them. */
enum {
    PIG_SOLID = 0, PIG_CHECKER = 1, PIG_GRADIENT, PIG_ONION, PIG_SPHERICAL, PIG_CYLINDRICAL,
    PIG_PLANAR, PIG_BOXED, PIG_LEOPARD, PIG_BOZO, PIG_SPOTTED, PIG_MARBLE, PIG_WOOD,
    PIG_GRANITE, PIG_AGATE, PIG_CRACKLE, PIG_CELLS, PIG_AVERAGE,
    PIG_CHECKER_MAP, /* checker pigment { } pigment { }: the checker as a pattern (0 or 1) */
    PIG_RADIAL, PIG_SPIRAL1, PIG_SPIRAL2, PIG_QUILTED, PIG_HEXAGON, PIG_BRICK, PIG_MANDEL,
    PIG_WAVES, PIG_RIPPLES, PIG_WRINKLES, PIG_BUMPS, PIG_DENTS,
    PIG_FUNCTION, /* function { }: arg[0] is the scene's function (fn.h) */
    PIG_PIGMENT_PATTERN, /* pigment_pattern { }: arg[0] is the scene's function pigment */
    PIG_IMAGE_MAP, /* image_map { } (imagemap.c): arg[0] is the scene's image */
    PIG_SLOPE, /* slope { } (pattern.c): the surface's normal; vec and arg as p_slope reads */
    PIG_COUNT
};
enum { WAVE_RAMP = 0, WAVE_SINE, WAVE_TRIANGLE, WAVE_SCALLOP, WAVE_CUBIC, WAVE_POLY, WAVE_COUNT };

/* A colour_map: values ascending in [0, 1], colours with filter and transmit. */
#define POV_MAP_MAX 256
typedef struct {
    uint32_t n;
    double v[POV_MAP_MAX];
    vec3 c[POV_MAP_MAX];
    double ft[POV_MAP_MAX][2]; /* filter, transmit */
} colour_map;
/* The primitives, once: X(ENUM, keyword). The object enum, the renderer's table (prims.c)
   and the parser's table (parse.c) are generated from this list. */
#define POV_PRIMITIVES(X) \
    X(OBJ_SPHERE, sphere) \
    X(OBJ_PLANE, plane) \
    X(OBJ_BOX, box) \
    X(OBJ_CYLINDER, cylinder) \
    X(OBJ_CONE, cone) \
    X(OBJ_TORUS, torus) \
    X(OBJ_POLY, poly) \
    X(OBJ_TEXT, text) \
    X(OBJ_DISC, disc) \
    X(OBJ_TRIANGLE, triangle) \
    X(OBJ_BLOB, blob) \
    X(OBJ_SUPERELLIPSOID, superellipsoid) \
    X(OBJ_PRISM, prism) \
    X(OBJ_LATHE, lathe) \
    X(OBJ_POLYGON, polygon) \
    X(OBJ_SOR, sor) \
    X(OBJ_BICUBIC_PATCH, bicubic_patch) \
    X(OBJ_ISOSURFACE, isosurface) \
    X(OBJ_HEIGHT_FIELD, height_field) \
    X(OBJ_JULIA_FRACTAL, julia_fractal)
#define POV_PRIM_ENUM(ENUM, name) ENUM,
enum { OBJ_NONE = 0, POV_PRIMITIVES(POV_PRIM_ENUM) OBJ_COUNT };
#undef POV_PRIM_ENUM

#define POV_PATTERN_ARGS 9
typedef struct {
    uint32_t type;      /* PIG_* */
    uint32_t has_trans; /* inv is used only when set */
    vec3 c1, c2;        /* colour; checker: first and second colour */
    double ft1[2], ft2[2]; /* their filter and transmit */
    xform inv;          /* world -> pattern space */
    /* patterns (type >= PIG_GRADIENT) */
    uint32_t map;       /* index into scene.maps */
    uint32_t wave;      /* WAVE_* */
    double frequency, phase, exponent;
    vec3 vec;           /* gradient direction */
    uint32_t has_turb, octaves, noise_gen;
    vec3 turb;
    double omega, lambda;
    double arg[POV_PATTERN_ARGS]; /* the pattern's own parameters (pattern.c's PATTERN_ARGS) */
    /* pigment_map (sub_n > 0, instead of the colour map): its entries are
       scene.pentries[sub_first .. sub_first + sub_n), evaluated at this pattern's point */
    uint32_t sub_first, sub_n;
    /* warp { } list (warp.h): scene.warps[warp_first .. warp_first + warp_n); inv then
       holds the transforms given after the last warp */
    uint32_t warp_first, warp_n;
} pigment;
/* One warp { } (c/povray/warp.c, as POV-Ray's warp.cpp): its type, its numbers (warp.h's
   WA_*), turbulence's octaves, and `pre`, the transforms given before it (after the warp
   before it), from this warp's space on towards pattern space. */
enum { WARP_NONE = 0, WARP_TURBULENCE, WARP_REPEAT, WARP_BLACK_HOLE, WARP_PLANAR,
       WARP_SPHERICAL, WARP_CYLINDRICAL, WARP_TOROIDAL, WARP_CUBIC, WARP_COUNT };
#define POV_WARP_ARGS 15
#define POV_MAX_WARPS 64 /* warps of one pattern */
typedef struct {
    uint32_t type, octaves;
    xform pre;
    double a[POV_WARP_ARGS];
} warp_item;
/* An entry of a pigment_map: its value (average: its weight) and its pigment. An entry's
   pigment refers only to entries before its own, so evaluation always ends. */
typedef struct { double v; pigment pig; } pigment_entry;
#define POV_PIGMENT_DEPTH_MAX 16
#define POV_SKY_MAX 8 /* pigments of one sky_sphere */

typedef struct {
    vec3 ambient;
    double diffuse, brilliance, phong, phong_size, specular;
    double roughness_exp; /* 1 / roughness */
    double metallic;      /* 0 = highlights in the light's colour */
    vec3 reflection;      /* reflection { MIN, MAX }: the maximum (at a grazing angle) */
    vec3 reflection_min;  /* ... and the minimum (facing); the old `reflection C`: both C */
    double reflection_falloff; /* (1 - cos)^falloff between them (1: linear) */
    double reflection_exp;     /* 1 / exponent: the reflected colour to this power */
    double reflect_metallic;   /* reflection { metallic M }: the surface colour tints it */
    uint32_t fresnel;          /* reflection { fresnel }: POV-Ray's Fresnel term */
    uint32_t conserve_energy;  /* what a layer reflects no longer passes through it */
    vec3 emission;        /* light of its own, as ambient but independent of ambient_light */
    double crand;         /* graininess: each light's diffuse minus up to this much, at random */
    /* irid { amount thickness T turbulence U } (c/povray/irid.c): thin-film interference
       tinting each light's part and the reflection; 0 = none */
    double irid, irid_thickness, irid_turb;
} finish;

/* normal { }: a pattern's slope (sampled at four points, as POV-Ray does for every pattern
   without its own normal function) or one of the normal-only patterns. */
enum { NRM_NONE = 0, NRM_PATTERN, NRM_BUMPS, NRM_DENTS, NRM_WRINKLES, NRM_WAVES, NRM_RIPPLES,
       NRM_QUILTED, NRM_BUMP_MAP /* bump_map { }: pat is its PIG_IMAGE_MAP */, NRM_COUNT };
typedef struct {
    uint32_t type;  /* NRM_* */
    double amount;  /* bump_size */
    double delta;   /* accuracy: NRM_PATTERN's sampling distance */
    pigment pat;    /* the pattern, its transform, wave, turbulence, noise generator */
    /* normal_map { }: its entries are scene.nentries[map_first .. map_first + map_n), blended
       by the pattern's value (average: weighted by theirs) in place of the pattern's slope */
    uint32_t map_first, map_n;
    /* slope_map { [v <height, slope>] }: 1 + its scene.maps index (height in c.x, slope in
       c.y), 0 none: the pattern's value through POV-Ray's Hermite cubic of the two entries */
    uint32_t slope_map;
} tnormal;

/* An entry of a normal_map: its value (average: its weight) and its normal. An entry's
   normal refers only to entries before its own, so evaluation always ends. */
typedef struct {
    double v;
    tnormal n;
} normal_entry;

/* An image of an image_map or bump_map (c/povray/imagemap.c), as POV-Ray 3.7's ImageData
   keeps one: the decoded samples (scene.ipx, rows from the image's top) and how they read
   (scene.ilut): an indexed image's palette as red, green, blue, filter, transmit per entry
   (gamma applied, filter/transmit modifiers set); else each sample value's colour value
   (the file's gamma into the scene's), alpha read linearly. */
enum { IMAP_PLANAR = 0, IMAP_SPHERICAL = 1, IMAP_CYLINDRICAL = 2, IMAP_TORUS = 5 };
enum { IMAP_NO_INTERPOLATION = 0, IMAP_BILINEAR = 2, IMAP_BICUBIC = 3, IMAP_NORM_DIST = 4 };
typedef struct {
    uint32_t w, h, channels; /* channels: 1 grey or index, 2 grey+alpha, 3 rgb, 4 rgba */
    uint32_t indexed;        /* samples are palette indices (channels 1) */
    uint32_t max;            /* the largest sample value: 255 or 65535 */
    uint32_t px_first;       /* scene.ipx[px_first .. px_first + w * h * channels) */
    uint32_t lut_first, lut_n; /* scene.ilut: indexed: 5 per palette entry; else max + 1 */
    uint32_t map_type, interpolate, once; /* IMAP_* */
    uint32_t use_colour;     /* bump_map: heights from the colours' grey, not the indices */
    double width, height;    /* w and h times repeat */
    double offset_u, offset_v; /* in pixels (POV-Ray's Offset: offset times -w, -h) */
    double all_filter, all_transmit; /* added to a non-indexed image's filter, transmit */
} image_ref;
#define POV_MAX_IMAGES 1024u
#define POV_MAX_IMAGE_SAMPLES (1u << 28)

/* Object flags. PRIM_NO_SURFACE: the object is only used by inside tests (a clipped_by
   object): rays never hit it. PRIM_NO_IMAGE / PRIM_NO_REFLECTION / PRIM_NO_SHADOW hide it
   from camera rays / reflected rays / shadow rays. PRIM_DOUBLE_ILLUMINATE: lights behind
   the surface light it too (double_illuminate). PRIM_PROJECTOR: part of a light's
   projected_through object, which no ray but that light's sees (light.proj_first). */
enum {
    PRIM_NO_SHADOW = 1u, PRIM_OPEN = 2u, PRIM_NO_IMAGE = 4u, PRIM_NO_REFLECTION = 8u,
    PRIM_NO_SURFACE = 16u, PRIM_DOUBLE_ILLUMINATE = 32u, PRIM_PROJECTOR = 64u,
    PRIM_FLAGS_ALL = 127u
};

/* CSG as inside tests. A node answers "is point P inside?": a leaf asks one primitive, AND
   and OR combine child nodes (scene.kids[first .. first + n)), invert negates (with the
   primitive's own boundary rule for a leaf, as POV-Ray's inverted objects). A primitive's
   surface counts only where every node of its conditions (scene.conds[cond_first ..
   cond_first + cond_n)) says inside: intersection { A B } gives A's surface the condition
   B, difference { A B } gives A "not B" and B "A", merge { A B } gives A "not B",
   clipped_by { C } gives every surface C. Children are always stored before their parent
   (kids[] < the node's own index), so the tree has no cycles. */
enum { CSG_LEAF = 0, CSG_AND, CSG_OR, CSG_KIND_COUNT };
#define POV_CSG_MAX_DEPTH 64
typedef struct {
    uint32_t kind;   /* CSG_* */
    uint32_t invert; /* 0 or 1 */
    uint32_t first;  /* leaf: the primitive's index; AND/OR: first entry of scene.kids */
    uint32_t n;      /* AND/OR: number of children */
} csg_node;
/* LIGHT_PARALLEL: every ray to the light is parallel to point_at - location (light.dir), as
   from a light at infinity, its distance measured along that direction (POV-Ray's parallel) */
enum { LIGHT_SHADOWLESS = 1u, LIGHT_PARALLEL = 2u, LIGHT_FLAGS_ALL = 3u };
enum { CAM_PERSPECTIVE = 0, CAM_ORTHOGRAPHIC = 1, CAM_CYL1, CAM_CYL2, CAM_CYL3, CAM_CYL4,
       CAM_ULTRA_WIDE, CAM_FISHEYE, CAM_PANORAMIC, CAM_SPHERICAL, CAM_OMNIMAX, CAM_COUNT };
#define CAM_IS_CYLINDER(t) ((t) >= CAM_CYL1 && (t) <= CAM_CYL4)
/* cameras whose angle may reach 360 degrees (the lens bends every ray) */
#define CAM_ANGLE_TO_360(t) ((t) >= CAM_CYL1)

typedef struct {
    uint32_t type;      /* OBJ_* */
    uint32_t flags;     /* PRIM_* */
    uint32_t has_trans; /* fwd/inv used only when set: geometry below is in object space */
    vec3 a, b;          /* sphere: a = centre; plane: a = unit normal; box: a = min, b = max;
                           cylinder, cone: a = base, b = cap */
    double r;           /* sphere/cylinder radius, cone base radius; plane: distance */
    double r2;          /* cone: cap radius */
    xform fwd, inv;     /* object -> world, world -> object */
    uint32_t cond_first, cond_n; /* CSG conditions: scene.conds[cond_first ..] */
    uint32_t data_first, data_n; /* more numbers: scene.data[data_first ..] */
    uint32_t bound;     /* bounded_by: 1 + a node whose primitives the ray must meet (or
                           start inside), as POV-Ray tests a bound before the object; 0 none */
    uint32_t layer_first, layer_n; /* layered texture: the layers under pig/fin/nrm (the top
                                      one), top to bottom: scene.layers[layer_first ..] */
    uint32_t tmap;      /* a patterned texture: 1 + its index in scene.tmaps (pig, fin, nrm
                           and the layers unused); 0 none */
    uint32_t inside_tex; /* interior_texture { }: 1 + the scene.tentries entry seen from the
                            inside (where the surface faces away from the ray); 0 none */
    const double *d;             /* = scene.data + data_first (set by the reader) */
    pigment pig;
    finish fin;
    tnormal nrm;
    /* interior { } (c/povray/interior.c): 0 = none (POV-Ray's default, index of refraction
       1, nothing faded); else the interior's identity (a ray keeps the interiors it is in
       by these, as POV-Ray keeps its interior pointers) and its numbers */
    uint32_t interior_id;
    double ior, caustics, fade_distance, fade_power;
    vec3 fade_colour;
} prim;

/* One layer of a layered texture (texture { } texture { }: each on top of the one before)
   below an object's top layer. */
typedef struct {
    pigment pig;
    finish fin;
    tnormal nrm;
} tlayer;
#define POV_MAX_LAYERS 64 /* layers of one object's texture */

/* A patterned texture: texture { checker|hexagon|brick texture { } texture { } ... } or
   texture { PATTERN texture_map { [v TEXTURE] ... } }. The pattern's value picks one of the
   entries (scene.tentries[first .. first + n), values ascending) or blends the lit colours
   of the two around it, as POV-Ray blends whole textures. */
typedef struct {
    double v;
    pigment pig;                   /* the entry's top layer */
    finish fin;
    tnormal nrm;
    uint32_t layer_first, layer_n; /* and the layers under it (scene.layers) */
    uint32_t tmap;                 /* a patterned texture as the entry: 1 + its index in
                                      scene.tmaps, always before the map holding this entry
                                      (the surface above unused); 0 none (version 10) */
} tentry;
#define POV_TMAP_DEPTH 16 /* patterned textures inside patterned textures */
typedef struct {
    pigment pat;                   /* the pattern (type >= PIG_GRADIENT, no colour map) */
    uint32_t first, n;
    uint32_t depth;                /* 1 + the deepest map among its entries (not stored:
                                      the reader works it out, at most POV_TMAP_DEPTH) */
} tmap;

/* LIGHT_CYLINDER: parallel rays (LIGHT_PARALLEL) within cos_falloff of the axis through pos
   along dir, full within cos_radius (for a cylinder light these two hold the radii as
   distances, not cosines), as POV-Ray's cylinder light */
enum { LIGHT_POINT = 0, LIGHT_SPOT = 1, LIGHT_CYLINDER = 2, LIGHT_TYPE_COUNT };
typedef struct {
    vec3 pos, color;
    uint32_t flags; /* LIGHT_* */
    uint32_t type;  /* LIGHT_POINT, LIGHT_SPOT */
    vec3 dir;       /* spotlight: unit vector from the light to point_at */
    double cos_radius, cos_falloff, tightness; /* spotlight: cosines of its angles */
    double fade_distance, fade_power;          /* fade_power 0: no fading */
    /* area_light AXIS1, AXIS2, N1, N2 (n1 = 0: a point light): shadows sampled on an
       n1 x n2 grid over the axes, centred on pos, as POV-Ray 3.7 samples it (area.c) */
    uint32_t area_n1, area_n2, adaptive, area_flags; /* AREA_* */
    vec3 axis1, axis2;
    vec3 point_at; /* a parallel area light's samples shine from here through each grid
                      point, as POV-Ray's ComputeOneWhiteLightRay aims them (version 10) */
    uint32_t proj_first, proj_n; /* projected_through: the light reaches a point only through
                                    these objects (scene.prims, all PRIM_PROJECTOR), as
                                    POV-Ray's TracePointLightShadowRay; proj_n 0: none */
} light;
enum { AREA_JITTER = 1u, AREA_CIRCULAR = 2u, AREA_ORIENT = 4u, AREA_FLAGS_ALL = 7u };
#define POV_AREA_MAX 64u /* samples along one axis of an area light */

/* rainbow { } (c/povray/rainbow.c), as POV-Ray 3.7 keeps one after parsing: unit vectors,
   angles in radians (angle already lowered by half the width; arc and falloff angles
   halved), the colour map as a gradient x pigment of the index */
#define POV_MAX_RAINBOWS 8
typedef struct {
    vec3 antisolar, up, right;
    double angle, width, distance, jitter;
    double arc_angle, falloff_angle, falloff_width;
    pigment pig;
} rainbow;

/* fog { }: constant (POV-Ray's fog_type 1) or ground fog (2) */
enum { FOG_CONSTANT = 1, FOG_GROUND = 2 };
#define POV_MAX_FOGS 16
typedef struct {
    uint32_t type;            /* FOG_* */
    double distance;          /* where the fog lets 1/e through */
    vec3 colour;
    double filter, transmit;  /* of the fog's colour */
    double offset, alt;       /* ground fog: its top and how fast it thins above */
    vec3 up;                  /* ground fog: the up direction (unit) */
    uint32_t has_turb;        /* turbulence thins the fog (POV-Ray's classic turbulence) */
    double turb_depth;
    pigment turb;             /* turb, octaves, omega, lambda, noise_gen of the turbulence */
} fog;

typedef struct {
    vec3 location, direction, right, up; /* final camera vectors */
    uint32_t camera_type;               /* CAM_* */
    double camera_angle;                /* degrees; the cylinder cameras' field of view */
    double camera_angle_v;              /* degrees; the spherical camera's vertical one */
    vec3 background;
    uint32_t max_trace_level;
    double adc_bailout;
    double gamma; /* assumed_gamma (1 = linear); 0 = gamma correction off (pre-3.7 scene) */
    uint32_t n_lights, n_prims;
    light *lights;
    prim *prims;
    uint32_t n_pentries; /* the entries of every pigment_map */
    pigment_entry *pentries;
    uint32_t n_nentries; /* the entries of every normal_map (version 8) */
    normal_entry *nentries;
    uint32_t n_maps;    /* colour maps of the pattern pigments */
    colour_map *maps;
    /* sky_sphere { pigment... }: seen by rays that miss everything; has_sky pigments, the
       last on top, blended over the background as POV-Ray 3.7 does (sky.c); sky_legacy: the
       blend of scenes before #version 3.7 */
    uint32_t has_sky, sky_legacy;
    pigment sky[POV_SKY_MAX];
    uint32_t has_cam_normal; /* camera { normal { } }: each camera ray perturbed by it */
    tnormal cam_normal;
    uint32_t n_fogs;
    fog fogs[POV_MAX_FOGS];
    uint32_t n_layers;  /* the layers under the objects' top ones (prim.layer_first) */
    tlayer *layers;
    uint32_t n_tmaps, n_tentries; /* patterned textures (prim.tmap) and their entries */
    tmap *tmaps;
    tentry *tentries;
    uint32_t n_data;    /* the primitives' numbers beyond a, b, r, r2 */
    double *data;
    uint32_t n_nodes, n_kids, n_conds; /* CSG (see csg_node) */
    csg_node *nodes;
    uint32_t *kids;  /* node indices */
    uint32_t *conds; /* node indices */
    vec3 irid_wavelength;     /* global_settings irid_wavelength (version 7) */
    uint32_t n_rainbows;      /* version 7 */
    rainbow rainbows[POV_MAX_RAINBOWS];
    uint32_t noise_generator; /* global_settings noise_generator, for irid's turbulence */
    /* user functions at render time (fn.h; version 8) */
    uint32_t n_funcs, n_fcode, n_fpigs;
    struct fn_def *funcs;
    struct fn_instr *fcode;
    pigment *fpigs;
    uint32_t n_warps;   /* every pattern's warps (version 9) */
    warp_item *warps;
    /* images (version 9): image_map and bump_map */
    uint32_t n_images, n_ipx, n_ilut;
    image_ref *images;
    uint16_t *ipx;
    float *ilut;
} scene;

/* Allocation callback for the freestanding-safe parts (malloc natively, rt_alloc in the
   sandbox). Returns NULL when out of memory. */
typedef void *(*pov_alloc_fn)(size_t n);

/* serialize.c */
#define POV_SCENE_MAGIC 0x43535650u /* "PVSC" */
#define POV_SCENE_VERSION 10u
/* Hosted: serialize into a malloc'ed buffer; returns NULL on out of memory. */
uint8_t *scene_serialize(const scene *s, size_t *len_out);
/* Freestanding-safe: returns 0 ok, -1 with a static message in *err. */
int scene_deserialize(const uint8_t *data, size_t len, scene *out, pov_alloc_fn alloc,
                      const char **err);

/* Tile description (the fragment): little-endian u32 fields. Version 1 (32 bytes): the
   rectangle; version 2 (48 bytes, anti-aliased renders): then the sampling method (1 or 2,
   POV-Ray's +AM), depth (+R, 1..9), threshold (+A) and jitter amount (+J, 0 = off) as
   IEEE single floats in [0, 1], as POV-Ray keeps these options. */
#define POV_TILE_MAGIC 0x454c4954u /* "TILE" */
#define POV_TILE_VERSION 1u
#define POV_TILE_BYTES 32u
#define POV_TILE_AA_VERSION 2u
#define POV_TILE_AA_BYTES 48u
#define POV_MAX_DIM 65536u
#define POV_AA_MAX_DEPTH 9u
typedef struct { uint32_t method, depth; float threshold, jitter; } aa_opts; /* method 0 = off */
typedef struct { uint32_t W, H, x0, y0, w, h; aa_opts aa; } tile_spec;
/* Writes version 1 without anti-aliasing, else version 2; returns the length. */
uint32_t tile_encode(const tile_spec *t, uint8_t out[POV_TILE_AA_BYTES]);
int tile_decode(const uint8_t *data, size_t len, tile_spec *t, const char **err);

#endif
