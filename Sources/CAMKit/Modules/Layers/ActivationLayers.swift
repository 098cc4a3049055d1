/// Activation layers, kept as modules so that the tree (and `Sequential` indices) match PyTorch's.

/// `nn.GELU()` with the exact erf form.
public final class GELU: Module {
    public override func forward(_ x: Tensor) -> Tensor { gelu(x) }
}

public final class ReLU: Module {
    /// Guided while `GuidedBackprop` runs, as the reference swaps its ReLU modules.
    public override func forward(_ x: Tensor) -> Tensor { GuidedBackprop.isActive ? guidedReLU(x) : relu(x) }
}

public final class ReLU6: Module {
    public override func forward(_ x: Tensor) -> Tensor { relu6(x) }
}
