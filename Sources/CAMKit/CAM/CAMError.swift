/// What can go wrong when asking for a map, each case naming the offending value.
public enum CAMError: Error, Equatable, CustomStringConvertible {
    case classOutOfRange(Int, classes: Int)
    case topKOutOfRange(Int, classes: Int)
    case unknownLabel(String, closeMatches: [String])
    case noLabels(String)
    case targetCount(Int, images: Int)
    case mapCountDiffers([Int])
    case inputShape([Int])
    case layerShape(layer: String, shape: [Int], layout: ActivationLayout)
    case notFinite(String)
    case svdFailed(info: Int, rows: Int, columns: Int)
    case eigenFailed(info: Int, size: Int)
    case noBiasLayers(type: String)
    case inputSizeFixed(method: String, model: [Int], needed: [Int])

    public var description: String {
        switch self {
        case .classOutOfRange(let index, let classes):
            return "class index \(index) is out of range: the model has classes 0..<\(classes)"
        case .topKOutOfRange(let k, let classes):
            return "top-\(k) asked of a model with \(classes) classes: k must be in 1...\(classes)"
        case .unknownLabel(let label, let close):
            return "no class labelled '\(label)'; closest labels: \(close.joined(separator: ", "))"
        case .noLabels(let label):
            return "class '\(label)' asked by name, but the extractor was given no labels"
        case .targetCount(let count, let images):
            return "\(count) targets for \(images) images: give one target for all or one per image"
        case .mapCountDiffers(let counts):
            return "the targets ask for different numbers of maps per image (\(counts)); use the same kind for every image"
        case .inputShape(let shape):
            return "input must be an (N, 3, H, W) image batch, got \(shape)"
        case .layerShape(let layer, let shape, let layout):
            if layout == .spatial {
                return "layer '\(layer)' outputs \(shape); a map needs an (N, C, h, w) feature map "
                    + "(for transformer tokens give the token layout: prefix tokens and grid)"
            }
            return "layer '\(layer)' outputs \(shape), which does not fit the layout \(layout)"
        case .notFinite(let what):
            return "\(what) hold infinite values, so they have no principal component; are the weights or the input broken?"
        case .svdFailed(let info, let rows, let columns):
            return "the singular value decomposition of a \(rows)×\(columns) matrix did not converge (LAPACK sgesdd info \(info))"
        case .eigenFailed(let info, let size):
            return "the eigendecomposition of a \(size)×\(size) kernel matrix did not converge (LAPACK dsyev info \(info))"
        case .inputSizeFixed(let method, let model, let needed):
            return "\(method) runs the model on inputs of \(needed), but this imported model only takes \(model) "
                + "(its file fixes the input size; export it with dynamic height and width)"
        case .noBiasLayers(let type):
            return "FullGrad needs Conv2d layers with a bias or BatchNorm2d layers, and the \(type) model has none "
                + "(graph models expose their layers without their kind)"
        }
    }
}
