// PNG decoding through libpng, with its longjmp errors caught here.
#include "CImageCodecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <png.h>

typedef struct {
    const unsigned char *data;
    size_t size;
    size_t offset;
    int ran_out;
    int warnings;
    char message[200];
} cic_png_context;

static void cic_png_read(png_structp png, png_bytep out, size_t length) {
    cic_png_context *ctx = (cic_png_context *)png_get_io_ptr(png);
    if (ctx->size - ctx->offset < length) {
        ctx->ran_out = 1;
        png_error(png, "unexpected end of data");
    }
    memcpy(out, ctx->data + ctx->offset, length);
    ctx->offset += length;
}

static void cic_png_error(png_structp png, png_const_charp message) {
    cic_png_context *ctx = (cic_png_context *)png_get_error_ptr(png);
    snprintf(ctx->message, sizeof ctx->message, "%s", message);
    png_longjmp(png, 1);
}

static void cic_png_warning(png_structp png, png_const_charp message) {
    cic_png_context *ctx = (cic_png_context *)png_get_error_ptr(png);
    (void)message;
    ctx->warnings++;
}

void cic_decode_png(const unsigned char *data, size_t size, uint64_t max_pixels, cic_result *result) {
    memset(result, 0, sizeof *result);
    result->orientation = 1;
    cic_png_context ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.data = data;
    ctx.size = size;
    if (size < 8 || png_sig_cmp(data, 0, 8) != 0) {
        result->status = size < 8 ? CIC_TRUNCATED : CIC_CORRUPT;
        snprintf(result->message, sizeof result->message, "no PNG signature");
        return;
    }
    // The pixel limit, from IHDR (always the first chunk) before libpng reads on: its
    // png_read_info goes on to the chunks before IDAT, and nothing of the image is needed.
    if (size >= 24 && memcmp(data + 12, "IHDR", 4) == 0) {
        uint64_t w = (uint64_t)data[16] << 24 | (uint64_t)data[17] << 16 | (uint64_t)data[18] << 8 | data[19];
        uint64_t h = (uint64_t)data[20] << 24 | (uint64_t)data[21] << 16 | (uint64_t)data[22] << 8 | data[23];
        if (w <= 0x7fffffff && h <= 0x7fffffff && w * h > max_pixels) {
            result->status = CIC_TOO_LARGE;
            result->width = (int)w;
            result->height = (int)h;
            return;
        }
    }
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &ctx, cic_png_error, cic_png_warning);
    if (!png) { result->status = CIC_OUT_OF_MEMORY; return; }
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_read_struct(&png, NULL, NULL); result->status = CIC_OUT_OF_MEMORY; return; }
    unsigned char *volatile pixels = NULL;
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(rows);
        result->status = ctx.ran_out ? CIC_TRUNCATED : CIC_CORRUPT;
        result->warnings = ctx.warnings;
        snprintf(result->message, sizeof result->message, "%s", ctx.message);
        return;
    }
    png_set_read_fn(png, &ctx, cic_png_read);
    // The pixel limit is ours (checked below); libpng's own per-side limit would otherwise
    // turn a wide-but-allowed image into an error.
    png_set_user_limits(png, 0x7fffffff, 0x7fffffff);
    png_read_info(png, info);

    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    result->width = (int)w;
    result->height = (int)h;
    if ((uint64_t)w * h > max_pixels) {
        png_destroy_read_struct(&png, &info, NULL);
        result->status = CIC_TOO_LARGE;
        return;
    }
    png_set_expand(png);       // palette → RGB, gray < 8 bits → 8 bits, tRNS → alpha
    png_set_strip_16(png);     // 16-bit samples keep their high byte, as Pillow's RGB;16B
    png_set_gray_to_rgb(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    size_t channels = png_get_channels(png, info);
    size_t rowbytes = png_get_rowbytes(png, info);
    if ((channels != 3 && channels != 4) || rowbytes != (size_t)w * channels) {
        png_destroy_read_struct(&png, &info, NULL);
        result->status = CIC_UNSUPPORTED;
        snprintf(result->message, sizeof result->message, "unexpected layout after expansion (%zu channels)", channels);
        return;
    }
    pixels = malloc((size_t)w * h * channels ? (size_t)w * h * channels : 1);
    rows = malloc(sizeof(png_bytep) * (h ? h : 1));
    if (!pixels || !rows) {
        png_destroy_read_struct(&png, &info, NULL);
        free(pixels);
        free(rows);
        result->status = CIC_OUT_OF_MEMORY;
        return;
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = pixels + (size_t)y * rowbytes;
    png_read_image(png, rows);
    // No png_read_end: the pixels are complete; a missing or damaged IEND does not matter.
    png_destroy_read_struct(&png, &info, NULL);
    free(rows);

    if (channels == 4) {
        // Composite over white, in place: out = round((c·a + 255·(255 − a)) / 255).
        size_t n = (size_t)w * h;
        for (size_t i = 0; i < n; i++) {
            const unsigned char *p = pixels + 4 * i;
            unsigned a = p[3];
            unsigned char rgb[3];
            for (int c = 0; c < 3; c++) rgb[c] = (unsigned char)((p[c] * a + 255u * (255u - a) + 127u) / 255u);
            memcpy(pixels + 3 * i, rgb, 3);
        }
        unsigned char *shrunk = realloc(pixels, n * 3 ? n * 3 : 1);
        if (shrunk) pixels = shrunk;
    }
    result->status = CIC_OK;
    result->pixels = pixels;
    result->warnings = ctx.warnings;
}

// PNG encoding through libpng into a growing buffer, for pictures whose encoding speed
// matters more than the last percent of size (the gallery writes hundreds of them).

typedef struct {
    unsigned char *data;
    size_t size;
    size_t capacity;
    int out_of_memory;
    char message[200];
} cic_png_sink;

static void cic_png_write(png_structp png, png_bytep bytes, size_t length) {
    cic_png_sink *sink = (cic_png_sink *)png_get_io_ptr(png);
    if (sink->capacity - sink->size < length) {
        size_t capacity = sink->capacity ? sink->capacity : 65536;
        while (capacity - sink->size < length) capacity *= 2;
        unsigned char *grown = realloc(sink->data, capacity);
        if (!grown) {
            sink->out_of_memory = 1;
            png_error(png, "out of memory");
        }
        sink->data = grown;
        sink->capacity = capacity;
    }
    memcpy(sink->data + sink->size, bytes, length);
    sink->size += length;
}

static void cic_png_flush(png_structp png) { (void)png; }

static void cic_png_write_error(png_structp png, png_const_charp message) {
    cic_png_sink *sink = (cic_png_sink *)png_get_error_ptr(png);
    snprintf(sink->message, sizeof sink->message, "%s", message);
    png_longjmp(png, 1);
}

static void cic_png_write_warning(png_structp png, png_const_charp message) {
    (void)png;
    (void)message;
}

int cic_encode_png(const unsigned char *rgb, int width, int height, int level, int filter, cic_encoded *encoded) {
    memset(encoded, 0, sizeof *encoded);
    if (width <= 0 || height <= 0 || level < 0 || level > 9) {
        snprintf(encoded->message, sizeof encoded->message, "cannot encode a %dx%d picture at level %d", width, height, level);
        return CIC_UNSUPPORTED;
    }
    cic_png_sink sink;
    memset(&sink, 0, sizeof sink);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, &sink, cic_png_write_error, cic_png_write_warning);
    if (!png) return CIC_OUT_OF_MEMORY;
    png_infop info = png_create_info_struct(png);
    if (!info) { png_destroy_write_struct(&png, NULL); return CIC_OUT_OF_MEMORY; }
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(rows);
        free(sink.data);
        snprintf(encoded->message, sizeof encoded->message, "%s", sink.message);
        return sink.out_of_memory ? CIC_OUT_OF_MEMORY : CIC_CORRUPT;
    }
    png_set_write_fn(png, &sink, cic_png_write, cic_png_flush);
    png_set_compression_level(png, level);
    png_set_filter(png, PNG_FILTER_TYPE_BASE, filter);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_BASE, PNG_FILTER_TYPE_BASE);
    rows = malloc(sizeof(png_bytep) * (size_t)height);
    if (!rows) png_error(png, "out of memory");
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)rgb + (size_t)y * (size_t)width * 3;
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, info);
    png_destroy_write_struct(&png, &info);
    free(rows);
    encoded->data = sink.data;
    encoded->size = sink.size;
    return CIC_OK;
}
