/// The output formats a figure can be written in: PNG for quick looks and web pages, SVG and
/// PDF for reports, where text and bars should stay sharp at any zoom.
public enum RenderFormat: String, CaseIterable, Sendable {
    case png, svg, pdf

    /// The format a file name asks for, from its extension (case-insensitive).
    public init?(pathExtension: String) {
        self.init(rawValue: pathExtension.lowercased())
    }

    public var fileExtension: String { rawValue }
}
