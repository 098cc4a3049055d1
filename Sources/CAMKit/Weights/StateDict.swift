import Foundation

/// Named tensors in the order a checkpoint stores them, as PyTorch's `state_dict()` does.
///
/// Kept ordered (not a plain dictionary) so that error messages and tools list keys in
/// file order, and so that writing a dict back out is deterministic.
public struct StateDict {
    public private(set) var pairs: [(key: String, tensor: Tensor)]
    private var index: [String: Int]
    /// The file the tensors were read from, so that load errors can name it.
    public var source: URL?

    /// Keys must be unique: a state dict maps each key to one tensor.
    public init(_ pairs: [(String, Tensor)], source: URL? = nil) {
        self.pairs = pairs.map { (key: $0.0, tensor: $0.1) }
        var index: [String: Int] = [:]
        for (i, pair) in pairs.enumerated() {
            precondition(index.updateValue(i, forKey: pair.0) == nil, "duplicate state dict key \(pair.0)")
        }
        self.index = index
        self.source = source
    }

    public var keys: [String] { pairs.map(\.key) }
    public var count: Int { pairs.count }

    public subscript(key: String) -> Tensor? {
        index[key].map { pairs[$0].tensor }
    }

    /// Reads a PyTorch checkpoint (a zip archive written by `torch.save`) or a safetensors
    /// file, chosen by the file's first bytes rather than its extension, which users rename.
    public init(contentsOf url: URL) throws {
        let handle: FileHandle
        do { handle = try FileHandle(forReadingFrom: url) } catch {
            throw WeightsError.unreadable(file: url, reason: error.localizedDescription)
        }
        let magic = (try? handle.read(upToCount: 4)) ?? nil
        try? handle.close()
        if let magic, magic.count == 4, Array(magic) == [0x50, 0x4B, 0x03, 0x04] || TorchCheckpoint.isLegacy(url) {
            self = try TorchCheckpoint.read(contentsOf: url)
        } else {
            self = try Safetensors.read(contentsOf: url)
        }
    }
}

extension StateDict: Sequence {
    public func makeIterator() -> IndexingIterator<[(key: String, tensor: Tensor)]> {
        pairs.makeIterator()
    }
}

extension StateDict {
    /// Entries that carry no weights: BatchNorm's step counter is an int64 that inference
    /// never reads, so readers and `Module.load` skip it instead of rejecting its dtype.
    static func isIgnorable(_ key: String) -> Bool {
        key == "num_batches_tracked" || key.hasSuffix(".num_batches_tracked")
    }
}
