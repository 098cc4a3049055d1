/// The main graph of an ONNX model, checked to be well formed: every input a node reads is
/// defined, no value is defined twice, there is no cycle, and every output is produced.
public struct ONNXGraph: Sendable {
    public let name: String
    /// In topological order: each node comes after the nodes whose outputs it reads (the
    /// file's own order when that already is one).
    public let nodes: [ONNXNode]
    public let initializers: [String: ONNXTensor]
    /// The inputs the caller feeds. Older exporters also list every initializer as an input;
    /// those are dropped here.
    public let inputs: [ONNXValueInfo]
    public let outputs: [ONNXValueInfo]
    /// The declared types of intermediate values, by name.
    public let valueInfo: [String: ONNXValueInfo]
}
