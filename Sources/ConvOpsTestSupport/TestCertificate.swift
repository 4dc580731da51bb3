import Foundation

/// A throwaway self-signed certificate for loopback TLS servers, made with the openssl CLI.
public struct TestCertificate: Sendable {
    public var certificatePath: String
    public var privateKeyPath: String

    public static func make(in directory: String) throws -> TestCertificate {
        let cert = (directory as NSString).appendingPathComponent("cert.pem")
        let key = (directory as NSString).appendingPathComponent("key.pem")
        let result = try Subprocess.runBlocking("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert,
            "-days", "1", "-subj", "/CN=localhost",
        ])
        guard result.status == 0 else {
            throw TestSupportError("openssl could not make a test certificate: \(result.stderr)")
        }
        return TestCertificate(certificatePath: cert, privateKeyPath: key)
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A fresh directory under the system temp folder, removed by the caller.
public func makeTemporaryDirectory(_ prefix: String = "convops-test") throws -> String {
    let path = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(prefix)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
