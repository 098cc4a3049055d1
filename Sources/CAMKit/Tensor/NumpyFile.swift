import Foundation

/// Tensors as NumPy `.npy` files, so that maps, logits and inputs can be opened with
/// `numpy.load` and compared with other implementations.
///
/// Only what CAMKit writes is supported: format version 1.0, little-endian float32 (`'<f4'`),
/// C order. The header is padded with spaces (and ends in a newline) so that the data starts
/// at a multiple of 64 bytes.
///
/// ```swift
/// try NumpyFile.write(explanation.lowResolutionMap, to: URL(fileURLWithPath: "cam.npy"))
/// let back = try NumpyFile.read(contentsOf: URL(fileURLWithPath: "cam.npy"))   // same shape and values
/// ```
public enum NumpyFile {
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    /// The `.npy` bytes of `tensor`.
    public static func data(_ tensor: Tensor) -> Data {
        let shape = tensor.shape.map(String.init).joined(separator: ", ") + (tensor.shape.count == 1 ? "," : "")
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': (\(shape)), }"
        // magic (6) + version (2) + header length (2) + header + "\n", padded to 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data(magic + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        tensor.scalars.withUnsafeBufferPointer { buffer in
            for value in buffer {
                let bits = value.bitPattern.littleEndian
                withUnsafeBytes(of: bits) { data.append(contentsOf: $0) }
            }
        }
        return data
    }

    /// Writes `tensor` to `url` as a `.npy` file (float32, C order).
    public static func write(_ tensor: Tensor, to url: URL) throws {
        try data(tensor).write(to: url)
    }

    /// Reads a `.npy` file written by `write(_:to:)` (version 1.0, `'<f4'`, C order).
    public static func read(contentsOf url: URL) throws -> Tensor {
        try read(data: Data(contentsOf: url), name: url.path)
    }

    /// Parses `.npy` bytes; `name` is used in errors.
    public static func read(data: Data, name: String = "npy data") throws -> Tensor {
        let bytes = [UInt8](data)
        func fail(_ why: String) -> NumpyFileError { NumpyFileError(name: name, reason: why) }
        guard bytes.count >= 10, Array(bytes[0..<6]) == magic else { throw fail("not a .npy file") }
        guard bytes[6] == 1, bytes[7] == 0 else { throw fail("format version \(bytes[6]).\(bytes[7]); only 1.0 is read") }
        let length = Int(bytes[8]) | Int(bytes[9]) << 8
        guard bytes.count >= 10 + length, let header = String(bytes: bytes[10..<(10 + length)], encoding: .ascii) else {
            throw fail("truncated header")
        }
        guard header.contains("'descr': '<f4'") else { throw fail("not little-endian float32 ('<f4')") }
        guard header.contains("'fortran_order': False") else { throw fail("Fortran order is not read") }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw fail("no shape in the header")
        }
        let shape = try header[open.upperBound..<close].split(separator: ",").map { part -> Int in
            guard let n = Int(part.trimmingCharacters(in: .whitespaces)), n >= 0 else { throw fail("bad shape '\(header[open.upperBound..<close])'") }
            return n
        }
        let count = shape.reduce(1, *)
        let start = 10 + length
        guard bytes.count - start == count * 4 else {
            throw fail("\(bytes.count - start) data bytes for shape \(shape) (expected \(count * 4))")
        }
        var scalars = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let o = start + 4 * i
            let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
            scalars[i] = Float(bitPattern: bits)
        }
        return Tensor(shape: shape, scalars: scalars)
    }
}

/// A `.npy` file that `NumpyFile.read` cannot use, naming the file and why.
public struct NumpyFileError: Error, CustomStringConvertible {
    public let name: String
    public let reason: String
    public var description: String { "\(name): \(reason)" }
}
