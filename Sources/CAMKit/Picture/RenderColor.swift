/// A colour for drawing, channels in 0…1 as Cairo takes them.
public struct RenderColor: Equatable, Sendable {
    public var red: Double
    public var green: Double
    public var blue: Double

    public init(red: Double, green: Double, blue: Double) {
        self.red = red; self.green = green; self.blue = blue
    }

    /// From a 0xRRGGBB literal, the way palettes are usually written down.
    public init(hex: UInt32) {
        self.init(red: Double((hex >> 16) & 0xFF) / 255,
                  green: Double((hex >> 8) & 0xFF) / 255,
                  blue: Double(hex & 0xFF) / 255)
    }

    /// The 8-bit channels, as they appear in a PNG drawn with this colour.
    public var bytes: (UInt8, UInt8, UInt8) {
        func byte(_ v: Double) -> UInt8 { UInt8((min(max(v, 0), 1) * 255).rounded()) }
        return (byte(red), byte(green), byte(blue))
    }

    public static let black = RenderColor(hex: 0x000000)
    public static let white = RenderColor(hex: 0xFFFFFF)
    static let text = RenderColor(hex: 0x222222)
    static let secondaryText = RenderColor(hex: 0x555555)
    static let grid = RenderColor(hex: 0xDDDDDD)
    static let axis = RenderColor(hex: 0x444444)

    /// Marks wrong predictions. Okabe–Ito vermillion, kept out of `modelPalette`, so a wrong
    /// mark never looks like a model; the marks also carry a "✗" so colour is not the only cue.
    public static let wrong = RenderColor(hex: 0xD55E00)

    /// One colour per model, in model order: the Okabe–Ito palette (distinguishable with the
    /// common colour-vision deficiencies), without vermillion, which `wrong` uses.
    public static let modelPalette: [RenderColor] = [
        0x0072B2, 0xE69F00, 0x009E73, 0xCC79A7, 0x56B4E9, 0xF0E442, 0x000000,
    ].map { RenderColor(hex: $0) }

    /// The colour of the `index`-th model; the palette repeats past seven models.
    public static func model(_ index: Int) -> RenderColor {
        modelPalette[index % modelPalette.count]
    }
}
