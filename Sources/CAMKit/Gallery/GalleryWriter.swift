import Foundation

/// Writes a gallery folder while a run goes, so that a kill at any moment loses at most the
/// photos in flight and leaves no file half-written, at a cost per photo that does not grow
/// with the run:
/// - `progress.jsonl` (`GalleryJournal`) and `results.csv` grow by each photo as it finishes;
///   the journal is what `--resume` reads after a kill.
/// - `results.json`, `index.html` and the charts (`GalleryCharts`) are snapshots, replaced
///   atomically by `refresh`, which a run calls now and then (each costs time in proportion
///   to the photos so far) and at the end.
/// - `finish` writes `results.csv` again in photo order, the last snapshot, and removes the
///   journal: `results.json` then holds the whole gallery.
public final class GalleryWriter {
    public static let resultsJSON = "results.json"
    public static let resultsCSV = "results.csv"
    public static let index = "index.html"
    public static let journal = GalleryJournal.fileName

    public let folder: URL
    private let journal: AppendOnlyFile
    private let table: AppendOnlyFile
    private let charts: GalleryCharts

    /// Starts the gallery with `results`, the photos it already holds (those an earlier run
    /// finished, for `--resume`); `pending` photos are to come. Files of an earlier gallery in
    /// `folder` are replaced.
    public init(folder: URL, starting results: GalleryResults, pending: Int) throws {
        self.folder = folder
        do { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) } catch {
            throw GalleryError.unwritable("\(folder.path): \(error.localizedDescription)")
        }
        AtomicFile.removeLeftovers(in: folder)
        journal = try AppendOnlyFile(creating: folder.appendingPathComponent(Self.journal), with: GalleryJournal.lines(results))
        table = try AppendOnlyFile(creating: folder.appendingPathComponent(Self.resultsCSV), with: Data(GalleryCSV.text(results).utf8))
        charts = GalleryCharts(folder: folder)
        try refresh(results, pending: pending)
    }

    /// The results of an earlier run in `folder`: the journal of one that was stopped, else
    /// `results.json`; nil when there are none.
    public static func load(from folder: URL) throws -> GalleryResults? {
        let journal = folder.appendingPathComponent(Self.journal)
        if let data = FileManager.default.contents(atPath: journal.path) {
            return try GalleryJournal.read(data, name: journal.path)
        }
        let url = folder.appendingPathComponent(Self.resultsJSON)
        guard let data = FileManager.default.contents(atPath: url.path) else { return nil }
        do {
            return try JSONDecoder().decode(GalleryResults.self, from: data)
        } catch {
            throw GalleryError.unreadableResults("\(url.path) is not a gallery's results (\(error))")
        }
    }

    /// Records a finished photo: from here on a kill does not lose it. The CSV follows the
    /// journal, so it never lists a photo that `--resume` would explain again.
    public func add(_ image: GalleryImageResult) throws {
        try journal.append(GalleryJournal.line(image))
        try table.append(Data(GalleryCSV.rows(image).utf8))
    }

    /// Replaces `results.json`, the charts that changed and `index.html` with `results`;
    /// `pending` photos are still to come.
    public func refresh(_ results: GalleryResults, pending: Int) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try AtomicFile.write(encoder.encode(results), to: folder.appendingPathComponent(Self.resultsJSON))
        let drawn = try charts.refresh(results.confidenceRecords)
        try AtomicFile.write(Data(GalleryPage.html(results, charts: drawn, pending: pending).utf8), to: folder.appendingPathComponent(Self.index))
    }

    /// Writes the finished gallery, `results` in photo order, and removes the journal.
    public func finish(_ results: GalleryResults) throws {
        try AtomicFile.write(Data(GalleryCSV.text(results).utf8), to: folder.appendingPathComponent(Self.resultsCSV))
        try refresh(results, pending: 0)
        do { try FileManager.default.removeItem(at: folder.appendingPathComponent(Self.journal)) } catch {
            throw GalleryError.unwritable("\(folder.appendingPathComponent(Self.journal).path): \(error.localizedDescription)")
        }
    }
}
