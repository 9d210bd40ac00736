/* warp.h -- a pattern's warp { } list as POV-Ray 3.7 applies it (warp.c; freestanding-safe).
 *
 * A pigment's warps are scene.warps[warp_first .. warp_first + warp_n), in the order the
 * scene gives them; each keeps the transforms given before it (after the previous warp) as
 * `pre`, and the pigment's own inverse holds the transforms after the last. A point goes
 * through the pigment's inverse, then from the last warp to the first: the warp, then its
 * `pre` (POV-Ray's Warp_EPoint walks its list backwards).
 */
#ifndef POV_WARP_H
#define POV_WARP_H

#include "scene.h"

/* the numbers of each warp type in warp_item.a */
enum { WA_TURB = 0 };                                     /* turbulence: vec3 */
enum { WA_OMEGA = 3, WA_LAMBDA = 4 };
enum { WA_AXIS = 0, WA_WIDTH = 1, WA_OFFSET = 2, WA_FLIP = 5 }; /* repeat: offset, flip vec3 */
enum { WA_CENTER = 0, WA_RADIUS = 3, WA_STRENGTH = 4, WA_FALLOFF = 5, WA_INVERSE = 6,
       WA_REPEAT = 7, WA_JITTER = 10, WA_HAS_REPEAT = 13, WA_HAS_JITTER = 14 }; /* black_hole */
enum { WA_ORIENT = 0, WA_DIST_EXP = 3, WA_MAJOR = 4, WA_PLANE_OFFSET = 4 }; /* mappings */

/* The point q (in the space after warp w) into the space before it. */
vec3 warp_point(const warp_item *w, vec3 q);
/* The reader's check of one warp: NULL when fine, else a message. */
const char *warp_check(const warp_item *w);

/* The scene whose warps pattern_space reads (render_prepare, the parser's scratch scenes). */
void warp_bind(const scene *s);
/* The pigment's warps of the bound scene, or NULL when it has none (or they are out of range). */
const warp_item *warps_of(const pigment *pg);

#endif
