/* image_dump.c -- the test driver of c/povray/image.c and its decoders
 * (tests/povray/test_povray_image_decode.py).
 *
 *   image_dump FORMAT FILE         decodes FILE; prints "w h channels bits palette_n", one
 *                                  "r g b a" line per palette entry, then the samples (one
 *                                  image row a line); on failure the error line on stderr, rc 1
 *   image_dump FORMAT -t FILE      decodes every prefix of FILE (0 .. all its bytes); one line
 *                                  each: "N ok" or "N error MESSAGE"
 *   image_dump FORMAT -e FILE...   decodes each FILE; one line each: "ok w h channels bits
 *                                  palette_n" or "error MESSAGE"
 *
 * FORMAT is auto, png, gif, tga, ppm, pgm or jpeg. Every decode gets its own malloc'ed copy of
 * exactly the bytes it may read, so that a sanitizer build catches a read past them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image.h"

static const char *const NAMES[IMG_FORMAT_COUNT] = {"auto", "png", "gif", "tga",
                                                    "ppm",  "pgm", "jpeg", "pot"};

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 1 << 16, n = 0;
    uint8_t *p = malloc(cap);
    size_t got;
    while (p && (got = fread(p + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            uint8_t *np = realloc(p, cap *= 2);
            if (!np)
                free(p);
            p = np;
        }
    }
    fclose(f);
    *len = n;
    return p;
}

/* Decodes the first len bytes of data from a copy of exactly that size. Returns the
   decoder's rc; exits 3 when the contract is broken (a failure leaving pixels behind, an
   error that is empty or more than one line). */
static int decode(const uint8_t *data, size_t len, uint32_t format, pov_image *img, char *err,
                  size_t err_len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        exit(2);
    memcpy(copy, data, len);
    int rc = image_decode(copy, len, format, img, err, err_len);
    free(copy);
    if (rc != 0 && (img->px || !err[0] || strchr(err, '\n'))) {
        printf("BROKEN CONTRACT: rc %d, px %p, err \"%s\"\n", rc, (void *)img->px, err);
        exit(3);
    }
    if (rc == 0 && (!img->px || img->w == 0 || img->h == 0)) {
        printf("BROKEN CONTRACT: success without pixels\n");
        exit(3);
    }
    return rc;
}

static void print_image(const pov_image *img)
{
    printf("%u %u %u %u %u\n", img->w, img->h, img->channels, img->bits, img->palette_n);
    for (uint32_t i = 0; i < img->palette_n; i++)
        printf("%u %u %u %u\n", img->palette[i][0], img->palette[i][1], img->palette[i][2],
               img->palette[i][3]);
    size_t row = (size_t)img->w * img->channels;
    for (uint32_t y = 0; y < img->h; y++)
        for (size_t i = 0; i < row; i++)
            printf("%u%c", img->px[y * row + i], i + 1 < row ? ' ' : '\n');
}

static void one_line(int rc, const pov_image *img, const char *err)
{
    if (rc == 0)
        printf("ok %u %u %u %u %u\n", img->w, img->h, img->channels, img->bits, img->palette_n);
    else
        printf("error %s\n", err);
}

int main(int argc, char **argv)
{
    uint32_t format = 0;
    while (argc > 2 && format < IMG_FORMAT_COUNT && strcmp(argv[1], NAMES[format]) != 0)
        format++;
    if (argc < 3 || format == IMG_FORMAT_COUNT) {
        fprintf(stderr, "usage: image_dump FORMAT [-t|-e] FILE...\n");
        return 2;
    }
    int mode = argv[2][0] == '-' ? argv[2][1] : 0;
    char err[256];
    pov_image img;
    for (int a = mode ? 3 : 2; a < argc; a++) {
        size_t len;
        uint8_t *data = read_file(argv[a], &len);
        if (!data) {
            fprintf(stderr, "image_dump: cannot read %s\n", argv[a]);
            return 2;
        }
        for (size_t n = mode == 't' ? 0 : len; n <= len; n++) {
            err[0] = 0;
            int rc = decode(data, n, format, &img, err, sizeof err);
            if (mode == 't')
                printf("%zu ", n);
            if (mode) {
                one_line(rc, &img, err);
            } else if (rc != 0) {
                fprintf(stderr, "%s\n", err);
                free(data);
                return 1;
            } else {
                print_image(&img);
            }
            image_free(&img);
        }
        free(data);
    }
    return 0;
}
