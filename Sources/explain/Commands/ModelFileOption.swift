import ArgumentParser
import CAMKit
import Foundation

/// `--model FILE.onnx` with its labels, preprocessing and token layout: a model of the user's
/// own, explained without a zoo file.
struct ModelFileOption: ParsableArguments {
    @Option(help: ArgumentHelp("An ONNX classifier to explain instead of the catalog's models.", valueName: "file.onnx"))
    var model: String?

    @Option(help: ArgumentHelp("Its class names, one per line (default: the names in the file's metadata).", valueName: "file"))
    var labels: String?

    @Option(help: ArgumentHelp("Its input recipe: timm (ImageNet mean/std, bicubic, crop 0.875 at the size the file declares), imagenet (256 → 224 bilinear), pawmatch (squashed to 224 × 224, bilinear) or convnextv2.",
                               valueName: "name"))
    var preprocessing = "timm"

    @Option(name: .customLong("prefix-tokens"), help: ArgumentHelp("Transformer layers: class/distillation tokens before the grid (with --grid).", valueName: "n"))
    var prefixTokens: Int?

    @Option(help: ArgumentHelp("Transformer layers: the token grid, e.g. 14x14.", valueName: "HxW"))
    var grid: String?

    @Flag(name: .customLong("channels-last"), help: "Layers are (N, H, W, C), as in Swin.")
    var channelsLast = false

    func validate() throws {
        if model == nil, labels != nil || prefixTokens != nil || grid != nil || channelsLast {
            throw ValidationError("--labels, --prefix-tokens, --grid and --channels-last describe a --model file; give one")
        }
        _ = try layout()
        _ = try recipe()
    }

    func layout() throws -> ActivationLayout? {
        if channelsLast {
            guard prefixTokens == nil, grid == nil else { throw ValidationError("--channels-last excludes --prefix-tokens and --grid") }
            return .channelsLast
        }
        guard let grid else {
            if prefixTokens != nil { throw ValidationError("--prefix-tokens needs --grid HxW") }
            return nil
        }
        let sides = grid.lowercased().split(separator: "x").compactMap { Int($0) }
        guard sides.count == 2, sides.allSatisfy({ (1...4096).contains($0) }) else {
            throw ValidationError("--grid must be HxW with sides of 1…4096, e.g. 14x14; got '\(grid)'")
        }
        let prefix = prefixTokens ?? 0
        guard (0...64).contains(prefix) else { throw ValidationError("--prefix-tokens must be 0…64, got \(prefix)") }
        return .tokens(prefix: prefix, height: sides[0], width: sides[1])
    }

    private func recipe() throws -> Preprocessing? {
        switch preprocessing {
        case "timm": return nil
        case "imagenet": return .imagenet
        case "convnextv2": return .convNeXtV2
        case "pawmatch": return .pawmatch
        default: throw ValidationError("unknown --preprocessing '\(preprocessing)'; use timm, imagenet, pawmatch or convnextv2")
        }
    }

    /// The model file as a catalog entry, named after the file; nil without `--model`.
    func descriptor() throws -> ModelDescriptor? {
        guard let model else { return nil }
        let url = URL(fileURLWithPath: model)
        guard FileManager.default.fileExists(atPath: url.path) else { throw RunError("no model file at \(url.path)") }
        return try ModelDescriptor.onnx(name: url.deletingPathExtension().lastPathComponent, url: url,
                                        labelsURL: labels.map { URL(fileURLWithPath: $0) }, preprocessing: try recipe(),
                                        layout: try layout())
    }
}
