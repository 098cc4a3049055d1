/// `nn.Flatten()`: (N, …) → (N, product of the rest).
public final class Flatten: Module {
    public override func forward(_ x: Tensor) -> Tensor {
        x.reshaped([x.shape[0], x.count / max(x.shape[0], 1)])
    }
}
