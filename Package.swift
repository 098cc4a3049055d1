// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "CAMKit",
    platforms: [.macOS(.v14)],
    products: [
        .library(name: "CAMKit", targets: ["CAMKit"]),
        .executable(name: "explain", targets: ["explain"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/weichsel/ZIPFoundation", from: "0.9.19"),
    ],
    targets: [
        .systemLibrary(
            name: "COpenBLAS",
            pkgConfig: "openblas",
            providers: [.apt(["libopenblas-dev"])]
        ),
        .systemLibrary(
            name: "CHDF5",
            pkgConfig: "hdf5",
            providers: [.apt(["libhdf5-dev"])]
        ),
        .target(
            name: "CAMKit",
            dependencies: [
                "COpenBLAS",
                "CHDF5",
                .product(name: "ZIPFoundation", package: "ZIPFoundation"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .executableTarget(
            name: "explain",
            dependencies: [
                "CAMKit",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
        .testTarget(
            name: "CAMKitTests",
            dependencies: ["CAMKit"],
            resources: [],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
