// The bodies of ck_gelu and ck_gelu_backward, included once per instruction set by gelu.c
// (each_isa.h). The same operations, constants and order as the Swift
// vexp / verf (VectorMath.swift), element by element.

CK_TARGET static inline float CK_CONCAT(exp_, CK_SUFFIX)(float x) {
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.0f ? 88.0f : x;
    const float magic = 12582912.0f;
    float shifted = x * 1.44269504f + magic;
    float n = shifted - magic;
    float r = x - n * 0.693359375f + n * 2.12194440e-4f;
    float p = r * 1.9875691500e-4f + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
    int32_t bits, magic_bits;
    memcpy(&bits, &shifted, 4);
    memcpy(&magic_bits, &magic, 4);
    uint32_t exponent = ((uint32_t)bits - (uint32_t)magic_bits + 127u) << 23;
    float scale;
    memcpy(&scale, &exponent, 4);
    return p * scale;
}

CK_TARGET static inline float CK_CONCAT(erf_, CK_SUFFIX)(float x) {
    uint32_t bits;
    memcpy(&bits, &x, 4);
    uint32_t sign = bits & 0x80000000u, magnitude = bits & 0x7FFFFFFFu;
    float a;
    memcpy(&a, &magnitude, 4);
    float t = 1.0f / (a * 0.3275911f + 1.0f);
    float r = t * 1.061405429f - 1.453152027f;
    r = r * t + 1.421413741f;
    r = r * t - 0.284496736f;
    r = r * t + 0.254829592f;
    float y = 1.0f - CK_CONCAT(exp_, CK_SUFFIX)(-(x * x)) * r * t;
    uint32_t ybits;
    memcpy(&ybits, &y, 4);
    ybits |= sign;
    memcpy(&y, &ybits, 4);
    return y;
}

CK_TARGET static void CK_CONCAT(gelu_, CK_SUFFIX)(const float *x, float *y, size_t n) {
    for (size_t i = 0; i < n; i++) y[i] = (x[i] * 0.5f) * (1.0f + CK_CONCAT(erf_, CK_SUFFIX)(x[i] * CK_SQRT_HALF));
}

CK_TARGET static void CK_CONCAT(gelu_backward_, CK_SUFFIX)(const float *g, const float *x, float *dx, size_t n) {
    for (size_t i = 0; i < n; i++) {
        float v = x[i];
        float cdf = 0.5f * (1.0f + CK_CONCAT(erf_, CK_SUFFIX)(v * CK_SQRT_HALF));
        float pdf = CK_NORMAL_DENSITY * CK_CONCAT(exp_, CK_SUFFIX)(v * v * -0.5f);
        dx[i] = g[i] * (cdf + v * pdf);
    }
}
