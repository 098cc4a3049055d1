/// TensorFlow's "same" padding for one spatial dimension: the output has ⌈in / stride⌉
/// positions, and of the total padding the smaller half goes before (top/left), the rest
/// after (bottom/right).
public func tfSamePadding(input: Int, kernel: Int, stride: Int, dilation: Int = 1) -> (before: Int, after: Int) {
    let out = (input + stride - 1) / stride
    let total = max((out - 1) * stride + (kernel - 1) * dilation + 1 - input, 0)
    return (total / 2, total - total / 2)
}

/// A convolution with TensorFlow "same" padding computed from the size of each input, like
/// `Conv2dDynamicSamePadding` of efficientnet-pytorch and Keras `Conv2D(padding="same")`.
/// Parameters are `weight` (out, in / groups, kh, kw) and optionally `bias`, as `nn.Conv2d`.
public final class SamePaddingConv2d: Module {
    public let weight: Parameter
    public let bias: Parameter?
    public let stride: (Int, Int)
    public let groups: Int

    public init(_ inChannels: Int, _ outChannels: Int, kernel: Int, stride: Int = 1, groups: Int = 1, bias: Bool = false) {
        precondition(inChannels % groups == 0 && outChannels % groups == 0,
                     "groups \(groups) must divide channels \(inChannels) → \(outChannels)")
        weight = Parameter(shape: [outChannels, inChannels / groups, kernel, kernel])
        self.bias = bias ? Parameter(shape: [outChannels]) : nil
        self.stride = (stride, stride)
        self.groups = groups
        super.init()
        adopt("weight", weight)
        if let b = self.bias { adopt("bias", b) }
    }

    /// The padding this layer applies to an input of `height` × `width`.
    public func padding(height: Int, width: Int) -> Padding2D {
        let h = tfSamePadding(input: height, kernel: weight.shape[2], stride: stride.0)
        let w = tfSamePadding(input: width, kernel: weight.shape[3], stride: stride.1)
        return Padding2D(top: h.before, bottom: h.after, left: w.before, right: w.after)
    }

    public override func forward(_ x: Tensor) -> Tensor {
        precondition(x.rank == 4, "SamePaddingConv2d takes NCHW input, got \(x.shape)")
        return conv2d(x, weight: weight.value, bias: bias?.value, stride: stride,
                      padding: padding(height: x.shape[2], width: x.shape[3]), groups: groups)
    }
}

/// Keras `ZeroPadding2D` / `nn.ZeroPad2d`: zero rows and columns around an NCHW map.
public final class ZeroPadding2d: Module {
    public let padding: Padding2D

    public init(_ padding: Padding2D) {
        self.padding = padding
    }

    public override func forward(_ x: Tensor) -> Tensor {
        zeroPad2d(x, padding)
    }
}
