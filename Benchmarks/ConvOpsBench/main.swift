import ConvOpsCore
import ConvOpsGrammar
import Foundation

/// Benchmarks print one JSON object each on stdout. Run them in release mode:
///   swift run -c release convops-bench grammar
/// Numbers are for one core: every benchmark here runs on the calling thread.

let arguments = CommandLine.arguments.dropFirst()
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

func nanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}

func percentile(_ sorted: [UInt64], _ p: Double) -> Double {
    guard !sorted.isEmpty else { return 0 }
    let index = min(sorted.count - 1, Int((Double(sorted.count) * p).rounded(.up)) - 1)
    return Double(sorted[max(0, index)])
}

func json(_ object: [String: Any]) -> String {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    return String(decoding: data, as: UTF8.self)
}

switch arguments.first {
case "grammar":
    print(json(GrammarBenchmark.run(repository: repository)))
case "audit":
    print(json(AuditBenchmark.run()))
case "aws":
    do {
        print(json(try await AWSBenchmark.run(repository: repository)))
    } catch {
        FileHandle.standardError.write(Data("aws benchmark: \(error)\n".utf8))
        exit(1)
    }
case "slack":
    do {
        print(json(try await SlackBenchmark.run(repository: repository)))
    } catch {
        FileHandle.standardError.write(Data("slack benchmark: \(error)\n".utf8))
        exit(1)
    }
case "storm":
    do {
        print(json(try await StormBenchmark.run(repository: repository)))
    } catch {
        FileHandle.standardError.write(Data("storm benchmark: \(error)\n".utf8))
        exit(1)
    }
case "whatsapp":
    do {
        print(json(try await WhatsAppBenchmark.run()))
    } catch {
        FileHandle.standardError.write(Data("whatsapp benchmark: \(error)\n".utf8))
        exit(1)
    }
default:
    FileHandle.standardError.write(Data("usage: convops-bench grammar|audit|slack|aws|storm|whatsapp\n".utf8))
    exit(2)
}
