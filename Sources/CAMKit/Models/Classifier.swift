/// An image classifier that can be explained: logits from an NCHW batch, and the layer a
/// class-activation map is taken from when the caller names none.
public protocol Classifier: Module {
    /// Dotted module name of the default target layer.
    var defaultTargetLayer: String { get }
    /// Number of classes of the logits (the feature size for a headless backbone).
    var outputSize: Int { get }
    /// How the output of layer `name` is laid out; `.spatial` (N, C, h, w) unless the model says otherwise.
    func activationLayout(ofLayer name: String) -> ActivationLayout
}

extension Classifier {
    public func activationLayout(ofLayer name: String) -> ActivationLayout { .spatial }
}
