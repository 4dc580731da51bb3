@testable import ConvOpsAWS
import Crypto
import Foundation
import Testing

/// The official AWS SigV4 test suite (Fixtures/sigv4, copied from botocore's
/// tests/unit/auth/aws4_testsuite; see Fixtures/sigv4/SOURCES.md). Every case runs; none is skipped.
struct SigV4Case: CustomTestStringConvertible, Sendable {
    var name: String
    var directory: URL

    var testDescription: String { name }

    static let root = Bundle.module.resourceURL!.appendingPathComponent("Fixtures/sigv4")

    static func all() -> [SigV4Case] {
        let enumerator = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
        var cases: [SigV4Case] = []
        for case let url as URL in enumerator where url.pathExtension == "req" {
            let dir = url.deletingLastPathComponent()
            let relative = dir.path.replacingOccurrences(of: root.path + "/", with: "")
            cases.append(SigV4Case(name: relative, directory: dir))
        }
        return cases.sorted { $0.name < $1.name }
    }

    func file(_ ext: String) throws -> String {
        let base = directory.lastPathComponent
        return try String(contentsOf: directory.appendingPathComponent("\(base).\(ext)"), encoding: .utf8)
    }

    /// Parses the suite's raw request: request line, `Name:value` headers (continuation lines
    /// start with white space), a blank line, then the body.
    func request() throws -> SigV4.Request {
        let text = try file("req")
        var lines = text.components(separatedBy: "\n")
        let requestLine = lines.removeFirst()
        let method = String(requestLine.prefix { $0 != " " })
        let target = String(requestLine.dropFirst(method.count + 1).dropLast(" HTTP/1.1".count))
        let (path, query) = target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[target.index(after: $0)...])) } ?? (target, "")
        var headers: [(name: String, value: String)] = []
        var body = ""
        while !lines.isEmpty {
            let line = lines.removeFirst()
            if line.isEmpty { body = lines.joined(separator: "\n"); break }
            if line.first == " " || line.first == "\t" {
                headers[headers.count - 1].value += "\n" + line
            } else if let colon = line.firstIndex(of: ":") {
                headers.append((String(line[..<colon]), String(line[line.index(after: colon)...])))
            }
        }
        return SigV4.Request(method: method, path: path, query: query, headers: headers, body: Data(body.utf8))
    }
}

@Suite struct SigV4SuiteTests {
    static let credentials = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let timestamp = "20150830T123600Z"

    @Test func theSuiteIsComplete() {
        // SOURCES.md: 34 folders with a .req; guard against a copy that lost some.
        #expect(SigV4Case.all().count == 34)
    }

    @Test(arguments: SigV4Case.all())
    func canonicalRequestStringToSignAndAuthorization(_ c: SigV4Case) throws {
        var request = try c.request()
        let expectedCanonical = try c.file("creq")
        // Cases with a session token carry it in the canonical request: sign it as a header.
        if let tokenLine = expectedCanonical.components(separatedBy: "\n").first(where: { $0.hasPrefix("x-amz-security-token:") }),
           !request.headers.contains(where: { $0.name.lowercased() == "x-amz-security-token" }) {
            request.headers.append(("X-Amz-Security-Token", String(tokenLine.dropFirst("x-amz-security-token:".count))))
        }
        let (canonical, _) = SigV4.canonicalRequest(request)
        #expect(canonical == expectedCanonical)
        let scope = "20150830/us-east-1/service/aws4_request"
        #expect(SigV4.stringToSign(canonical: canonical, timestamp: Self.timestamp, scope: scope) == (try c.file("sts")))
        let signer = SigV4(credentials: Self.credentials, region: "us-east-1", service: "service")
        #expect(signer.authorization(for: request, timestamp: Self.timestamp) == (try c.file("authz")))
    }

    /// post-sts-header-after: the token is added after signing, so it is not in the signature.
    @Test func tokenAppendedAfterSigning() throws {
        let c = SigV4Case.all().first { $0.name.hasSuffix("post-sts-header-after") }!
        let token = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        var credentials = Self.credentials
        credentials.sessionToken = token
        let signer = SigV4(credentials: credentials, region: "us-east-1", service: "service")
        let date = Date(timeIntervalSince1970: 1_440_938_160) // 2015-08-30T12:36:00Z
        let added = signer.sign(try c.request(), at: date, token: .appended)
        #expect(added.first { $0.name == "Authorization" }?.value == (try c.file("authz")))
        #expect(added.first { $0.name == "X-Amz-Security-Token" }?.value == token)
    }

    @Test func signAddsDateTokenAndAuthorization() throws {
        let c = SigV4Case.all().first { $0.name.hasSuffix("post-sts-header-before") }!
        var request = try c.request()
        request.headers.removeAll { $0.name.lowercased() == "x-amz-date" }
        let token = String(try c.file("creq").components(separatedBy: "\n")
            .first { $0.hasPrefix("x-amz-security-token:") }!.dropFirst("x-amz-security-token:".count))
        var credentials = Self.credentials
        credentials.sessionToken = token
        let signer = SigV4(credentials: credentials, region: "us-east-1", service: "service")
        let added = signer.sign(request, at: Date(timeIntervalSince1970: 1_440_938_160))
        #expect(added.map(\.name) == ["X-Amz-Date", "X-Amz-Security-Token", "Authorization"])
        #expect(added[0].value == "20150830T123600Z")
        #expect(added[2].value == (try c.file("authz")))
    }

    /// The signer's HMAC keeps the key's pads hashed; it must agree with swift-crypto's own
    /// HMAC for keys shorter than, as long as, and longer than a block, and any message length.
    @Test func keyedHMACAgreesWithSwiftCrypto() {
        var rng = SystemRandomNumberGenerator()
        for keyLength in [0, 1, 32, 63, 64, 65, 200] {
            let key = SymmetricKey(data: (0..<keyLength).map { _ in UInt8.random(in: 0...255, using: &rng) })
            let keyed = KeyedHMAC(key: key)
            for messageLength in [0, 1, 55, 56, 64, 119, 1000] {
                let message = (0..<messageLength).map { _ in UInt8.random(in: 0...255, using: &rng) }
                let ours = message.withUnsafeBytes { keyed.authenticationCode(for: $0) }
                let theirs = HMAC<SHA256>.authenticationCode(for: message, using: key)
                #expect(Array(ours) == Array(theirs), "key \(keyLength) bytes, message \(messageLength) bytes")
            }
        }
    }

    /// One key, signed from many threads at once: the cached keyed state is shared safely.
    @Test func concurrentSignaturesAgree() async throws {
        let c = SigV4Case.all().first { $0.name.hasSuffix("post-vanilla") }!
        let request = try c.request()
        let signer = SigV4(credentials: Self.credentials, region: "us-east-1", service: "service")
        let expected = try c.file("authz")
        let results = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask { (0..<500).allSatisfy { _ in signer.authorization(for: request, timestamp: Self.timestamp) == expected } }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(results == Array(repeating: true, count: 8))
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let c = AWSCredentials(accessKeyID: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: "tok")
        let text = "\(c) \(String(reflecting: c))"
        #expect(!text.contains("wJalr"))
        #expect(!text.contains("tok\""))
    }
}
