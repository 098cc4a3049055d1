/// One test-time augmentation of the reference's `aug_smooth`: ttach's
/// `Compose([HorizontalFlip(), Multiply([0.9, 1, 1.1])])`, six combinations. The map of an
/// augmented input is mapped back (flipped again; brightness needs nothing) and the six are
/// averaged, which evens out maps that hang on one exact pixel alignment.
public struct TestTimeAugmentation: Equatable, Sendable {
    public let horizontalFlip: Bool
    public let factor: Float

    public init(horizontalFlip: Bool, factor: Float) {
        self.horizontalFlip = horizontalFlip
        self.factor = factor
    }

    /// The six, in ttach's order (flip outermost).
    public static let gradCAMDefault: [TestTimeAugmentation] = [false, true].flatMap { flip in
        [Float(0.9), 1, 1.1].map { TestTimeAugmentation(horizontalFlip: flip, factor: $0) }
    }

    public var isIdentity: Bool { !horizontalFlip && factor == 1 }

    /// The augmented (N, C, H, W) batch.
    public func augment(_ input: Tensor) -> Tensor {
        let flipped = horizontalFlip ? Self.flipLastAxis(input) : input
        return factor == 1 ? flipped : Tensor(shape: flipped.shape, scalars: flipped.scalars.map { $0 * factor })
    }

    /// A map (…, H, W) of the augmented input, brought back to the original's geometry.
    public func deaugment(_ map: Tensor) -> Tensor {
        horizontalFlip ? Self.flipLastAxis(map) : map
    }

    private static func flipLastAxis(_ x: Tensor) -> Tensor {
        let width = x.shape[x.rank - 1]
        return Tensor(shape: x.shape) { out in
            for row in 0..<(x.count / width) {
                for i in 0..<width { out[row * width + i] = x.scalars[row * width + width - 1 - i] }
            }
        }
    }
}
