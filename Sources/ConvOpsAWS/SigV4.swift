import Crypto
import Foundation

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
            !["x-amz-date", "x-amz-security-token", "authorization"].contains($0.name.lowercased())
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
        let key = Self.signingKey(secret: credentials.secretAccessKey, day: day, region: region, service: service)
        let signature = HMAC<SHA256>.authenticationCode(for: Data(toSign.utf8), using: key).hex
        return "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    public static func stringToSign(canonical: String, timestamp: String, scope: String) -> String {
        "AWS4-HMAC-SHA256\n\(timestamp)\n\(scope)\n\(SHA256.hash(data: Data(canonical.utf8)).hex)"
    }

    public static func canonicalRequest(_ request: Request) -> (request: String, signedHeaders: String) {
        var merged: [String: [String]] = [:]
        for (name, value) in request.headers {
            merged[name.lowercased(), default: []].append(normalizeHeaderValue(value))
        }
        let names = merged.keys.sorted()
        let canonicalHeaders = names.map { "\($0):\(merged[$0]!.joined(separator: ","))\n" }.joined()
        let signedHeaders = names.joined(separator: ";")
        let payloadHash = SHA256.hash(data: request.body).hex
        let text = [request.method.uppercased(), canonicalPath(request.path), canonicalQuery(request.query),
                    canonicalHeaders, signedHeaders, payloadHash].joined(separator: "\n")
        return (text, signedHeaders)
    }

    /// Removes `.` and `..` segments and empty ones (repeated slashes), keeps a trailing slash,
    /// and encodes each segment. (S3 would skip normalization; we don't call S3.)
    static func canonicalPath(_ path: String) -> String {
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
        return String(format: "%04d%02d%02dT%02d%02d%02dZ", parts.tm_year + 1900, parts.tm_mon + 1, parts.tm_mday,
                      parts.tm_hour, parts.tm_min, parts.tm_sec)
    }
}

extension Sequence where Element == UInt8 {
    var hex: String {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}

extension Digest {
    var hex: String { Array(self).hex }
}

extension HashedAuthenticationCode {
    var hex: String { Array(self).hex }
}
