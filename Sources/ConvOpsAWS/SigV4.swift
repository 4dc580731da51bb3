import Crypto
import Foundation
import Synchronization

/// AWS Signature Version 4 (header form), checked against the official AWS SigV4 test suite.
public struct SigV4: Sendable {
    public var credentials: AWSCredentials
    public var region: String
    /// The signing name: `ec2`, `sts`, `monitoring` for CloudWatch…
    public var service: String

    public init(credentials: AWSCredentials, region: String, service: String) {
        self.credentials = credentials
        self.region = region
        self.service = service
    }

    /// A request as the signer sees it. `path` and `query` may be raw or percent-encoded;
    /// both are decoded and re-encoded the canonical way.
    public struct Request: Sendable {
        public var method: String
        public var path: String
        public var query: String
        public var headers: [(name: String, value: String)]
        public var body: Data

        public init(method: String, path: String, query: String = "", headers: [(name: String, value: String)], body: Data = Data()) {
            self.method = method
            self.path = path
            self.query = query
            self.headers = headers
            self.body = body
        }
    }

    public enum TokenPlacement: Sendable {
        /// X-Amz-Security-Token is signed with the request (what the SDKs do).
        case signed
        /// The token is added after signing (a few services want that).
        case appended
    }

    /// The headers to add to the request: X-Amz-Date, X-Amz-Security-Token if any, Authorization.
    public func sign(_ request: Request, at date: Date, token: TokenPlacement = .signed) -> [(name: String, value: String)] {
        let stamp = Self.timestamp(date)
        // Replace, never duplicate, what signing sets: a duplicate would be signed as "a,b".
        var headers = request.headers.filter {
            let name = Self.lowercase($0.name)
            return name != "x-amz-date" && name != "x-amz-security-token" && name != "authorization"
        }
        headers.append(("X-Amz-Date", stamp))
        var added: [(name: String, value: String)] = [("X-Amz-Date", stamp)]
        if let session = credentials.sessionToken {
            if token == .signed { headers.append(("X-Amz-Security-Token", session)) }
            added.append(("X-Amz-Security-Token", session))
        }
        var signing = request
        signing.headers = headers
        added.append(("Authorization", authorization(for: signing, timestamp: stamp)))
        return added
    }

    public func authorization(for request: Request, timestamp: String) -> String {
        let (canonical, signedHeaders) = Self.canonicalRequest(request)
        let day = String(timestamp.prefix(8))
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let toSign = Self.stringToSign(canonical: canonical, timestamp: timestamp, scope: scope)
        let key = SigningKeys.shared.key(accessKeyID: credentials.accessKeyID, secret: credentials.secretAccessKey,
                                         day: day, region: region, service: service)
        let signature = Self.utf8Bytes(toSign) { HMAC<SHA256>.authenticationCode(for: $0, using: key) }.hex
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    public static func stringToSign(canonical: String, timestamp: String, scope: String) -> String {
        "AWS4-HMAC-SHA256\n\(timestamp)\n\(scope)\n\(utf8Bytes(canonical) { SHA256.hash(data: $0) }.hex)"
    }

    public static func canonicalRequest(_ request: Request) -> (request: String, signedHeaders: String) {
        // A handful of headers: a sorted array beats a dictionary. Repeated names join with ",".
        var merged: [(name: String, value: String)] = []
        merged.reserveCapacity(request.headers.count)
        for (name, value) in request.headers {
            let lower = lowercase(name), clean = normalizeHeaderValue(value)
            if let i = merged.firstIndex(where: { $0.name == lower }) { merged[i].value += "," + clean } else { merged.append((lower, clean)) }
        }
        merged.sort { $0.name < $1.name }
        var canonicalHeaders = ""
        for (name, value) in merged { canonicalHeaders += name; canonicalHeaders += ":"; canonicalHeaders += value; canonicalHeaders += "\n" }
        let signedHeaders = merged.map(\.name).joined(separator: ";")
        let payloadHash = request.body.withUnsafeBytes { SHA256.hash(data: $0) }.hex
        let text = [request.method.uppercased(), canonicalPath(request.path), canonicalQuery(request.query),
                    canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// Removes `.` and `..` segments and empty ones (repeated slashes), keeps a trailing slash,
    /// and encodes each segment. (S3 would skip normalization; we don't call S3.)
    static func canonicalPath(_ path: String) -> String {
        // Every call we make posts to "/": the common case needs no parsing.
        if path == "/" || path.isEmpty { return "/" }
        let segments = path.split(separator: "/", omittingEmptySubsequences: true)
        var out: [String] = []
        for raw in segments {
            let segment = String(raw).removingPercentEncoding ?? String(raw)
            switch segment {
            case ".": continue
            case "..": _ = out.popLast()
            default: out.append(uriEncode(segment))
            }
        }
        let trailing = path.hasSuffix("/") || path.hasSuffix("/.") || path.hasSuffix("/..")
        let joined = "/" + out.joined(separator: "/")
        return trailing && !out.isEmpty ? joined + "/" : joined
    }

    static func canonicalQuery(_ query: String) -> String {
        guard !query.isEmpty else { return "" }
        let pairs = query.split(separator: "&", omittingEmptySubsequences: true).map { pair -> (String, String) in
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = String(parts[0]).removingPercentEncoding ?? String(parts[0])
            let value = parts.count > 1 ? (String(parts[1]).removingPercentEncoding ?? String(parts[1])) : ""
            return (uriEncode(name), uriEncode(value))
        }
        return pairs.sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// Trims, folds continuation lines and collapses runs of spaces.
    static func normalizeHeaderValue(_ value: String) -> String {
        // Most values are already clean: no edge spaces, no runs, no line breaks.
        let bytes = value.utf8
        var clean = true
        var previousSpace = true
        for b in bytes {
            let space = b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D
            if (space && previousSpace) || b == 0x09 || b == 0x0A || b == 0x0D { clean = false; break }
            previousSpace = space
        }
        if clean && !previousSpace { return value }
        var out = ""
        var lastWasSpace = false
        for c in value.trimmingCharacters(in: .whitespacesAndNewlines) {
            if c == " " || c == "\t" || c == "\n" || c == "\r" {
                if !lastWasSpace { out.append(" ") }
                lastWasSpace = true
            } else {
                out.append(c)
                lastWasSpace = false
            }
        }
        return out
    }

    /// RFC 3986 encoding: everything but A–Z a–z 0–9 - _ . ~ as %XX of its UTF-8 bytes.
    public static func uriEncode(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for byte in s.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: "~"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            default:
                out += "%"
                out.unicodeScalars.append(hexDigit(byte >> 4))
                out.unicodeScalars.append(hexDigit(byte & 0xF))
            }
        }
        return out
    }

    private static func hexDigit(_ v: UInt8) -> Unicode.Scalar {
        Unicode.Scalar(v < 10 ? UInt8(ascii: "0") + v : UInt8(ascii: "A") + v - 10)
    }

    static func signingKey(secret: String, day: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Data("AWS4\(secret)".utf8))
        for part in [day, region, service, "aws4_request"] {
            key = SymmetricKey(data: Data(HMAC<SHA256>.authenticationCode(for: Data(part.utf8), using: key)))
        }
        return key
    }

    /// `20150830T123600Z`
    public static func timestamp(_ date: Date) -> String {
        var t = time_t(date.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&t, &parts)
        var out = [UInt8](repeating: 0, count: 16)
        func put(_ value: Int32, _ at: Int, _ width: Int) {
            var v = value
            for i in stride(from: at + width - 1, through: at, by: -1) {
                out[i] = UInt8(ascii: "0") + UInt8(v % 10)
                v /= 10
            }
        }
        put(parts.tm_year + 1900, 0, 4); put(parts.tm_mon + 1, 4, 2); put(parts.tm_mday, 6, 2)
        out[8] = UInt8(ascii: "T")
        put(parts.tm_hour, 9, 2); put(parts.tm_min, 11, 2); put(parts.tm_sec, 13, 2)
        out[15] = UInt8(ascii: "Z")
        return String(decoding: out, as: UTF8.self)
    }

    /// ASCII lowercasing (header names are ASCII); no allocation when already lowercase.
    static func lowercase(_ s: String) -> String {
        guard s.utf8.contains(where: { $0 >= 0x41 && $0 <= 0x5A }) else { return s }
        return String(decoding: s.utf8.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 }, as: UTF8.self)
    }
}

/// Derived signing keys, per access key, day, region and service: four HMACs saved on every
/// call but the first of the day. Held in memory only, like the credentials they come from.
final class SigningKeys: Sendable {
    static let shared = SigningKeys()
    private let keys = Mutex([String: [UInt8]]())

    func key(accessKeyID: String, secret: String, day: String, region: String, service: String) -> SymmetricKey {
        let id = "\(accessKeyID)/\(day)/\(region)/\(service)"
        if let bytes = keys.withLock({ $0[id] }) { return SymmetricKey(data: bytes) }
        let key = SigV4.signingKey(secret: secret, day: day, region: region, service: service)
        let bytes = key.withUnsafeBytes { Array($0) }
        keys.withLock { keys in
            if keys.count >= 256 { keys.removeAll() }
            keys[id] = bytes
        }
        return key
    }
}

extension SigV4 {
    /// Runs `body` over a string's UTF-8 bytes without copying them when it can.
    static func utf8Bytes<T>(_ s: String, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        var s = s
        return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}

/// Lowercase hex of raw bytes, written straight into the string's storage.
func hexString(_ bytes: UnsafeRawBufferPointer) -> String {
    let digits: StaticString = "0123456789abcdef"
    return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
        digits.withUTF8Buffer { d in
            for (i, byte) in bytes.enumerated() {
                out[2 * i] = d[Int(byte >> 4)]
                out[2 * i + 1] = d[Int(byte & 0xF)]
            }
        }
        return bytes.count * 2
    }
}

extension Sequence where Element == UInt8 {
    var hex: String { Array(self).withUnsafeBytes(hexString) }
}

extension Digest {
    var hex: String { withUnsafeBytes(hexString) }
}

extension HashedAuthenticationCode {
    var hex: String { withUnsafeBytes(hexString) }
}
