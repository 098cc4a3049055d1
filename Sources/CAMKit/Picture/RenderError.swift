/// Why a picture could not be made. Cairo reports failures as a sticky status on the surface or
/// context; we turn it into an error naming where the output was going, so a failed batch run
/// says which file is missing and why.
public enum RenderError: Error, CustomStringConvertible, Equatable {
    /// Cairo failed; `status` is cairo's own message (`cairo_status_to_string`).
    case cairo(operation: String, status: String, destination: String)
    /// fontconfig found no font of the requested family (it fell back to `resolved`, or to nothing).
    case fontNotFound(requested: String, resolved: String?)
    /// The file name's extension is not one of png, svg, pdf and no format was given.
    case unknownFormat(path: String)
    /// Nothing to draw, e.g. a chart without records or a panel with an empty image.
    case emptyFigure(String)
    /// libpng could not encode the picture; `reason` is its message.
    case pngEncoding(destination: String, reason: String)

    public var description: String {
        switch self {
        case let .cairo(operation, status, destination):
            return "rendering \(destination): \(operation) failed: \(status)"
        case let .fontNotFound(requested, resolved):
            return "font '\(requested)' is not installed (fontconfig offers \(resolved.map { "'\($0)'" } ?? "nothing")); "
                + "run `make deps` (installs fonts-dejavu-core and fontconfig)"
        case let .unknownFormat(path):
            return "cannot tell the format of '\(path)': use a .png, .svg or .pdf name"
        case let .emptyFigure(what):
            return "nothing to draw: \(what)"
        case let .pngEncoding(destination, reason):
            return "encoding \(destination) as PNG failed: \(reason)"
        }
    }
}
