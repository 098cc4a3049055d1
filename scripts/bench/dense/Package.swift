// swift-tools-version:6.1
// Hand-run release timing of CAMKit's dense kernels; `run.sh` runs it next to PyTorch.
import PackageDescription

let package = Package(
    name: "DenseBench",
    platforms: [.macOS(.v14)],
    dependencies: [.package(path: "CAMKit")],
    targets: [
        .executableTarget(
            name: "DenseBench",
            dependencies: [.product(name: "CAMKit", package: "CAMKit")],
            swiftSettings: [.swiftLanguageMode(.v5)]
        ),
    ]
)
