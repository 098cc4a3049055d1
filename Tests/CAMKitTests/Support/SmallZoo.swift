import Foundation
import CAMKit

/// Writes into `folder` a zoo file naming one model `small`: a seeded ConvNeXt-V2 "cnn" seed
/// model with four tiny stages (backbone given as an object), its five labels and, with
/// `weights`, its weights; returns the zoo file. What the `explain` executable runs in tests,
/// without downloaded weights.
func writeSmallZoo(in folder: URL, weights: Bool = true) throws -> URL {
    if weights {
        let model = SeedModel(.cnn, backbone: ConvNeXtV2Config(name: "small", depths: [1, 1, 2, 1], dims: [8, 16, 32, 64],
                                                                convMLP: false), numClasses: 5)
        SeededWeights.fill(model)
        try Safetensors.write(StateDict(model.namedParameters().map { ($0.name, $0.parameter.value) }), dtype: .f32,
                              to: folder.appendingPathComponent("small.safetensors"))
    }
    try CLITests.labels.joined(separator: "\n").write(to: folder.appendingPathComponent("labels.txt"), atomically: true, encoding: .utf8)
    let zoo = """
        {"models": [{"name": "small", "architecture": "seed-cnn",
                     "backbone": {"depths": [1, 1, 2, 1], "dims": [8, 16, 32, 64]},
                     "weights": "small.safetensors", "labels": "labels.txt",
                     "preprocessing": {"resize_shorter_side": 72, "crop": 64, "interpolation": "bilinear",
                                       "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]},
                     "licence": "test"}]}
        """
    let url = folder.appendingPathComponent("zoo.json")
    try zoo.write(to: url, atomically: true, encoding: .utf8)
    return url
}
