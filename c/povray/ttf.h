/* ttf.h -- TrueType outlines for the text primitive (hosted C, parser only); see ttf.c. */
#ifndef POV_TTF_H
#define POV_TTF_H

#include "lang.h"

/* The text primitive's data for str in the font found like an #include (p->data_*):
   d[0] = number of characters with an outline; per character xmin ymin xmax ymax, first
   segment, segment count; then the segments, 6 numbers each (x0 y0 x1 y1 x2 y2, quadratic,
   monotone in y). Errors name the font and the line. */
void ttf_text(parser *P, int line, const char *fontname, const char *str, vec3 offset,
              prim *p);

#endif
