import ConvOpsTestSupport
import ConvOpsWebSocket
import Foundation
import Testing

/// Collects what a server-side connection saw, for the test to inspect.
actor ServerLog {
    var events: [WebSocketEvent] = []
    var paths: [String] = []
    func record(_ e: WebSocketEvent) { events.append(e) }
    func record(path: String) { paths.append(path) }
}

func echoServer(log: ServerLog, _ configuration: WebServer.Configuration = WebServer.Configuration()) throws -> WebServer {
    try WebServer(configuration, http: { _ in HTTPServerResponse(status: 404) }, webSocket: { connection in
        await log.record(path: connection.path)
        for await event in connection.events {
            await log.record(event)
            switch event {
            case .text(let text):
                if text == "ping me" { connection.ping() } else if text == "drop" { connection.drop() } else { connection.send("echo: \(text)") }
            default: break
            }
        }
    })
}

/// The next event, or nil after `seconds`. It returns as soon as the event comes; the bound is
/// generous because the whole suite shares two cores (an echo once took over 5 s, 34 s into a run).
func next(_ iterator: inout AsyncStream<WebSocketEvent>.Iterator, within seconds: Double = 20) async -> WebSocketEvent? {
    nonisolated(unsafe) var it = iterator
    let result = await withTaskGroup(of: WebSocketEvent?.self) { group in
        group.addTask { await it.next() }
        group.addTask { try? await Task.sleep(for: .seconds(seconds)); return nil }
        let first = await group.next()!
        group.cancelAll()
        return first
    }
    iterator = it
    return result
}

@Suite struct WebSocketTests {
    @Test func echoesTextOverPlainWebSocket() async throws {
        let log = ServerLog()
        let server = try echoServer(log: log)
        defer { server.shutdown() }
        let client = try WebSocketClient()
        defer { client.shutdown() }
        let connection = try await client.connect(to: "ws://127.0.0.1:\(server.port)/link?ticket=abc-123")
        connection.send("hello")
        var events = connection.events.makeAsyncIterator()
        #expect(await next(&events) == .text("echo: hello"))
        connection.send("second")
        #expect(await next(&events) == .text("echo: second"))
        #expect(await log.paths == ["/link?ticket=abc-123"])
    }

    @Test func echoesOverTLSWithASelfSignedCertificate() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cert = try TestCertificate.make(in: dir)
        let log = ServerLog()
        let server = try echoServer(log: log, WebServer.Configuration(certificatePath: cert.certificatePath,
                                                                    privateKeyPath: cert.privateKeyPath))
        defer { server.shutdown() }
        let client = try WebSocketClient()
        defer { client.shutdown() }
        let connection = try await client.connect(to: "wss://127.0.0.1:\(server.port)/",
                                                  options: .init(allowSelfSigned: true))
        connection.send("over tls")
        var events = connection.events.makeAsyncIterator()
        #expect(await next(&events) == .text("echo: over tls"))
    }

    @Test func refusesAnUntrustedCertificateByDefault() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cert = try TestCertificate.make(in: dir)
        let server = try echoServer(log: ServerLog(), WebServer.Configuration(certificatePath: cert.certificatePath,
                                                                             privateKeyPath: cert.privateKeyPath))
        defer { server.shutdown() }
        let client = try WebSocketClient()
        defer { client.shutdown() }
        let error = await #expect(throws: WebSocketError.self) {
            _ = try await client.connect(to: "wss://127.0.0.1:\(server.port)/")
        }
        #expect(error?.kind == .connectFailed)
    }

    /// A server that speaks only TLS 1.1 (openssl s_server, with the security level lowered
    /// so OpenSSL 3 agrees to serve it) is refused in the handshake: the client never offers
    /// anything below TLS 1.2, whatever the system's OpenSSL configuration allows.
    @Test func refusesAServerThatSpeaksOnlyTLS11() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cert = try TestCertificate.make(in: dir)
        let port = try FreePort.pick()
        let server = try RunningProcess("/usr/bin/openssl", ["s_server", "-accept", "127.0.0.1:\(port)", "-cert", cert.certificatePath,
                                                            "-key", cert.privateKeyPath, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0", "-www"],
                                        environment: ["PATH": "/usr/bin:/bin"])
        defer { server.signal(SIGTERM) }
        // Wait until it listens.
        var listening = false
        for _ in 0..<100 where !listening {
            listening = (try? Subprocess.runBlocking("/usr/bin/openssl", ["s_client", "-connect", "127.0.0.1:\(port)", "-tls1_1",
                                                                          "-cipher", "DEFAULT:@SECLEVEL=0"], stdin: ""))?.stdout
                .contains("Protocol  : TLSv1.1") ?? false
            if !listening { try await Task.sleep(for: .milliseconds(50)) }
        }
        #expect(listening, "openssl s_server did not come up with TLS 1.1")
        let client = try WebSocketClient()
        defer { client.shutdown() }
        let error = await #expect(throws: WebSocketError.self) {
            _ = try await client.connect(to: "wss://127.0.0.1:\(port)/", options: .init(allowSelfSigned: true))
        }
        #expect(error?.kind == .connectFailed)
    }

    @Test func answersServerPingsAndGetsPongsForItsOwn() async throws {
        let log = ServerLog()
        let server = try echoServer(log: log)
        defer { server.shutdown() }
        let client = try WebSocketClient()
        defer { client.shutdown() }
        let connection = try await client.connect(to: "ws://127.0.0.1:\(server.port)/")
        var events = connection.events.makeAsyncIterator()
        connection.ping()
        #expect(await next(&events) == .pong)
        connection.send("ping me") // the server pings; lws answers with a pong on its own
        for _ in 0..<50 where !(await log.events.contains(.pong)) { try await Task.sleep(for: .milliseconds(20)) }
        #expect(await log.events.contains(.pong))
    }

    @Test func closesCleanlyWithCodeAndReason() async throws {
        let log = ServerLog()
        let server = try echoServer(log: log)
        defer { server.shutdown() }
        let client = try WebSocketClient()
        defer { client.shutdown() }
        let connection = try await client.connect(to: "ws://127.0.0.1:\(server.port)/")
        var events = connection.events.makeAsyncIterator()
        connection.close(code: 4000, reason: "bye")
        #expect(await next(&events) == .closed(code: 4000, reason: "bye"))
        #expect(await next(&events, within: 1) == nil) // the stream ended
        for _ in 0..<50 where await log.events.last == nil { try await Task.sleep(for: .milliseconds(20)) }
        #expect(await log.events.last == .closed(code: 4000, reason: "bye"))
    }

    @Test func aDroppedConnectionIsReportedAsAValue() async throws {
        let server = try echoServer(log: ServerLog())
        defer { server.shutdown() }
        let client = try WebSocketClient()
        defer { client.shutdown() }
        let connection = try await client.connect(to: "ws://127.0.0.1:\(server.port)/")
        var events = connection.events.makeAsyncIterator()
        connection.send("drop")
        guard case .failed(let error)? = await next(&events) else {
            Issue.record("expected the connection to fail")
            return
        }
        #expect(error.kind == .connectionLost)
    }

    @Test func connectingToNothingThrows() async throws {
        let client = try WebSocketClient()
        defer { client.shutdown() }
        let port = try FreePort.pick()
        let error = await #expect(throws: WebSocketError.self) {
            _ = try await client.connect(to: "ws://127.0.0.1:\(port)/")
        }
        #expect(error?.kind == .connectFailed)
        let bad = await #expect(throws: WebSocketError.self) { _ = try await client.connect(to: "http://x/") }
        #expect(bad?.kind == .invalidURL)
    }

    @Test func carriesLargeMessagesBothWays() async throws {
        let server = try echoServer(log: ServerLog())
        defer { server.shutdown() }
        let client = try WebSocketClient()
        defer { client.shutdown() }
        let connection = try await client.connect(to: "ws://127.0.0.1:\(server.port)/")
        let big = String(repeating: "0123456789", count: 20_000)
        connection.send(big)
        var events = connection.events.makeAsyncIterator()
        #expect(await next(&events) == .text("echo: \(big)"))
    }
}
