/// The globals a state dict needs: the whole allow-list of `Unpickler`, and of docs/SECURITY.md.
///
/// Anything else is refused by name when the pickle mentions it, so no code named by the file
/// is ever reached. None of these is called either: `Unpickler.apply` interprets each.
enum PickleGlobal {
    case orderedDict
    case rebuildTensorV2
    case rebuildParameter
    case rebuildParameterWithState
    case rebuildFromTypeV2
    case tensorType
    case parameterType
    case size
    case storageType(TorchDType)

    /// Every accepted `(module, name)` pair, matched as a pair: the list is exactly what a
    /// GLOBAL or STACK_GLOBAL may name.
    static let allowList: [(module: String, name: String, global: PickleGlobal)] = {
        var list: [(String, String, PickleGlobal)] = [
            ("collections", "OrderedDict", .orderedDict),
            ("torch._utils", "_rebuild_tensor_v2", .rebuildTensorV2),
            ("torch._utils", "_rebuild_parameter", .rebuildParameter),
            ("torch._utils", "_rebuild_parameter_with_state", .rebuildParameterWithState),
            ("torch._tensor", "_rebuild_from_type_v2", .rebuildFromTypeV2),
            ("torch", "Tensor", .tensorType),
            ("torch._tensor", "Tensor", .tensorType),
            ("torch.nn.parameter", "Parameter", .parameterType),
            ("torch", "Size", .size),
        ]
        for (name, dtype) in TorchDType.byStorageName.sorted(by: { $0.key < $1.key }) {
            list.append(("torch", name, .storageType(dtype)))
        }
        return list.map { (module: $0.0, name: $0.1, global: $0.2) }
    }()

    /// Module, then name.
    private static let byModule: [String: [String: PickleGlobal]] = {
        var table: [String: [String: PickleGlobal]] = [:]
        for entry in allowList { table[entry.module, default: [:]][entry.name] = entry.global }
        return table
    }()

    init?(module: String, name: String) {
        guard let global = Self.byModule[module]?[name] else { return nil }
        self = global
    }

    var name: String {
        switch self {
        case .orderedDict: return "collections.OrderedDict"
        case .rebuildTensorV2: return "torch._utils._rebuild_tensor_v2"
        case .rebuildParameter: return "torch._utils._rebuild_parameter"
        case .rebuildParameterWithState: return "torch._utils._rebuild_parameter_with_state"
        case .rebuildFromTypeV2: return "torch._tensor._rebuild_from_type_v2"
        case .tensorType: return "torch.Tensor"
        case .parameterType: return "torch.nn.parameter.Parameter"
        case .size: return "torch.Size"
        case let .storageType(dtype): return "torch.\(dtype.storageName)"
        }
    }
}
