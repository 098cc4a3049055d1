/// Reads choices out of a fuzzer's input, for fuzzers that build a structured value from it
/// (as libFuzzer's FuzzedDataProvider does in C++). An exhausted input yields zeros, so every
/// input, however short, describes a value.
public struct FuzzedBytes {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isExhausted: Bool { position >= bytes.count }

    public mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    /// A number in `range`, from as many bytes as the range needs.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = UInt64(range.upperBound - range.lowerBound)
        var value: UInt64 = 0
        var covered: UInt64 = 0
        while covered < span {
            value = value << 8 | UInt64(byte())
            covered = covered << 8 | 0xFF
        }
        return range.lowerBound + Int(span == UInt64.max ? value : value % (span + 1))
    }

    public mutating func bool() -> Bool { byte() & 1 == 1 }

    public mutating func pick<T>(_ choices: [T]) -> T { choices[int(in: 0...(choices.count - 1))] }

    /// Up to `maxLength` raw bytes as a string; invalid UTF-8 is replaced, as a file's would be.
    public mutating func string(maxLength: Int) -> String {
        let length = int(in: 0...maxLength)
        return String(decoding: (0..<length).map { _ in byte() }, as: UTF8.self)
    }
}
