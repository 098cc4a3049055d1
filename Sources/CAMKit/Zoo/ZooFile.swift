import Foundation

/// A user's own models, described in JSON so that `--models all` can compare them with the
/// built-in ones. Paths are relative to the zoo file.
///
/// ```json
/// {"models": [{"name": "my-hybrid", "architecture": "seed-hybrid", "backbone": "convnextv2_base",
///              "weights": "hybrid.pth", "labels": "breeds.txt", "preprocessing": "convnextv2",
///              "attention": "original", "default_layer": "backbone.stages.3", "licence": "CC-BY-4.0"}]}
/// ```
///
/// Architectures: `convnextv2` (timm, with a head of as many classes as labels), `seed-cnn`,
/// `seed-cnn_mha`, `seed-hybrid`, `efficientnet-lite0`, `mobilenetv2-keras` (a Keras `.h5` or `.keras`).
/// `backbone` (for `convnextv2` and the seed architectures) is a timm size name
/// (`convnextv2_atto` … `convnextv2_huge`, default `convnextv2_base`) or an object for a custom
/// size, `{"depths": [3, 3, 9, 3], "dims": [96, 192, 384, 768], "conv_mlp": false}` (four
/// stages; `conv_mlp` optional, default false).
/// `preprocessing` is `convnextv2` (timm's 224 recipe), `imagenet` (resize 256, crop 224,
/// bilinear, ImageNet statistics), `pawmatch` (the seed's app: the photo squashed to 224 × 224,
/// bilinear, ImageNet statistics), or an object with `resize_shorter_side` (or null), `crop`,
/// `interpolation`, `mean`, `std`. Labels: a text file, one class per line, in class order.
public struct ZooFile {
    public let url: URL
    public let descriptors: [ModelDescriptor]

    struct Entry: Decodable {
        let name: String
        let architecture: String
        let backbone: BackboneField?
        let weights: String
        let labels: String?
        let preprocessing: PreprocessingField?
        let layout: LayoutField?
        let attention: String?
        let default_layer: String?
        let licence: String?
    }

    enum BackboneField: Decodable {
        case named(String)
        case custom(Custom)
        struct Custom: Decodable {
            let depths: [Int]
            let dims: [Int]
            let conv_mlp: Bool?
        }

        init(from decoder: Decoder) throws {
            if let name = try? decoder.singleValueContainer().decode(String.self) {
                self = .named(name)
            } else {
                self = .custom(try Custom(from: decoder))
            }
        }

        var text: String {
            switch self {
            case .named(let name): name
            case .custom(let c): "depths \(c.depths), dims \(c.dims)"
            }
        }
    }

    enum PreprocessingField: Decodable {
        case named(String)
        case custom(Custom)
        struct Custom: Decodable {
            let resize_shorter_side: Int?
            let crop: Int
            let interpolation: Preprocessing.Interpolation
            let mean: [Float]
            let std: [Float]
        }

        init(from decoder: Decoder) throws {
            if let name = try? decoder.singleValueContainer().decode(String.self) {
                self = .named(name)
            } else {
                self = .custom(try Custom(from: decoder))
            }
        }
    }

    /// How an ONNX model's token or channels-last layers are read, overriding detection:
    /// `{"prefix_tokens": 1, "grid": [14, 14]}` or `{"channels_last": true}`.
    struct LayoutField: Decodable {
        let prefix_tokens: Int?
        let grid: [Int]?
        let channels_last: Bool?

        func layout() throws -> ActivationLayout {
            if channels_last == true {
                guard prefix_tokens == nil, grid == nil else { throw LayoutFieldError("channels_last excludes prefix_tokens and grid") }
                return .channelsLast
            }
            guard let grid, grid.count == 2, grid.allSatisfy({ (1...4096).contains($0) }) else {
                throw LayoutFieldError("a token layout needs \"grid\": [height, width] of 1…4096 each")
            }
            let prefix = prefix_tokens ?? 0
            guard (0...64).contains(prefix) else { throw LayoutFieldError("prefix_tokens must be 0…64, got \(prefix)") }
            return .tokens(prefix: prefix, height: grid[0], width: grid[1])
        }
    }

    struct LayoutFieldError: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }

    struct Document: Decodable { let models: [Entry] }

    /// Largest crop or resize a zoo file may ask for: a 4096 × 4096 input is already 200 MB
    /// as a float tensor, far beyond any classifier's.
    static let maxImageSide = 4096

    public init(contentsOf url: URL) throws {
        self.url = url
        let data: Data
        do { data = try BoundedRead.data(url, limit: 16 << 20) } catch {
            throw ZooFileError(file: url, model: nil, reason: "cannot read it (\(error))")
        }
        let document: Document
        do { document = try JSONDecoder().decode(Document.self, from: data) } catch {
            throw ZooFileError(file: url, model: nil, reason: "not a zoo file: \(Self.describe(error))")
        }
        let base = url.deletingLastPathComponent()
        var seen = Set<String>()
        descriptors = try document.models.map { entry in
            guard seen.insert(entry.name).inserted else {
                throw ZooFileError(file: url, model: entry.name, reason: "the name is used twice")
            }
            return try Self.descriptor(entry, base: base, file: url)
        }
    }

    static func describe(_ error: Error) -> String {
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            return "missing \"\(key.stringValue)\" at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        case DecodingError.typeMismatch(_, let context), DecodingError.dataCorrupted(let context):
            return "\(context.debugDescription) at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default:
            return "\(error)"
        }
    }

    private static func descriptor(_ entry: Entry, base: URL, file: URL) throws -> ModelDescriptor {
        func fail(_ reason: String) -> ZooFileError { ZooFileError(file: file, model: entry.name, reason: reason) }
        let weights = URL(fileURLWithPath: entry.weights, relativeTo: base).standardizedFileURL
        let labelsURL = entry.labels.map { URL(fileURLWithPath: $0, relativeTo: base).standardizedFileURL }
        let preprocessing = try entry.preprocessing.map { try parse($0, fail: fail) }
        if entry.architecture == "onnx" {
            let layout: ActivationLayout?
            do { layout = try entry.layout?.layout() } catch { throw fail("layout: \(error)") }
            do {
                return try .onnx(name: entry.name, url: weights, labelsURL: labelsURL, preprocessing: preprocessing,
                                 layout: layout, defaultLayer: entry.default_layer, licence: entry.licence ?? "unknown")
            } catch let e as LabelListError {
                throw fail(e.description)
            }
        }
        guard entry.layout == nil else { throw fail("layout applies to ONNX models only") }
        guard let labelsURL else { throw fail("missing \"labels\": a labels file, one class name per line") }
        let labels: [String]
        do { labels = try readLabelList(labelsURL) } catch let e as LabelListError {
            throw fail(e.unreadable.map { "cannot read its labels file \(labelsURL.path) (\($0))" } ?? "its labels file \(labelsURL.path) is empty")
        }

        let config = try entry.backbone.map { field -> ConvNeXtV2Config in
            switch field {
            case .named(let name):
                guard let config = ConvNeXtV2Config.named(name) else {
                    throw fail("unknown backbone '\(name)'; backbones: \(ConvNeXtV2Config.all.map(\.name).joined(separator: ", ")) "
                        + "or an object {\"depths\": [...], \"dims\": [...]}")
                }
                return config
            case .custom(let c):
                guard c.depths.count == 4, c.dims.count == 4, c.depths.allSatisfy({ $0 > 0 }), c.dims.allSatisfy({ $0 > 0 }) else {
                    throw fail("a custom backbone needs four positive depths and four positive dims")
                }
                return ConvNeXtV2Config(name: "custom", depths: c.depths, dims: c.dims, convMLP: c.conv_mlp ?? false)
            }
        } ?? .base
        let attention = try entry.attention.map { name -> SeedAttentionMode in
            guard let mode = SeedAttentionMode(rawValue: name) else { throw fail("attention must be original or intended, got '\(name)'") }
            return mode
        } ?? .original

        let makeModel: @Sendable () -> Module & Classifier
        let defaultPreprocessing: Preprocessing
        // Known without building the model: a convnextv2_base hybrid is hundreds of MB of
        // parameters, too much just to list it.
        let architectureLayer: String
        switch entry.architecture {
        case "convnextv2":
            makeModel = { ConvNeXtV2(config, numClasses: labels.count) }
            defaultPreprocessing = config.preprocessing
            architectureLayer = ConvNeXtV2.defaultLayer
        case "seed-cnn", "seed-cnn_mha", "seed-hybrid":
            let variant = SeedVariant(rawValue: String(entry.architecture.dropFirst(5)))!
            makeModel = { SeedModel(variant, backbone: config, numClasses: labels.count, attention: attention) }
            defaultPreprocessing = config.preprocessing
            architectureLayer = SeedModel.defaultLayer
        case "efficientnet-lite0":
            makeModel = { EfficientNetLite(numClasses: labels.count) }
            defaultPreprocessing = ModelZoo.efficientNetLite0.preprocessing
            architectureLayer = EfficientNetLite.defaultLayer
        case "mobilenetv2-keras":
            makeModel = { MobileNetV2(numClasses: labels.count) }
            defaultPreprocessing = ModelZoo.mobileNetV2Dogs19.preprocessing
            architectureLayer = MobileNetV2.defaultLayer
        default:
            throw fail("unknown architecture '\(entry.architecture)'; architectures: convnextv2, seed-cnn, seed-cnn_mha, "
                + "seed-hybrid, efficientnet-lite0, mobilenetv2-keras, onnx")
        }
        let recipe = preprocessing ?? defaultPreprocessing
        let defaultLayer = entry.default_layer ?? architectureLayer
        let isKeras = entry.architecture == "mobilenetv2-keras"
        let name = entry.name
        return ModelDescriptor(
            name: name, architecture: entry.architecture + (entry.backbone.map { " on \($0.text)" } ?? ""),
            summary: "\(labels.count) classes, from \(file.lastPathComponent)", classes: labels.count,
            licence: entry.licence ?? "unknown", defaultLayer: defaultLayer, weightsURL: weights,
            fetchHint: "put the weights at \(weights.path) (named in \(file.path))",
            structure: { (makeModel(), recipe) }
        ) {
            let model = makeModel()
            let state = isKeras
                ? try KerasHDF5.read(contentsOf: weights, nestedPrefixes: MobileNetV2.kerasPrefixes)
                : try StateDict(contentsOf: weights)
            try model.load(state)
            return ExplainableModel(name: name, model: model, labels: labels, preprocessing: recipe, defaultLayer: defaultLayer)
        }
    }

    /// A zoo file's preprocessing: a recipe's name or its numbers, checked.
    private static func parse(_ field: PreprocessingField, fail: (String) -> ZooFileError) throws -> Preprocessing {
        switch field {
        case .named("convnextv2"): return Preprocessing.convNeXtV2
        case .named("imagenet"): return Preprocessing.imagenet
        case .named("pawmatch"): return Preprocessing.pawmatch
        case .named(let other): throw fail("unknown preprocessing '\(other)'; use convnextv2, imagenet, pawmatch or an object")
        case .custom(let c):
            guard c.mean.count == 3, c.std.count == 3, c.std.allSatisfy({ $0 > 0 }) else {
                throw fail("preprocessing needs three means and three positive stds")
            }
            // Checked here, not where the photo is resized: a size of 0 or of billions of pixels
            // would trap there, long after the file that asked for it.
            for (field, size) in [("crop", c.crop), ("resize_shorter_side", c.resize_shorter_side)] {
                if let size, !(1...maxImageSide).contains(size) {
                    throw fail("preprocessing \(field) is \(size); it must be between 1 and \(maxImageSide) pixels")
                }
            }
            return Preprocessing(resizeShorterSide: c.resize_shorter_side, cropWidth: c.crop, cropHeight: c.crop,
                                 interpolation: c.interpolation, mean: c.mean, std: c.std)
        }
    }
}

/// A zoo file that cannot be used, naming the file, the model and the reason.
public struct ZooFileError: Error, CustomStringConvertible {
    public let file: URL
    public let model: String?
    public let reason: String

    public var description: String {
        "zoo file \(file.path)" + (model.map { ", model '\($0)'" } ?? "") + ": \(reason)"
    }
}
