import Foundation

/// Why an HDF5 file could not be read: damaged (a structure that contradicts itself or the
/// file) or outside the subset this reader implements. The message names the file.
public struct HDF5Error: Error, CustomStringConvertible {
    public let file: URL
    public let detail: String

    public var description: String { "\(file.path): \(detail)" }

    static func damaged(_ file: URL, _ detail: String) -> HDF5Error {
        HDF5Error(file: file, detail: "damaged HDF5 file: \(detail)")
    }

    static func unsupported(_ file: URL, _ feature: String) -> HDF5Error {
        HDF5Error(file: file, detail: "HDF5 feature not supported by this reader: \(feature)")
    }
}
