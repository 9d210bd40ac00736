/* parse.h -- the POV-Ray scene-language subset -> scene (hosted C). */
#ifndef POV_PARSE_H
#define POV_PARSE_H

#include "scene.h"

/* Parse a .pov file. Returns 0, or -1 with a message "FILE:LINE: ..." in err that names
   the unsupported or unexpected word. The scene's arrays are malloc'ed: scene_free(). */
int pov_parse_file(const char *path, scene *out, char *err, size_t errlen);
int pov_parse_string(const char *name, const char *src, scene *out, char *err, size_t errlen);
void scene_free(scene *s);

#endif
