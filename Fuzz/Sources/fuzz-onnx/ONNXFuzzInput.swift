import Foundation

/// How one fuzz input carries a model and, optionally, its external data file.
enum ONNXFuzzInput {
    /// Separates the model's bytes from those of `model.onnx.data` (in Fuzz/dicts/onnx.dict, so
    /// the mutator can add or move it).
    static let marker = Data("#model.onnx.data#".utf8)

    static func split(_ input: Data) -> (model: Data, externalData: Data?) {
        guard let range = input.range(of: marker) else { return (input, nil) }
        return (input[..<range.lowerBound], input[range.upperBound...])
    }

    static func join(_ model: Data, _ externalData: Data?) -> Data {
        guard let externalData else { return model }
        return model + marker + externalData
    }
}
