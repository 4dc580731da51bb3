import Foundation

/// A child process that keeps running while the test steers it (a `convops run` against the
/// emulator): signal it, then collect its exit status and output.
public final class RunningProcess: @unchecked Sendable {
    // @unchecked: `process` and the readers are set in init and only read afterwards.
    private let process = Process()
    private let output: PipeReader, errors: PipeReader
    public let started = ContinuousClock.now

    public init(_ executable: String, _ arguments: [String], environment: [String: String], currentDirectory: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let process = self.process
        let (out, err) = try Spawn.run(process) { () -> (Pipe, Pipe) in
            let pipes = (Pipe.closedOnExec(), Pipe.closedOnExec())
            process.standardOutput = pipes.0
            process.standardError = pipes.1
            process.standardInput = FileHandle.nullDevice
            return pipes
        }
        output = PipeReader(out)
        errors = PipeReader(err)
    }

    deinit { if process.isRunning { process.terminate() } }

    public var pid: Int32 { process.processIdentifier }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits (on a thread of its own) for the exit; kills the child after `timeout` and says so
    /// on the result's stderr.
    public func wait(timeout: Duration = .seconds(30)) async -> Subprocess.Result {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        let killed = process.isRunning
        if killed { kill(process.processIdentifier, SIGKILL) }
        return await withCheckedContinuation { (done: CheckedContinuation<Subprocess.Result, Never>) in
            Thread { [self] in
                process.waitUntilExit()
                var stderr = errors.collected()
                if killed { stderr += "\n[test support: killed after \(timeout): it had not exited]\n" }
                done.resume(returning: Subprocess.Result(status: process.terminationStatus, stdout: output.collected(), stderr: stderr))
            }.start()
        }
    }
}
