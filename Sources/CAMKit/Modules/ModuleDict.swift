/// Named children with no forward of their own, like `nn.ModuleDict`; the owner decides
/// how to call them.
public final class ModuleDict: Module {
    public init(_ entries: [(String, Module)]) {
        super.init()
        for (name, module) in entries { register(name, module) }
    }
}
