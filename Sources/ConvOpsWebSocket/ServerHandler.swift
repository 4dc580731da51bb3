import CWebSockets
import Foundation

/// One HTTP transaction in flight on the loop thread.
final class HTTPExchange {
    let id: Int
    var request: HTTPServerRequest
    var response: HTTPServerResponse?
    var headersSent = false
    var wsi: OpaquePointer?

    init(id: Int, request: HTTPServerRequest) {
        self.id = id
        self.request = request
    }
}

/// Loop-thread side of the server. `@unchecked Sendable`: handlers run in tasks and come back
/// to it only through `loop.enqueue`.
final class ServerHandler: ServiceLoopDelegate, @unchecked Sendable {
    let table: ConnectionTable
    let http: WebServer.HTTPHandler
    let webSocket: WebServer.WebSocketHandler
    let customHeaders: [String]
    let immediateReply: (@Sendable (UnsafeRawBufferPointer) -> [UInt8]?)?
    var immediateHTTP: WebServer.ImmediateHTTPHandler?
    private var exchanges: [Int: HTTPExchange] = [:]
    private var nextExchange = 1 << 40 // apart from connection ids, which share opaque_user_data

    let maxBodyBytes: Int

    init(table: ConnectionTable, http: @escaping WebServer.HTTPHandler, webSocket: @escaping WebServer.WebSocketHandler,
         customHeaders: [String], immediateReply: (@Sendable (UnsafeRawBufferPointer) -> [UInt8]?)?, maxBodyBytes: Int) {
        self.maxBodyBytes = maxBodyBytes
        self.immediateReply = immediateReply
        self.table = table
        self.http = http
        self.webSocket = webSocket
        self.customHeaders = customHeaders
    }

    func callback(_ wsi: OpaquePointer, _ reason: lws_callback_reasons, _ user: UnsafeMutableRawPointer?,
                  _ input: UnsafeMutableRawPointer?, _ length: Int) -> Int32 {
        switch reason {
        case LWS_CALLBACK_HTTP:
            let path = input.map { String(cString: $0.assumingMemoryBound(to: CChar.self)) } ?? "/"
            let exchange = HTTPExchange(id: nextExchange, request: readRequest(wsi, path: path))
            nextExchange += 1
            exchange.wsi = wsi
            exchanges[exchange.id] = exchange
            lws_set_opaque_user_data(wsi, ConnectionTable.tag(exchange.id))
            let contentLength = Int(header(wsi, WSI_TOKEN_HTTP_CONTENT_LENGTH) ?? "0") ?? 0
            if contentLength > maxBodyBytes { return refuseTooLarge(wsi, exchange) }
            if contentLength == 0 { dispatch(exchange) }
            return 0
        case LWS_CALLBACK_HTTP_BODY:
            if let exchange = exchange(for: wsi), let input, length > 0 {
                // A body longer than its Content-Length said (or sent without one) is cut off too.
                if exchange.request.body.count + length > maxBodyBytes { return refuseTooLarge(wsi, exchange) }
                exchange.request.body.append(UnsafeRawPointer(input).assumingMemoryBound(to: UInt8.self), count: length)
            }
            return 0
        case LWS_CALLBACK_HTTP_BODY_COMPLETION:
            if let exchange = exchange(for: wsi) { dispatch(exchange) }
            return 0
        case LWS_CALLBACK_HTTP_WRITEABLE:
            guard let exchange = exchange(for: wsi), let response = exchange.response else { return 0 }
            return writeResponse(wsi, exchange, response)
        case LWS_CALLBACK_CLOSED_HTTP:
            if let exchange = exchange(for: wsi) {
                exchange.wsi = nil
                exchanges[exchange.id] = nil
            }
            return 0

        case LWS_CALLBACK_ESTABLISHED:
            let (events, continuation) = AsyncStream.makeStream(of: WebSocketEvent.self, bufferingPolicy: .unbounded)
            let state = table.register(continuation: continuation)
            state.immediateReply = immediateReply
            lws_set_opaque_user_data(wsi, ConnectionTable.tag(state.id))
            table.established(wsi, state)
            var path = header(wsi, WSI_TOKEN_GET_URI) ?? "/"
            let args = queryFragments(wsi)
            if !args.isEmpty { path += "?" + args.joined(separator: "&") }
            let connection = WebSocketConnection(id: state.id, path: path, events: events, table: table)
            let handler = webSocket
            Task { await handler(connection) }
            return 0
        case LWS_CALLBACK_RECEIVE:
            if let state = table.state(for: wsi) { return table.receive(wsi, state, input, length) }
            return 0
        case LWS_CALLBACK_RECEIVE_PONG:
            table.state(for: wsi)?.continuation.yield(.pong)
            return 0
        case LWS_CALLBACK_SERVER_WRITEABLE:
            if let state = table.state(for: wsi) { return table.writable(wsi, state) }
            return 0
        case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
            if let state = table.state(for: wsi) { table.peerInitiatedClose(state, input, length) }
            return 0
        case LWS_CALLBACK_CLOSED:
            if let state = table.state(for: wsi) { table.closed(state) }
            return 0
        default:
            return lws_callback_http_dummy(wsi, reason, user, input, length)
        }
    }

    /// 413 and the connection closed: nothing of the body reaches a handler.
    private func refuseTooLarge(_ wsi: OpaquePointer, _ exchange: HTTPExchange) -> Int32 {
        exchanges[exchange.id] = nil
        lws_set_opaque_user_data(wsi, nil)
        _ = lws_return_http_status(wsi, UInt32(HTTP_STATUS_REQ_ENTITY_TOO_LARGE.rawValue), nil)
        return -1
    }

    private func exchange(for wsi: OpaquePointer) -> HTTPExchange? {
        guard let raw = lws_get_opaque_user_data(wsi) else { return nil }
        return exchanges[Int(bitPattern: raw)]
    }

    private func dispatch(_ exchange: HTTPExchange) {
        let request = exchange.request
        if let immediateHTTP, let wsi = exchange.wsi {
            exchange.response = immediateHTTP(request)
            lws_callback_on_writable(wsi)
            return
        }
        let id = exchange.id
        let handler = http
        let loop = table.loop
        Task {
            let response = await handler(request)
            loop.enqueue { [self] in
                // A retired server's vhost is gone, and with it every wsi an exchange still holds
                // (its close callbacks never reach us: the delegate is detached first). A
                // response that comes back after that has nowhere to go.
                guard !table.closed else { exchanges.removeAll(); return }
                guard let exchange = exchanges[id], let wsi = exchange.wsi else { return } // client went away
                exchange.response = response
                lws_callback_on_writable(wsi)
            }
        }
    }

    private func writeResponse(_ wsi: OpaquePointer, _ exchange: HTTPExchange, _ response: HTTPServerResponse) -> Int32 {
        if !exchange.headersSent {
            exchange.headersSent = true
            var buffer = [UInt8](repeating: 0, count: convops_lws_pre + 8192)
            let ok = buffer.withUnsafeMutableBufferPointer { b -> Bool in
                let start = b.baseAddress! + convops_lws_pre
                let end = b.baseAddress! + b.count
                var p: UnsafeMutablePointer<UInt8>? = start
                let contentType = response.headers.first { $0.name.lowercased() == "content-type" }?.value ?? "application/octet-stream"
                if lws_add_http_common_headers(wsi, UInt32(response.status), contentType, lws_filepos_t(response.body.count), &p, end) != 0 {
                    return false
                }
                for (name, value) in response.headers where name.lowercased() != "content-type" {
                    let headerName = name.lowercased() + ":"
                    let added = headerName.withCString { n in
                        value.withCString { v in
                            lws_add_http_header_by_name(wsi, UnsafeRawPointer(n).assumingMemoryBound(to: UInt8.self),
                                                        UnsafeRawPointer(v).assumingMemoryBound(to: UInt8.self),
                                                        Int32(strlen(v)), &p, end)
                        }
                    }
                    if added != 0 { return false }
                }
                return lws_finalize_write_http_header(wsi, start, &p, end) == 0
            }
            if !ok { return -1 }
            if response.body.isEmpty {
                return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
            }
            lws_callback_on_writable(wsi)
            return 0
        }
        var buffer = [UInt8](repeating: 0, count: convops_lws_pre + response.body.count)
        buffer.replaceSubrange(convops_lws_pre..., with: response.body)
        let written = buffer.withUnsafeMutableBufferPointer { b in
            lws_write(wsi, b.baseAddress! + convops_lws_pre, response.body.count, LWS_WRITE_HTTP_FINAL)
        }
        if written < 0 { return -1 }
        exchange.response = nil
        exchange.headersSent = false
        return lws_http_transaction_completed(wsi) != 0 ? -1 : 0
    }

    private func readRequest(_ wsi: OpaquePointer, path: String) -> HTTPServerRequest {
        let methods: [(lws_token_indexes, String)] = [
            (WSI_TOKEN_GET_URI, "GET"), (WSI_TOKEN_POST_URI, "POST"), (WSI_TOKEN_PUT_URI, "PUT"),
            (WSI_TOKEN_DELETE_URI, "DELETE"), (WSI_TOKEN_PATCH_URI, "PATCH"), (WSI_TOKEN_HEAD_URI, "HEAD"),
        ]
        let method = methods.first(where: { lws_hdr_total_length(wsi, $0.0) > 0 }).map(\.1) ?? "GET"
        var headers: [String: String] = [:]
        for index in 0..<Int(WSI_TOKEN_COUNT.rawValue) {
            let token = lws_token_indexes(rawValue: UInt32(index))
            guard let namePointer = lws_token_to_string(token) else { continue }
            var name = String(cString: namePointer).lowercased()
            guard name.hasSuffix(":"), !name.hasPrefix(":") else { continue }
            name.removeLast()
            if let value = header(wsi, token) { headers[name] = value }
        }
        for name in customHeaders {
            let key = name.lowercased() + ":"
            let length = key.withCString { lws_hdr_custom_length(wsi, $0, Int32(strlen($0))) }
            guard length > 0 else { continue }
            var buffer = [CChar](repeating: 0, count: Int(length) + 1)
            let copied = key.withCString { k in
                buffer.withUnsafeMutableBufferPointer { lws_hdr_custom_copy(wsi, $0.baseAddress, Int32($0.count), k, Int32(strlen(k))) }
            }
            if copied >= 0 { headers[name.lowercased()] = cString(buffer) }
        }
        let query = queryFragments(wsi).map(Self.formPair)
        return HTTPServerRequest(method: method, path: path, query: query, headers: headers, body: Data())
    }

    static func formPair(_ fragment: String) -> (String, String) {
        let parts = fragment.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        return (formDecode(parts.first ?? ""), parts.count > 1 ? formDecode(parts[1]) : "")
    }

    static func formDecode(_ s: String) -> String {
        let spaced = s.replacingOccurrences(of: "+", with: " ")
        return spaced.removingPercentEncoding ?? spaced
    }

    private func header(_ wsi: OpaquePointer, _ token: lws_token_indexes) -> String? {
        let length = lws_hdr_total_length(wsi, token)
        guard length > 0 else { return nil }
        var buffer = [CChar](repeating: 0, count: Int(length) + 1)
        let copied = buffer.withUnsafeMutableBufferPointer { lws_hdr_copy(wsi, $0.baseAddress, Int32($0.count), token) }
        return copied < 0 ? nil : cString(buffer)
    }

    /// The raw `name=value` fragments of the query string (lws splits on '&').
    private func queryFragments(_ wsi: OpaquePointer) -> [String] {
        var out: [String] = []
        var index: Int32 = 0
        while true {
            var buffer = [CChar](repeating: 0, count: 4096)
            let n = buffer.withUnsafeMutableBufferPointer {
                lws_hdr_copy_fragment(wsi, $0.baseAddress, Int32($0.count), WSI_TOKEN_HTTP_URI_ARGS, index)
            }
            if n <= 0 { break }
            out.append(cString(buffer))
            index += 1
        }
        return out
    }
}

/// A C string in a buffer, up to its terminating NUL.
func cString(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
