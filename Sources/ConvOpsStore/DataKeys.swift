import Crypto
import Foundation

/// The keys that protect personal data at rest, all derived (HKDF-SHA256) from one 32-byte
/// data key that is never stored in the database: from CONVOPS_DATA_KEY (base64) or a key file.
///
/// `@unchecked Sendable`: swift-crypto 3 does not mark `SymmetricKey` Sendable, but a key is an
/// immutable value (its bytes are never changed after creation), so sharing it is safe.
public struct DataKeys: @unchecked Sendable {
    /// AES-256-GCM for personal data fields.
    let encryption: SymmetricKey
    /// HMAC-SHA256 for looking people up by chat id without storing the id.
    let index: SymmetricKey
    /// HMAC-SHA256 signing the audit checkpoints that retention leaves behind.
    let checkpoint: SymmetricKey
    /// The seed of the Ed25519 key that signs audit digests (`DigestKeys`).
    let digestSeed: SymmetricKey

    public init(dataKey: Data) throws(DataKeyError) {
        guard dataKey.count == 32 else {
            throw DataKeyError("the data key must be 32 bytes (base64 of 32 random bytes); it is \(dataKey.count)")
        }
        let master = SymmetricKey(data: dataKey)
        func derive(_ purpose: String) -> SymmetricKey {
            HKDF<SHA256>.deriveKey(inputKeyMaterial: master, salt: Data("convops".utf8), info: Data(purpose.utf8), outputByteCount: 32)
        }
        encryption = derive("convops.personal-data.aes-256-gcm")
        index = derive("convops.personal-data.index")
        checkpoint = derive("convops.audit.checkpoint")
        digestSeed = derive("convops.audit.digest.ed25519")
    }

    /// From CONVOPS_DATA_KEY, else the file CONVOPS_DATA_KEY_FILE names. With neither, nil.
    public static func fromEnvironment(_ env: [String: String]) throws(DataKeyError) -> DataKeys? {
        if let text = env["CONVOPS_DATA_KEY"], !text.isEmpty {
            guard let data = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw DataKeyError("CONVOPS_DATA_KEY is not base64: make one with `head -c 32 /dev/urandom | base64`")
            }
            return try DataKeys(dataKey: data)
        }
        if let path = env["CONVOPS_DATA_KEY_FILE"], !path.isEmpty {
            return try fromFile(path)
        }
        return nil
    }

    public static func fromFile(_ path: String) throws(DataKeyError) -> DataKeys {
        if let mode = OwnerOnlyFile.openToOthers(path) {
            throw DataKeyError("the key file \(path) can be read by others (mode \(String(mode, radix: 8))): run `chmod 600 \(path)` "
                + "(for a mounted secret, set its mode to 0400 or 0600), then start again")
        }
        guard let raw = FileManager.default.contents(atPath: path),
              let data = Data(base64Encoded: String(decoding: raw, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw DataKeyError("cannot read a base64 key from \(path)")
        }
        return try DataKeys(dataKey: data)
    }

    /// Makes a new random key file readable by its owner only (for the embedded default: the
    /// key lives beside the database, never in it). Refuses to overwrite.
    public static func createFile(_ path: String) throws(DataKeyError) -> DataKeys {
        guard !FileManager.default.fileExists(atPath: path) else { return try fromFile(path) }
        var bytes = SystemRandomNumberGenerator()
        let key = Data((0..<32).map { _ in UInt8.random(in: .min ... .max, using: &bytes) })
        do {
            try OwnerOnlyFile.create(path, contents: Data(key.base64EncodedString().utf8))
        } catch {
            throw DataKeyError("cannot create the key file \(path): \(error.message)")
        }
        return try DataKeys(dataKey: key)
    }

    // MARK: Field encryption

    /// AES-256-GCM, a fresh random nonce each time; nonce, ciphertext and tag in one blob.
    /// `context` names where the value lives (`people.display_name:p-…`) and is authenticated
    /// with it, so a blob copied into another row or column no longer opens.
    func seal(_ text: String, context: String) throws -> Data {
        try AES.GCM.seal(Data(text.utf8), using: encryption, authenticating: Data(context.utf8)).combined!
    }

    func open(_ blob: Data, context: String) throws -> String {
        String(decoding: try AES.GCM.open(AES.GCM.SealedBox(combined: blob), using: encryption,
                                          authenticating: Data(context.utf8)), as: UTF8.self)
    }

    /// Values an older convops sealed without a context (read once, to seal them again).
    func openUnbound(_ blob: Data) throws -> String {
        String(decoding: try AES.GCM.open(AES.GCM.SealedBox(combined: blob), using: encryption), as: UTF8.self)
    }

    /// A lookup key for an identifier: HMAC-SHA256, not reversible without the data key.
    func indexKey(_ identifier: String) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data(identifier.utf8), using: index))
    }

    func sign(_ text: String) -> String {
        Data(HMAC<SHA256>.authenticationCode(for: Data(text.utf8), using: checkpoint)).base64EncodedString()
    }
}

public struct DataKeyError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
