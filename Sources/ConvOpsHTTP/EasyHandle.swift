import CCurl
import Foundation

/// Owns one `CURL*` easy handle. Not Sendable: the client lends it to one transfer at a time.
/// Reusing a handle (after `curl_easy_reset`) keeps its connection cache, so keep-alive works.
final class EasyHandle {
    let raw: UnsafeMutableRawPointer
    /// libcurl writes its detailed error text here.
    private var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)

    init?() {
        guard let handle = curl_easy_init() else { return nil }
        raw = handle
    }

    deinit { curl_easy_cleanup(raw) }

    func reset() {
        curl_easy_reset(raw)
        errorBuffer.withUnsafeMutableBufferPointer { $0[0] = 0 }
    }

    func set(_ option: CURLoption, _ value: Int) throws(CurlFailure) {
        try check(convops_curl_setopt_long(raw, option, value), "setopt \(option.rawValue)")
    }

    func set(_ option: CURLoption, _ value: String) throws(CurlFailure) {
        try check(value.withCString { convops_curl_setopt_string(raw, option, $0) }, "setopt \(option.rawValue)")
    }

    func set(_ option: CURLoption, pointer: UnsafeMutableRawPointer?) throws(CurlFailure) {
        try check(convops_curl_setopt_pointer(raw, option, pointer), "setopt \(option.rawValue)")
    }

    func set(_ option: CURLoption, list: UnsafeMutablePointer<curl_slist>?) throws(CurlFailure) {
        try check(convops_curl_setopt_slist(raw, option, list), "setopt \(option.rawValue)")
    }

    func set(_ option: CURLoption, callback: convops_curl_data_cb) throws(CurlFailure) {
        try check(convops_curl_setopt_datacb(raw, option, callback), "setopt \(option.rawValue)")
    }

    func set(_ option: CURLoption, progress: convops_curl_xferinfo_cb) throws(CurlFailure) {
        try check(convops_curl_setopt_xferinfocb(raw, option, progress), "setopt \(option.rawValue)")
    }

    /// Sets the request body; libcurl copies the bytes (CURLOPT_COPYPOSTFIELDS).
    func setBody(_ body: Data) throws(CurlFailure) {
        try set(CURLOPT_POSTFIELDSIZE, body.count)
        let code = body.withUnsafeBytes { bytes in
            convops_curl_setopt_pointer(raw, CURLOPT_COPYPOSTFIELDS,
                                        UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(("" as StaticString).utf8Start)))
        }
        try check(code, "setopt COPYPOSTFIELDS")
    }

    /// Points libcurl's error buffer at ours; the buffer lives as long as the handle.
    func attachErrorBuffer() throws(CurlFailure) {
        let pointer = errorBuffer.withUnsafeMutableBufferPointer { UnsafeMutableRawPointer($0.baseAddress!) }
        try set(CURLOPT_ERRORBUFFER, pointer: pointer)
    }

    func perform() -> CURLcode { curl_easy_perform(raw) }

    func responseCode() -> Int {
        var code = 0
        _ = convops_curl_getinfo_long(raw, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    /// How many new connections the last transfer opened (0: it reused one).
    func newConnections() -> Int {
        var count = 0
        _ = convops_curl_getinfo_long(raw, CURLINFO_NUM_CONNECTS, &count)
        return count
    }

    /// libcurl's message for a failed transfer: the detailed buffer if set, else the generic text.
    func message(for code: CURLcode) -> String {
        let detail = errorBuffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        let generic = String(cString: curl_easy_strerror(code))
        return detail.isEmpty ? "\(generic) (curl \(code.rawValue))" : "\(detail) (curl \(code.rawValue))"
    }

    /// The one place a CURLcode from setup becomes an error.
    private func check(_ code: CURLcode, _ operation: String) throws(CurlFailure) {
        guard code == CURLE_OK else {
            throw CurlFailure(code: code, operation: operation, message: String(cString: curl_easy_strerror(code)))
        }
    }
}

/// A libcurl call that failed while setting a transfer up (before any network I/O).
struct CurlFailure: Error {
    var code: CURLcode
    var operation: String
    var message: String
}

/// `curl_global_init` must run once, before any other thread uses libcurl.
enum CurlGlobal {
    /// curl_global_init, once, before any other thread uses libcurl or OpenSSL.
    static let initialized: Bool = {
        curl_global_init(Int(CURL_GLOBAL_DEFAULT)) == CURLE_OK
    }()
}
