import Crypto
import Foundation

extension Store {
    /// Signs the audit head now: `convops run` and `chat` do it when they stop, retention after
    /// it purges. A failure is kept in `digestProblem` too.
    public func signAuditHead() throws {
        try read { db in
            signHead(db)
            if let digestProblem { throw StoreError(code: 0, operation: "sign the audit head", message: digestProblem) }
        }
    }

    /// Under the store's lock, after a commit.
    func signHead(_ db: Database) {
        do {
            let line = try digests.sign(db, at: clock.now()) { seq, hash, at, signature in
                self.keys.sign(AuditChain.checkpointText(seq: seq, hash: hash, atMilliseconds: at)) == signature
            }
            if let line { digestSink?(line) }
            digestProblem = nil
        } catch {
            digestProblem = error.message
        }
    }

    /// The Ed25519 public key (base64) an auditor verifies the digests with.
    public var auditPublicKey: String { digests.publicKey.rawRepresentation.base64EncodedString() }

    /// Where the digests are written.
    public var auditDigestPath: String { digests.path }

    /// Checks the digest file against this database.
    public func verifyDigests() throws -> DigestVerification {
        try read { db in
            try AuditDigestCheck.verify(db, lines: try AuditDigestFile.lines(digests.path), publicKey: digests.publicKey, path: digests.path)
        }
    }

    /// An auditor's check, without the data key: the database opened read-only, its chain
    /// walked (the retention checkpoint's HMAC needs the data key, so the digests vouch for
    /// the checkpoint instead), and the digests checked with `publicKey` (base64).
    public static func verifyAudit(databasePath: String, digestFile: String?, publicKey: String) throws -> (AuditVerification, DigestVerification) {
        guard let raw = Data(base64Encoded: publicKey), let key = try? Curve25519.Signing.PublicKey(rawRepresentation: raw) else {
            throw StoreError(code: 0, operation: "read the public key", message:
                "it is not an Ed25519 public key in base64 (44 characters); `convops audit public-key` prints the right one")
        }
        let db = try Database(path: databasePath, readOnly: true)
        let chain = try verifyChain(db, checkpointSigned: nil)
        let path = digestFile ?? databasePath + ".digests"
        let digests = try AuditDigestCheck.verify(db, lines: try AuditDigestFile.lines(path), publicKey: key, path: path)
        return (chain, digests)
    }
}
