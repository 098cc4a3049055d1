import Foundation

extension Module {
    /// Copies the tensors of `dict` into this module's parameters and buffers, matched by
    /// their PyTorch state-dict keys.
    ///
    /// - A `module.` prefix on every key (a model saved from inside `nn.DataParallel`) is
    ///   stripped, unless the model's own keys all carry it too.
    /// - `num_batches_tracked` entries are ignored.
    /// - A stored shape may differ from the module's by singleton dims only (same elements,
    ///   same shape once 1s are dropped): timm stores 1×1-conv MLPs as `(out, in, 1, 1)`
    ///   where a linear layer has `(out, in)`, and the row-major layout is the same.
    /// - Missing and unexpected keys are errors when `strict`; a wrong shape always is.
    ///   Every problem is reported in one `WeightsError.stateDictMismatch`, and the module is
    ///   only changed when there is none, so a failed load leaves it as it was.
    public func load(_ dict: StateDict, strict: Bool = true) throws {
        let expected = namedParameters()
        let expectedKeys = Set(expected.map(\.name))

        var stored: [String: Tensor] = [:]
        let entries = dict.pairs.filter { !StateDict.isIgnorable($0.key) }
        let prefix = "module."
        let strip = !entries.isEmpty
            && entries.allSatisfy { $0.key.hasPrefix(prefix) }
            && !(expectedKeys.allSatisfy { $0.hasPrefix(prefix) } && !expectedKeys.isEmpty)
        for (key, tensor) in entries {
            stored[strip ? String(key.dropFirst(prefix.count)) : key] = tensor
        }

        var missing: [String] = []
        var wrongShapes: [ShapeMismatch] = []
        var assignments: [(Parameter, Tensor)] = []
        for (key, parameter) in expected {
            guard let tensor = stored[key] else {
                missing.append(key)
                continue
            }
            if Self.isCompatible(stored: tensor.shape, expected: parameter.shape) {
                assignments.append((parameter, tensor))
            } else {
                wrongShapes.append(ShapeMismatch(key: key, expected: parameter.shape, found: tensor.shape))
            }
        }
        let unexpected = stored.keys.filter { !expectedKeys.contains($0) }

        if !wrongShapes.isEmpty || (strict && !(missing.isEmpty && unexpected.isEmpty)) {
            throw WeightsError.stateDictMismatch(
                file: dict.source,
                missing: strict ? missing.sorted() : [],
                unexpected: strict ? unexpected.sorted() : [],
                wrongShapes: wrongShapes.sorted { $0.key < $1.key })
        }
        for (parameter, tensor) in assignments {
            parameter.value = Tensor(shape: parameter.shape, scalars: tensor.scalars)
        }
    }

    /// Same element count and the same shape once all 1-dims are removed.
    static func isCompatible(stored: [Int], expected: [Int]) -> Bool {
        stored.product == expected.product && stored.filter { $0 != 1 } == expected.filter { $0 != 1 }
    }
}
