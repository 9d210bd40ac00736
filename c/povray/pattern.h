/* pattern.h -- the table of POV-Ray patterns, noise and turbulence (freestanding-safe). */
#ifndef POV_PATTERN_H
#define POV_PATTERN_H

#include "scene.h"

/* A colour_map entry of POV-Ray's built-in default maps. */
typedef struct { double v, r, g, b; } pattern_map_entry;

typedef struct {
    const char *name;
    uint32_t type; /* PIG_* */
    double (*value)(vec3 q, const pigment *pg);
    uint32_t default_wave;
    int own_turbulence; /* marble, wood: turbulence is part of the value */
    const pattern_map_entry *default_map; /* POV-Ray's map when the scene gives none */
    uint32_t default_map_n;
    uint32_t lead;     /* numbers right after the name, into arg[0..] (spiral1 3, mandel 25) */
    uint32_t discrete; /* checker, hexagon, brick: no wave, frequency or phase */
    uint32_t colours;  /* checker, hexagon, brick: how many colours or pigments may follow */
} pattern_class;

/* A pattern's own keyword (crackle's form/metric/offset/solid, agate_turb, ...): it sets
   pigment.arg[first .. first + n) from a float (n = 1), two floats (n = 2, mandel's
   exterior/interior), a vector (n = 3) or nothing (a flag, n = 0: arg[first] = 1). */
typedef struct {
    uint32_t type; /* PIG_* */
    const char *word;
    uint32_t first, n;
} pattern_arg;

void pattern_init(void); /* the noise tables; call once before rendering */
/* The surface the next patterns are evaluated on (the slope pattern reads it): world point P
   and unit normal N facing the ray, as POV-Ray's intersection hands them on; none (slope then
   0, as POV-Ray's without an intersection) once the shading of that point is done. */
typedef struct {
    int known;
    vec3 P, N;
} pattern_surface_t;
extern pattern_surface_t pattern_surface; /* (pattern.c) set by the shading, per point */
static inline void pattern_set_surface(vec3 P, vec3 N)
{
    pattern_surface.known = 1;
    pattern_surface.P = P;
    pattern_surface.N = N;
}
static inline void pattern_no_surface(void) { pattern_surface.known = 0; }
/* POV-Ray's hashTable[i & 0xfff] (noise, and the jitter of anti-aliasing) */
unsigned pov_hash(int i);
/* POV-Ray's Hash3d of a lattice cell, and its table of random numbers in [0, 1) (the first
   values of a default-seeded mt19937; black_hole's and crackle's jitter) */
int pattern_hash3d(int a, int b, int c);
double pattern_rand(int i);
const pattern_class *pattern_by_name(const char *name);
const pattern_class *pattern_by_type(uint32_t type);
/* The keyword `word` of pattern `type`, or NULL. */
const pattern_arg *pattern_arg_by_name(uint32_t type, const char *word);
/* pigment.arg of a fresh pattern of this type (POV-Ray's defaults). */
void pattern_default_args(uint32_t type, double arg[POV_PATTERN_ARGS]);
/* Fills *m with POV-Ray's default colour map of the pattern (zeroing *m first). */
void pattern_default_map(const pattern_class *pc, colour_map *m);
double pov_noise(vec3 p, uint32_t generator);
vec3 pov_dnoise(vec3 p);
double pov_turbulence(vec3 p, const pigment *pg);
/* POV-Ray's Turbulence() with its parameters given one by one (irid.c: 5, 0.5, 2) */
double pov_turbulence_of(vec3 p, uint32_t gen, uint32_t octaves, double omega, double lambda);
vec3 pov_dturbulence(vec3 p, const pigment *pg);
/* Value of a pattern (type >= PIG_GRADIENT) at pattern-space point q, turbulence and wave
   applied. */
double pattern_value(const pigment *pg, vec3 q);
/* Colour (and filter, transmit) of any pigment at world point P: solid, checker, a pattern
   with its colour map or pigment_map, average. */
vec3 pigment_colour(const scene *s, const pigment *pg, vec3 P, double ft[2]);
/* The same in two steps: the turbulence warp of q (none for patterns whose turbulence is
   their own, marble and wood), then the value at an already warped point. */
vec3 pattern_warp(const pigment *pg, vec3 q);
double pattern_value_warped(const pigment *pg, vec3 q);
/* The value of a pattern (type >= PIG_GRADIENT) at world point P: its transforms, warp,
   turbulence and wave applied (a patterned texture's choice). */
double pattern_value_at(const pigment *pg, vec3 P);
/* World point P into the pattern's space: its transforms and its warp { } (not its own
   turbulence, which pattern_warp applies) */
vec3 pattern_space(const pigment *pg, vec3 P);
/* Colour of a pattern pigment (type >= PIG_GRADIENT) at world point P. */
vec3 pattern_colour(const pigment *pg, const colour_map *maps, vec3 P, double ft[2]);

#endif
