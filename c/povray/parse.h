/* parse.h -- the POV-Ray 3.7 scene language -> scene (hosted C). */
#ifndef POV_PARSE_H
#define POV_PARSE_H

#include "scene.h"

#define POV_MAX_LIBRARY_PATHS 32

/* Options of one parse. Library paths are searched for #include after the scene's folder,
   in order; then, when default_library_paths is set, the Library_Path entries of POV-Ray
   3.7's own povray.ini (POV_SYSTEM_INI, /etc/povray/3.7/povray.ini) if it exists. */
typedef struct {
    const char *library_paths[POV_MAX_LIBRARY_PATHS];
    int n_library_paths;
    int default_library_paths;
    double clock;                    /* +K, default 0 */
    uint32_t image_width, image_height;
} pov_parse_opts;

void pov_parse_opts_init(pov_parse_opts *o, uint32_t width, uint32_t height);
/* Add a library path (+L DIR / --library-path DIR); -1 when there are too many. */
int pov_parse_opts_add_path(pov_parse_opts *o, const char *dir);

/* The scene-language options shared by povray-render and povray-server:
   -L DIR / --library-path DIR / +LDIR and -K N / --clock N / +KN. Returns 1 when a is one
   of them (*consumed = arguments used, 1 or 2), 0 when it is not, -1 after printing an
   error naming prog. */
int pov_parse_cli_opt(pov_parse_opts *o, const char *prog, const char *a, const char *v,
                      int *consumed);
#define POV_PARSE_CLI_HELP \
    "  -L, --library-path DIR, +LDIR\n" \
    "                     search DIR for #include files after the scene's folder\n" \
    "                     (repeatable; then POV-Ray 3.7's povray.ini Library_Path entries)\n" \
    "  -K, --clock K, +KK the value of 'clock' (default 0)\n"

/* Parse a .pov file. Returns 0, or -1 with a message "FILE:LINE: ..." in err that names
   the unsupported or unexpected word. The scene's arrays are malloc'ed: scene_free(). */
int pov_parse_file_opts(const char *path, const pov_parse_opts *opts, scene *out, char *err,
                        size_t errlen);
int pov_parse_file(const char *path, scene *out, char *err, size_t errlen);
int pov_parse_string(const char *name, const char *src, scene *out, char *err, size_t errlen);
void scene_free(scene *s);

#endif
