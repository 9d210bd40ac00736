/* imagemap.h -- image_map, bump_map and the image pattern (imagemap.c; freestanding-safe). */
#ifndef POV_IMAGEMAP_H
#define POV_IMAGEMAP_H

#include "scene.h"

/* The scene whose images the pattern table's row reads (render_prepare, the parser). */
void image_bind(const scene *s);
/* The image a PIG_IMAGE_MAP pigment names (arg[0]), or NULL. */
const image_ref *image_of(const scene *s, const pigment *pg);
/* image_map's colour, filter and transmit at the warped pattern-space point q: off the
   image (once), clear white. */
vec3 image_map_colour(const scene *s, const pigment *pg, vec3 q, double ft[2]);
/* The image's value as a pattern at q: its grey, or its index / 255 (pattern.c's row). */
double image_pattern_value(vec3 q, const pigment *pg);
/* bump_map: the pattern-space normal N replaced by the image's slope at q. */
vec3 image_bump_normal(const scene *s, const tnormal *n, vec3 q, vec3 N);

#endif
