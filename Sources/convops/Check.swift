import ArgumentParser
import ConvOpsAWS
import ConvOpsBot
import Foundation

struct Check: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Check configuration, grammar, database and AWS access.")
    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let context = try Context(global)
        let runtime = try context.runtime()
        let c = context.configuration
        emit("home:     \(c.home)")
        emit("grammar:  ok (\(runtime.grammar.locales.joined(separator: ", ")))")
        emit("database: \(c.databasePath) (schema \(runtime.store.schemaVersion))")
        emit("region:   \(c.aws.region)\(c.aws.endpoint.map { " via \($0)" } ?? "")")
        emit("cores:    \(CoreDumps.state(environment: context.environment))")
        emit("digests:  \(runtime.store.auditDigestPath)" + (runtime.store.digestProblem.map { " — NOT SIGNING: \($0)" } ?? ""))
        switch c.policySource {
        case .configured:
            let open = c.policy.changesAnyoneMayMakeUnapproved
            emit("policy:   \(c.policy.rules.count) rule\(c.policy.rules.count == 1 ? "" : "s"), mode \(c.policy.mode.rawValue)"
                 + (open.isEmpty ? "" : "; everyone (*) may \(open.map(\.rawValue).joined(separator: ", ")) without approval"))
        case .open: emit("policy:   OPEN (\"mode\": \"open\"): everyone may do everything, without approval")
        case .none: emit("policy:   none: the console's one person may do everything; `convops run` refuses to start without one")
        }
        if let lines = await runtime.whatsAppStatus(environment: context.environment, logger: context.logger) {
            for (i, line) in lines.enumerated() { emit((i == 0 ? "whatsapp: " : "          ") + line) }
        }
        do {
            emit("aws:      ok, acting as \(try await runtime.aws.callerIdentity())")
        } catch {
            emit("aws:      \(error)")
            throw Exit.setup
        }
    }
}
