// swift-tools-version:6.1
import PackageDescription

/// libFuzzer targets for CAMKit's readers and parsers, kept out of the main package so that
/// a normal build never needs the sanitizer runtimes. `make fuzz` and `make fuzz-smoke` build
/// and run them (docs/FUZZING.md).
let fuzzers = [
    "fuzz-image", "fuzz-safetensors", "fuzz-torch-checkpoint", "fuzz-unpickler",
    "fuzz-keras-hdf5", "fuzz-zoo-file", "fuzz-labels-csv", "fuzz-onnx",
]

let package = Package(
    name: "CAMKitFuzz",
    dependencies: [
        .package(name: "CAMKit", path: ".."),
        // fuzz-onnx builds its seed models from the generated ONNX messages.
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
    ],
    targets: [
        .systemLibrary(name: "CLibFuzzer"),
        .target(
            name: "FuzzSupport",
            dependencies: ["CLibFuzzer"],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ] + fuzzers.map { name in
        .executableTarget(
            name: name,
            dependencies: ["FuzzSupport", .product(name: "CAMKit", package: "CAMKit")]
                + (name == "fuzz-onnx" ? [.product(name: "SwiftProtobuf", package: "swift-protobuf")] : []),
            swiftSettings: [.swiftLanguageMode(.v5)]
        )
    }
)
