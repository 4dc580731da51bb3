import ConvOpsHTTP
import Foundation

/// A `moto_server` on loopback, started by the tests themselves. It runs under a small shell
/// that kills it when our end of its stdin pipe closes, so it never outlives the test process,
/// even when that process crashes.
public final class MotoServer: @unchecked Sendable {
    // @unchecked: `process` and `keepAlive` are set once in init and only read afterwards.
    public let endpoint: String
    public let port: Int
    private let process: Process
    private let keepAlive: Pipe
    private let logPath: String

    /// One server for the whole test process, started on first use.
    public static func shared() async throws -> MotoServer {
        try await SharedMoto.instance.get()
    }

    public static func start() async throws -> MotoServer {
        // Each start is seconds of Python on a 2-core machine: a dozen at once starves every
        // loopback socket test running beside them. Two at a time.
        try await StartGate.moto.run { try await startNow() }
    }

    private static func startNow() async throws -> MotoServer {
        let configured = ProcessInfo.processInfo.environment["CONVOPS_MOTO_SERVER"].flatMap { $0.isEmpty ? nil : $0 }
        guard let moto = configured ?? Subprocess.which("moto_server") else {
            throw TestSupportError("moto_server is not installed: run scripts/test (it installs moto[server] with pip)")
        }
        let port = try FreePort.pick()
        let log = NSTemporaryDirectory() + "moto-\(port).log"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash") // dash's kill cannot signal a group
        // moto_server may be a wrapper (pyenv's shim) that runs Python as its child, so it runs
        // in a process group of its own, and the watchdog shell kills the whole group when the
        // test process is gone (polled: a pipe's EOF can be held off by an inherited descriptor)
        // or when `stop()` terminates the shell.
        let script = """
            setsid "$0" -H 127.0.0.1 -p "$1" >"$2" 2>&1 & pid=$!
            trap 'kill -9 -- -$pid 2>/dev/null; exit 0' TERM INT
            while kill -0 "$3" 2>/dev/null; do sleep 0.5; done
            kill -9 -- -$pid 2>/dev/null
            """
        process.arguments = ["-c", script, moto, String(port), log, String(getpid())]
        // moto's request recorder writes to a file (by default ./moto_recording, shared by every
        // moto started from the same folder): give each server its own.
        var environment = ProcessInfo.processInfo.environment
        environment["MOTO_RECORDER_FILEPATH"] = NSTemporaryDirectory() + "moto-recording-\(port)"
        process.environment = environment
        // The watchdog must not hold the test runner's stdout: SwiftPM reads it to EOF.
        let pipe = try Spawn.run(process) { () -> Pipe in
            let pipe = Pipe.closedOnExec()
            process.standardInput = pipe
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            return pipe
        }
        let server = MotoServer(endpoint: "http://127.0.0.1:\(port)", port: port, process: process, keepAlive: pipe, logPath: log)
        try await server.waitUntilReady()
        return server
    }

    private init(endpoint: String, port: Int, process: Process, keepAlive: Pipe, logPath: String) {
        self.endpoint = endpoint
        self.port = port
        self.process = process
        self.keepAlive = keepAlive
        self.logPath = logPath
    }

    deinit { stop() }

    public func stop() {
        if process.isRunning { process.terminate() }
        try? keepAlive.fileHandleForWriting.close()
    }

    private func waitUntilReady() async throws {
        let http = HTTPClient(configuration: HTTPClientConfiguration(connectTimeout: .seconds(1), totalTimeout: .seconds(3),
                                                                     egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if let response = try? await http.execute(HTTPRequest(url: "\(endpoint)/moto-api/")), response.status == 200 { return }
            if !process.isRunning { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        let log = (try? String(contentsOfFile: logPath, encoding: .utf8)) ?? ""
        throw TestSupportError("moto_server did not start on port \(port): \(log.suffix(2000))")
    }

    /// The sample account of the demo: instances web-1, web-2 and worker-1 (scripts/seed_moto.py).
    /// Waits on a thread of its own: a blocked cooperative thread (there are two here) would
    /// stall every other test's servers while Python seeds.
    public func seedSampleAccount(repositoryRoot: String, region: String = "eu-west-1") async throws {
        let python = ProcessInfo.processInfo.environment["CONVOPS_PYTHON"].flatMap { $0.isEmpty ? nil : $0 } ?? "python3"
        let result = try await Subprocess.run("/usr/bin/env", [python, repositoryRoot + "/scripts/seed_moto.py", endpoint, region])
        guard result.status == 0 else { throw TestSupportError("seeding moto failed: \(result.stderr)") }
    }

    /// Starts moto's request recorder (what our code sent, as moto received it).
    public func startRecording() async throws {
        _ = try await post("/moto-api/recorder/reset-recording")
        _ = try await post("/moto-api/recorder/start-recording")
    }

    /// The form bodies of the recorded requests, decoded (`Action=RebootInstances&…`).
    public func recordedBodies() async throws -> [String] {
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        let response = try await http.execute(HTTPRequest(url: "\(endpoint)/moto-api/recorder/download-recording"))
        return response.bodyText.split(separator: "\n").compactMap { line -> String? in
            guard let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let body = object["body"] as? String else { return nil }
            let decoded = Data(base64Encoded: body).map { String(decoding: $0, as: UTF8.self) } ?? body
            return decoded.removingPercentEncoding ?? decoded
        }
    }

    @discardableResult
    private func post(_ path: String) async throws -> HTTPResponse {
        let http = HTTPClient(configuration: HTTPClientConfiguration(egress: EgressPolicy(allowedHosts: [], allowLoopback: true)), logger: .quiet)
        return try await http.execute(HTTPRequest(method: .post, url: endpoint + path))
    }
}

/// Starts the shared server once, whatever the number of tests asking at the same time.
private actor SharedMoto {
    static let instance = SharedMoto()
    private var task: Task<MotoServer, Error>?

    func get() async throws -> MotoServer {
        if let task { return try await task.value }
        let task = Task { try await MotoServer.start() }
        self.task = task
        return try await task.value
    }
}
