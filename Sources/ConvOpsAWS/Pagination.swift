/// Follows an AWS pagination token with a bound: a service (or something posing as one) that
/// keeps answering with a token, or hands back one it already gave, ends the walk with an error
/// instead of looping forever.
struct PageWalk {
    /// More than any account of ours lists (1,000 pages of up to 1,000 items).
    static let maxPages = 1_000

    let operation: String
    private var pages = 0
    private var seen = Set<String>()

    init(_ operation: String) { self.operation = operation }

    /// The token to ask for next, or nil when the listing is complete.
    mutating func next(_ token: String?) throws(AWSError) -> String? {
        pages += 1
        guard let token, !token.isEmpty else { return nil }
        guard pages < Self.maxPages else {
            throw AWSError(kind: .malformedResponse, operation: operation, code: "",
                           message: "the listing went on past \(Self.maxPages) pages; stopped reading it")
        }
        guard seen.insert(token).inserted else {
            throw AWSError(kind: .malformedResponse, operation: operation, code: "",
                           message: "the same page token came back twice; stopped reading the listing")
        }
        return token
    }
}
