import Foundation

/// A CSV of ground-truth labels: a header with `file` and `breed` columns, optionally
/// `imagenet_synset` (WordNet ids) and `bbox` (the object's box), other columns ignored — the
/// format of the shared photos' `manifest.csv`. `breed` may list alternatives (`a|b`),
/// `imagenet_synset` their ids by position; `bbox` is `x0 y0 x1 y1`, integers in the photo's
/// pixels with both corners inside the box, or empty for none.
public struct LabelsFile: Sendable {
    public let url: URL?
    /// Ground truth by file name, as written in the `file` column.
    public let labels: [String: GroundTruth]

    public init(contentsOf url: URL) throws {
        let text: String
        do { text = try BoundedRead.text(url, limit: 256 << 20) } catch {
            throw LabelsFileError(file: url.path, line: nil, reason: "cannot read it as UTF-8 text (\(error))")
        }
        try self.init(text: text, name: url.path, url: url)
    }

    public init(text: String, name: String = "labels", url: URL? = nil) throws {
        self.url = url
        let rows: [CSV.Row]
        do { rows = try CSV.parse(text) } catch let error as CSV.ParseError {
            throw LabelsFileError(file: name, line: error.line, reason: error.reason)
        }
        guard let header = rows.first else { throw LabelsFileError(file: name, line: nil, reason: "it is empty; expected a header with file,breed") }
        let columns = header.fields.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }
        guard let fileColumn = columns.firstIndex(of: "file"), let breedColumn = columns.firstIndex(of: "breed") else {
            throw LabelsFileError(file: name, line: header.line, reason: "the header needs columns 'file' and 'breed' (found: \(header.fields.joined(separator: ",")))")
        }
        let synsetColumn = columns.firstIndex(of: "imagenet_synset")
        let boxColumn = columns.firstIndex(of: "bbox")
        var labels: [String: GroundTruth] = [:]
        for row in rows.dropFirst() {
            guard row.fields.count == header.fields.count else {
                throw LabelsFileError(file: name, line: row.line, reason: "\(row.fields.count) fields where the header has \(header.fields.count)")
            }
            let file = row.fields[fileColumn].trimmingCharacters(in: .whitespaces)
            guard !file.isEmpty else { throw LabelsFileError(file: name, line: row.line, reason: "the file column is empty") }
            guard labels[file] == nil else { throw LabelsFileError(file: name, line: row.line, reason: "'\(file)' is listed twice") }
            var box: CAMMetrics.Box?
            if let boxColumn {
                do { box = try Self.box(parsing: row.fields[boxColumn]) } catch {
                    throw LabelsFileError(file: name, line: row.line, reason: "'\(file)': bbox '\(row.fields[boxColumn])' \(error.why)")
                }
            }
            let truth = GroundTruth(breed: row.fields[breedColumn], wordNetIDs: synsetColumn.map { row.fields[$0] }, box: box)
            guard !truth.alternatives.isEmpty else { throw LabelsFileError(file: name, line: row.line, reason: "'\(file)' has an empty breed") }
            labels[file] = truth
        }
        self.labels = labels
    }

    private struct BoxError: Error { let why: String }

    /// `x0 y0 x1 y1` (blanks between), or nil for an empty cell.
    private static func box(parsing text: String) throws(BoxError) -> CAMMetrics.Box? {
        let parts = text.split(whereSeparator: \.isWhitespace)
        guard !parts.isEmpty else { return nil }
        let values = parts.compactMap { Int($0) }
        guard parts.count == 4, values.count == 4 else {
            throw BoxError(why: "is not four integers x0 y0 x1 y1 (photo pixels, corners included)")
        }
        guard values.allSatisfy({ $0 >= 0 }) else { throw BoxError(why: "has a negative coordinate") }
        let box = CAMMetrics.Box(x0: values[0], y0: values[1], x1: values[2], y1: values[3])
        guard box.x0 <= box.x1 else { throw BoxError(why: "has x1 \(box.x1) left of x0 \(box.x0)") }
        guard box.y0 <= box.y1 else { throw BoxError(why: "has y1 \(box.y1) above y0 \(box.y0)") }
        return box
    }

    /// The label of a photo, by its file name (exactly, else ignoring case).
    public func truth(forFile fileName: String) -> GroundTruth? {
        if let exact = labels[fileName] { return exact }
        let lower = fileName.lowercased()
        return labels.first { $0.key.lowercased() == lower }?.value
    }
}

public struct LabelsFileError: Error, CustomStringConvertible, Equatable, Sendable {
    public let file: String
    public let line: Int?
    public let reason: String

    public var description: String {
        "\(file)\(line.map { ":\($0)" } ?? ""): \(reason)"
    }
}
