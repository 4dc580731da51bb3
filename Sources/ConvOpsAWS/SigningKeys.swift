import Crypto
import Foundation
import Synchronization

/// A SigV4 signing key ready to use: HMAC-SHA256 with the key's inner and outer pads already
/// hashed (RFC 2104). swift-crypto's HMAC takes the key afresh on every call, two extra SHA-256
/// blocks each time; a signature needs just one HMAC under the same key all day.
///
/// `@unchecked Sendable`: swift-crypto's `SHA256` is a copy-on-write box, not marked Sendable.
/// The two stored states are `let` and never updated in place: each use copies one into a
/// local first, and because the stored copy still holds its box, `update` always finds the
/// box shared and writes to a fresh one. Threads only ever read the stored boxes.
struct KeyedHMAC: @unchecked Sendable {
    private let inner: SHA256
    private let outer: SHA256

    init(key: SymmetricKey) {
        var block = key.withUnsafeBytes { Array($0) }
        if block.count > 64 { block = Array(SHA256.hash(data: block)) }
        block += [UInt8](repeating: 0, count: 64 - block.count)
        var inner = SHA256(), outer = SHA256()
        inner.update(data: block.map { $0 ^ 0x36 })
        outer.update(data: block.map { $0 ^ 0x5C })
        self.inner = inner
        self.outer = outer
    }

    func authenticationCode(for message: UnsafeRawBufferPointer) -> SHA256.Digest {
        var inner = self.inner
        inner.update(bufferPointer: message)
        var outer = self.outer
        inner.finalize().withUnsafeBytes { outer.update(bufferPointer: $0) }
        return outer.finalize()
    }
}

/// Derived signing keys, per access key, day, region and service: four HMACs saved on every
/// call but the first of the day. Held in memory only, like the credentials they come from.
final class SigningKeys: Sendable {
    static let shared = SigningKeys()

    private struct ID: Hashable {
        var accessKeyID: String
        var day: String
        var region: String
        var service: String
    }

    private let keys = Mutex([ID: KeyedHMAC]())

    func key(accessKeyID: String, secret: String, day: String, region: String, service: String) -> KeyedHMAC {
        let id = ID(accessKeyID: accessKeyID, day: day, region: region, service: service)
        if let key = keys.withLock({ $0[id] }) { return key }
        let key = KeyedHMAC(key: SigV4.signingKey(secret: secret, day: day, region: region, service: service))
        keys.withLock { keys in
            if keys.count >= 256 { keys.removeAll() }
            keys[id] = key
        }
        return key
    }
}
