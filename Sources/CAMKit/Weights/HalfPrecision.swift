/// Conversions between float32 and the 16-bit formats checkpoints store.
///
/// Written out by hand rather than with `Float16`, which Swift lacks on Intel macOS, and so
/// that every case (subnormals, infinities, NaN payloads, round-to-nearest-even) is explicit.
/// Widening is exact (a signalling NaN comes out quiet); narrowing rounds to nearest, ties
/// to even, as PyTorch does.
enum HalfPrecision {
    /// IEEE 754 binary16 bits to the float32 of the same value.
    static func float(fromHalf bits: UInt16) -> Float {
        let sign = UInt32(bits & 0x8000) << 16
        let exponent = UInt32(bits >> 10) & 0x1F
        let mantissa = UInt32(bits & 0x3FF)
        switch exponent {
        case 0x1F:
            // Infinity, or NaN with its payload kept in the top mantissa bits and made quiet,
            // as IEEE 754 conversion (and x86's F16C, ARM's FCVT) do.
            if mantissa == 0 { return Float(bitPattern: sign | 0x7F80_0000) }
            return Float(bitPattern: sign | 0x7FC0_0000 | (mantissa << 13))
        case 0:
            // Zero or subnormal: mantissa × 2^-24, exact in float32 (whose range is wider).
            let magnitude = Float(mantissa) * 0x1p-24
            return Float(bitPattern: sign | magnitude.bitPattern)
        default:
            return Float(bitPattern: sign | ((exponent + 112) << 23) | (mantissa << 13))
        }
    }

    /// bfloat16 bits are the top half of a float32's bits.
    static func float(fromBFloat16 bits: UInt16) -> Float {
        Float(bitPattern: UInt32(bits) << 16)
    }

    /// The binary16 nearest `value` (ties to even); too large becomes infinity.
    static func half(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        let sign = UInt16((bits >> 16) & 0x8000)
        let exponent = Int((bits >> 23) & 0xFF)
        let mantissa = bits & 0x7F_FFFF
        if exponent == 0xFF {
            // NaN stays NaN (quiet bit forced so a payload in low bits cannot become infinity).
            return sign | 0x7C00 | (mantissa == 0 ? 0 : UInt16(0x200 | (mantissa >> 13)))
        }
        let halfExponent = exponent - 127 + 15
        if halfExponent >= 0x1F { return sign | 0x7C00 }
        if halfExponent <= 0 {
            // Result is subnormal (or rounds up to the smallest normal, which the carry encodes).
            if halfExponent < -10 { return sign }  // below half the smallest subnormal
            let full = mantissa | 0x80_0000
            let shift = UInt32(14 - halfExponent)
            return sign | UInt16(roundShift(full, by: shift))
        }
        // The carry of rounding may step into the exponent, up to infinity: both encode right.
        let combined = (UInt32(halfExponent) << 23) | mantissa
        return sign | UInt16(roundShift(combined, by: 13))
    }

    /// The bfloat16 nearest `value` (ties to even).
    static func bfloat16(from value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(bits >> 16) | 0x40 }
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(rounded >> 16)
    }

    /// `value >> shift`, rounded to nearest with ties to even.
    private static func roundShift(_ value: UInt32, by shift: UInt32) -> UInt32 {
        let truncated = value >> shift
        let remainder = value & ((1 << shift) - 1)
        let halfway: UInt32 = 1 << (shift - 1)
        if remainder > halfway || (remainder == halfway && truncated & 1 == 1) {
            return truncated + 1
        }
        return truncated
    }
}
