import Foundation

/// Why an ONNX model could not be read.
///
/// The message starts with the model file's path and names the tensor, node, attribute or
/// external data file at fault: a user holding a model of thousands of nodes must be able to
/// act on the message alone.
public struct ONNXError: Error, CustomStringConvertible {
    /// The model file (also when the problem is in one of its external data files, which the
    /// problem then names).
    public let file: URL
    public let problem: String

    init(_ file: URL, _ problem: String) {
        self.file = file
        self.problem = problem
    }

    public var description: String { "\(file.path): \(problem)" }
}
