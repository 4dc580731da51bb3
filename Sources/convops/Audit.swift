import ArgumentParser
import ConvOpsBot
import ConvOpsCore
import ConvOpsStore
import Foundation

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read and verify the audit log.",
                                                    subcommands: [List.self, Verify.self])

    static func store(_ context: Context) throws -> Store {
        do {
            return try Store(path: context.configuration.databasePath)
        } catch {
            Context.fail("\(error)")
            throw Exit.setup
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the newest audit entries, oldest first.")
        @Option(help: "How many entries.") var limit = 50
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try Audit.store(try Context(global))
            let formatter = ISO8601DateFormatter()
            formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            for e in try store.auditEntries(limit: limit) {
                emit([String(e.seq), formatter.string(from: e.at), e.decision.rawValue, e.action, e.target,
                      "actor=\(e.actor)", "principal=\(e.principal ?? "-")", "request=\(e.requestID ?? "-")",
                      e.outcome.map { "outcome=\($0)" } ?? ""].filter { !$0.isEmpty }.joined(separator: "\t"))
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Check the hash chain; exit 1 naming the first bad entry.")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try Audit.store(try Context(global))
            switch try store.verifyAudit() {
            case .intact(let count):
                emit("ok: \(count) entries, chain intact")
            case .broken(let seq, let reason):
                emit("broken at entry \(seq): \(reason)")
                throw Exit.refused
            }
        }
    }
}
