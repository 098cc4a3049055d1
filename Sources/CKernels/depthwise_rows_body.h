// The body of ck_depthwise_rows, included once per instruction set by depthwise.c (each_isa.h).
CK_TARGET static void CK_CONCAT(depthwise_rows_, CK_SUFFIX)(const float *src, int rows, ptrdiff_t next_row, const ptrdiff_t *taps,
                              const float *weights, int tap_count, float bias, float *dst,
                              ptrdiff_t next_out_row, int width) {
    for (int c0 = 0; c0 < width; c0 += 16) {
        float acc0[16], acc1[16];
        for (int l = 0; l < 16; l++) acc0[l] = acc1[l] = bias;
        const float *s = src + c0;
        if (rows == 2) {
            for (int t = 0; t < tap_count; t++) {
                const float w = weights[t], *p = s + taps[t], *q = p + next_row;
                for (int l = 0; l < 16; l++) {
                    acc0[l] += p[l] * w;
                    acc1[l] += q[l] * w;
                }
            }
        } else {
            for (int t = 0; t < tap_count; t++) {
                const float w = weights[t], *p = s + taps[t];
                for (int l = 0; l < 16; l++) acc0[l] += p[l] * w;
            }
        }
        int n = width - c0 < 16 ? width - c0 : 16;
        memcpy(dst + c0, acc0, (size_t)n * sizeof(float));
        if (rows == 2) memcpy(dst + next_out_row + c0, acc1, (size_t)n * sizeof(float));
    }
}
