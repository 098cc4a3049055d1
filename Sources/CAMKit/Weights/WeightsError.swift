import Foundation

/// A state-dict key whose stored shape cannot be used for the module's parameter.
public struct ShapeMismatch: Equatable, CustomStringConvertible {
    public let key: String
    public let expected: [Int]
    public let found: [Int]

    public init(key: String, expected: [Int], found: [Int]) {
        self.key = key
        self.expected = expected
        self.found = found
    }

    public var description: String { "\(key): expected \(expected), found \(found)" }
}

/// Why weights could not be read or loaded.
///
/// Every message names the file (when there is one) and the key or value at fault: a user
/// holding a checkpoint of hundreds of tensors must be able to act on the message alone.
public enum WeightsError: Error, CustomStringConvertible {
    /// The file could not be opened or mapped.
    case unreadable(file: URL?, reason: String)
    case emptyFile(file: URL?)
    /// The file ends before a structure it declares.
    case truncated(file: URL?, detail: String)
    /// A safetensors header that is not valid JSON, runs past the file, or whose offsets
    /// are out of range, overlapping, or disagree with shape × dtype size.
    case badHeader(file: URL?, detail: String)
    case unsupportedDType(file: URL?, key: String, dtype: String)
    /// A tensor whose storage, offset, size or stride do not fit together.
    case badTensor(file: URL?, key: String, detail: String)
    /// Everything that keeps a state dict from matching a module, reported together so one
    /// run shows every problem. Lists are sorted.
    case stateDictMismatch(file: URL?, missing: [String], unexpected: [String], wrongShapes: [ShapeMismatch])
    /// A pickle naming a global outside the allow-list. `name` is `module.qualname`.
    case refusedGlobal(file: URL?, name: String)
    /// A pickle stream that is malformed or uses an opcode a state dict never needs.
    case badPickle(file: URL?, detail: String)
    case notATorchCheckpoint(file: URL?, detail: String)
    /// The checkpoint holds a structure in which no dict of tensors could be found.
    case noStateDict(file: URL?, detail: String)
    /// A valid file using a feature this reader does not implement (such as big-endian data).
    case unsupported(file: URL?, detail: String)

    public var description: String {
        switch self {
        case let .unreadable(file, reason):
            return "\(Self.prefix(file))cannot read file: \(reason)"
        case let .emptyFile(file):
            return "\(Self.prefix(file))file is empty"
        case let .truncated(file, detail):
            return "\(Self.prefix(file))file is truncated: \(detail)"
        case let .badHeader(file, detail):
            return "\(Self.prefix(file))bad safetensors header: \(detail)"
        case let .unsupportedDType(file, key, dtype):
            return "\(Self.prefix(file))tensor '\(key)' has unsupported dtype \(dtype); only floating-point tensors (F32, F16, BF16, F64) can be loaded"
        case let .badTensor(file, key, detail):
            return "\(Self.prefix(file))tensor '\(key)': \(detail)"
        case let .stateDictMismatch(file, missing, unexpected, wrongShapes):
            var parts: [String] = []
            if !missing.isEmpty {
                parts.append("missing \(missing.count) key\(missing.count == 1 ? "" : "s"): \(missing.joined(separator: ", "))")
            }
            if !unexpected.isEmpty {
                parts.append("unexpected \(unexpected.count) key\(unexpected.count == 1 ? "" : "s"): \(unexpected.joined(separator: ", "))")
            }
            if !wrongShapes.isEmpty {
                parts.append("wrong shape for \(wrongShapes.map(\.description).joined(separator: "; "))")
            }
            let from = file.map { " from \($0.path)" } ?? ""
            return "state dict\(from) does not match the model: \(parts.joined(separator: "; "))"
        case let .refusedGlobal(file, name):
            return "\(Self.prefix(file))refusing to load global \(name): only plain state dicts are accepted"
        case let .badPickle(file, detail):
            return "\(Self.prefix(file))bad pickle: \(detail)"
        case let .notATorchCheckpoint(file, detail):
            return "\(Self.prefix(file))not a PyTorch checkpoint: \(detail)"
        case let .noStateDict(file, detail):
            return "\(Self.prefix(file))no state dict found: \(detail)"
        case let .unsupported(file, detail):
            return "\(Self.prefix(file))unsupported: \(detail)"
        }
    }

    private static func prefix(_ file: URL?) -> String {
        file.map { "\($0.path): " } ?? ""
    }
}
