/// How a model wants its input made from a photo, as torchvision/timm transforms do it:
/// resize (shorter side, or straight to the crop size), centre crop, scale to [0, 1],
/// normalise per channel, lay out as NCHW.
public struct Preprocessing: Sendable, Equatable, Codable {
    public enum Interpolation: String, Sendable, Codable {
        case bilinear, bicubic
    }

    /// Resize so the shorter side has this length before cropping; nil resizes the whole
    /// photo straight to the crop size (ignoring its aspect ratio), as Keras pipelines do.
    public var resizeShorterSide: Int?
    public var cropWidth: Int
    public var cropHeight: Int
    public var interpolation: Interpolation
    /// Per-channel mean and standard deviation of inputs scaled to [0, 1].
    public var mean: [Float]
    public var std: [Float]

    public init(resizeShorterSide: Int?, cropWidth: Int, cropHeight: Int, interpolation: Interpolation,
                mean: [Float], std: [Float]) {
        precondition(mean.count == 3 && std.count == 3, "mean and std need one value per RGB channel")
        self.resizeShorterSide = resizeShorterSide
        self.cropWidth = cropWidth
        self.cropHeight = cropHeight
        self.interpolation = interpolation
        self.mean = mean
        self.std = std
    }

    /// ImageNet statistics of torchvision and timm.
    public static let imagenetMean: [Float] = [0.485, 0.456, 0.406]
    public static let imagenetStd: [Float] = [0.229, 0.224, 0.225]
}
