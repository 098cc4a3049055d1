import Foundation
import XCTest
@testable import CAMKit

/// Hand-assembled pickle streams, so each opcode and each refusal is exercised on its own.
final class UnpicklerTests: XCTestCase {
    /// BINUNICODE / SHORT_BINUNICODE of `s`.
    private func str(_ s: String, short: Bool = false) -> [UInt8] {
        let b = Array(s.utf8)
        return short ? [0x8C, UInt8(b.count)] + b : [0x58] + withUnsafeBytes(of: UInt32(b.count).littleEndian, Array.init) + b
    }

    /// Arenas of the values under test: their containers are emptied when an arena is freed.
    private var arenas: [PickleArena] = []

    private func load(_ body: [UInt8], protocol version: UInt8 = 2) throws -> PickleValue {
        let unpickled = try Unpickler.load([0x80, version] + body + [0x2E])
        arenas.append(unpickled.arena)
        return unpickled.root
    }

    private func error(_ body: [UInt8]) -> String {
        do {
            _ = try load(body)
            XCTFail("no error")
        } catch {
            return "\(error)"
        }
        return ""
    }

    func testScalarsAndContainers() throws {
        // {"a": (1, -2, 70000, -1, True, None, 0.5), "b": [3, 4, "x"], 2: False}
        var body: [UInt8] = [0x7D, 0x71, 0x00, 0x28]                 // EMPTY_DICT BINPUT 0 MARK
        body += str("a") + [0x28, 0x4B, 1]                            // MARK BININT1 1
        body += [0x4A] + withUnsafeBytes(of: Int32(-2).littleEndian, Array.init)  // BININT -2
        body += [0x8A, 3, 0x70, 0x11, 0x01]                           // LONG1 70000
        body += [0x8A, 1, 0xFF]                                       // LONG1 -1
        body += [0x88, 0x4E]                                          // NEWTRUE NONE
        body += [0x47, 0x3F, 0xE0, 0, 0, 0, 0, 0, 0]                  // BINFLOAT 0.5 (big-endian)
        body += [0x74]                                                // TUPLE
        body += str("b", short: true) + [0x5D, 0x4D, 3, 0, 0x61, 0x28, 0x4B, 4] + str("x") + [0x65]  // list APPEND APPENDS
        body += [0x4B, 2, 0x89]                                       // 2: False
        body += [0x75]                                                // SETITEMS
        guard case let .dict(dict) = try load(body) else { return XCTFail("not a dict") }
        guard let a = dict["a"]?.tupleItems else { return XCTFail("a") }
        guard a.count == 7, case .int(1) = a[0], case .int(-2) = a[1], case .int(70000) = a[2], case .int(-1) = a[3],
              case .bool(true) = a[4], case .none = a[5], case .float(0.5) = a[6] else { return XCTFail("\(a)") }
        guard case let .list(b)? = dict["b"], b.items.count == 3, case .int(3) = b.items[0], case .string("x") = b.items[2] else {
            return XCTFail("b")
        }
        XCTAssertEqual(dict.entries.count, 3)
    }

    func testMemoSharesMutableObjects() throws {
        // l = []; (l, l) after appending through the memo.
        let body: [UInt8] = [0x5D, 0x94, 0x68, 0x00, 0x4B, 7, 0x61, 0x30, 0x68, 0x00, 0x68, 0x00, 0x86]
        guard let pair = try load(body, protocol: 4).tupleItems, case let .list(first) = pair[0], case let .list(second) = pair[1] else {
            return XCTFail()
        }
        XCTAssertTrue(first === second)
        XCTAssertEqual(first.items.count, 1)
    }

    func testFrameAndStackGlobalOrderedDict() throws {
        // FRAME, STACK_GLOBAL collections.OrderedDict, EMPTY_TUPLE, REDUCE, then SETITEM.
        var body: [UInt8] = [0x95] + withUnsafeBytes(of: UInt64(40).littleEndian, Array.init)
        body += str("collections", short: true) + str("OrderedDict", short: true) + [0x93, 0x29, 0x52]
        body += str("k", short: true) + [0x4B, 5, 0x73]
        guard case let .dict(dict) = try load(body, protocol: 4), case .int(5)? = dict["k"] else { return XCTFail() }
    }

    func testRefusesGlobalsByNameBeforeAnythingElse() {
        // GLOBAL os.system followed by bytes that would be invalid: refusal comes first.
        let global = Array("cos\nsystem\n".utf8) + [0xFF, 0xFF]
        XCTAssertTrue(error(global).contains("refusing to load global os.system"), error(global))

        let stack = str("builtins", short: true) + str("getattr", short: true) + [0x93]
        XCTAssertTrue(error(stack).contains("refusing to load global builtins.getattr"))

        for name in ["posix\nsystem", "subprocess\nPopen", "__builtin__\neval", "torch\nload", "torch._utils\n_rebuild_device_tensor_from_numpy",
                     "collections\ndefaultdict", "torch\nStorage.system", "nt\nsystem"] {
            let dotted = name.replacingOccurrences(of: "\n", with: ".")
            XCTAssertTrue(error(Array("c\(name)\n".utf8)).contains("refusing to load global \(dotted):"), dotted)
        }
        // A storage type this reader lacks is refused as unsupported data, not as code.
        XCTAssertTrue(error(Array("ctorch\nFakeStorage\n".utf8)).contains("unsupported: storage type torch.FakeStorage; the storage types read are"))
        // INST instantiates a class: refused the same way.
        XCTAssertTrue(error(Array("(ios\nsystem\n".utf8)).contains("refusing to load global os.system"))
    }

    func testReduceOnlyAppliesAllowListedCallables() {
        // REDUCE on a string, calling a storage type, and an unknown opcode.
        XCTAssertTrue(error(str("x") + [0x29, 0x52]).contains("REDUCE on a str"))
        XCTAssertTrue(error(Array("ctorch\nFloatStorage\n".utf8) + [0x29, 0x52]).contains("cannot be called"))
        XCTAssertTrue(error([0x4F]).contains("opcode 0x4f"))  // OBJ
    }

    func testMalformedStreams() {
        XCTAssertTrue(error([0x58, 0xFF, 0xFF, 0, 0, 0x41]).contains("runs past the end"))
        XCTAssertTrue(error([0x68, 9]).contains("memo entry 9"))
        XCTAssertTrue(error([0x73]).contains("stack underflow"))
        XCTAssertTrue(error([0x74]).contains("TUPLE (0x74) at byte 2 needs a MARK"), error([0x74]))
        XCTAssertThrowsError(try Unpickler.load([0x80, 0x02, 0x4B]))   // ends before STOP
        XCTAssertThrowsError(try Unpickler.load([]))
        XCTAssertThrowsError(try Unpickler.load([0x80, 0x06, 0x4E, 0x2E]))  // protocol 6
    }

    func testTensorRebuildAndPersistentStorage() throws {
        // _rebuild_tensor_v2(persistent('storage', torch.HalfStorage, '3', 'cpu', 6), 1, (2, 2), (1, 2), False, OrderedDict())
        var body: [UInt8] = Array("ctorch._utils\n_rebuild_tensor_v2\n".utf8) + [0x28, 0x28]
        body += str("storage") + Array("ctorch\nHalfStorage\n".utf8) + str("3") + str("cpu") + [0x4B, 6, 0x74, 0x51]
        body += [0x4B, 1, 0x4B, 2, 0x4B, 2, 0x86, 0x4B, 1, 0x4B, 2, 0x86, 0x89]
        body += Array("ccollections\nOrderedDict\n".utf8) + [0x29, 0x52, 0x74, 0x52]
        guard case let .tensor(ref) = try load(body) else { return XCTFail() }
        XCTAssertEqual(ref.storage.key, "3")
        XCTAssertEqual(ref.storage.numel, 6)
        XCTAssertEqual(ref.storage.dtype.format, .float16)
        XCTAssertEqual(ref.offset, 1)
        XCTAssertEqual(ref.size, [2, 2])
        XCTAssertEqual(ref.stride, [1, 2])
    }

    func testDeeplyNestedPicklesAreFreedWithoutRecursion() throws {
        // A million nested 1-tuples (one byte each), and the same ending in an error: freeing
        // either must not overflow the stack.
        let nested: [UInt8] = [0x80, 2, 0x29] + [UInt8](repeating: 0x85, count: 1_000_000)
        let root = try Unpickler.load(nested + [0x2E])
        XCTAssertEqual(root.root.tupleItems?.count, 1)
        XCTAssertThrowsError(try Unpickler.load(nested + [0x73]))
    }

    func testPersistentIdMustNameAStorageType() {
        let body = [0x28] + str("storage") + str("not a type") + str("0") + str("cpu") + [0x4B, 1, 0x74, 0x51]
        XCTAssertTrue(error(body).contains("not a storage type"))
    }

    // MARK: Half precision

    func testHalfToFloatMatchesFloat16ForAllBitPatterns() {
        #if !(os(macOS) && arch(x86_64))
        for bits in 0...UInt16.max {
            let expected = Float(Float16(bitPattern: bits))
            let got = HalfPrecision.float(fromHalf: bits)
            if expected.isNaN {
                XCTAssertTrue(got.isNaN, "\(bits)")
                XCTAssertEqual(got.bitPattern, expected.bitPattern, "NaN payload of \(bits)")
            } else {
                XCTAssertEqual(got.bitPattern, expected.bitPattern, "\(bits)")
            }
        }
        #endif
    }

    func testFloatToHalfRoundsLikeFloat16() {
        #if !(os(macOS) && arch(x86_64))
        var state: UInt64 = 12345
        var samples: [Float] = [0, -0, 65504, 65519, 65520, 0x1p-24, 0x1p-25, 0x1.8p-25, 0x1p-26, 0x1p-14, 0x1.ffcp-15, .infinity, -.infinity, .leastNonzeroMagnitude, 3e38]
        for _ in 0..<200_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            let bits = UInt32(truncatingIfNeeded: state >> 32)
            let f = Float(bitPattern: bits)
            if !f.isNaN { samples.append(f) }
        }
        for f in samples {
            XCTAssertEqual(HalfPrecision.half(from: f), Float16(f).bitPattern, "\(f)")
        }
        XCTAssertTrue(HalfPrecision.float(fromHalf: HalfPrecision.half(from: .nan)).isNaN)
        #endif
    }

    func testBFloat16RoundsToNearestEven() {
        XCTAssertEqual(HalfPrecision.bfloat16(from: 1), 0x3F80)
        XCTAssertEqual(HalfPrecision.bfloat16(from: Float(bitPattern: 0x3F80_8000)), 0x3F80)  // tie, even stays
        XCTAssertEqual(HalfPrecision.bfloat16(from: Float(bitPattern: 0x3F81_8000)), 0x3F82)  // tie, odd rounds up
        XCTAssertEqual(HalfPrecision.bfloat16(from: Float(bitPattern: 0x3F80_8001)), 0x3F81)
        XCTAssertEqual(HalfPrecision.bfloat16(from: .greatestFiniteMagnitude), 0x7F80)       // rounds to infinity
        XCTAssertTrue(HalfPrecision.float(fromBFloat16: HalfPrecision.bfloat16(from: .nan)).isNaN)
        XCTAssertEqual(HalfPrecision.float(fromBFloat16: 0x0001), 0x1p-133)                  // subnormal
    }
}
