/* pattern.h -- the table of POV-Ray patterns, noise and turbulence (freestanding-safe). */
#ifndef POV_PATTERN_H
#define POV_PATTERN_H

#include "scene.h"

typedef struct {
    const char *name;
    uint32_t type; /* PIG_* */
    double (*value)(vec3 q, const pigment *pg);
    uint32_t default_wave;
    int own_turbulence; /* marble, wood: turbulence is part of the value */
} pattern_class;

void pattern_init(void); /* the noise tables; call once before rendering */
/* POV-Ray's hashTable[i & 0xfff] (noise, and the jitter of anti-aliasing) */
unsigned pov_hash(int i);
const pattern_class *pattern_by_name(const char *name);
const pattern_class *pattern_by_type(uint32_t type);
double pov_noise(vec3 p, uint32_t generator);
vec3 pov_dnoise(vec3 p);
double pov_turbulence(vec3 p, const pigment *pg);
vec3 pov_dturbulence(vec3 p, const pigment *pg);
/* Value of a pattern (type >= PIG_GRADIENT) at pattern-space point q, turbulence and wave
   applied. */
double pattern_value(const pigment *pg, vec3 q);
/* Colour of a pattern pigment (type >= PIG_GRADIENT) at world point P. */
vec3 pattern_colour(const pigment *pg, const colour_map *maps, vec3 P, double ft[2]);

#endif
