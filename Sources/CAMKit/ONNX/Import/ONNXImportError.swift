import Foundation

/// Why an ONNX model cannot be run: always the file, and the node, its op and the opset when
/// the problem is one node's.
public struct ONNXImportError: Error, CustomStringConvertible {
    public let file: URL
    public let node: String?
    public let problem: String

    public var description: String {
        "\(file.path): \(node.map { "\($0): " } ?? "")\(problem)"
    }
}
