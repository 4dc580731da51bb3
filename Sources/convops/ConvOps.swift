import ArgumentParser
import ConvOpsBot
import Foundation
import Logging

@main
struct ConvOps: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convops",
        abstract: "Chat-native operations for AWS.",
        subcommands: [Run.self, Chat.self, PlanCommand.self, Parse.self, GrammarCommand.self, Audit.self, DataCommand.self, AlertsCommand.self, WhatsAppCommand.self, Check.self])

    /// Hardening comes before anything reads a token or a key.
    static func main() async {
        CoreDumps.disable(environment: ProcessInfo.processInfo.environment)
        // Where tokens go is configured (CONVOPS_PROXY), never inherited: libwebsockets would
        // follow http_proxy for the Socket Mode connection, and curl NO_PROXY past CONVOPS_PROXY.
        for name in ["http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"] {
            unsetenv(name)
        }
        await main(nil)
    }
}

/// Exit codes: 0 ok, 1 the input was refused (parse failure, broken audit chain), 2 setup failed.
enum Exit {
    static let refused = ExitCode(1)
    static let setup = ExitCode(2)
}

struct GlobalOptions: ParsableArguments {
    @Option(help: "Log level on stderr: trace, debug, info, notice, warning, error (CONVOPS_LOG_LEVEL).")
    var logLevel: String?
}

/// What every subcommand starts from: the environment, the configuration and a logger.
struct Context {
    let environment = ProcessInfo.processInfo.environment
    let configuration: Configuration
    let logger: Logger

    init(_ options: GlobalOptions) throws {
        let level = Logger.Level(rawValue: options.logLevel ?? environment["CONVOPS_LOG_LEVEL"] ?? "warning") ?? .warning
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        logger = Logger(label: "convops")
        do {
            configuration = try Configuration.load(environment: environment,
                                                   currentDirectory: FileManager.default.currentDirectoryPath)
        } catch {
            Self.fail("configuration: \(error)")
            throw Exit.setup
        }
    }

    static func fail(_ message: String) {
        FileHandle.standardError.write(Data("convops: \(message)\n".utf8))
    }

    func runtime() throws -> Runtime {
        do {
            return try Runtime.start(configuration, environment: environment, logger: logger)
        } catch {
            Self.fail("\(error)")
            throw Exit.setup
        }
    }
}

/// Writes a line to stdout at once (the console and the scripts that drive it read line by line).
func emit(_ text: String) {
    FileHandle.standardOutput.write(Data((text.hasSuffix("> ") ? text : text + "\n").utf8))
}

/// Text from outside (a parked message, a reason quoting it) made safe for a terminal: control
/// characters other than newline and tab are shown as \u{…}, so no escape sequence can move
/// the cursor, retitle the window or hide a line.
/// `terminalSafe`, on one line: a newline in a name or a reason cannot fake a line of output.
func terminalLine(_ text: String) -> String {
    terminalSafe(text).replacingOccurrences(of: "\n", with: "\\n").replacingOccurrences(of: "\t", with: " ")
}

func terminalSafe(_ text: String) -> String {
    var out = ""
    out.unicodeScalars.reserveCapacity(text.unicodeScalars.count)
    for scalar in text.unicodeScalars {
        let v = scalar.value
        if (v < 0x20 && scalar != "\n" && scalar != "\t") || (0x7F...0x9F).contains(v) || v == 0x2028 || v == 0x2029 || (0x202A...0x202E).contains(v)
            || (0x2066...0x2069).contains(v) {
            out += "\\u{\(String(v, radix: 16))}"
        } else {
            out.unicodeScalars.append(scalar)
        }
    }
    return out
}
