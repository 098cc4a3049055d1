import CLibFuzzer
import Foundation

/// Hands the process to libFuzzer, which calls the executable's `LLVMFuzzerTestOneInput` on
/// every input, and exits with libFuzzer's status.
///
/// SwiftPM links every executable on Linux with `main` aliased to the module's own entry
/// point, so libFuzzer's `main` never runs; `LLVMFuzzerRunDriver` is libFuzzer's documented
/// entry for programs that keep their own `main`.
public func runFuzzer() -> Never {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    exit(LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput))
}

/// The fuzzer's bytes as `Data` (libFuzzer passes a null pointer for the empty input).
public func fuzzInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> Data {
    guard let bytes, count > 0 else { return Data() }
    return Data(bytes: bytes, count: count)
}
