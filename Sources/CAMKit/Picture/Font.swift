import CCairo

/// A font file that fontconfig resolved for a family and weight, loaded once as a Cairo face.
///
/// We ask fontconfig ourselves instead of letting Cairo's toy API guess: fontconfig silently
/// substitutes *some* font when the family is missing, and then labels come out in an
/// unexpected face or as missing-glyph boxes. Here a missing family is an error that says how
/// to install it.
public final class Typeface: @unchecked Sendable {
    /// The family fontconfig actually matched (e.g. "DejaVu Sans").
    public let family: String
    /// The font file, e.g. /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf.
    public let file: String
    /// The matched pattern (owned, never freed: typefaces live for the process).
    private let pattern: OpaquePointer
    let face: OpaquePointer

    /// The family every picture uses; `fonts-dejavu-core` installs it (see the Makefile).
    public static let defaultFamily = "DejaVu Sans"

    private static let regular = Result { try Typeface(family: defaultFamily, bold: false) }
    private static let bold = Result { try Typeface(family: defaultFamily, bold: true) }

    /// DejaVu Sans (Book or Bold), resolved once per process.
    public static func dejaVuSans(bold: Bool = false) throws -> Typeface {
        try (bold ? Typeface.bold : Typeface.regular).get()
    }

    /// Resolves `family` through fontconfig; throws if fontconfig falls back to another family.
    public init(family: String, bold: Bool) throws {
        let query = "\(family):weight=\(bold ? "bold" : "regular")"
        guard let pattern = query.withCString({ name in
            name.withMemoryRebound(to: FcChar8.self, capacity: query.utf8.count + 1) { FcNameParse($0) }
        }) else { throw RenderError.fontNotFound(requested: family, resolved: nil) }
        defer { FcPatternDestroy(pattern) }
        FcConfigSubstitute(nil, pattern, FcMatchPattern)
        FcDefaultSubstitute(pattern)
        var result = FcResultNoMatch
        guard let match = FcFontMatch(nil, pattern, &result), result == FcResultMatch else {
            throw RenderError.fontNotFound(requested: family, resolved: nil)
        }
        let resolved = Typeface.string(match, "family")
        guard resolved == family, let file = Typeface.string(match, "file") else {
            FcPatternDestroy(match)
            throw RenderError.fontNotFound(requested: family, resolved: resolved)
        }
        self.family = family
        self.file = file
        self.pattern = match
        self.face = cairo_ft_font_face_create_for_pattern(match)
        let status = cairo_font_face_status(face)
        guard status == CAIRO_STATUS_SUCCESS else {
            throw RenderError.cairo(operation: "loading \(file)", status: String(cString: cairo_status_to_string(status)),
                                    destination: "font \(family)")
        }
    }

    private static func string(_ pattern: OpaquePointer, _ object: String) -> String? {
        var value: UnsafeMutablePointer<FcChar8>?
        guard FcPatternGetString(pattern, object, 0, &value) == FcResultMatch, let value else { return nil }
        return String(cString: value)
    }

    /// The characters of `text` this font has no glyph for (they would show as boxes).
    public func missingCharacters(in text: String) -> [Unicode.Scalar] {
        var charset: OpaquePointer?
        guard FcPatternGetCharSet(pattern, "charset", 0, &charset) == FcResultMatch, let charset else { return [] }
        return text.unicodeScalars.filter { FcCharSetHasChar(charset, $0.value) == 0 }
    }

    /// `text` with every character the font lacks replaced by "?": a visible stand-in
    /// instead of a missing-glyph box.
    func displayable(_ text: String) -> String {
        let missing = Set(missingCharacters(in: text))
        guard !missing.isEmpty else { return text }
        var scalars = String.UnicodeScalarView()
        for s in text.unicodeScalars { scalars.append(missing.contains(s) ? "?" : s) }
        return String(scalars)
    }
}

/// A typeface at a size (in pixels for PNG, points for SVG and PDF, which we treat alike).
public struct Font: @unchecked Sendable {
    public let typeface: Typeface
    public let size: Double

    public init(_ typeface: Typeface, size: Double) {
        self.typeface = typeface
        self.size = size
    }

    /// DejaVu Sans at `size`.
    public static func dejaVuSans(size: Double, bold: Bool = false) throws -> Font {
        Font(try Typeface.dejaVuSans(bold: bold), size: size)
    }

    /// How far `text` advances the pen: what layout needs to centre and fit labels.
    public func width(of text: String) -> Double {
        var fontMatrix = cairo_matrix_t(), identity = cairo_matrix_t()
        cairo_matrix_init_scale(&fontMatrix, size, size)
        cairo_matrix_init_identity(&identity)
        let options = cairo_font_options_create()
        defer { cairo_font_options_destroy(options) }
        let scaled = cairo_scaled_font_create(typeface.face, &fontMatrix, &identity, options)
        defer { cairo_scaled_font_destroy(scaled) }
        var extents = cairo_text_extents_t()
        cairo_scaled_font_text_extents(scaled, typeface.displayable(text), &extents)
        return extents.x_advance
    }

    /// `text` as it fits in `maxWidth`: unchanged, or cut and ended with "…", so a long breed
    /// name never runs into the next column.
    public func fitting(_ text: String, width maxWidth: Double) -> String {
        guard width(of: text) > maxWidth else { return text }
        var kept = Array(text)
        while !kept.isEmpty {
            kept.removeLast()
            let candidate = String(kept).trimmingTrailingSpaces() + "…"
            if width(of: candidate) <= maxWidth { return candidate }
        }
        return width(of: "…") <= maxWidth ? "…" : ""
    }
}

private extension String {
    func trimmingTrailingSpaces() -> String {
        var s = Substring(self)
        while s.last == " " { s.removeLast() }
        return String(s)
    }
}
