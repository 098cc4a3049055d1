import CLibCrypto
import Foundation

/// SHA-256 of a file (OpenSSL's libcrypto), read a megabyte at a time: what tells two copies of
/// a model's weights apart when galleries made on different machines are merged.
public enum FileDigest {
    /// Lowercase hex, as `sha256sum` prints it.
    public static func sha256(of url: URL) throws -> String {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw GalleryError.unreadableResults("cannot read \(url.path) to hash it: \(error.localizedDescription)")
        }
        defer { try? handle.close() }
        guard let context = EVP_MD_CTX_new() else { throw GalleryError.invalidSetting("OpenSSL could not allocate a digest") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestInit_ex(context, EVP_sha256(), nil) == 1 else { throw GalleryError.invalidSetting("OpenSSL has no SHA-256") }
        while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
            _ = chunk.withUnsafeBytes { EVP_DigestUpdate(context, $0.baseAddress, $0.count) }
        }
        var digest = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &digest, &length)
        return digest.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }
}
