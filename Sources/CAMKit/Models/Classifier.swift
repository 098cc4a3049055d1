/// An image classifier that can be explained: logits from an NCHW batch, and the layer a
/// class-activation map is taken from when the caller names none.
public protocol Classifier: Module {
    /// Dotted module name of the default target layer (a 4-D feature map).
    var defaultTargetLayer: String { get }
    /// Number of classes of the logits (the feature size for a headless backbone).
    var outputSize: Int { get }
}
