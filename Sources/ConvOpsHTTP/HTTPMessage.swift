import Foundation

public enum HTTPMethod: String, Sendable, Hashable {
    case get = "GET", post = "POST", put = "PUT", delete = "DELETE", patch = "PATCH", head = "HEAD"
}

public struct HTTPRequest: Sendable {
    public var method: HTTPMethod
    public var url: String
    /// In order; names keep the case given. Never log these: they carry tokens and signatures.
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// Overrides the client's total timeout for this request (a long poll needs more).
    public var timeout: Duration?

    public init(method: HTTPMethod = .get, url: String, headers: [(name: String, value: String)] = [],
                body: Data = Data(), timeout: Duration? = nil) {
        self.method = method
        self.url = url
        self.headers = headers
        self.body = body
        self.timeout = timeout
    }
}

public struct HTTPResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: Data
    /// Whether the request went over a connection kept alive from an earlier one.
    public var reusedConnection: Bool

    public init(status: Int, headers: [(name: String, value: String)], body: Data, reusedConnection: Bool = false) {
        self.status = status
        self.headers = headers
        self.body = body
        self.reusedConnection = reusedConnection
    }

    /// The first header with this name, compared without case.
    public func header(_ name: String) -> String? {
        headers.first { $0.name.caseInsensitiveCompare(name) == .orderedSame }?.value
    }

    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}
