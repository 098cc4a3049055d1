/// `nn.BatchNorm2d` in inference mode: normalises with the running statistics.
public final class BatchNorm2d: Module {
    public let weight: Parameter
    public let bias: Parameter
    public let runningMean: Parameter
    public let runningVar: Parameter
    public let eps: Float

    public init(_ channels: Int, eps: Float = 1e-5) {
        weight = Parameter(shape: [channels], initial: 1)
        bias = Parameter(shape: [channels])
        runningMean = Parameter(shape: [channels], isBuffer: true)
        runningVar = Parameter(shape: [channels], isBuffer: true, initial: 1)
        self.eps = eps
        super.init()
        adopt("weight", weight)
        adopt("bias", bias)
        adopt("running_mean", runningMean)
        adopt("running_var", runningVar)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        batchNorm2d(x, mean: runningMean.value, variance: runningVar.value,
                    weight: weight.value, bias: bias.value, eps: eps)
    }
}
