import Foundation

/// Reads a whole file the user named, after refusing what is not a regular file (`/dev/zero`,
/// a FIFO, a folder) or is larger than `limit` bytes: reading those would never end, or would
/// exhaust memory, before any parser had a chance to say the content is wrong.
enum BoundedRead {
    struct Refusal: Error, CustomStringConvertible {
        let description: String
    }

    static func data(_ url: URL, limit: Int) throws -> Data {
        let path = url.resolvingSymlinksInPath().path
        let attributes: [FileAttributeKey: Any]
        do { attributes = try FileManager.default.attributesOfItem(atPath: path) } catch {
            throw Refusal(description: "no such file or not readable")
        }
        guard attributes[.type] as? FileAttributeType == .typeRegular else {
            throw Refusal(description: "not a regular file")
        }
        let size = (attributes[.size] as? NSNumber)?.intValue ?? 0
        guard size <= limit else {
            throw Refusal(description: "\(size) bytes, over the limit of \(limit) bytes")
        }
        do { return try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw Refusal(description: (error as NSError).localizedFailureReason ?? error.localizedDescription)
        }
    }

    /// `data(url, limit:)` as UTF-8 text.
    static func text(_ url: URL, limit: Int) throws -> String {
        guard let text = String(data: try data(url, limit: limit), encoding: .utf8) else {
            throw Refusal(description: "not UTF-8 text")
        }
        return text
    }
}
