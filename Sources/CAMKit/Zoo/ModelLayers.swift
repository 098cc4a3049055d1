/// One named module of a model: a name `--layer` (and `ExplainOptions.layer`) accepts.
public struct LayerInfo: Sendable, Equatable {
    /// The module's path, as in the state dict (`backbone.stages.3`).
    public let name: String
    /// The module's Swift type (`ConvNeXtStage`, `Conv2d` …).
    public let type: String
    /// The output shape for one input of the model's crop size, batch 1; nil when the module
    /// is not called in a forward pass.
    public let outputShape: [Int]?
}

extension ModelDescriptor {
    /// The model's named modules in definition order, with their output shapes.
    ///
    /// Shapes come from one forward pass of a zero input of the model's crop size with a
    /// forward hook on every module. Layer names do not depend on the weights, so the
    /// architecture is built without them when the descriptor knows how (built-in models and
    /// zoo-file models); otherwise the weights are loaded.
    public func layers() throws -> [LayerInfo] {
        let (model, preprocessing): (Module & Classifier, Preprocessing)
        if let makeStructure {
            (model, preprocessing) = makeStructure()
        } else {
            let loaded = try load()
            (model, preprocessing) = (loaded.model, loaded.preprocessing)
        }
        var shapes: [ObjectIdentifier: [Int]] = [:]
        let modules = model.namedModules().filter { !$0.name.isEmpty }
        let handles = modules.map { _, module in
            module.registerForwardHook { shapes[ObjectIdentifier(module)] = $0.shape }
        }
        _ = model(Tensor.zeros([1, 3, preprocessing.cropHeight, preprocessing.cropWidth]))
        handles.forEach { $0() }
        return modules.map { name, module in
            LayerInfo(name: name, type: String(describing: type(of: module)), outputShape: shapes[ObjectIdentifier(module)])
        }
    }
}
