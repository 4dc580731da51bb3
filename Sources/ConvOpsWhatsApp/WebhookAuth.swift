import Crypto
import Foundation

/// The two checks a webhook request must pass before anything in it is read.
///
/// - POST: `X-Hub-Signature-256: sha256=<HMAC-SHA256 of the exact body bytes, keyed with the
///   app secret, hex>` (Meta's "Create a webhook endpoint" page). The body is hashed as it came:
///   Meta signs its escaped-unicode serialisation, so a body parsed and written again no longer
///   matches. Compared in constant time.
/// - GET: `hub.mode=subscribe`, `hub.verify_token` equal to ours (constant time), then the raw
///   `hub.challenge` is the answer.
public enum WebhookAuth {
    /// Whether `header` is the valid signature of `body`. A missing header, a header that is not
    /// `sha256=` and exactly 64 hex digits, or a wrong code: false.
    public static func isSigned(_ body: Data, header: String?, appSecret: WhatsAppSecret) -> Bool {
        guard let header, header.hasPrefix("sha256="), let mac = hexBytes(header.dropFirst(7)), mac.count == 32 else { return false }
        return HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: SymmetricKey(data: appSecret.bytes))
    }

    /// The header value for `body` (the emulator signs what it posts with this).
    public static func signature(_ body: Data, appSecret: WhatsAppSecret) -> String {
        let code = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: appSecret.bytes))
        return "sha256=" + code.map { String(format: "%02x", $0) }.joined()
    }

    /// The challenge to answer a subscription check with, or nil (answer 403): the mode must be
    /// `subscribe` and the token ours. The challenge is echoed only if it is plain (Meta sends
    /// digits), so the endpoint never reflects markup.
    public static func challenge(query: [(name: String, value: String)], verifyToken: WhatsAppSecret) -> String? {
        func value(_ name: String) -> String? { query.first { $0.name == name }?.value }
        guard value("hub.mode") == "subscribe", let token = value("hub.verify_token"),
              let challenge = value("hub.challenge"), (1...128).contains(challenge.utf8.count),
              challenge.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x5F })
        else { return nil }
        // Equal-length digests compared by swift-crypto's constant-time ==: the token's length
        // and content leak nothing through timing.
        guard SHA256.hash(data: Array(token.utf8)) == SHA256.hash(data: verifyToken.bytes) else { return nil }
        return challenge
    }

    static func hexBytes(_ hex: Substring) -> [UInt8]? {
        let digits = Array(hex.utf8)
        guard digits.count == 64 else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(32)
        var i = 0
        while i < digits.count {
            guard let hi = nibble(digits[i]), let lo = nibble(digits[i + 1]) else { return nil }
            out.append(hi << 4 | lo)
            i += 2
        }
        return out
    }

    static func nibble(_ c: UInt8) -> UInt8? {
        switch c {
        case 0x30...0x39: c - 0x30
        case 0x61...0x66: c - 0x61 + 10
        case 0x41...0x46: c - 0x41 + 10
        default: nil
        }
    }
}
