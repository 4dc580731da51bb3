import ConvOpsCore
import Crypto
import Foundation

/// The audit hash chain: each entry's hash covers its fields and the previous entry's hash,
/// so an edit, deletion, insertion or reordering breaks every link after it.
enum AuditChain {
    static let genesis = String(repeating: "0", count: 64)

    static func milliseconds(_ date: Date) -> Int64 { Int64((date.timeIntervalSince1970 * 1000).rounded()) }

    static func hash(_ e: AuditEntry) -> String {
        var hasher = SHA256()
        for field in [e.previousHash, String(e.seq), String(milliseconds(e.at)), e.actor, e.action, e.target,
                      e.decision.rawValue, e.principal ?? "\u{0}", e.outcome ?? "\u{0}", e.requestID ?? "\u{0}"] {
            var f = field
            f.withUTF8 { add(&hasher, $0) }
        }
        return String(decoding: hex(hasher.finalize()), as: UTF8.self)
    }

    /// The same hash, from a row of `SELECT * FROM audit`, its columns read by name, as hex bytes.
    static func hash(row s: Statement) throws(StoreError) -> [UInt8] {
        var hasher = SHA256()
        s.withBytes(try s.column("prev_hash")) { add(&hasher, $0 ?? UnsafeBufferPointer(start: nil, count: 0)) }
        for value in [try s.integer("seq"), try s.integer("at_ms")] {
            var text = String(value)
            text.withUTF8 { add(&hasher, $0) }
        }
        let fields = [try s.column("actor"), try s.column("action"), try s.column("target"), try s.column("decision"),
                      try s.column("principal"), try s.column("outcome"), try s.column("request_id")]
        for column in fields {
            s.withBytes(column) { bytes in
                if let bytes { add(&hasher, bytes) } else { nullField.withUnsafeBufferPointer { add(&hasher, $0) } }
            }
        }
        return hex(hasher.finalize())
    }

    private static let nullField: [UInt8] = [0]

    /// Each field goes in as `LENGTH:BYTES;`: no separator inside a value can forge another split.
    @inline(__always)
    private static func add(_ hasher: inout SHA256, _ bytes: UnsafeBufferPointer<UInt8>) {
        var prefix = String(bytes.count)
        prefix.withUTF8 { hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }
        withUnsafeBytes(of: UInt8(ascii: ":")) { hasher.update(bufferPointer: $0) }
        if bytes.count > 0 { hasher.update(bufferPointer: UnsafeRawBufferPointer(bytes)) }
        withUnsafeBytes(of: UInt8(ascii: ";")) { hasher.update(bufferPointer: $0) }
    }

    private static let digits: [UInt8] = Array("0123456789abcdef".utf8)

    private static func hex(_ digest: SHA256.Digest) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 64)
        var i = 0
        for byte in digest {
            out[i] = digits[Int(byte >> 4)]
            out[i + 1] = digits[Int(byte & 0xF)]
            i += 2
        }
        return out
    }

    static func checkpointText(seq: Int64, hash: String, atMilliseconds: Int64) -> String {
        "convops-audit-checkpoint;\(seq);\(hash);\(atMilliseconds)"
    }
}
