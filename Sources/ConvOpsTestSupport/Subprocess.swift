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
                           environment: [String: String]? = nil, currentDirectory: String? = nil) async throws -> Result {
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Result, Error>) in
            Thread {
                done.resume(with: Swift.Result {
                    try runBlocking(executable, arguments, stdin: stdin, environment: environment, currentDirectory: currentDirectory)
                })
            }.start()
        }
    }

    /// Runs the child and blocks the calling thread until it exits.
    public static func runBlocking(_ executable: String, _ arguments: [String], stdin: String? = nil,
                                   environment: [String: String]? = nil, currentDirectory: String? = nil) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let out = Pipe(), err = Pipe(), input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(Data(stdin.utf8)) }
        try? input.fileHandleForWriting.close()
        // Read both pipes before waiting so a full pipe can't block the child.
        let errBox = DataBox()
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) { errBox.data = err.fileHandleForReading.readDataToEndOfFile() }
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        group.wait()
        return Result(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errBox.data, as: UTF8.self))
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

/// Written by one reader thread, read after `group.wait()`, which orders the two.
private final class DataBox: @unchecked Sendable { var data = Data() }
