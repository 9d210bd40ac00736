/* pattern_shapes.h -- more of POV-Ray 3.7's patterns (pattern_shapes.c), rows of pattern.c's
   table. Each takes the pattern-space point after the turbulence warp. */
#ifndef POV_PATTERN_SHAPES_H
#define POV_PATTERN_SHAPES_H

#include "scene.h"

#define POV_MAX_WAVES 64 /* global_settings number_of_waves: 1..64 */

void pattern_shapes_init(void); /* the wave sources and frequencies; from pattern_init */
/* atan and atan2 without libm (the sandbox has none): a few ulp, NaN in NaN out */
double pov_atan(double x);
double pov_atan2(double y, double x);
double p_radial(vec3 q, const pigment *pg);
double p_spiral1(vec3 q, const pigment *pg);
double p_spiral2(vec3 q, const pigment *pg);
double p_quilted(vec3 q, const pigment *pg);
double p_hexagon(vec3 q, const pigment *pg);
double p_brick(vec3 q, const pigment *pg);
double p_mandel(vec3 q, const pigment *pg);
double p_waves(vec3 q, const pigment *pg);
double p_ripples(vec3 q, const pigment *pg);
double p_wrinkles(vec3 q, const pigment *pg);
double p_dents(vec3 q, const pigment *pg);
/* POV-Ray's own normal perturbations of waves, ripples (its normal.cpp: each source pushes
   the normal along the point's offset from it) and quilted, times bump_size `amount`, at the
   warped pattern-space point q of the normal's pattern pg. */
vec3 normal_waves(vec3 q, const pigment *pg, double amount, int ripples);
vec3 normal_quilted(vec3 q, const pigment *pg, double amount);

#endif
