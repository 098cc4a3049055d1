@testable import CAMKit
import Foundation
import FuzzSupport

// `ONNXModel.load(contentsOf:)` end to end: the protobuf, every tensor inline or in external
// data, attributes, value infos, opsets and the graph checks. External data needs a file beside
// the model, so an input may carry one: the bytes after the first `ONNXFuzzInput.marker` are
// written to `model.onnx.data`, the name the seeds' external tensors give.
//
// `fuzz-onnx --write-seeds DIR` writes the seeds (small models built from the generated
// messages) instead of fuzzing; scripts/fuzz.sh calls it before every run.
if CommandLine.arguments.count == 3, CommandLine.arguments[1] == "--write-seeds" {
    ONNXSeeds.write(to: URL(fileURLWithPath: CommandLine.arguments[2]))
    exit(0)
}

let model = ScratchFile(named: "model.onnx")
let externalData = ScratchFile(named: "model.onnx.data")

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ bytes: UnsafePointer<UInt8>?, _ count: Int) -> CInt {
    let (modelBytes, dataBytes) = ONNXFuzzInput.split(fuzzInput(bytes, count))
    model.write(modelBytes)
    if let dataBytes { externalData.write(dataBytes) } else { unlink(externalData.url.path) }
    let loaded: ONNXModel
    do {
        loaded = try ONNXModel.load(contentsOf: model.url)
        checkConsistency(loaded)
    } catch {
        expectClearError(error, as: ONNXError.self, naming: model.url.path)
        return 0
    }
    importAndRun(loaded)
    return 0
}

/// The importer on what the reader accepted: checking operators, specialising to the declared
/// input (small ones only) and one forward pass of zeros; refusals must be the importer's own
/// errors naming the file, and nothing may trap.
func importAndRun(_ loaded: ONNXModel) {
    do {
        let source = try ONNXGraphSource(model: loaded)
        source.maxValueElements = 1 << 18
        guard let shape = source.declaredInputShape, shape.reduce(1, *) <= 1 << 16 else { return }
        let graph = try source.graph(forInputShape: shape)
        let output = GraphExecutor(graph).run(Tensor.zeros(shape))
        expect(output.shape == graph.shapes[graph.output], "the output has shape \(output.shape), the graph says \(graph.shapes[graph.output])")
    } catch {
        expectClearError(error, as: ONNXImportError.self, naming: model.url.path)
    }
}

/// What a loaded model promises: tensors fill their dims, nodes come after what they read,
/// every node's domain has an opset, and the outputs are produced.
func checkConsistency(_ loaded: ONNXModel) {
    func check(_ tensor: ONNXTensor, _ what: String) {
        expect(tensor.values.count == tensor.dims.reduce(1, *), "\(what) holds \(tensor.values.count) values for dims \(tensor.dims)")
    }
    let graph = loaded.graph
    var defined = Set(graph.inputs.map(\.name)).union(graph.initializers.keys)
    for (name, tensor) in graph.initializers { check(tensor, "initializer \(name)") }
    for node in graph.nodes {
        for input in node.inputs where !input.isEmpty {
            expect(defined.contains(input), "\(node.label) reads '\(input)' before it is defined")
        }
        for case let (name, .tensor(tensor)) in node.attributes { check(tensor, "attribute \(name) of \(node.label)") }
        expect(loaded.opsets[node.domain] != nil, "\(node.label) has domain '\(node.domain)' without an opset")
        defined.formUnion(node.outputs.filter { !$0.isEmpty })
    }
    for output in graph.outputs { expect(defined.contains(output.name), "output \(output.name) is never defined") }
}

runFuzzer()
