import Foundation

/// A child process that keeps running while the test steers it (a `convops run` against the
/// emulator): signal it, then collect its exit status and output.
public final class RunningProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipes are set in init; the output boxes are written by
    // their reader threads and read only after `group.wait()`.
    private let process = Process()
    private let out = Pipe(), err = Pipe()
    private let group = DispatchGroup()
    private let outBox = Box(), errBox = Box()
    public let started = ContinuousClock.now

    public init(_ executable: String, _ arguments: [String], environment: [String: String], currentDirectory: String? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        process.standardOutput = out
        process.standardError = err
        process.standardInput = FileHandle.nullDevice
        try process.run()
        let (o, e, ob, eb) = (out, err, outBox, errBox)
        DispatchQueue.global().async(group: group) { ob.data = o.fileHandleForReading.readDataToEndOfFile() }
        DispatchQueue.global().async(group: group) { eb.data = e.fileHandleForReading.readDataToEndOfFile() }
    }

    deinit { if process.isRunning { process.terminate() } }

    public var pid: Int32 { process.processIdentifier }

    public func signal(_ number: Int32) { kill(process.processIdentifier, number) }

    /// Waits (on a thread of its own) for the exit; kills the child after `timeout`.
    public func wait(timeout: Duration = .seconds(30)) async -> Subprocess.Result {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning, ContinuousClock.now < deadline { try? await Task.sleep(for: .milliseconds(20)) }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        return await withCheckedContinuation { (done: CheckedContinuation<Subprocess.Result, Never>) in
            Thread { [self] in
                process.waitUntilExit()
                group.wait()
                done.resume(returning: Subprocess.Result(status: process.terminationStatus,
                                                         stdout: String(decoding: outBox.data, as: UTF8.self),
                                                         stderr: String(decoding: errBox.data, as: UTF8.self)))
            }.start()
        }
    }

    private final class Box: @unchecked Sendable { var data = Data() }
}
