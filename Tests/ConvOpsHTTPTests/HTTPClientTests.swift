@testable import ConvOpsHTTP
import ConvOpsTestSupport
import ConvOpsWebSocket
import Foundation
import Testing

@Suite struct HTTPClientTests {
    // Generous: every suite runs at once on 2 cores. (Answers computed on the task pool came
    // seconds late while curl's transfers held its threads: see `TransferThreadsTests`.)
    let loopback = HTTPClientConfiguration(connectTimeout: .seconds(5), totalTimeout: .seconds(15),
                                           egress: EgressPolicy(allowedHosts: [], allowLoopback: true))

    @Test func postRoundTripCarriesMethodHeadersAndBody() async throws {
        let server = try WebServer(WebServer.Configuration(customHeaders: ["x-amz-target"]), immediateHTTP: { request in
            let echo = "\(request.method) \(request.path) q=\(request.query.map { "\($0.name)=\($0.value)" }.joined(separator: ",")) " +
                "x-amz-target=\(request.header("x-amz-target") ?? "-") ct=\(request.header("content-type") ?? "-") body=\(request.bodyText)"
            return HTTPServerResponse(status: 201, headers: [("content-type", "text/plain"), ("x-request-id", "abc")],
                                      body: Data(echo.utf8))
        })
        defer { server.shutdown() }
        let client = HTTPClient(configuration: loopback, logger: .quiet)
        let response = try await client.execute(HTTPRequest(
            method: .post, url: "http://127.0.0.1:\(server.port)/api/chat.postMessage?a=1&b=two%20words",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("X-Amz-Target", "Svc.Op")],
            body: Data("Action=Reboot&x=%2F".utf8)))
        #expect(response.status == 201)
        #expect(response.header("X-Request-Id") == "abc")
        #expect(response.bodyText ==
            "POST /api/chat.postMessage q=a=1,b=two words x-amz-target=Svc.Op ct=application/x-www-form-urlencoded body=Action=Reboot&x=%2F")
    }

    @Test func keepsTheConnectionAliveAcrossRequests() async throws {
        let server = try WebServer(immediateHTTP: { _ in HTTPServerResponse(contentType: "text/plain", body: "ok") })
        defer { server.shutdown() }
        let client = HTTPClient(configuration: loopback, logger: .quiet)
        var reused: [Bool] = []
        for _ in 0..<5 {
            let response = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(server.port)/ping"))
            #expect(response.bodyText == "ok")
            reused.append(response.reusedConnection)
        }
        #expect(reused == [false, true, true, true, true])
    }

    @Test func aSlowServerTimesOut() async throws {
        let server = try WebServer(http: { _ in
            try? await Task.sleep(for: .seconds(3))
            return HTTPServerResponse(contentType: "text/plain", body: "late")
        })
        defer { server.shutdown() }
        var config = loopback
        config.totalTimeout = .milliseconds(300)
        let client = HTTPClient(configuration: config, logger: .quiet)
        let error = await #expect(throws: HTTPError.self) {
            _ = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(server.port)/slow"))
        }
        #expect(error?.kind == .timedOut)
        #expect(error?.isTransient == true)
    }

    @Test func nothingListeningIsAConnectFailure() async throws {
        let port = try FreePort.pick()
        let client = HTTPClient(configuration: loopback, logger: .quiet)
        let error = await #expect(throws: HTTPError.self) {
            _ = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(port)/"))
        }
        #expect(error?.kind == .connectFailed)
        #expect(error?.host == "127.0.0.1")
    }

    @Test func anUntrustedCertificateFailsTLS() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cert = try TestCertificate.make(in: dir)
        let server = try WebServer(WebServer.Configuration(certificatePath: cert.certificatePath, privateKeyPath: cert.privateKeyPath),
                                   http: { _ in HTTPServerResponse(contentType: "text/plain", body: "secret") })
        defer { server.shutdown() }
        let client = HTTPClient(configuration: loopback, logger: .quiet)
        let error = await #expect(throws: HTTPError.self) {
            _ = try await client.execute(HTTPRequest(url: "https://127.0.0.1:\(server.port)/"))
        }
        #expect(error?.kind == .tls)
    }

    @Test func egressOutsideTheAllowlistIsRefusedBeforeAnyConnection() async throws {
        let client = HTTPClient(configuration: HTTPClientConfiguration(), logger: .quiet)
        for url in ["https://example.com/", "http://ec2.eu-west-1.amazonaws.com/", "http://127.0.0.1:9/"] {
            let error = await #expect(throws: HTTPError.self) { _ = try await client.execute(HTTPRequest(url: url)) }
            #expect(error?.kind == .egressDenied, "\(url)")
        }
        let bad = await #expect(throws: HTTPError.self) { _ = try await client.execute(HTTPRequest(url: "ftp://slack.com/x")) }
        #expect(bad?.kind == .invalidURL)
    }

    @Test func egressPolicyAllowsAWSSlackAndConfiguredEndpoints() {
        let policy = EgressPolicy.production.allowing(endpoint: "https://vpce-123.ec2.example.internal")
        #expect(policy.allowedHosts.contains("vpce-123.ec2.example.internal"))
        #expect(EgressPolicy.production.allowing(endpoint: "http://127.0.0.1:5000").allowLoopback)
    }

    /// Loopback is an address, not a spelling; AWS is our services' endpoints, not the domain.
    @Test func egressTellsLoopbackAndAWSEndpointsByWhatTheyAre() {
        let policy = EgressPolicy.production
        for host in ["127.evil.example", "127.0.0.1.nip.io", "localhost.evil.example", "1270.0.0.1", "127.1"] {
            #expect(!EgressPolicy.isLoopback(host), "\(host)")
        }
        for host in ["127.0.0.1", "127.255.0.9", "localhost", "::1", "[::1]", "::ffff:127.0.0.1", "[0:0:0:0:0:0:0:1]"] {
            #expect(EgressPolicy.isLoopback(host), "\(host)")
        }
        // A loopback-looking name is a name: refused, whatever allowLoopback says.
        let tests = EgressPolicy(allowedHosts: [], allowLoopback: true)
        #expect(tests.check(scheme: "http", host: "127.evil.example") != nil)
        #expect(tests.check(scheme: "http", host: "127.0.0.1") == nil)
        for host in ["ec2.eu-west-1.amazonaws.com", "sts.us-gov-west-1.amazonaws.com", "monitoring.eu-central-1.amazonaws.com",
                     "logs.ap-southeast-2.amazonaws.com", "sqs.cn-north-1.amazonaws.com.cn", "ECS.EU-WEST-1.AMAZONAWS.COM"] {
            #expect(policy.check(scheme: "https", host: host) == nil, "\(host)")
        }
        for host in ["evil.s3-website-eu-west-1.amazonaws.com", "evil.s3.amazonaws.com", "abc123.execute-api.eu-west-1.amazonaws.com",
                     "evil-123.eu-west-1.elb.amazonaws.com", "s3.eu-west-1.amazonaws.com", "ec2.evil.amazonaws.com",
                     "ec2.eu-west-1.amazonaws.com.evil.example", "amazonaws.com", "x.ec2.eu-west-1.amazonaws.com",
                     "evil.api.aws", "evil.example", "slack.com.evil.example", "graph.facebook.com.evil.example"] {
            #expect(policy.check(scheme: "https", host: host) != nil, "\(host)")
        }
        // Foundation decodes %00 in a host; C stops at the NUL: such a host is no host.
        for host in ["evil.example\u{0}.slack.com", "evil.example/.slack.com", "ec2.eu-west-1.amazonaws.com\u{0}", "a b.slack.com", ""] {
            #expect(policy.check(scheme: "https", host: host) != nil, "\(host.debugDescription)")
        }
        #expect(policy.check(scheme: "https", host: "wss-primary.slack.com") == nil)
        #expect(policy.check(scheme: "https", host: "graph.facebook.com") == nil)
    }

    @Test func anOversizedResponseIsRefused() async throws {
        let server = try WebServer(immediateHTTP: { _ in HTTPServerResponse(contentType: "text/plain", body: String(repeating: "x", count: 300_000)) })
        defer { server.shutdown() }
        var config = loopback
        config.maxResponseBytes = 100_000
        let client = HTTPClient(configuration: config, logger: .quiet)
        let error = await #expect(throws: HTTPError.self) {
            _ = try await client.execute(HTTPRequest(url: "http://127.0.0.1:\(server.port)/big"))
        }
        #expect(error?.kind == .responseTooLarge)
    }
}
