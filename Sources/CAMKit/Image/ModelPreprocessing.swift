import Foundation

extension Preprocessing {
    /// timm's evaluation transform (`timm.data.create_transform(is_training=False)`) for a
    /// square input: crop mode "center" resizes the shorter side to `floor(size / cropPct)`
    /// and centre-crops `size`; "squash" (`squash: true`, only with `cropPct` 1) resizes the
    /// whole photo straight to `size` × `size`.
    public static func timm(inputSize size: Int, cropPct: Double, interpolation: Interpolation = .bicubic,
                            squash: Bool = false, mean: [Float] = imagenetMean, std: [Float] = imagenetStd) -> Preprocessing {
        precondition(!squash || cropPct == 1, "squash with crop_pct < 1 resizes then crops both sides; not supported")
        let shorter = squash ? nil : Int((Double(size) / cropPct).rounded(.down))
        return Preprocessing(resizeShorterSide: shorter, cropWidth: size, cropHeight: size,
                             interpolation: interpolation, mean: mean, std: std)
    }

    /// ConvNeXt V2 as timm's pretrained configs of `convnextv2_*.fcmae_ft_in1k` and
    /// `.fcmae_ft_in22k_in1k` declare it at 224: bicubic, crop_pct 0.875 (shorter side 256,
    /// centre crop 224), ImageNet mean/std. (The 384/512 checkpoints use `timm(inputSize:
    /// 384, cropPct: 1, squash: true)`.)
    public static let convNeXtV2 = timm(inputSize: 224, cropPct: 0.875)

    /// The torchvision ImageNet evaluation recipe: shorter side 256, centre crop 224, bilinear.
    public static let imagenet = Preprocessing(resizeShorterSide: 256, cropWidth: 224, cropHeight: 224, interpolation: .bilinear,
                                               mean: imagenetMean, std: imagenetStd)

    /// The seed's app (PawMatch AI): `Resize((224, 224))`, the whole photo squashed to 224 × 224
    /// (bilinear, aspect not kept, no crop), then ImageNet mean/std.
    public static let pawmatch = Preprocessing(resizeShorterSide: nil, cropWidth: 224, cropHeight: 224, interpolation: .bilinear,
                                               mean: imagenetMean, std: imagenetStd)
}

extension ConvNeXtV2Config {
    /// The input recipe the timm checkpoints of this model were trained and evaluated with.
    public var preprocessing: Preprocessing { .convNeXtV2 }
}
