import Foundation

/// A learnable tensor or a buffer (such as BatchNorm running statistics) of a module.
/// It is a box so that loading weights replaces the value in place.
public final class Parameter {
    /// The shape the module computes with; checkpoints may store an equivalent layout.
    public let shape: [Int]
    public var value: Tensor
    /// Buffers are saved in state dicts but are not learned (running_mean, running_var).
    public let isBuffer: Bool

    public init(shape: [Int], isBuffer: Bool = false, initial: Float = 0) {
        self.shape = shape
        self.value = Tensor(repeating: initial, shape: shape)
        self.isBuffer = isBuffer
    }
}

/// A token that removes the hook it was returned for.
public struct HookHandle {
    fileprivate let remove: () -> Void
    public func callAsFunction() { remove() }
}

/// A node of a model: its children and parameters are registered under the names that
/// PyTorch uses, so `namedParameters()` yields state-dict keys and `namedModules()` yields
/// the layer names users pass as Grad-CAM targets.
open class Module {
    public private(set) var children: [(name: String, module: Module)] = []
    public private(set) var parameters: [(name: String, parameter: Parameter)] = []

    private var forwardHooks: [UUID: (Tensor) -> Void] = [:]
    private var backwardHooks: [UUID: (Tensor) -> Void] = [:]
    private var replacement: (id: UUID, output: (Tensor) -> Tensor)?
    /// Graph forms of this model traced for suffix runs, by input shape without the batch
    /// (`tracingOnce`): kept here so that they live and die with the model.
    private var traces: [[Int]: ModuleTrace] = [:]
    private let hookLock = NSLock()

    public init() {}

    /// Registers `module` as the child called `name` and returns it.
    @discardableResult
    public func register<M: Module>(_ name: String, _ module: M) -> M {
        children.append((name, module))
        return module
    }

    /// Declares a parameter (or buffer) called `name` of the given shape.
    public func parameter(_ name: String, shape: [Int], isBuffer: Bool = false, initial: Float = 0) -> Parameter {
        adopt(name, Parameter(shape: shape, isBuffer: isBuffer, initial: initial))
    }

    /// Registers an existing parameter under `name`, for subclasses that create their
    /// parameters before `super.init()`.
    @discardableResult
    public func adopt(_ name: String, _ parameter: Parameter) -> Parameter {
        parameters.append((name, parameter))
        return parameter
    }

    /// What the module computes. Subclasses override this; callers use `callAsFunction`.
    open func forward(_ x: Tensor) -> Tensor {
        fatalError("\(type(of: self)) does not override forward(_:)")
    }

    /// Runs `forward` and the hooks registered on this module.
    public func callAsFunction(_ x: Tensor) -> Tensor {
        let tracer = GraphTracer.current
        tracer?.enter(self)
        let replace = hookLock.withLock { replacement?.output }
        let output = replace?(x) ?? forward(x)
        tracer?.leave(self, output: output, replaced: replace != nil)
        let (onOutput, onGradient) = hookLock.withLock { (Array(forwardHooks.values), Array(backwardHooks.values)) }
        if !onGradient.isEmpty {
            // Makes this output the place where backward stops unless an earlier layer was
            // marked too, and hands its gradient to the hooks.
            output.requiresGrad = true
            for hook in onGradient { output.onGradient(hook) }
        }
        for hook in onOutput { hook(output) }
        return output
    }

    /// `hook` receives this module's output on every forward call.
    @discardableResult
    public func registerForwardHook(_ hook: @escaping (Tensor) -> Void) -> HookHandle {
        let id = UUID()
        hookLock.withLock { forwardHooks[id] = hook }
        return HookHandle { [weak self] in self?.hookLock.withLock { _ = self?.forwardHooks.removeValue(forKey: id) } }
    }

    /// `hook` receives the gradient with respect to this module's output when a later
    /// `backward` reaches it. Registering one makes forward record the ops after this module.
    @discardableResult
    public func registerBackwardHook(_ hook: @escaping (Tensor) -> Void) -> HookHandle {
        let id = UUID()
        hookLock.withLock { backwardHooks[id] = hook }
        return HookHandle { [weak self] in self?.hookLock.withLock { _ = self?.backwardHooks.removeValue(forKey: id) } }
    }

    /// Until the handle is called, this module's output is `output(input)` and `forward` is not
    /// run; hooks still see the replaced output. Ablation-CAM uses it to feed the rest of the
    /// model a layer output with channels knocked out, as the reference swaps in its
    /// `AblationLayer`. A later replacement supersedes an earlier one.
    @discardableResult
    public func replaceOutput(_ output: @escaping (Tensor) -> Tensor) -> HookHandle {
        let id = UUID()
        hookLock.withLock { replacement = (id, output) }
        return HookHandle { [weak self] in
            self?.hookLock.withLock { if self?.replacement?.id == id { self?.replacement = nil } }
        }
    }

    func keptTrace(forInputShape key: [Int]) -> ModuleTrace? { hookLock.withLock { traces[key] } }

    func keep(_ trace: ModuleTrace, forInputShape key: [Int]) { hookLock.withLock { traces[key] = trace } }

    /// Every module of the tree with its dotted path, this one first under `""`.
    public func namedModules(prefix: String = "") -> [(name: String, module: Module)] {
        var result: [(String, Module)] = [(prefix, self)]
        for (name, child) in children {
            result += child.namedModules(prefix: prefix.isEmpty ? name : "\(prefix).\(name)")
        }
        return result
    }

    /// Every parameter and buffer with its state-dict key.
    public func namedParameters(prefix: String = "") -> [(name: String, parameter: Parameter)] {
        namedModules(prefix: prefix).flatMap { path, module in
            module.parameters.map { (path.isEmpty ? $0.name : "\(path).\($0.name)", $0.parameter) }
        }
    }

    /// The module at a dotted path such as `backbone.stages.3`.
    public func module(named path: String) -> Module? {
        namedModules().first { $0.name == path }?.module
    }
}

/// Children called "0", "1", … applied in order, like `nn.Sequential`.
public final class Sequential: Module {
    public init(_ layers: [Module]) {
        super.init()
        for (i, layer) in layers.enumerated() { register(String(i), layer) }
    }

    public override func forward(_ x: Tensor) -> Tensor {
        children.reduce(x) { $1.module($0) }
    }
}

/// A pass-through, where PyTorch has `nn.Identity` or a layer disabled at inference (Dropout).
/// Kept as a module so the tree and its indices match PyTorch's.
public final class Identity: Module {
    public override func forward(_ x: Tensor) -> Tensor { x }
}
