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
        // A garbled file must not keep convops from starting (anyone who can append a byte
        // could): it is read again, and refused, when signing; `verify` reports it.
        if let line = (try? Self.lines(path))?.last, let digest = AuditDigest(line: line) {
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
    /// `checkpointSigned` checks the retention checkpoint's HMAC (the store has the key).
    /// Returns the digest line written; nil when there was nothing to sign.
    @discardableResult
    func sign(_ db: Database, at now: Date, checkpointSigned: (Int64, String, Int64, String) -> Bool) throws(StoreError) -> String? {
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
        // Read the head and the checkpoint from the file itself, in one snapshot: another
        // process may have appended since this one cached its tail.
        try db.execute("BEGIN")
        defer { try? db.execute("COMMIT") }
        let checkpoint = try Self.checkpoint(db)
        let head = try Self.head(db) ?? (checkpoint.seq, checkpoint.hash)
        guard AuditDigest.isHash(head.hash), AuditDigest.isHash(checkpoint.hash) else {
            throw StoreError(code: 0, operation: "sign the audit head", message: "a hash in the log is not 64 hex digits (the file was edited); run `convops audit verify`")
        }
        // Nothing was ever logged: nothing to sign.
        if last == nil, head.seq == 0, checkpoint.seq == 0 { pending = 0; return nil }
        func refuse(_ why: String) -> StoreError {
            StoreError(code: 0, operation: "sign the audit head", message: "\(why); not signing over it; run `convops audit verify`")
        }
        if checkpoint.seq > 0 {
            let cp = try db.prepare("SELECT seq, hash, at_ms, signature FROM audit_checkpoint WHERE id = 1")
            guard try cp.step(), checkpointSigned(cp.integer(0), cp.text(1) ?? "", cp.integer(2), cp.text(3) ?? "") else {
                throw refuse("the retention checkpoint's signature does not match")
            }
        }
        // Where the part not yet signed starts: the newest signed head while the log still
        // holds it, else the checkpoint. Every entry after it must link and hash right.
        var start = (seq: checkpoint.seq, hash: checkpoint.hash)
        if let last = last?.digest {
            if last.headSeq == head.seq, last.headHash == head.hash, last.checkpointSeq == checkpoint.seq { pending = 0; return nil }
            guard checkpoint.seq >= last.checkpointSeq else { throw refuse("the retention checkpoint moved back") }
            if last.headSeq > checkpoint.seq {
                let held = try Self.hash(db, seq: last.headSeq)
                guard head.seq >= last.headSeq, held == last.headHash else {
                    throw refuse("the audit log no longer holds entry \(last.headSeq) as the newest digest signed it (it was shortened, rolled back or rewritten)")
                }
                start = (last.headSeq, last.headHash)
            }
        }
        guard try Self.chainHolds(db, after: start.seq, hash: start.hash) else {
            throw refuse("entries after \(start.seq) do not link or hash right (they were edited)")
        }
        var digest = AuditDigest(headSeq: head.seq, headHash: head.hash, atMilliseconds: AuditChain.milliseconds(now),
                                 checkpointSeq: checkpoint.seq, checkpointHash: checkpoint.hash,
                                 previous: last?.lineHash ?? AuditChain.genesis)
        do { try keys.sign(&digest) } catch {
            throw StoreError(code: 0, operation: "sign the audit head", message: "\(error)")
        }
        let line = digest.line
        try append(line + "\n", to: fd)
        last = (digest, AuditDigest.lineHash(line))
        pending = 0
        return line
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

    static func head(_ db: Database) throws(StoreError) -> (seq: Int64, hash: String)? {
        let s = try db.prepare("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        return try s.step() ? (s.integer(0), s.text(1) ?? "") : nil
    }

    /// Whether the entries after `seq` run on from it without a gap, each linking to the one
    /// before and hashing to what it says.
    static func chainHolds(_ db: Database, after seq: Int64, hash: String) throws(StoreError) -> Bool {
        let s = try db.prepare("SELECT * FROM audit WHERE seq > ? ORDER BY seq").bind([.integer(seq)])
        var previous = Array(hash.utf8)
        var expected = seq + 1
        while try s.step() {
            guard s.integer(0) == expected, s.withBytes(9, { $0.map { $0.elementsEqual(previous) } ?? false }) else { return false }
            let computed = try AuditChain.hash(row: s)
            guard s.withBytes(10, { $0.map { $0.elementsEqual(computed) } ?? false }) else { return false }
            previous = computed
            expected += 1
        }
        return true
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
        let checkpoint = try AuditDigestFile.checkpoint(db)
        let last = try db.prepare("SELECT MAX(seq) FROM audit")
        let maxSeq: Int64 = try last.step() ? last.integer(0) : 0
        guard !lines.isEmpty else {
            if maxSeq == 0, checkpoint.seq == 0 { return .none }
            return .broken(reason: "the log has entries but \(path) holds no signed digest (it was deleted or emptied; "
                + "a log from before signed digests is signed the first time convops stops: stop it once, then verify again)")
        }
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
            if let before = digests.last, digest.checkpointSeq < before.checkpointSeq || digest.headSeq < before.headSeq {
                return .broken(reason: "digest \(n + 1) of \(path) goes back (head or checkpoint earlier than the digest before)")
            }
            previous = AuditDigest.lineHash(line)
            digests.append(digest)
        }
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
        // Retention moves the checkpoint and signs right after: the checkpoint in the file must
        // be the one the newest digest names. (Without the data key its HMAC can't be checked,
        // so this is what keeps a raised checkpoint from hiding deleted entries.)
        if checkpoint.seq != newest.checkpointSeq || checkpoint.hash != newest.checkpointHash {
            return .broken(reason: "the retention checkpoint (entry \(checkpoint.seq)) is not the one the newest digest signed "
                + "(entry \(newest.checkpointSeq)): entries were deleted under a forged checkpoint")
        }
        return .intact(digests: digests.count, signedTo: newest.headSeq,
                       at: Date(timeIntervalSince1970: Double(newest.atMilliseconds) / 1000), unsigned: max(0, end - newest.headSeq))
    }

    static func time(_ ms: Int64) -> String {
        Date(timeIntervalSince1970: Double(ms) / 1000).formatted(Date.ISO8601FormatStyle())
    }
}
