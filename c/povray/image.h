/* image.h -- image files decoded for image_map, bump_map, material_map and height_field.
 *
 * Hosted only: the parser (buyer side) reads and decodes the file once; the decoded samples
 * travel in the scene (serialize.c), so the sandboxed client never reads a file. Every
 * decoder checks every length and offset against the buffer it was given and refuses a file
 * it cannot decode with a one-line message in err ("png: ..."), never a wrong picture.
 */
#ifndef POV_IMAGE_H
#define POV_IMAGE_H

#include <stddef.h>
#include <stdint.h>

/* POV-Ray's image keywords (gif tga iff ppm pgm png jpeg tiff sys exr hdr bmp pot); IMG_AUTO:
   none given, decided by the file's first bytes. IMG_POT: Fractint's 16-bit "potential"
   files, a GIF twice as wide whose right half holds each left pixel's low byte. */
enum { IMG_AUTO = 0, IMG_PNG, IMG_GIF, IMG_TGA, IMG_PPM, IMG_PGM, IMG_JPEG, IMG_POT,
       IMG_FORMAT_COUNT };

#define POV_IMAGE_MAX_PIXELS (1u << 26) /* refused above this (w * h) */
#define POV_IMAGE_MAX_DIM 65535u

typedef struct {
    uint32_t w, h;           /* pixels; row 0 is the image's top row */
    uint32_t channels;       /* samples per pixel: 1 gray (or palette index), 2 gray+alpha,
                                3 rgb, 4 rgba */
    uint32_t bits;           /* 8 or 16: samples run 0..255 or 0..65535 */
    uint32_t palette_n;      /* > 0: an indexed image; channels is 1, samples are indices */
    uint8_t palette[256][4]; /* r, g, b, a of each index (a = 255 where the file gives none) */
    double file_gamma;       /* the decoding gamma the file declares: PNG gAMA g -> 1/g,
                                sRGB chunk -> -1 (the sRGB curve); 0 when it declares none */
    uint16_t *px;            /* w * h * channels samples, row by row from the top; malloc'ed */
} pov_image;

/* Decodes data (len bytes) as format (IMG_AUTO: by its magic). Returns 0, or -1 with a
   one-line reason in err (err_len bytes, always terminated) and *out left empty. */
int image_decode(const uint8_t *data, size_t len, uint32_t format, pov_image *out, char *err,
                 size_t err_len);
/* The decoders image_decode dispatches to: the same contract. */
int image_decode_png(const uint8_t *data, size_t len, pov_image *out, char *err, size_t err_len);
int image_decode_gif(const uint8_t *data, size_t len, pov_image *out, char *err, size_t err_len);
int image_decode_tga(const uint8_t *data, size_t len, pov_image *out, char *err, size_t err_len);
int image_decode_pnm(const uint8_t *data, size_t len, pov_image *out, char *err, size_t err_len);
int image_decode_pot(const uint8_t *data, size_t len, pov_image *out, char *err, size_t err_len);
int image_decode_jpeg(const uint8_t *data, size_t len, pov_image *out, char *err,
                      size_t err_len);
void image_free(pov_image *img);

/* Shared by the decoders: a refusal "who: message" into err (err_len bytes); returns -1. */
int image_fail(char *err, size_t err_len, const char *who, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static inline uint32_t image_le16(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
/* Shared by the decoders: allocates out->px for w x h x channels (checking the limits);
   returns 0 or -1 with err set. */
int image_alloc(pov_image *out, uint32_t w, uint32_t h, uint32_t channels, uint32_t bits,
                const char *who, char *err, size_t err_len);

#endif
