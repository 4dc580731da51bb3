import ConvOpsCore
@testable import ConvOpsGrammar
import Foundation
import Testing

/// The repository's own commands/ and locales/.
let repoRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
let grammar: Grammar = {
    do {
        return try Grammar.load(commandsDirectory: repoRoot + "/commands", localesDirectory: repoRoot + "/locales")
    } catch {
        fatalError("the repository grammar must load: \(error)")
    }
}()

struct ParseCase: CustomTestStringConvertible, Sendable {
    var text: String
    var intent: String
    var slots: [String: String]
    var testDescription: String { "\"\(text)\" → \(intent)" }
    init(_ text: String, _ intent: String, _ slots: [String: String] = [:]) {
        self.text = text
        self.intent = intent
        self.slots = slots
    }
}

struct FailCase: CustomTestStringConvertible, Sendable {
    var text: String
    var suggestions: [String]
    var testDescription: String { "\"\(text)\" fails" }
}

@Suite struct GrammarParseTests {
    static let parses: [ParseCase] = [
        ParseCase("restart web-1", "restart", ["target": "web-1"]),
        ParseCase("Restart web-1", "restart", ["target": "web-1"]),
        ParseCase("RESTART Web-1!", "restart", ["target": "Web-1"]),
        ParseCase("reboot the instance web-2", "restart", ["target": "web-2", "kind": "ec2-instance"]),
        ParseCase("bounce   worker-1", "restart", ["target": "worker-1"]),
        ParseCase("restart i-0123456789abcdef0", "restart", ["target": "i-0123456789abcdef0"]),
        ParseCase("restart arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0", "restart",
                  ["target": "arn:aws:ec2:eu-west-1:123456789012:instance/i-0123456789abcdef0"]),
        ParseCase("restart \"web-1\"", "restart", ["target": "web-1"]),
        ParseCase("status", "status"),
        ParseCase("status web-1", "status", ["target": "web-1"]),
        ParseCase("status of web-1?", "status", ["target": "web-1"]),
        ParseCase("show the status of api-gw", "status", ["target": "api-gw"]),
        ParseCase("how is web-1 doing?", "status", ["target": "web-1"]),
        ParseCase("How is web-1", "status", ["target": "web-1"]),
        ParseCase("list instances", "status"),
        ParseCase("help", "help"),
        ParseCase("help restart", "help", ["topic": "restart"]),
        ParseCase("what can you do?", "help"),
        ParseCase("cancel", "cancel"),
        ParseCase("nevermind.", "cancel"),
        ParseCase("restart web-1 now please", "restart", ["target": "web-1"]),
    ]

    @Test(arguments: parses)
    func parsesToIntentAndSlots(_ c: ParseCase) throws {
        let parsed = try grammar.parse(c.text, locale: "en").get()
        #expect(parsed.intent.rawValue == c.intent)
        #expect(parsed.slots.mapValues { $0.text ?? "\($0.number!)" } == c.slots)
        #expect(parsed.locale == "en")
        #expect(parsed.rule.file.hasSuffix("/\(c.intent).cmd"))
    }

    static let failures: [FailCase] = [
        FailCase(text: "restrat web-1", suggestions: ["restart web-1"]),
        FailCase(text: "reboto web-2", suggestions: ["restart web-2"]),
        FailCase(text: "stauts", suggestions: ["status"]),
        FailCase(text: "make me a sandwich", suggestions: ["help"]),
        // "now" and "how" are one edit apart: suggestions must not chase each other (this recursed once).
        FailCase(text: "restart now how now", suggestions: ["restart <target>"]),
    ]

    @Test(arguments: failures)
    func unknownTextSuggests(_ c: FailCase) {
        guard case .failure(let f) = grammar.parse(c.text, locale: "en") else {
            Issue.record("\(c.text) should not parse")
            return
        }
        #expect(f.reason == .noMatch)
        #expect(f.suggestions == c.suggestions)
        #expect(f.message.contains("didn't understand"))
    }

    @Test(arguments: ["restart", "stop", "please stop", "restart the service"])
    func aBareVerbAsksForItsTarget(_ text: String) {
        guard case .failure(let f) = grammar.parse(text, locale: "en"), case .missingSlot(_, "target") = f.reason else {
            Issue.record("“\(text)” must ask which resource")
            return
        }
    }

    @Test func aMissingSlotIsNamedWithUsage() {
        guard case .failure(let f) = grammar.parse("scale api", locale: "en") else {
            Issue.record("scale with no count must not parse")
            return
        }
        #expect(f.reason == .missingSlot(.scale, "count"))
        #expect(f.message == "“scale” needs a count: which one? For example: scale <target> <count>")
        #expect(f.suggestions == ["scale <target> <count>"])
    }

    /// "restart it", "now restart", "und jetzt neu starten": the resource of the last message,
    /// which the engine fills in or asks for (ConversationsTests). "restart" alone asks.
    @Test(arguments: ["restart it", "reboot that one", "now restart", "and then restart the service", "restart the one in prod"])
    func noResourceNamedRefersBack(_ text: String) throws {
        let parsed = try grammar.parse(text, locale: "en").get()
        #expect(parsed.intent == .restart)
        #expect(parsed.slot("target") == .earlier)
        #expect(parsed.command.intent.target?.refersBack == true)
    }

    @Test func emptyTextAsksForSomething() {
        guard case .failure(let f) = grammar.parse("   ", locale: "en") else {
            Issue.record("empty text must not parse")
            return
        }
        #expect(f.reason == .empty)
    }

    @Test func theLocaleIsDetectedWhenNotGiven() throws {
        #expect(try grammar.parse("restart web-1").get().locale == "en")
    }

    @Test func helpIsGeneratedFromCommands() {
        let help = grammar.help(locale: "en")
        #expect(help.map(\.intent).contains(.restart))
        #expect(help.first { $0.intent == .restart }?.usage.first == "restart <target>")
        #expect(help.first { $0.intent == .restart }?.usage.contains("give <target> restart") == true)
        #expect(help.first { $0.intent == .restart }?.text == "Reboot an EC2 instance, after you confirm the plan.")
    }

    @Test func messagesFillPlaceholders() {
        let m = grammar.messages(for: "en")
        #expect(m.text("request.not_found", ["id": "r123"]) == "There is no plan r123. Check the id in the plan message.")
        #expect(m.text("no.such.key") == "no.such.key")
    }
}
