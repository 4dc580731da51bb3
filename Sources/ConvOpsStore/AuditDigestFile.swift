import Crypto
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The append-only file of signed digests beside (never inside) the database. `Store` writes
/// one every `interval` audit entries, after retention, and when the process stops; `verify`
/// checks a database against all of them.
final class AuditDigestFile: @unchecked Sendable {
    // @unchecked: `last` is read and written only under the owning Store's lock.
    let path: String
    let interval: Int
    private let keys: DigestKeys
    /// The newest digest in the file and its line's hash: what the next one chains to.
    private var last: (digest: AuditDigest, lineHash: String)?
    /// Audit entries appended since the newest digest (counted by the store).
    var pending = 0

    var publicKey: Curve25519.Signing.PublicKey { keys.signing.publicKey }

    init(path: String, interval: Int, keys: DigestKeys) throws(StoreError) {
        self.path = path
        self.interval = max(1, interval)
        self.keys = keys
        let lines = try Self.lines(path)
        if let line = lines.last {
            guard let digest = AuditDigest(line: line) else {
                throw StoreError(code: 0, operation: "read \(path)", message: "its last line is not a signed digest: the file was edited; run `convops audit verify`")
            }
            last = (digest, AuditDigest.lineHash(line))
        }
    }

    static func lines(_ path: String) throws(StoreError) -> [String] {
        guard FileManager.default.fileExists(atPath: path) else { return [] }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw StoreError(code: 0, operation: "read \(path)", message: "the audit digest file cannot be read")
        }
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// Signs the database's current head, unless the newest digest already says it. Refuses
    /// (and so leaves the evidence as it is) when the log no longer holds the entry the newest
    /// digest signed: a shortened or rewritten log is never signed over.
    func sign(_ db: Database, head: (seq: Int64, hash: String)) throws(StoreError) {
        // Another process on the same database (a `convops chat` beside `convops run`) may have
        // appended since: chain to what the file ends with now, under an exclusive lock.
        let fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError(code: 0, operation: "open \(path)", message: String(cString: strerror(errno))) }
        defer { close(fd) }
        guard flock(fd, LOCK_EX) == 0 else { throw StoreError(code: 0, operation: "lock \(path)", message: String(cString: strerror(errno))) }
        defer { flock(fd, LOCK_UN) }
        if let line = try Self.lines(path).last {
            guard let digest = AuditDigest(line: line) else {
                throw StoreError(code: 0, operation: "read \(path)", message: "its last line is not a signed digest: the file was edited; run `convops audit verify`")
            }
            last = (digest, AuditDigest.lineHash(line))
        }
        let checkpoint = try Self.checkpoint(db)
        // Nothing was ever logged: nothing to sign.
        if last == nil, head.seq == 0, checkpoint.seq == 0 { pending = 0; return }
        if let last = last?.digest {
            if last.headSeq == head.seq, last.headHash == head.hash, last.checkpointSeq == checkpoint.seq { pending = 0; return }
            if last.headSeq > checkpoint.seq {
                let held = try Self.hash(db, seq: last.headSeq)
                guard head.seq >= last.headSeq, held == last.headHash else {
                    throw StoreError(code: 0, operation: "sign the audit head", message:
                        "the audit log no longer holds entry \(last.headSeq) as the newest digest signed it (it was shortened, rolled back or rewritten); not signing over it; run `convops audit verify`")
                }
            }
        }
        var digest = AuditDigest(headSeq: head.seq, headHash: head.hash, atMilliseconds: AuditChain.milliseconds(Date()),
                                 checkpointSeq: checkpoint.seq, checkpointHash: checkpoint.hash,
                                 previous: last?.lineHash ?? AuditChain.genesis)
        do { try keys.sign(&digest) } catch {
            throw StoreError(code: 0, operation: "sign the audit head", message: "\(error)")
        }
        let line = digest.line
        try append(line + "\n", to: fd)
        last = (digest, AuditDigest.lineHash(line))
        pending = 0
    }

    private func append(_ text: String, to fd: Int32) throws(StoreError) {
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw StoreError(code: 0, operation: "append to \(path)", message: String(cString: strerror(errno)))
        }
    }

    static func checkpoint(_ db: Database) throws(StoreError) -> (seq: Int64, hash: String) {
        let cp = try db.prepare("SELECT seq, hash FROM audit_checkpoint WHERE id = 1")
        return try cp.step() ? (cp.integer(0), cp.text(1) ?? "") : (0, AuditChain.genesis)
    }

    static func hash(_ db: Database, seq: Int64) throws(StoreError) -> String? {
        let s = try db.prepare("SELECT hash FROM audit WHERE seq = ?").bind([.integer(seq)])
        return try s.step() ? s.text(0) : nil
    }
}

/// What the digests say of a database.
public enum DigestVerification: Sendable, Hashable {
    /// No digest yet (a new log, or one from before digests).
    case none
    /// Every digest is signed and chained, and the log holds what the newest one signed;
    /// `unsigned` entries came after it.
    case intact(digests: Int, signedTo: Int64, at: Date, unsigned: Int64)
    case broken(reason: String)
}

enum AuditDigestCheck {
    /// Checks the digest lines against the public key and against the log in `db`.
    static func verify(_ db: Database, lines: [String], publicKey: Curve25519.Signing.PublicKey,
                       path: String) throws(StoreError) -> DigestVerification {
        guard !lines.isEmpty else { return .none }
        var previous = AuditChain.genesis
        var digests: [AuditDigest] = []
        for (n, line) in lines.enumerated() {
            guard let digest = AuditDigest(line: line) else { return .broken(reason: "line \(n + 1) of \(path) is not a signed digest") }
            guard let signature = Data(base64Encoded: digest.signature),
                  publicKey.isValidSignature(signature, for: Data(digest.signedText.utf8)) else {
                return .broken(reason: "digest \(n + 1) of \(path) is not signed by this key (it was forged or edited)")
            }
            guard digest.previous == previous else {
                return .broken(reason: "digest \(n + 1) of \(path) does not follow the one before it (digests were removed or reordered)")
            }
            previous = AuditDigest.lineHash(line)
            digests.append(digest)
        }
        let checkpoint = try AuditDigestFile.checkpoint(db)
        let last = try db.prepare("SELECT MAX(seq) FROM audit")
        let maxSeq: Int64 = try last.step() ? last.integer(0) : 0
        let end = max(maxSeq, checkpoint.seq)
        for digest in digests.reversed() where digest.headSeq > checkpoint.seq {
            let when = Self.time(digest.atMilliseconds)
            guard let held = try AuditDigestFile.hash(db, seq: digest.headSeq) else {
                if digest.headSeq > end {
                    return .broken(reason: "truncated or rolled back: the digest of \(when) signed entries up to \(digest.headSeq), and the log ends at \(end)")
                }
                return .broken(reason: "entry \(digest.headSeq), signed in the digest of \(when), is missing")
            }
            guard held == digest.headHash else {
                return .broken(reason: "rewritten: entry \(digest.headSeq) is not the one the digest of \(when) signed")
            }
        }
        let newest = digests[digests.count - 1]
        // Retention moves the checkpoint and then signs; a checkpoint newer than every digest,
        // or one the newest digest does not name, was not left by retention.
        if checkpoint.seq > newest.checkpointSeq, checkpoint.seq > newest.headSeq {
            return .broken(reason: "the retention checkpoint (entry \(checkpoint.seq)) is newer than every signed digest")
        }
        if checkpoint.seq == newest.checkpointSeq, checkpoint.hash != newest.checkpointHash {
            return .broken(reason: "the retention checkpoint is not the one the newest digest signed")
        }
        return .intact(digests: digests.count, signedTo: newest.headSeq,
                       at: Date(timeIntervalSince1970: Double(newest.atMilliseconds) / 1000), unsigned: max(0, end - newest.headSeq))
    }

    static func time(_ ms: Int64) -> String {
        Date(timeIntervalSince1970: Double(ms) / 1000).formatted(Date.ISO8601FormatStyle())
    }
}
