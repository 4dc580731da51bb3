@testable import ConvOpsGrammar
import Foundation
import Testing

/// Writes a commands/ and locales/ pair into a temp folder and loads it.
func load(_ commands: [String: String], locale: String = #"{"locale":"en","messages":{"help.x":"x"}}"#,
          required: Set<String> = []) -> Result<Grammar, GrammarLoadError> {
    let root = NSTemporaryDirectory() + "grammar-\(UUID().uuidString)"
    try! FileManager.default.createDirectory(atPath: root + "/commands", withIntermediateDirectories: true)
    try! FileManager.default.createDirectory(atPath: root + "/locales", withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(atPath: root) }
    for (name, text) in commands { try! text.write(toFile: root + "/commands/" + name, atomically: true, encoding: .utf8) }
    try! locale.write(toFile: root + "/locales/en.json", atomically: true, encoding: .utf8)
    do {
        return .success(try Grammar.load(commandsDirectory: root + "/commands", localesDirectory: root + "/locales",
                                         requiredMessageKeys: required))
    } catch {
        return .failure(error)
    }
}

/// The diagnostics as `name:line:column: message`, with the temp folder stripped.
func diagnostics(_ result: Result<Grammar, GrammarLoadError>) -> [String] {
    guard case .failure(let error) = result else { return [] }
    return error.diagnostics.map { "\(($0.file as NSString).lastPathComponent):\($0.line):\($0.column): \($0.message)" }
}

@Suite struct GrammarLoadTests {
    let good = "intent restart\nrisk mutating\nhelp help.x\nslot target resource\nen: restart {target}\n"

    @Test func aValidFileLoads() {
        #expect(diagnostics(load(["restart.cmd": good])) == [])
    }

    @Test func mistakesArePointedAtByLineAndColumn() {
        let file = """
            intent restart
            risk mutating
            help help.x
            slot target resorce
            slot count count
            en: restart {target
            en: restart [the {target}
            en: restart (now|) {target}
            colour blue
            """
        #expect(diagnostics(load(["restart.cmd": file])) == [
            "restart.cmd:4:13: unknown slot type 'resorce' (known: resource, count, delta, duration, time, text, word, environment, region, alarm-state, scope, request-id)",
            "restart.cmd:6:13: missing '}' for this '{'",
            "restart.cmd:7:13: missing ']' for this '['",
            "restart.cmd:8:18: empty alternative in '( … )'",
            "restart.cmd:9:1: unknown directive 'colour' (expected intent, risk, help, slot, or 'LOCALE: pattern')",
            "restart.cmd:5:1: intent 'restart' has no slot 'count' (it takes: account, env, region, target)",
        ])
    }

    @Test func unknownIntentsAndRiskMismatchesAreRefused() {
        #expect(diagnostics(load(["x.cmd": "intent reboot\nrisk mutating\nhelp help.x\nen: reboot\n"])).first ==
            "x.cmd:1:8: unknown intent 'reboot' (known: status, restart, stop, start, scale, alarms, logs, history, approve, reject, cancel, help, whoami, snooze, maintenance, snoozes, unsnooze)")
        #expect(diagnostics(load(["restart.cmd": good.replacingOccurrences(of: "risk mutating", with: "risk read-only")])) ==
            ["restart.cmd:1:1: intent 'restart' is mutating; the file says read-only"])
    }

    @Test func undeclaredSlotsAndMissingLinesAreRefused() {
        #expect(diagnostics(load(["restart.cmd": "intent restart\nrisk mutating\nhelp help.x\nen: restart {target}\n"])) ==
            ["restart.cmd:4:5: pattern uses slot {target}, which no 'slot' line declares"])
        #expect(diagnostics(load(["restart.cmd": "intent restart\nhelp help.x\nen: restart now\n"])) == [
            "restart.cmd:1:1: missing 'risk read-only' or 'risk mutating' line",
        ])
        #expect(diagnostics(load(["restart.cmd": "intent restart\nrisk mutating\nen: restart now\n"])) == [
            "restart.cmd:1:1: missing 'help KEY' line naming its help text in locales/",
        ])
        // A file with only patterns extends a declaration, which must exist.
        #expect(diagnostics(load(["de.cmd": "intent restart\nen: restart now\n"])) ==
            ["de.cmd:1:1: intent 'restart' is not declared: add commands/restart.cmd with its risk, help and slots"])
        #expect(diagnostics(load(["restart.cmd": good, "more.cmd": "intent restart\nen: reboot {target}\nen: bounce {server}\n"])) ==
            ["more.cmd:3:5: pattern uses slot {server}, which commands/restart.cmd does not declare"])
        #expect(diagnostics(load(["restart.cmd": "risk mutating\n"])) == ["restart.cmd:1:1: missing 'intent NAME' line"])
    }

    /// The load-time checks across rules: two intents that read the same text, and a rule an
    /// earlier one of its intent always takes first. Both refuse to load and name an example.
    @Test func overlappingAndUnreachableRulesAreRefused() {
        let stop = "intent stop\nrisk mutating\nhelp help.x\nslot target resource\nen: bounce {target}\n"
        let restart = good + "en: bounce {target} [now]\n"
        #expect(diagnostics(load(["restart.cmd": restart, "stop.cmd": stop])) ==
            ["stop.cmd:5:1: rules overlap ambiguously: “bounce sample-7” matches this rule (stop) and commands/restart.cmd:6 (restart)"])
        let shadowed = "intent restart\nrisk mutating\nhelp help.x\nslot target resource\nen: restart {target} [now]\nen: restart [the] {target}\nen: restart {target}\n"
        #expect(diagnostics(load(["restart.cmd": shadowed])) ==
            ["restart.cmd:7:1: unreachable rule: everything it matches (such as “restart sample-7”) is matched by commands/restart.cmd:5 first",
             "restart.cmd:7:1: unreachable rule: everything it matches (such as “restart sample-7”) is matched by commands/restart.cmd:6 first"])
        // Partly covered is fine: "restart the sample-7" is this rule's alone.
        #expect(diagnostics(load(["restart.cmd": shadowed.replacingOccurrences(of: "en: restart {target}\n", with: "")])) == [])
    }

    @Test func duplicateRulesAndIntentsAreRefused() {
        let twice = good + "en: restart   {target}\n"
        #expect(diagnostics(load(["restart.cmd": twice])).first?.hasPrefix("restart.cmd:6:5: duplicate rule: the same pattern is already at ") == true)
        let other = diagnostics(load(["a.cmd": good, "b.cmd": good.replacingOccurrences(of: "restart {target}", with: "reboot {target}")]))
        #expect(other.count == 1)
        #expect(other.first?.hasPrefix("b.cmd:1:1: intent 'restart' is already declared in ") == true)
    }

    @Test func localesMustHaveEveryKeyAndPatternLocale() {
        #expect(diagnostics(load(["restart.cmd": good], locale: #"{"locale":"en","messages":{}}"#)) ==
            ["restart.cmd:5:1: help key 'help.x' is missing from locales/en.json"])
        #expect(diagnostics(load(["restart.cmd": good + "fr: redémarre {target}\n"])) ==
            ["restart.cmd:6:1: no locales/fr.json for this pattern's locale 'fr'"])
        #expect(diagnostics(load(["restart.cmd": good], required: ["plan.prompt"])) == ["en.json:1:1: missing messages: plan.prompt"])
        #expect(diagnostics(load(["restart.cmd": good], locale: "{\n  \"locale\": \"en\",\n  oops\n}")).first?.hasPrefix("en.json:3:") == true)
    }
}
