import ArgumentParser
import ConvOpsBot
import ConvOpsStore
import Foundation

struct DataCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "data", abstract: "A person's data: export it, erase it.",
                                                    subcommands: [Export.self, Erase.self])

    /// Runs `body` on the store for one person; a person the store does not know is an error
    /// that says so.
    static func withPerson<T>(_ global: GlobalOptions, _ person: String, _ body: (Store) throws -> T?) throws -> T {
        let store = try Audit.store(try Context(global))
        guard let result = try body(store) else {
            Context.fail("no data about '\(person)' (never seen, or already erased)")
            throw Exit.refused
        }
        return result
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write everything stored about one person as JSON.")
        @Option(help: "The person's chat user id (Slack U…, or console:NAME).") var person: String
        @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let data = try DataCommand.withPerson(global, person) { try $0.export(chatID: person) }
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            encoder.dateEncodingStrategy = .iso8601
            let json = try encoder.encode(data)
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: json, attributes: [.posixPermissions: 0o600]) else {
                    Context.fail("cannot write \(output)")
                    throw Exit.setup
                }
            } else {
                emit(String(decoding: json, as: UTF8.self))
            }
        }
    }

    struct Erase: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase one person: their record goes, their requests and audit entries stay under a pseudonym.")
        @Option(help: "The person's chat user id (Slack U…, or console:NAME).") var person: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let pseudonym = try DataCommand.withPerson(global, person) { try $0.erase(chatID: person) }
            if pseudonym == Store.noPseudonym {
                emit("erased: \(person)'s WhatsApp records (a changed number, undelivered messages); there were no requests or audit entries of theirs")
            } else {
                emit("erased: \(person) is now \(pseudonym) in requests and the audit log; the chain still verifies")
            }
        }
    }
}
