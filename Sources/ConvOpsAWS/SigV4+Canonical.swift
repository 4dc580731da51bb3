import Crypto
import Foundation

/// The canonical request of SigV4: method, path, query, headers, signed header names and the
/// payload's hash, each on its own line, written into one buffer sized in advance.
enum CanonicalRequest {
    /// Calls `body` with the canonical request's bytes and where the signed header names
    /// (`host;x-amz-date`) stand in them; the Authorization header repeats those.
    static func withBytes<T>(_ request: SigV4.Request, _ body: (UnsafeBufferPointer<UInt8>, Range<Int>) -> T) -> T {
        let path = SigV4.canonicalPath(request.path)
        let query = SigV4.canonicalQuery(request.query)
        // Each header at most as long as given, plus ":" and "\n"; its name again in the signed
        // list with ";" (merged duplicates only shorten it).
        var bound = request.method.utf8.count + path.utf8.count + query.utf8.count + 64 + 8
        for (name, value) in request.headers { bound += 2 * name.utf8.count + value.utf8.count + 3 }
        return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: bound) { buffer in
            var w = ByteWriter(buffer)
            for b in request.method.utf8 { w.byte(b >= 0x61 && b <= 0x7A ? b - 0x20 : b) }
            w.byte(0x0A)
            w.bytes(path)
            w.byte(0x0A)
            w.bytes(query)
            w.byte(0x0A)
            let signed = writeHeaders(request.headers, into: &w)
            w.byte(0x0A)
            request.body.withUnsafeBytes { payload in
                if payload.isEmpty {
                    w.bytes(emptyPayloadHash)
                } else {
                    SHA256.hash(data: payload).withUnsafeBytes { w.hex($0) }
                }
            }
            return body(w.written, signed)
        }
    }

    /// `name:value\n` for each header, lowercase names in order; repeated names join their
    /// values with "," in the order given. Then the names alone, joined with ";".
    private static func writeHeaders(_ headers: [(name: String, value: String)], into w: inout ByteWriter) -> Range<Int> {
        withUnsafeTemporaryAllocation(of: Int.self, capacity: headers.count) { order in
            // A handful of headers: insertion sort of their indices; equal names keep their order.
            for i in 0..<headers.count {
                var j = i
                while j > 0, compareIgnoringASCIICase(headers[order[j - 1]].name, headers[i].name) > 0 {
                    order[j] = order[j - 1]
                    j -= 1
                }
                order[j] = i
            }
            var i = 0
            var distinct = 0
            while i < headers.count {
                let first = order[i]
                order[distinct] = first // reuses the slots already read: distinct <= i
                distinct += 1
                w.lowercased(headers[first].name)
                w.byte(UInt8(ascii: ":"))
                w.headerValue(headers[first].value)
                i += 1
                while i < headers.count, compareIgnoringASCIICase(headers[order[i]].name, headers[first].name) == 0 {
                    w.byte(UInt8(ascii: ","))
                    w.headerValue(headers[order[i]].value)
                    i += 1
                }
                w.byte(0x0A)
            }
            w.byte(0x0A)
            let start = w.count
            for n in 0..<distinct {
                if n > 0 { w.byte(UInt8(ascii: ";")) }
                w.lowercased(headers[order[n]].name)
            }
            return start..<w.count
        }
    }

    /// Byte order of the lowercased names: negative, zero or positive.
    static func compareIgnoringASCIICase(_ a: String, _ b: String) -> Int {
        func compare(_ x: UnsafeBufferPointer<UInt8>, _ y: UnsafeBufferPointer<UInt8>) -> Int {
            for i in 0..<min(x.count, y.count) {
                let p = SigV4.lower(x[i]), q = SigV4.lower(y[i])
                if p != q { return p < q ? -1 : 1 }
            }
            return x.count == y.count ? 0 : (x.count < y.count ? -1 : 1)
        }
        let fast = a.utf8.withContiguousStorageIfAvailable { x in b.utf8.withContiguousStorageIfAvailable { y in compare(x, y) } }
        if let result = fast ?? nil { return result }
        return Array(a.utf8).withUnsafeBufferPointer { x in Array(b.utf8).withUnsafeBufferPointer { y in compare(x, y) } }
    }

    /// SHA-256 of no bytes, the payload hash of every empty body.
    static let emptyPayloadHash: StaticString = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
}
