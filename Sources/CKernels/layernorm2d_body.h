// The bodies of ck_layernorm2d_forward and ck_layernorm2d_backward, included once per
// instruction set by layernorm2d.c (each_isa.h). Every loop runs along
// the `width` positions of a tile, each position summing over the channels in channel order,
// so vectors of any width give the same bits; the operations are those the Swift kernel used.

CK_TARGET static void CK_CONCAT(layernorm2d_forward_, CK_SUFFIX)(
    const float *x, float *y, float *mean, float *rstd, const float *weight, const float *bias,
    size_t channels, size_t plane, size_t width, float eps, float *acc) {
    const float inv = 1.0f / (float)channels;
    for (size_t j = 0; j < width; j++) acc[j] = 0.0f;
    for (size_t ch = 0; ch < channels; ch++) {
        const float *p = x + ch * plane;
        for (size_t j = 0; j < width; j++) acc[j] += p[j];
    }
    for (size_t j = 0; j < width; j++) { mean[j] = acc[j] * inv; acc[j] = 0.0f; }
    for (size_t ch = 0; ch < channels; ch++) {
        const float *p = x + ch * plane;
        for (size_t j = 0; j < width; j++) { float d = p[j] - mean[j]; acc[j] += d * d; }
    }
    for (size_t j = 0; j < width; j++) rstd[j] = 1.0f / sqrtf(acc[j] * inv + eps);
    for (size_t ch = 0; ch < channels; ch++) {
        const float *p = x + ch * plane;
        float *q = y + ch * plane;
        const float wc = weight ? weight[ch] : 1.0f, bc = bias ? bias[ch] : 0.0f;
        for (size_t j = 0; j < width; j++) q[j] = (p[j] - mean[j]) * rstd[j] * wc + bc;
    }
}

CK_TARGET static void CK_CONCAT(layernorm2d_backward_, CK_SUFFIX)(
    const float *x, const float *g, float *dx, const float *mean, const float *rstd, const float *weight,
    size_t channels, size_t plane, size_t width, float *sums) {
    float *sg = sums, *sgx = sums + width;
    for (size_t j = 0; j < 2 * width; j++) sums[j] = 0.0f;
    for (size_t ch = 0; ch < channels; ch++) {
        const float *p = x + ch * plane, *q = g + ch * plane;
        const float wc = weight ? weight[ch] : 1.0f;
        for (size_t j = 0; j < width; j++) {
            float o = q[j] * wc;
            sg[j] += o;
            sgx[j] += o * (p[j] - mean[j]) * rstd[j];
        }
    }
    const float inv = 1.0f / (float)channels;
    for (size_t j = 0; j < width; j++) { sg[j] *= inv; sgx[j] *= inv; }
    for (size_t ch = 0; ch < channels; ch++) {
        const float *p = x + ch * plane, *q = g + ch * plane;
        float *o = dx + ch * plane;
        const float wc = weight ? weight[ch] : 1.0f;
        for (size_t j = 0; j < width; j++) {
            float xhat = (p[j] - mean[j]) * rstd[j];
            o[j] = rstd[j] * (q[j] * wc - sg[j] - xhat * sgx[j]);
        }
    }
}
