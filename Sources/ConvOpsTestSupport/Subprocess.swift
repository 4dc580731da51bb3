import Foundation

/// Runs a program to completion and collects its output.
public enum Subprocess {
    public struct Result: Sendable {
        public var status: Int32
        public var stdout: String
        public var stderr: String
    }

    /// As `run`, for async callers: the child is waited for on a thread of its own, never on
    /// Swift's cooperative pool (2 threads here), which other tests' servers need meanwhile.
    public static func run(_ executable: String, _ arguments: [String], stdin: String? = nil,
                           environment: [String: String]? = nil, currentDirectory: String? = nil,
                           timeout: Duration = .seconds(180)) async throws -> Result {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Result, Error>) in
            Thread {
                done.resume(with: Swift.Result {
                    try runBlocking(executable, arguments, stdin: stdin, environment: environment,
                                    currentDirectory: currentDirectory, timeout: timeout)
                })
            }.start()
        }
    }

    /// Runs the child and blocks the calling thread until it exits. A child still running after
    /// `timeout` is killed and its result says so (status 9, a line on stderr): a hung program
    /// fails its test instead of holding the whole run until CI's limit.
    public static func runBlocking(_ executable: String, _ arguments: [String], stdin: String? = nil,
                                   environment: [String: String]? = nil, currentDirectory: String? = nil,
                                   timeout: Duration = .seconds(180)) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let (out, err, input) = try Spawn.run(process) { () -> (Pipe, Pipe, Pipe) in
            let pipes = (Pipe.closedOnExec(), Pipe.closedOnExec(), Pipe.closedOnExec())
            process.standardOutput = pipes.0
            process.standardError = pipes.1
            process.standardInput = pipes.2
            return pipes
        }
        // Read both pipes before waiting so a full pipe can't block the child, and write its
        // input on a thread of its own: a child that never reads must still meet its timeout.
        let output = PipeReader(out), errors = PipeReader(err)
        let writer = input.fileHandleForWriting
        Thread {
            if let stdin { try? writer.write(contentsOf: Data(stdin.utf8)) }
            try? writer.close()
        }.start()
        let killed = waitForExit(process, timeout: timeout)
        var stderr = errors.collected()
        if killed { stderr += "\n[test support: \(executable) \(arguments.first ?? "") was killed after \(timeout)]\n" }
        return Result(status: process.terminationStatus, stdout: output.collected(), stderr: stderr)
    }

    /// Waits for the child to exit, killing it at the deadline; true when it had to be killed.
    static func waitForExit(_ process: Process, timeout: Duration) -> Bool {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return killed
    }

    /// Finds a program on PATH (and in pyenv's shims, where pip puts moto_server here).
    public static func which(_ name: String) -> String? {
        var dirs = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").map(String.init)
        let home = ProcessInfo.processInfo.environment["HOME"] ?? "/root"
        dirs += ["\(home)/.pyenv/shims", "\(home)/.local/bin", "/usr/local/bin", "/usr/bin"]
        for dir in dirs {
            let path = (dir as NSString).appendingPathComponent(name)
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        return nil
    }
}

/// Every child the tests start is spawned under one lock, from the creation of its pipes to
/// `run()`: marking a pipe close-on-exec is a second step, and a child spawned in between by
/// another test would inherit it.
public enum Spawn {
    private static let lock = NSLock()

    /// Runs `prepare` (which makes the child's pipes) and starts `process`, under the lock.
    public static func run<T>(_ process: Process, _ prepare: () -> T) throws -> T {
        try lock.withLock {
            let prepared = prepare()
            try process.run()
            return prepared
        }
    }
}

extension Pipe {
    /// A pipe whose two ends are not inherited by children spawned later by other tests: a moto
    /// server started meanwhile and holding our write end would keep the read from ending.
    /// (The child this pipe is for gets it as its stdin/stdout/stderr, which exec keeps.)
    public static func closedOnExec() -> Pipe {
        let pipe = Pipe()
        for fd in [pipe.fileHandleForReading.fileDescriptor, pipe.fileHandleForWriting.fileDescriptor] {
            _ = fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC)
        }
        return pipe
    }
}

/// Reads a child's pipe on a thread of its own as the data comes. After the child has exited,
/// `collected()` waits a few seconds for the end of the pipe and then takes what has come: a
/// descriptor held by some other process must not hang the test.
final class PipeReader: @unchecked Sendable {
    // @unchecked: `data` and `ended` are only touched under `lock`.
    private let lock = NSCondition()
    private var data = Data()
    private var ended = false

    init(_ pipe: Pipe) {
        let handle = pipe.fileHandleForReading
        Thread { [self] in
            while true {
                let chunk = handle.availableData
                lock.withLock {
                    if chunk.isEmpty { ended = true; lock.broadcast() } else { data.append(chunk) }
                }
                if chunk.isEmpty { return }
            }
        }.start()
    }

    func collected(grace: TimeInterval = 5) -> String {
        lock.withLock {
            let deadline = Date().addingTimeInterval(grace)
            while !ended, lock.wait(until: deadline) {}
            return String(decoding: data, as: UTF8.self)
        }
    }
}
