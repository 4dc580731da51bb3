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
        var signing = request
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(request.headers.count + 2)
        for header in request.headers where !Self.isSetBySigning(header.name) { headers.append(header) }
        headers.append(("X-Amz-Date", stamp))
        signing.headers = headers
        var added: [(name: String, value: String)] = [("X-Amz-Date", stamp)]
        if let session = credentials.sessionToken {
            if token == .signed { signing.headers.append(("X-Amz-Security-Token", session)) } // capacity reserved above
            added.append(("X-Amz-Security-Token", session))
        }
        added.append(("Authorization", authorization(for: signing, timestamp: stamp)))
        return added
    }

    /// X-Amz-Date, X-Amz-Security-Token and Authorization, in any case, compared without allocating.
    static func isSetBySigning(_ name: String) -> Bool {
        equalIgnoringASCIICase(name, "x-amz-date") || equalIgnoringASCIICase(name, "x-amz-security-token")
            || equalIgnoringASCIICase(name, "authorization")
    }

    /// The Authorization header's value. Everything on the way is written as bytes into memory
    /// sized in advance: the canonical request, the string to sign and the header itself.
    public func authorization(for request: Request, timestamp: String) -> String {
        let key = SigningKeys.shared.key(accessKeyID: credentials.accessKeyID, secret: credentials.secretAccessKey,
                                         day: String(timestamp.prefix(8)), region: region, service: service)
        return CanonicalRequest.withBytes(request) { canonical, signed in
            let hash = SHA256.hash(data: UnsafeRawBufferPointer(canonical))
            let scopeLength = 8 + 1 + region.utf8.count + 1 + service.utf8.count + 13
            let mac = Self.withStringToSign(hash: hash, timestamp: timestamp, day: timestamp.utf8.prefix(8), region: region, service: service) {
                key.authenticationCode(for: UnsafeRawBufferPointer($0))
            }
            let length = 28 + credentials.accessKeyID.utf8.count + 1 + scopeLength + 16 + signed.count + 12 + 64
            return String(unsafeUninitializedCapacity: length) { out in
                var w = ByteWriter(out)
                w.bytes("AWS4-HMAC-SHA256 Credential=" as StaticString)
                w.bytes(credentials.accessKeyID)
                w.byte(UInt8(ascii: "/"))
                Self.writeScope(day: timestamp.utf8.prefix(8), region: region, service: service, into: &w)
                w.bytes(", SignedHeaders=" as StaticString)
                w.bytes(UnsafeBufferPointer(rebasing: canonical[signed]))
                w.bytes(", Signature=" as StaticString)
                mac.withUnsafeBytes { w.hex($0) }
                return w.count
            }
        }
    }

    /// `20150830/us-east-1/service/aws4_request`
    static func writeScope(day: Substring.UTF8View, region: String, service: String, into w: inout ByteWriter) {
        for b in day { w.byte(b) }
        w.byte(UInt8(ascii: "/"))
        w.bytes(region)
        w.byte(UInt8(ascii: "/"))
        w.bytes(service)
        w.bytes("/aws4_request" as StaticString)
    }

    /// Calls `body` with `AWS4-HMAC-SHA256\n<timestamp>\n<scope>\n<hex of the canonical request's hash>`.
    static func withStringToSign<T>(hash: SHA256.Digest, timestamp: String, day: Substring.UTF8View, region: String, service: String,
                                    _ body: (UnsafeBufferPointer<UInt8>) -> T) -> T {
        let scopeLength = day.count + 1 + region.utf8.count + 1 + service.utf8.count + 13
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 17 + timestamp.utf8.count + 1 + scopeLength + 1 + 64) { buffer in
            var w = ByteWriter(buffer)
            w.bytes("AWS4-HMAC-SHA256\n" as StaticString)
            w.bytes(timestamp)
            w.byte(0x0A)
            writeScope(day: day, region: region, service: service, into: &w)
            w.byte(0x0A)
            hash.withUnsafeBytes { w.hex($0) }
            return body(w.written)
        }
    }

    /// The string to sign for a canonical request and scope (the suite's `.sts` files).
    public static func stringToSign(canonical: String, timestamp: String, scope: String) -> String {
        let parts = scope.split(separator: "/", omittingEmptySubsequences: false)
        precondition(parts.count == 4 && parts[3] == "aws4_request", "scope is DAY/REGION/SERVICE/aws4_request")
        let hash = utf8Bytes(canonical) { SHA256.hash(data: $0) }
        return withStringToSign(hash: hash, timestamp: timestamp, day: parts[0].utf8, region: String(parts[1]), service: String(parts[2])) {
            String(decoding: $0, as: UTF8.self)
        }
    }

    public static func canonicalRequest(_ request: Request) -> (request: String, signedHeaders: String) {
        CanonicalRequest.withBytes(request) { bytes, signed in
            (String(decoding: bytes, as: UTF8.self), String(decoding: UnsafeBufferPointer(rebasing: bytes[signed]), as: UTF8.self))
        }
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
                out.append(contentsOf: "%")
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
        return String(unsafeUninitializedCapacity: 16) { out in
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
            return 16
        }
    }

    /// ASCII case-insensitive equality (header names are ASCII), without allocating.
    static func equalIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        a.utf8.count == b.utf8.count && CanonicalRequest.compareIgnoringASCIICase(a, b) == 0
    }

    @inline(__always) static func lower(_ b: UInt8) -> UInt8 { b >= 0x41 && b <= 0x5A ? b | 0x20 : b }
}

extension SigV4 {
    /// Runs `body` over a string's UTF-8 bytes without copying them when it can.
    static func utf8Bytes<T>(_ s: String, _ body: (UnsafeRawBufferPointer) -> T) -> T {
        var s = s
        return s.withUTF8 { body(UnsafeRawBufferPointer($0)) }
    }
}
