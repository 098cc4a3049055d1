// JPEG decoding through libjpeg(-turbo), with its longjmp errors caught here.
#include "CImageCodecs.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

typedef struct {
    struct jpeg_error_mgr base;
    jmp_buf jump;
    cic_status status;
    int warnings;
    char message[JMSG_LENGTH_MAX];
    char first_warning[JMSG_LENGTH_MAX];
} cic_jpeg_error;

static void cic_jpeg_error_exit(j_common_ptr cinfo) {
    cic_jpeg_error *err = (cic_jpeg_error *)cinfo->err;
    cinfo->err->format_message(cinfo, err->message);
    err->status = CIC_CORRUPT;
    if (err->base.msg_code == JERR_OUT_OF_MEMORY) err->status = CIC_OUT_OF_MEMORY;
    longjmp(err->jump, 1);
}

/// Warnings (msg_level -1) are corrupt-but-decodable data and are counted, except running out
/// of data: libjpeg would pad the rest of the image with grey, we report it as truncated.
static void cic_jpeg_emit_message(j_common_ptr cinfo, int msg_level) {
    cic_jpeg_error *err = (cic_jpeg_error *)cinfo->err;
    if (msg_level >= 0) return;  // trace messages
    if (err->base.msg_code == JWRN_JPEG_EOF) {
        cinfo->err->format_message(cinfo, err->message);
        err->status = CIC_TRUNCATED;
        longjmp(err->jump, 1);
    }
    if (err->warnings == 0) cinfo->err->format_message(cinfo, err->first_warning);
    err->warnings++;
    err->base.num_warnings++;
}

static void cic_jpeg_output_message(j_common_ptr cinfo) { (void)cinfo; }

static unsigned read_u16(const unsigned char *p, int little) {
    return little ? (unsigned)(p[0] | p[1] << 8) : (unsigned)(p[0] << 8 | p[1]);
}

static unsigned long read_u32(const unsigned char *p, int little) {
    return little ? ((unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 | (unsigned long)p[3] << 24)
                  : ((unsigned long)p[0] << 24 | (unsigned long)p[1] << 16 | (unsigned long)p[2] << 8 | (unsigned long)p[3]);
}

/// The Orientation tag (0x0112) of IFD0 of an APP1 "Exif\0\0" segment; 1 when absent or invalid.
static int cic_exif_orientation(const unsigned char *seg, size_t len) {
    if (len < 6 + 8 || memcmp(seg, "Exif\0\0", 6) != 0) return 1;
    const unsigned char *tiff = seg + 6;
    size_t n = len - 6;
    int little;
    if (tiff[0] == 'I' && tiff[1] == 'I') little = 1;
    else if (tiff[0] == 'M' && tiff[1] == 'M') little = 0;
    else return 1;
    if (read_u16(tiff + 2, little) != 42) return 1;
    unsigned long ifd = read_u32(tiff + 4, little);
    if (ifd > n || n - ifd < 2) return 1;
    unsigned count = read_u16(tiff + ifd, little);
    for (unsigned i = 0; i < count; i++) {
        size_t entry = ifd + 2 + (size_t)i * 12;
        if (entry > n || n - entry < 12) return 1;
        if (read_u16(tiff + entry, little) == 0x0112) {
            unsigned type = read_u16(tiff + entry + 2, little);
            unsigned value = type == 3 ? read_u16(tiff + entry + 8, little)
                           : type == 4 ? (unsigned)read_u32(tiff + entry + 8, little) : 0;
            return value >= 1 && value <= 8 ? (int)value : 1;
        }
    }
    return 1;
}

void cic_decode_jpeg(const unsigned char *data, size_t size, uint64_t max_pixels, cic_result *result) {
    memset(result, 0, sizeof *result);
    result->orientation = 1;
    struct jpeg_decompress_struct cinfo;
    cic_jpeg_error err;
    memset(&err, 0, sizeof err);
    unsigned char *volatile pixels = NULL;
    JSAMPLE *volatile row = NULL;

    cinfo.err = jpeg_std_error(&err.base);
    err.base.error_exit = cic_jpeg_error_exit;
    err.base.emit_message = cic_jpeg_emit_message;
    err.base.output_message = cic_jpeg_output_message;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        result->status = err.status;
        result->warnings = err.warnings;
        snprintf(result->message, sizeof result->message, "%s", err.message);
        return;
    }
    jpeg_create_decompress(&cinfo);
    jpeg_mem_src(&cinfo, data, (unsigned long)size);
    jpeg_save_markers(&cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&cinfo, TRUE);

    result->width = (int)cinfo.image_width;
    result->height = (int)cinfo.image_height;
    if ((uint64_t)cinfo.image_width * cinfo.image_height > max_pixels) {
        jpeg_destroy_decompress(&cinfo);
        result->status = CIC_TOO_LARGE;
        return;
    }
    for (jpeg_saved_marker_ptr m = cinfo.marker_list; m; m = m->next) {
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 && memcmp(m->data, "Exif\0\0", 6) == 0) {
            result->orientation = cic_exif_orientation(m->data, m->data_length);
            break;
        }
    }
    switch (cinfo.num_components) {
    case 1: cinfo.out_color_space = JCS_GRAYSCALE; break;
    case 3: cinfo.out_color_space = JCS_RGB; break;
    case 4: cinfo.out_color_space = JCS_CMYK; break;  // YCCK is converted to CMYK by libjpeg
    default:
        jpeg_destroy_decompress(&cinfo);
        result->status = CIC_UNSUPPORTED;
        snprintf(result->message, sizeof result->message, "%d colour components", cinfo.num_components);
        return;
    }
    jpeg_start_decompress(&cinfo);
    size_t w = cinfo.output_width, h = cinfo.output_height, comps = (size_t)cinfo.output_components;
    pixels = malloc(w * h * 3 ? w * h * 3 : 1);
    row = malloc(w * comps ? w * comps : 1);
    if (!pixels || !row) {
        jpeg_destroy_decompress(&cinfo);
        free(pixels);
        free(row);
        result->status = CIC_OUT_OF_MEMORY;
        return;
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        size_t y = cinfo.output_scanline;
        JSAMPROW rows[1] = {row};
        if (jpeg_read_scanlines(&cinfo, rows, 1) != 1) continue;
        unsigned char *out = pixels + y * w * 3;
        if (comps == 1) {
            for (size_t x = 0; x < w; x++) out[3 * x] = out[3 * x + 1] = out[3 * x + 2] = row[x];
        } else if (comps == 3) {
            memcpy(out, row, w * 3);
        } else {
            // Adobe's inverted CMYK, which is what Photoshop writes and what Pillow assumes
            // for every 4-channel JPEG: the stored samples are 255 - C, ... 255 - K. Pillow's
            // conversion then is R = (255 - K) - (255 - K)·C / 255 with its rounding.
            for (size_t x = 0; x < w; x++) {
                const JSAMPLE *p = row + 4 * x;
                int nk = p[3];
                for (int c = 0; c < 3; c++) {
                    int v = 255 - p[c];
                    int tmp = v * nk + 128;
                    int prod = ((tmp >> 8) + tmp) >> 8;
                    int r = nk - prod;
                    out[3 * x + c] = (unsigned char)(r < 0 ? 0 : r > 255 ? 255 : r);
                }
            }
        }
    }
    // No jpeg_finish_decompress: every row is decoded, and a file that lacks only its
    // end-of-image marker is still a whole picture.
    jpeg_destroy_decompress(&cinfo);
    free(row);
    result->status = CIC_OK;
    result->width = (int)w;
    result->height = (int)h;
    result->pixels = pixels;
    result->warnings = err.warnings;
    if (err.warnings) snprintf(result->message, sizeof result->message, "%s", err.first_warning);
}

void cic_free(void *pixels) { free(pixels); }
