import Crypto
import Foundation

/// One signed statement about the audit log, as CloudTrail's log-file integrity digests are:
/// "at this time the chain ended at entry `headSeq` with hash `headHash`, after the retention
/// checkpoint `checkpointSeq`/`checkpointHash`", signed with Ed25519 and chained to the digest
/// before it. Digests live in an append-only file outside the database, so deleting the newest
/// entries, or restoring an older copy of the database, or rewriting the chain with fresh
/// hashes, no longer verifies: the entry a digest signed is gone or different.
public struct AuditDigest: Sendable, Hashable {
    public var headSeq: Int64
    public var headHash: String
    public var atMilliseconds: Int64
    public var checkpointSeq: Int64
    public var checkpointHash: String
    /// SHA-256 (hex) of the previous digest's line; 64 zeros for the first.
    public var previous: String
    /// Ed25519 over `signedText`, base64.
    public var signature: String

    static let version = 1

    var signedText: String {
        "convops-audit-digest-v\(Self.version)\n\(headSeq)\n\(headHash)\n\(atMilliseconds)\n\(checkpointSeq)\n\(checkpointHash)\n\(previous)"
    }

    /// The line written to the digest file: JSON with sorted keys, one object per line.
    var line: String {
        let object: [String: Any] = ["v": Self.version, "head_seq": headSeq, "head_hash": headHash, "at_ms": atMilliseconds,
                                     "checkpoint_seq": checkpointSeq, "checkpoint_hash": checkpointHash,
                                     "previous": previous, "signature": signature]
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self)
    }

    init(headSeq: Int64, headHash: String, atMilliseconds: Int64, checkpointSeq: Int64, checkpointHash: String, previous: String,
         signature: String = "") {
        self.headSeq = headSeq
        self.headHash = headHash
        self.atMilliseconds = atMilliseconds
        self.checkpointSeq = checkpointSeq
        self.checkpointHash = checkpointHash
        self.previous = previous
        self.signature = signature
    }

    /// Reads one line; nil when it is not a digest of this version.
    init?(line: String) {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any],
              (object["v"] as? NSNumber)?.intValue == Self.version,
              let headSeq = (object["head_seq"] as? NSNumber)?.int64Value, let headHash = object["head_hash"] as? String,
              let at = (object["at_ms"] as? NSNumber)?.int64Value,
              let checkpointSeq = (object["checkpoint_seq"] as? NSNumber)?.int64Value,
              let checkpointHash = object["checkpoint_hash"] as? String,
              let previous = object["previous"] as? String, let signature = object["signature"] as? String,
              [headHash, checkpointHash, previous].allSatisfy(Self.isHash) else { return nil }
        self.init(headSeq: headSeq, headHash: headHash, atMilliseconds: at, checkpointSeq: checkpointSeq,
                  checkpointHash: checkpointHash, previous: previous, signature: signature)
    }

    /// 64 lowercase hex digits: nothing in a signed field can split the signed text.
    static func isHash(_ s: String) -> Bool {
        s.utf8.count == 64 && s.utf8.allSatisfy { ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x61 && $0 <= 0x66) }
    }

    static func lineHash(_ line: String) -> String {
        SHA256.hash(data: Data(line.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}

/// The Ed25519 key pair that signs digests, derived from the data key (so nothing more is kept
/// secret); the public half is what an auditor needs (`convops audit public-key`).
public struct DigestKeys: @unchecked Sendable {
    // @unchecked: swift-crypto's key types are immutable values not yet marked Sendable.
    let signing: Curve25519.Signing.PrivateKey

    /// The derivation is deterministic, so every start signs with the same key.
    init(_ keys: DataKeys) throws {
        signing = try Curve25519.Signing.PrivateKey(rawRepresentation: keys.digestSeed.withUnsafeBytes { Data($0) })
    }

    public var publicKey: String { signing.publicKey.rawRepresentation.base64EncodedString() }

    func sign(_ digest: inout AuditDigest) throws {
        digest.signature = try signing.signature(for: Data(digest.signedText.utf8)).base64EncodedString()
    }
}
