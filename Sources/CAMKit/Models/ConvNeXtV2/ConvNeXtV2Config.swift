/// The sizes of timm's `convnextv2_*` models.
public struct ConvNeXtV2Config: Sendable, Equatable {
    public var name: String
    public var depths: [Int]
    public var dims: [Int]
    /// timm stores the small sizes' MLP as 1×1 convolutions and the large ones' as Linear;
    /// both run the same here, the flag only documents which layout checkpoints carry.
    public var convMLP: Bool

    public init(name: String, depths: [Int], dims: [Int], convMLP: Bool) {
        precondition(depths.count == 4 && dims.count == 4, "ConvNeXt V2 has four stages")
        self.name = name
        self.depths = depths
        self.dims = dims
        self.convMLP = convMLP
    }

    /// Channels of the last stage, the pooled feature size.
    public var featureDim: Int { dims[3] }

    private static func sized(_ name: String, _ depths: [Int], _ width: Int, convMLP: Bool) -> Self {
        Self(name: "convnextv2_\(name)", depths: depths, dims: [width, width * 2, width * 4, width * 8], convMLP: convMLP)
    }

    public static let atto = sized("atto", [2, 2, 6, 2], 40, convMLP: true)
    public static let femto = sized("femto", [2, 2, 6, 2], 48, convMLP: true)
    public static let pico = sized("pico", [2, 2, 6, 2], 64, convMLP: true)
    public static let nano = sized("nano", [2, 2, 8, 2], 80, convMLP: true)
    public static let tiny = sized("tiny", [3, 3, 9, 3], 96, convMLP: false)
    public static let base = sized("base", [3, 3, 27, 3], 128, convMLP: false)
    public static let large = sized("large", [3, 3, 27, 3], 192, convMLP: false)
    public static let huge = sized("huge", [3, 3, 27, 3], 352, convMLP: false)

    public static let all: [Self] = [atto, femto, pico, nano, tiny, base, large, huge]

    /// Looks a size up as `convnextv2_base` or `base`.
    public static func named(_ name: String) -> Self? {
        all.first { $0.name == name || $0.name == "convnextv2_\(name)" }
    }
}
