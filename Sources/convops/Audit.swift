import ArgumentParser
import ConvOpsBot
import ConvOpsCore
import ConvOpsStore
import Foundation

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Read, export and verify the audit log.",
                                                    subcommands: [List.self, Show.self, Export.self, Verify.self, PublicKey.self])

    /// Signs the audit head as the process stops, and sends the digests' copy; a failure is
    /// said, not fatal.
    static func signHead(_ runtime: Runtime) async {
        do { try await runtime.finishAudit() } catch { Context.fail("the audit head was not signed: \(error)") }
    }

    static func store(_ context: Context) throws -> Store {
        do {
            return try Runtime.store(context.configuration, environment: context.environment)
        } catch {
            Context.fail("\(error)")
            throw Exit.setup
        }
    }

    /// `2026-11-29T15:59:16.071Z`
    static func timestamp(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
    }

    /// One entry as a JSON object; the actor as a name while the person is known.
    static func json(_ e: AuditEntry, _ store: Store) -> [String: Any] {
        var o: [String: Any] = [
            "seq": e.seq, "at": timestamp(e.at), "actor": e.actor, "actor_name": store.displayName(pseudonym: e.actor),
            "action": e.action, "target": e.target, "decision": e.decision.rawValue, "prev_hash": e.previousHash, "hash": e.hash,
        ]
        if let p = e.principal { o["principal"] = p }
        if let x = e.outcome { o["outcome"] = x }
        if let r = e.requestID { o["request"] = r }
        return o
    }

    static func line(_ object: [String: Any]) -> String {
        String(decoding: (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data(), as: UTF8.self)
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print the newest audit entries, oldest first.")
        @Option(help: "How many entries.") var limit = 50
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try Audit.store(try Context(global))
            for e in try store.auditEntries(limit: limit) {
                emit([String(e.seq), Audit.timestamp(e.at), e.decision.rawValue, e.action, e.target,
                      "actor=\(store.displayName(pseudonym: e.actor))", "principal=\(e.principal ?? "-")",
                      "request=\(e.requestID ?? "-")", e.outcome.map { "outcome=\($0)" } ?? ""].filter { !$0.isEmpty }.joined(separator: "\t"))
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one entry by its number, or every entry of a request by its id.")
        @Argument(help: "An entry number, or a request id such as r4k7qzab.") var key: String
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try Audit.store(try Context(global))
            let entries: [AuditEntry]
            if let seq = Int64(key) {
                entries = try store.auditEntry(seq: seq).map { [$0] } ?? []
            } else {
                entries = try store.auditEntries(requestID: key)
            }
            guard !entries.isEmpty else {
                Context.fail("no audit entry or request '\(key)': see `convops audit list`")
                throw Exit.refused
            }
            for e in entries { emit(Audit.line(Audit.json(e, store))) }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Write the whole audit log as JSON lines (machine-readable).")
        @Option(name: .shortAndLong, help: "Write to this file instead of standard output.") var output: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try Audit.store(try Context(global))
            var handle = FileHandle.standardOutput
            if let output {
                guard FileManager.default.createFile(atPath: output, contents: nil, attributes: [.posixPermissions: 0o600]),
                      let h = FileHandle(forWritingAtPath: output) else {
                    Context.fail("cannot write \(output)")
                    throw Exit.setup
                }
                handle = h
            }
            try store.forEachAuditEntry { e in handle.write(Data((Audit.line(Audit.json(e, store)) + "\n").utf8)) }
            if output != nil { try handle.close() }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the hash chain and the signed digests; exit 1 naming what is wrong.",
            discussion: "With --public-key, no data key is needed: the database is opened read-only, as an auditor would.")
        @Option(help: "The Ed25519 public key (base64) from `convops audit public-key`: verify without the data key.")
        var publicKey: String?
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let context = try Context(global)
            let chain: Store.AuditVerification, digests: DigestVerification
            do {
                if let publicKey {
                    (chain, digests) = try Store.verifyAudit(databasePath: context.configuration.databasePath,
                                                             digestFile: context.configuration.auditDigestFile, publicKey: publicKey)
                } else {
                    let store = try Audit.store(context)
                    (chain, digests) = (try store.verifyAudit(), try store.verifyDigests())
                }
            } catch let error as ExitCode {
                throw error
            } catch {
                Context.fail("\(error)")
                throw Exit.setup
            }
            switch chain {
            case .intact(let count, let from):
                emit(from == 0 ? "ok: \(count) entries, chain intact"
                               : "ok: \(count) entries after the retention checkpoint at entry \(from), chain intact")
            case .broken(let seq, let reason):
                emit("broken at entry \(seq): \(reason)")
                throw Exit.refused
            }
            switch digests {
            case .none:
                emit("signed: no digest yet (one is written every 100 entries and when convops stops)")
            case .intact(let count, let to, let at, let unsigned):
                emit("signed: up to entry \(to) at \(Audit.timestamp(at)) (\(count) digest\(count == 1 ? "" : "s"), all valid)"
                     + (unsigned > 0 ? "; \(unsigned) newer entries not yet signed" : ""))
            case .broken(let reason):
                emit("broken: \(reason)")
                throw Exit.refused
            }
        }
    }

    struct PublicKey: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "public-key",
            abstract: "Print the Ed25519 public key that verifies the audit digests (give it to your auditors).")
        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let store = try Audit.store(try Context(global))
            emit(store.auditPublicKey)
        }
    }
}
