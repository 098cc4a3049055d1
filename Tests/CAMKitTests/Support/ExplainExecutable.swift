import Foundation
import XCTest

/// What a run of the real `explain` executable printed and returned.
struct ExplainRun {
    let status: Int32
    let stdout: String
    let stderr: String
}

/// The built `explain`, next to the test bundle (`swift test` builds every product).
/// macOS: the .xctest bundle sits in the products folder. Linux: the bundle is the test
/// runner itself, so its URL already is the products folder.
func explainExecutable() -> URL? {
    let bundle = Bundle(for: ExplainRunToken.self)
    return [bundle.bundleURL.deletingLastPathComponent(), bundle.bundleURL, bundle.executableURL?.deletingLastPathComponent()]
        .compactMap { $0?.appendingPathComponent("explain") }
        .first { FileManager.default.isExecutableFile(atPath: $0.path) }
}

private final class ExplainRunToken {}

/// Runs the real `explain` with `arguments`, in `folder` when given, with `environment` added
/// to this process's.
func runExplain(_ arguments: [String], in folder: URL? = nil, environment: [String: String] = [:]) throws -> ExplainRun {
    guard let executable = explainExecutable() else {
        XCTFail("no explain executable next to the test bundle; run `swift build` first")
        throw CocoaError(.fileNoSuchFile)
    }
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if let folder { process.currentDirectoryURL = folder }
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Read before waiting, so a full pipe cannot block the child.
    let stdout = out.fileHandleForReading.readDataToEndOfFile()
    let stderr = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return ExplainRun(status: process.terminationStatus, stdout: String(decoding: stdout, as: UTF8.self),
                      stderr: String(decoding: stderr, as: UTF8.self))
}
