import Foundation

/// `progress.jsonl`, the record a run keeps while it goes: the settings on the first line, then
/// one line per finished photo, appended as it finishes (`AppendOnlyFile`). A photo is done
/// once its line is there. `--resume` reads it after a killed run; a run that finishes has
/// everything in `results.json` and removes it.
enum GalleryJournal {
    static let fileName = "progress.jsonl"

    /// The settings line and one line per photo of `results`.
    static func lines(_ results: GalleryResults) throws -> Data {
        var settings = results
        settings.images = []
        var data = try line(settings)
        for image in results.images { data += try line(image) }
        return data
    }

    /// `value` as one line of compact JSON (which escapes every line break inside strings).
    static func line(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        var data = try encoder.encode(value)
        data.append(UInt8(ascii: "\n"))
        return data
    }

    /// The results the journal holds; a last line without its line break (a kill during its
    /// write) is left out, any other line that does not read is an error naming it.
    static func read(_ data: Data, name: String) throws -> GalleryResults {
        let complete = data.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).dropLast()
        guard let first = complete.first else {
            throw GalleryError.unreadableResults("\(name) has no settings line")
        }
        var results = try decode(GalleryResults.self, first, name: name, line: 1)
        for (offset, line) in complete.dropFirst().enumerated() {
            results.images.append(try decode(GalleryImageResult.self, line, name: name, line: offset + 2))
        }
        return results
    }

    private static func decode<T: Decodable>(_ type: T.Type, _ line: Data.SubSequence, name: String, line number: Int) throws -> T {
        do { return try JSONDecoder().decode(type, from: Data(line)) } catch {
            throw GalleryError.unreadableResults("\(name):\(number) is not a gallery record (\(error))")
        }
    }
}
