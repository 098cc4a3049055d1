// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "CAMKit",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CAMKit", targets: ["CAMKit"]),
        .library(name: "CAMKitServer", targets: ["CAMKitServer"]),
        .executable(name: "explain", targets: ["explain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.6.0"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CCairo",
            pkgConfig: "cairo",
            providers: [.apt(["libcairo2-dev", "libfontconfig-dev"])]
        ),
        .systemLibrary(
            name: "CJPEG",
            pkgConfig: "libjpeg",
            providers: [.apt(["libjpeg-dev"]), .brew(["jpeg-turbo"])]
        ),
        .systemLibrary(
            name: "CPNG",
            pkgConfig: "libpng",
            providers: [.apt(["libpng-dev"]), .brew(["libpng"])]
        ),
        .target(
            name: "CImageCodecs",
            dependencies: ["CJPEG", "CPNG"]
        ),
        // Kernels in C where Swift cannot say which instruction set to compile for, and the
        // CPU detection that chooses among them.
        .target(
            name: "CKernels",
            linkerSettings: [.linkedLibrary("dl", .when(platforms: [.linux]))]
        ),
        // inflate for the deflate filter of HDF5 chunks (Foundation offers none on Linux).
        .systemLibrary(
            name: "CInflate",
            pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]
        ),
        // SHA-256 of weight files, so that gallery shards made with different weights are not merged.
        .systemLibrary(
            name: "CLibCrypto",
            pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "CAMKit",
            dependencies: [
                "COpenBLAS",
                "CLibCrypto",
                "CKernels",
                "CCairo",
                "CImageCodecs",
                "CInflate",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ],
            // The pinned ONNX schema is kept beside the Swift generated from it
            // (scripts/generate_onnx_proto.sh), not compiled.
            exclude: ["ONNX/Proto/onnx.proto", "ONNX/Proto/LICENSE"],
            // Data tables, read at run time (ModelZoo.imagenet1kLabels, …).
            resources: [.copy("Zoo/Resources")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        // The HTTP front end lives in its own target so that a tool embedding
        // CAMKit does not pull in the Hummingbird / SwiftNIO stack.
        .target(
            name: "CAMKitServer",
            dependencies: [
                "CAMKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "explain",
            dependencies: [
                "CAMKit",
                "CAMKitServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "CAMKitServerTests",
            dependencies: [
                "CAMKit",
                "CAMKitServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "EmbedExample",
            dependencies: ["CAMKit"],
            path: "Examples/EmbedExample",
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "CAMKitTests",
            // SwiftProtobuf: the ONNX tests build their models from the generated messages.
            // ZIPFoundation: the Keras archive tests build a broken `.keras` file.
            dependencies: ["CAMKit", "CCairo", "CKernels", .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                           .product(name: "ZIPFoundation", package: "ZIPFoundation")],
            resources: [],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
