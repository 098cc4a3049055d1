import Foundation
import SwiftProtobuf

/// An ONNX model file read into plain Swift values: the importer never sees protobuf types.
///
/// Reading checks the whole file before anything runs: the protobuf, every tensor's type,
/// shape and data (inline or in external data files beside the model), the opset of every
/// node's domain, and the graph's structure (see `ONNXGraph`). A problem is an `ONNXError`
/// naming the file and the tensor, node or attribute at fault.
public struct ONNXModel: Sendable {
    public let url: URL
    public let irVersion: Int64
    public let producerName: String
    public let producerVersion: String
    /// Opset version by domain; `""` is the default ONNX domain (which files may also call
    /// `ai.onnx`).
    public let opsets: [String: Int]
    /// The model's `metadata_props` (labels, for one, may travel there). A repeated key keeps
    /// its last value.
    public let metadata: [String: String]
    public let graph: ONNXGraph

    /// Reads `url` and the external data files it names (which must lie in its folder).
    public static func load(contentsOf url: URL, limits: ONNXLimits = .default) throws -> ONNXModel {
        let data: Data
        do { data = try BoundedRead.data(url, limit: limits.maxFileBytes) } catch {
            throw ONNXError(url, "cannot read the model: \(error)")
        }
        guard !data.isEmpty else { throw ONNXError(url, "the file is empty, not an ONNX model") }
        var options = BinaryDecodingOptions()
        options.discardUnknownFields = true
        let proto: Onnx_ModelProto
        do { proto = try Onnx_ModelProto(serializedBytes: data, options: options) } catch {
            throw ONNXError(url, "not a valid ONNX model: \(Self.reason(error))")
        }
        return try ONNXDecoder(file: url, limits: limits).model(proto)
    }

    /// SwiftProtobuf's decoding errors in words.
    private static func reason(_ error: Error) -> String {
        switch error as? BinaryDecodingError {
        case .truncated?: return "the protobuf ends in the middle of a field (the file is truncated)"
        case .malformedProtobuf?: return "the bytes are not a protobuf message (the file is garbled)"
        case .invalidUTF8?: return "a string field is not valid UTF-8"
        case .messageDepthLimit?: return "messages are nested more than 100 deep"
        case .trailingGarbage?: return "bytes follow the end of the message"
        default: return "the protobuf cannot be decoded (\(error))"
        }
    }
}
