#ifndef CIMAGECODECS_H
#define CIMAGECODECS_H

#include <stddef.h>
#include <stdint.h>

/// Outcome of a decode. libjpeg and libpng report fatal errors with longjmp, which Swift
/// cannot catch; these wrappers catch them with setjmp and return a status and a message.
typedef enum {
    CIC_OK = 0,
    /// The data is not a decodable image of this format; `message` says why.
    CIC_CORRUPT = 1,
    /// The data ended before the image did; `message` has the library's words.
    CIC_TRUNCATED = 2,
    /// The header declares more than `max_pixels` pixels; `width` and `height` are set and
    /// nothing was allocated for the pixels.
    CIC_TOO_LARGE = 3,
    /// A feature of the file this decoder does not handle (e.g. a 2-channel JPEG).
    CIC_UNSUPPORTED = 4,
    CIC_OUT_OF_MEMORY = 5,
} cic_status;

typedef struct {
    cic_status status;
    int width;
    int height;
    /// width * height * 3 bytes, R G B interleaved, row-major; free with cic_free.
    unsigned char *pixels;
    /// EXIF orientation 1...8 from a JPEG's APP1 "Exif" segment (1 when absent or invalid).
    /// Not applied here: the caller rotates.
    int orientation;
    /// Non-fatal warnings the library emitted (corrupt-but-decodable data).
    int warnings;
    /// The library's message for errors (and the first warning when status is CIC_OK).
    char message[200];
} cic_result;

/// Decodes a JPEG (baseline or progressive; grayscale, YCbCr/RGB, CMYK/YCCK) to 8-bit RGB.
void cic_decode_jpeg(const unsigned char *data, size_t size, uint64_t max_pixels, cic_result *result);

/// Decodes a PNG (any bit depth and colour type, interlaced or not) to 8-bit RGB; 16-bit
/// samples keep their high byte; alpha (and tRNS transparency) is composited over white.
void cic_decode_png(const unsigned char *data, size_t size, uint64_t max_pixels, cic_result *result);

/// An encoded file: `size` bytes at `data` (free with cic_free), or why there is none.
typedef struct {
    unsigned char *data;
    size_t size;
    char message[200];
} cic_encoded;

/// Encodes width * height * 3 bytes of 8-bit RGB (row-major) as a PNG with zlib `level`
/// (0...9) and the libpng row filters `filter` (PNG_FILTER_* bits: NONE 0x08, SUB 0x10,
/// UP 0x20, AVG 0x40, PAETH 0x80); returns a cic_status.
int cic_encode_png(const unsigned char *rgb, int width, int height, int level, int filter, cic_encoded *encoded);

void cic_free(void *pixels);

#endif
