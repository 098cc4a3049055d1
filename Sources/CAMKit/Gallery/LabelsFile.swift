import Foundation

/// A CSV of ground-truth labels: a header with `file` and `breed` columns, optionally
/// `imagenet_synset` (WordNet ids), other columns ignored — the format of the shared photos'
/// `manifest.csv`. `breed` may list alternatives (`a|b`), `imagenet_synset` their ids by position.
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
        var labels: [String: GroundTruth] = [:]
        for row in rows.dropFirst() {
            guard row.fields.count == header.fields.count else {
                throw LabelsFileError(file: name, line: row.line, reason: "\(row.fields.count) fields where the header has \(header.fields.count)")
            }
            let file = row.fields[fileColumn].trimmingCharacters(in: .whitespaces)
            guard !file.isEmpty else { throw LabelsFileError(file: name, line: row.line, reason: "the file column is empty") }
            guard labels[file] == nil else { throw LabelsFileError(file: name, line: row.line, reason: "'\(file)' is listed twice") }
            let truth = GroundTruth(breed: row.fields[breedColumn], wordNetIDs: synsetColumn.map { row.fields[$0] })
            guard !truth.alternatives.isEmpty else { throw LabelsFileError(file: name, line: row.line, reason: "'\(file)' has an empty breed") }
            labels[file] = truth
        }
        self.labels = labels
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
