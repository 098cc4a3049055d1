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
