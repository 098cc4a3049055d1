import Foundation

/// A value built by `Unpickler`. Only what a `torch.save` state dict (and the usual wrapper
/// around one) contains can be represented; nothing in it is executable.
indirect enum PickleValue {
    case none
    case bool(Bool)
    case int(Int)
    /// An integer wider than 64 bits, kept as its little-endian two's-complement bytes.
    case bigInt([UInt8])
    case float(Double)
    case string(String)
    case bytes([UInt8])
    case tuple(PickleList)
    case list(PickleList)
    case dict(PickleDict)
    /// Sets keep their items only so that a wrapper holding one still parses.
    case set(PickleList)
    /// A resolved allow-listed global, usable only as a callable or a type tag.
    case global(PickleGlobal)
    /// A storage named by a persistent id; its bytes live outside the pickle.
    case storage(StorageRef)
    /// A tensor view of a storage, not yet read.
    case tensor(TensorRef)

    /// The items of a tuple, nil for anything else.
    var tupleItems: [PickleValue]? {
        if case let .tuple(t) = self { return t.items }
        return nil
    }

    var typeName: String {
        switch self {
        case .none: return "None"
        case .bool: return "bool"
        case .int, .bigInt: return "int"
        case .float: return "float"
        case .string: return "str"
        case .bytes: return "bytes"
        case .tuple: return "tuple"
        case .list: return "list"
        case .dict: return "dict"
        case .set: return "set"
        case let .global(g): return g.name
        case .storage: return "storage"
        case .tensor: return "tensor"
        }
    }
}

/// A list is a reference so that APPEND after a memo GET changes the memoised object too.
/// Tuples and sets use the same box, so that every container is owned by a `PickleArena`.
final class PickleList {
    var items: [PickleValue]
    init(_ items: [PickleValue] = []) { self.items = items }
}

/// Owns every container an unpickling creates, and empties them all before they are freed.
///
/// Swift frees nested values recursively, so a two-megabyte pickle of a million nested
/// tuples would overflow the stack when dropped. Emptying each container first, in a flat
/// loop, leaves nothing nested to free. Whoever reads the values keeps the arena alive.
final class PickleArena {
    fileprivate var lists: [PickleList] = []
    fileprivate var dicts: [PickleDict] = []

    deinit {
        for list in lists { list.items.removeAll() }
        for dict in dicts { dict.removeAll() }
    }
}

/// An unpickled object with the arena that owns its containers.
struct Unpickled {
    let root: PickleValue
    let arena: PickleArena
}

/// An insertion-ordered dict, a reference for the same reason as `PickleList`. Only string and
/// int keys are compared; others are kept in order without de-duplication.
final class PickleDict {
    private(set) var entries: [(key: PickleValue, value: PickleValue)] = []
    private var stringIndex: [String: Int] = [:]
    private var intIndex: [Int: Int] = [:]

    func set(_ key: PickleValue, _ value: PickleValue) {
        switch key {
        case let .string(s):
            if let i = stringIndex[s] { entries[i].value = value; return }
            stringIndex[s] = entries.count
        case let .int(n):
            if let i = intIndex[n] { entries[i].value = value; return }
            intIndex[n] = entries.count
        default:
            break
        }
        entries.append((key, value))
    }

    subscript(key: String) -> PickleValue? {
        stringIndex[key].map { entries[$0].value }
    }

    fileprivate func removeAll() {
        entries.removeAll()
        stringIndex.removeAll()
        intIndex.removeAll()
    }
}

/// The element type of a torch storage, named by its legacy class (`torch.FloatStorage`).
struct TorchDType: Equatable {
    let storageName: String
    /// How to convert elements to float32; nil for integer and bool storages.
    let format: ElementFormat?
    let itemSize: Int

    static let byStorageName: [String: TorchDType] = {
        let table: [(String, ElementFormat?, Int)] = [
            ("FloatStorage", .float32, 4), ("HalfStorage", .float16, 2), ("BFloat16Storage", .bfloat16, 2),
            ("DoubleStorage", .float64, 8), ("LongStorage", nil, 8), ("IntStorage", nil, 4),
            ("ShortStorage", nil, 2), ("CharStorage", nil, 1), ("ByteStorage", nil, 1), ("BoolStorage", nil, 1),
        ]
        return Dictionary(uniqueKeysWithValues: table.map { ($0.0, TorchDType(storageName: $0.0, format: $0.1, itemSize: $0.2)) })
    }()
}

/// A storage record from a persistent id `('storage', torch.XStorage, key, location, numel)`.
struct StorageRef {
    let dtype: TorchDType
    let key: String
    let numel: Int
}

/// `_rebuild_tensor_v2(storage, offset, size, stride, …)`: a strided view of a storage.
struct TensorRef {
    let storage: StorageRef
    let offset: Int
    let size: [Int]
    let stride: [Int]
}

/// A restricted unpickler for the pickle protocols 2–5 that `torch.save` emits.
///
/// It builds plain values and never calls anything: REDUCE on an allow-listed global is
/// interpreted here (an OrderedDict becomes a dict, a tensor-rebuild call becomes a
/// `TensorRef`), and GLOBAL or STACK_GLOBAL naming anything else throws at once.
struct Unpickler {
    private let bytes: [UInt8]
    private let file: URL?
    private var position = 0
    private var stack: [PickleValue] = []
    private var marks: [Int] = []
    private var memo: [Int: PickleValue] = [:]
    private let arena = PickleArena()
    /// Where the opcode being run starts, for error messages.
    private var opcodeOffset = 0

    init(_ bytes: [UInt8], file: URL? = nil) {
        self.bytes = bytes
        self.file = file
    }

    /// Unpickles the stream and returns the object at STOP.
    static func load(_ bytes: [UInt8], file: URL? = nil) throws -> Unpickled {
        try load(bytes, from: 0, file: file).value
    }

    /// Unpickles the stream starting at byte `start`, for files that hold several pickles
    /// one after another (the legacy `torch.save` format). Returns the offset after STOP.
    static func load(_ bytes: [UInt8], from start: Int, file: URL? = nil) throws -> (value: Unpickled, end: Int) {
        var unpickler = Unpickler(bytes, file: file)
        unpickler.position = start
        let root = try unpickler.run()
        return (Unpickled(root: root, arena: unpickler.arena), unpickler.position)
    }

    private func list(_ items: [PickleValue] = []) -> PickleList {
        let list = PickleList(items)
        arena.lists.append(list)
        return list
    }

    private func tuple(_ items: [PickleValue]) -> PickleValue { .tuple(list(items)) }

    private func dict() -> PickleDict {
        let dict = PickleDict()
        arena.dicts.append(dict)
        return dict
    }

    private func fail(_ detail: String) -> WeightsError {
        .badPickle(file: file, detail: detail)
    }

    /// A mutating call (readByte, pop, popMark) never sits inside the arguments of a method of
    /// self such as `tuple(_:)`: Swift copies self before evaluating those arguments, so the
    /// stack would be shared and copied whole on the next push, quadratic time for deep pickles.
    private mutating func run() throws -> PickleValue {
        while true {
            opcodeOffset = position
            let op = try readByte()
            switch op {
            case 0x80: // PROTO
                let version = try readByte()
                guard version <= 5 else { throw fail("pickle protocol \(version) is newer than 5") }
            case 0x95: // FRAME: a length hint only; the frame's opcodes follow inline.
                _ = try read(8)
            case 0x2E: // STOP
                guard marks.isEmpty else { throw fail("STOP at byte \(opcodeOffset) with a MARK still open") }
                return try pop()
            case 0x28: // MARK
                marks.append(stack.count)
            case 0x7D: stack.append(.dict(dict()))             // EMPTY_DICT
            case 0x5D: stack.append(.list(list()))             // EMPTY_LIST
            case 0x29: stack.append(tuple([]))                 // EMPTY_TUPLE
            case 0x8F: stack.append(.set(list()))              // EMPTY_SET
            case 0x4E: stack.append(.none)                     // NONE
            case 0x88: stack.append(.bool(true))               // NEWTRUE
            case 0x89: stack.append(.bool(false))              // NEWFALSE
            case 0x4A: // BININT
                stack.append(.int(Int(Int32(bitPattern: UInt32(littleEndianBytes: try read(4))))))
            case 0x4B: // BININT1
                stack.append(.int(Int(try readByte())))
            case 0x4D: // BININT2
                stack.append(.int(Int(UInt16(truncatingIfNeeded: UInt32(littleEndianBytes: try read(2))))))
            case 0x8A: // LONG1
                let n = Int(try readByte())
                stack.append(Self.long(try read(n)))
            case 0x8B: // LONG4: its length is signed.
                let n = Int32(bitPattern: UInt32(littleEndianBytes: try read(4)))
                guard n >= 0 else { throw fail("LONG4 at byte \(opcodeOffset) has a negative length \(n)") }
                stack.append(Self.long(try read(Int(n))))
            case 0x47: // BINFLOAT (big-endian)
                let b = try read(8)
                stack.append(.float(Double(bitPattern: b.reduce(UInt64(0)) { $0 << 8 | UInt64($1) })))
            case 0x58: stack.append(.string(try readString(lengthBytes: 4)))   // BINUNICODE
            case 0x8C: stack.append(.string(try readString(lengthBytes: 1)))   // SHORT_BINUNICODE
            case 0x8D: stack.append(.string(try readString(lengthBytes: 8)))   // BINUNICODE8
            case 0x42: stack.append(.bytes(try read(try readLength(4))))       // BINBYTES
            case 0x43: stack.append(.bytes(try read(Int(try readByte()))))    // SHORT_BINBYTES
            case 0x8E: stack.append(.bytes(try read(try readLength(8))))       // BINBYTES8
            case 0x71: memo[Int(try readByte())] = try top()                   // BINPUT
            case 0x72: memo[try readIndex()] = try top()                       // LONG_BINPUT
            case 0x94: memo[memo.count] = try top()                            // MEMOIZE
            case 0x68: let index = Int(try readByte()); stack.append(try memoValue(index))  // BINGET
            case 0x6A: let index = try readIndex(); stack.append(try memoValue(index))      // LONG_BINGET
            case 0x30: _ = try pop()                                           // POP
            case 0x31: _ = try popMark()                                       // POP_MARK
            case 0x32: stack.append(try top())                                 // DUP
            case 0x74: let items = try popMark(); stack.append(tuple(items))   // TUPLE
            case 0x85: // TUPLE1
                let a = try pop(); stack.append(tuple([a]))
            case 0x86: // TUPLE2
                let b = try pop(), a = try pop(); stack.append(tuple([a, b]))
            case 0x87: // TUPLE3
                let c = try pop(), b = try pop(), a = try pop(); stack.append(tuple([a, b, c]))
            case 0x6C: // LIST
                let items = try popMark(); stack.append(.list(list(items)))
            case 0x64: // DICT
                let d = dict()
                try Self.pairs(try popMark(), fail: fail).forEach { d.set($0.0, $0.1) }
                stack.append(.dict(d))
            case 0x91: let items = try popMark(); stack.append(.set(list(items)))  // FROZENSET
            case 0x73: // SETITEM
                let value = try pop(), key = try pop()
                guard case let .dict(d) = try top() else { throw fail("SETITEM on a \(try top().typeName)") }
                d.set(key, value)
            case 0x75: // SETITEMS
                let items = try popMark()
                guard case let .dict(d) = try top() else { throw fail("SETITEMS on a \(try top().typeName)") }
                try Self.pairs(items, fail: fail).forEach { d.set($0.0, $0.1) }
            case 0x61: // APPEND
                let value = try pop()
                guard case let .list(l) = try top() else { throw fail("APPEND on a \(try top().typeName)") }
                l.items.append(value)
            case 0x65: // APPENDS
                let items = try popMark()
                guard case let .list(l) = try top() else { throw fail("APPENDS on a \(try top().typeName)") }
                l.items += items
            case 0x90: // ADDITEMS
                let items = try popMark()
                guard case let .set(existing) = try top() else { throw fail("ADDITEMS on a non-set") }
                existing.items += items
            case 0x63: // GLOBAL "module\nname\n"
                let module = try readLine(), name = try readLine()
                stack.append(.global(try resolve(module: module, name: name)))
            case 0x93: // STACK_GLOBAL
                let nameValue = try pop(), moduleValue = try pop()
                guard case let .string(module) = moduleValue, case let .string(name) = nameValue else {
                    throw fail("STACK_GLOBAL needs two strings")
                }
                stack.append(.global(try resolve(module: module, name: name)))
            case 0x52: // REDUCE
                let args = try pop(), callable = try pop()
                guard case let .global(global) = callable else { throw fail("REDUCE on a \(callable.typeName), not an allowed global") }
                guard let arguments = args.tupleItems else { throw fail("REDUCE arguments are a \(args.typeName), not a tuple") }
                stack.append(try apply(global, arguments))
            case 0x81: // NEWOBJ: cls.__new__(cls, *args); only OrderedDict is constructible.
                let args = try pop(), cls = try pop()
                guard case .global(.orderedDict) = cls, let arguments = args.tupleItems else {
                    throw fail("NEWOBJ of \(cls.typeName) is not accepted")
                }
                stack.append(try apply(.orderedDict, arguments))
            case 0x62: // BUILD: state for an object. Dicts (OrderedDict's `_metadata`) and tensors ignore it.
                let state = try pop()
                switch try top() {
                case .dict, .tensor: break
                default: throw fail("BUILD with \(state.typeName) state on a \(try top().typeName)")
                }
            case 0x51: // BINPERSID
                let pid = try pop(); stack.append(try persistentLoad(pid))
            case 0x69: // INST "module\nname\n": instantiates a class; refused like GLOBAL.
                let module = try readLine(), name = try readLine()
                throw WeightsError.refusedGlobal(file: file, name: "\(module).\(name)")
            default:
                throw fail(String(format: "opcode 0x%02x at byte %d is not accepted in a state dict pickle", op, opcodeOffset))
            }
        }
    }

    // MARK: Globals and calls

    private func resolve(module: String, name: String) throws -> PickleGlobal {
        if let global = PickleGlobal(module: module, name: name) { return global }
        // A storage type this reader lacks (complex, quantized, float8) is refused too, but
        // it is data, not code, and the message should say what would be needed instead.
        if module == "torch", name.hasSuffix("Storage"), name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_") }) {
            let known = TorchDType.byStorageName.keys.sorted().map { "torch.\($0)" }.joined(separator: ", ")
            throw WeightsError.unsupported(file: file, detail: "storage type torch.\(name); the storage types read are \(known)")
        }
        throw WeightsError.refusedGlobal(file: file, name: "\(module).\(name)")
    }

    /// Interprets a call of an allow-listed global; none of them runs code from the file.
    private func apply(_ global: PickleGlobal, _ args: [PickleValue]) throws -> PickleValue {
        switch global {
        case .orderedDict:
            let d = dict()
            if let first = args.first {
                let items: [PickleValue]
                switch first {
                case let .list(l), let .tuple(l): items = l.items
                default: throw fail("OrderedDict of a \(first.typeName)")
                }
                for item in items {
                    guard let pair = item.tupleItems, pair.count == 2 else { throw fail("OrderedDict item is not a pair") }
                    d.set(pair[0], pair[1])
                }
            }
            return .dict(d)
        case .rebuildTensorV2:
            guard args.count >= 4, case let .storage(storage) = args[0], case let .int(offset) = args[1],
                  let size = Self.ints(args[2]), let stride = Self.ints(args[3]) else {
                throw fail("_rebuild_tensor_v2 needs (storage, offset, size, stride, …)")
            }
            return .tensor(TensorRef(storage: storage, offset: offset, size: size, stride: stride))
        case .rebuildParameter, .rebuildParameterWithState:
            guard let data = args.first, case .tensor = data else { throw fail("\(global.name) of a non-tensor") }
            return data
        case .rebuildFromTypeV2:
            // (func, new_type, args, state): a tensor subclass or a tensor with attributes. Calls
            // nested in `func` are unwrapped in a loop, not by recursion: a small pickle can nest
            // thousands and would overflow the stack.
            var args = args
            while true {
                guard args.count == 4, case let .global(function) = args[0], case let .global(type) = args[1],
                      let inner = args[2].tupleItems else {
                    throw fail("_rebuild_from_type_v2 needs (func, type, args, state)")
                }
                switch type {
                case .tensorType, .parameterType: break
                default: throw fail("_rebuild_from_type_v2 to \(type.name) is not a plain tensor")
                }
                guard case .rebuildFromTypeV2 = function else { return try apply(function, inner) }
                args = inner
            }
        case .size:
            guard args.count == 1, case .tuple = args[0] else { throw fail("torch.Size of a non-tuple") }
            return args[0]
        case .tensorType, .parameterType, .storageType:
            throw fail("\(global.name) is a type tag and cannot be called")
        }
    }

    /// torch.save's persistent id for a storage: `('storage', torch.XStorage, key, location, numel)`,
    /// or in the legacy format the same with a sixth field, the view metadata, which must be None.
    private func persistentLoad(_ pid: PickleValue) throws -> PickleValue {
        if let fields = pid.tupleItems, fields.count == 6, case .string("storage") = fields[0] {
            guard case .none = fields[5] else { throw fail("legacy persistent id with a storage view is not supported") }
            return try persistentLoad(tuple(Array(fields.prefix(5))))
        }
        guard let fields = pid.tupleItems, fields.count == 5, case .string("storage") = fields[0] else {
            throw fail("persistent id \(pid.typeName) is not a ('storage', type, key, location, numel) tuple")
        }
        guard case let .global(.storageType(dtype)) = fields[1] else {
            throw fail("persistent id names \(fields[1].typeName), not a storage type")
        }
        guard case let .string(key) = fields[2], case let .int(numel) = fields[4], numel >= 0 else {
            throw fail("persistent id has no string key or no element count")
        }
        return .storage(StorageRef(dtype: dtype, key: key, numel: numel))
    }

    // MARK: Reading

    private mutating func readByte() throws -> UInt8 {
        guard position < bytes.count else { throw fail("stream ends at byte \(position) before STOP") }
        defer { position += 1 }
        return bytes[position]
    }

    /// Reads `count` bytes after checking they exist, so a declared length cannot overrun.
    private mutating func read(_ count: Int) throws -> [UInt8] {
        guard count >= 0, count <= bytes.count - position else {
            throw fail("a length of \(count) at byte \(position) runs past the end of the \(bytes.count)-byte stream")
        }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// An unsigned little-endian length or index. One that cannot be a byte count of this
    /// stream is an error naming it, so a BINBYTES8 of 2^64 - 16 is reported, not wrapped.
    private mutating func readLength(_ width: Int) throws -> Int {
        let raw = try read(width)
        let value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard value <= UInt64(bytes.count) else {
            throw fail("a length of \(value) at byte \(position) runs past the end of the \(bytes.count)-byte stream")
        }
        return Int(value)
    }

    /// A memo index, which unlike a length is not bounded by the stream's size.
    private mutating func readIndex() throws -> Int {
        Int(UInt32(littleEndianBytes: try read(4)))
    }

    private mutating func readString(lengthBytes: Int) throws -> String {
        let length = lengthBytes == 1 ? Int(try readByte()) : try readLength(lengthBytes)
        let raw = try read(length)
        guard let s = String(validating: raw, as: UTF8.self) else { throw fail("string at byte \(position - length) is not UTF-8") }
        return s
    }

    private mutating func readLine() throws -> String {
        guard let end = bytes[position...].firstIndex(of: 0x0A) else { throw fail("unterminated GLOBAL name") }
        let raw = Array(bytes[position..<end])
        position = end + 1
        guard let s = String(validating: raw, as: UTF8.self) else { throw fail("GLOBAL name is not UTF-8") }
        return s
    }

    // MARK: Stack

    private mutating func pop() throws -> PickleValue {
        guard let value = stack.popLast() else { throw fail("\(opcodeDescription) finds the stack empty (stack underflow)") }
        if let mark = marks.last, stack.count < mark { throw fail("\(opcodeDescription) pops past a MARK") }
        return value
    }

    private func top() throws -> PickleValue {
        guard let value = stack.last else { throw fail("\(opcodeDescription) finds the stack empty (stack underflow)") }
        return value
    }

    private mutating func popMark() throws -> [PickleValue] {
        guard let mark = marks.popLast() else { throw fail("\(opcodeDescription) needs a MARK, but none is open") }
        let items = Array(stack[mark...])
        // Not removeSubrange(mark...): it copied the whole stack each time, so nested
        // containers under thousands of open MARKs took quadratic time.
        stack.removeLast(stack.count - mark)
        return items
    }

    private func memoValue(_ index: Int) throws -> PickleValue {
        guard let value = memo[index] else { throw fail("memo entry \(index) is read before it is written") }
        return value
    }

    // MARK: Helpers

    /// "SETITEMS (0x75) at byte 12": the opcode being run, as pickletools names it.
    private var opcodeDescription: String {
        let op = bytes[opcodeOffset]
        return "\(Self.opcodeNames[op] ?? "opcode") (\(String(format: "0x%02x", op))) at byte \(opcodeOffset)"
    }

    private static let opcodeNames: [UInt8: String] = [
        0x2E: "STOP", 0x30: "POP", 0x31: "POP_MARK", 0x32: "DUP", 0x51: "BINPERSID", 0x52: "REDUCE",
        0x61: "APPEND", 0x62: "BUILD", 0x64: "DICT", 0x65: "APPENDS", 0x6C: "LIST", 0x71: "BINPUT",
        0x72: "LONG_BINPUT", 0x73: "SETITEM", 0x74: "TUPLE", 0x75: "SETITEMS", 0x81: "NEWOBJ",
        0x85: "TUPLE1", 0x86: "TUPLE2", 0x87: "TUPLE3", 0x90: "ADDITEMS", 0x91: "FROZENSET",
        0x93: "STACK_GLOBAL", 0x94: "MEMOIZE",
    ]

    private static func long(_ raw: [UInt8]) -> PickleValue {
        if raw.isEmpty { return .int(0) }
        if raw.count > 8 { return .bigInt(raw) }
        var value = raw.reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        if raw.last! & 0x80 != 0, raw.count < 8 { value |= ~UInt64(0) << (8 * raw.count) }  // sign-extend
        return .int(Int(Int64(bitPattern: value)))
    }

    private static func ints(_ value: PickleValue) -> [Int]? {
        guard let items = value.tupleItems else { return nil }
        var result: [Int] = []
        for item in items {
            guard case let .int(n) = item else { return nil }
            result.append(n)
        }
        return result
    }

    private static func pairs(_ items: [PickleValue], fail: (String) -> WeightsError) throws -> [(PickleValue, PickleValue)] {
        guard items.count % 2 == 0 else { throw fail("odd number of items for a dict") }
        return stride(from: 0, to: items.count, by: 2).map { (items[$0], items[$0 + 1]) }
    }
}

private extension UInt32 {
    init(littleEndianBytes raw: [UInt8]) {
        self = raw.reversed().reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }
}
