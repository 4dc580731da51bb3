import Foundation
import Logging

extension Logger {
    /// For tests and the emulators: what they check is in the results, not the log. With
    /// CONVOPS_TEST_LOG=1 it says everything, to stderr.
    public static var quiet: Logger {
        var logger = Logger(label: "convops.test") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = ProcessInfoLevel.level
        return logger
    }
}

private enum ProcessInfoLevel {
    static let level: Logger.Level = {
        guard let value = getenv("CONVOPS_TEST_LOG"), String(cString: value) == "1" else { return .critical }
        return .debug
    }()
}
