import Foundation

/// Turns the command's `DIR|FILES...` into the photos to explain.
public enum GalleryInputs {
    /// Extensions of picture files: a file with one of these that is not a decodable JPEG or
    /// PNG is kept (and reported as bad) rather than skipped.
    public static let pictureExtensions: Set<String> = ["jpg", "jpeg", "jpe", "jfif", "png", "gif", "webp", "bmp", "tif", "tiff", "heic", "heif", "avif"]

    /// Folders are expanded to their files (not recursively, hidden files aside) whose content
    /// is a JPEG or PNG (`ImageDecoder.sniff`) or whose extension names a picture format, sorted
    /// by name; other files in folders are skipped. Files named directly are always kept.
    public static func expand(_ paths: [String]) throws -> [URL] {
        var urls: [URL] = []
        let manager = FileManager.default
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                throw GalleryError.noSuchInput(path)
            }
            let url = URL(fileURLWithPath: path, isDirectory: isDirectory.boolValue)
            guard isDirectory.boolValue else { urls.append(url); continue }
            let names = try manager.contentsOfDirectory(atPath: path).filter { !$0.hasPrefix(".") }.sorted()
            for name in names {
                let file = url.appendingPathComponent(name)
                var childIsDirectory: ObjCBool = false
                guard manager.fileExists(atPath: file.path, isDirectory: &childIsDirectory), !childIsDirectory.boolValue else { continue }
                if isPicture(file) { urls.append(file) }
            }
        }
        return urls
    }

    /// Whether a file looks like a picture: by its first bytes, else by its extension.
    public static func isPicture(_ url: URL) -> Bool {
        if let handle = try? FileHandle(forReadingFrom: url) {
            defer { try? handle.close() }
            if let head = try? handle.read(upToCount: 8), ImageDecoder.sniff(head) != nil { return true }
        }
        return pictureExtensions.contains(url.pathExtension.lowercased())
    }
}

public enum GalleryError: Error, CustomStringConvertible, Equatable {
    case noSuchInput(String)
    case noPictures([String])
    case resumeMismatch(String)
    case unreadableResults(String)
    case unwritable(String)
    case invalidSetting(String)

    public var description: String {
        switch self {
        case .noSuchInput(let path): "no such file or folder: \(path)"
        case .noPictures(let paths): "no pictures in \(paths.joined(separator: ", "))"
        case .resumeMismatch(let why): "cannot resume: \(why); run without --resume to start over, or use another --out"
        case .unreadableResults(let why): "cannot resume: \(why)"
        case .unwritable(let why): "cannot write \(why)"
        case .invalidSetting(let why): "invalid gallery setting: \(why)"
        }
    }
}
