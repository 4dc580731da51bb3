import ConvOpsCore
@testable import ConvOpsGrammar
import ConvOpsTestSupport
import Foundation
import PropertyBased
import Testing

/// Inputs made from the loaded grammar itself: every rule of every locale, written out with
/// each slot filled with hostile values. Random text almost never forms "number unit", which is
/// how "logs web-1 since 999999 weeks" trapped the process past a million random inputs.
enum RuleFuzz {
    /// Hostile fillers by slot type. Numbers at every boundary the code has or had (Int32,
    /// Int64, the grammar's limits), number words, and text that stresses the tokenizer.
    static func values(_ type: SlotType, _ locale: LocaleGrammar) -> [String] {
        table[locale.locale]?[type] ?? []
    }

    /// Built once: the big strings and the vocabulary scans are not redone per input.
    static let table: [String: [SlotType: [String]]] = Dictionary(uniqueKeysWithValues: grammar.localeGrammars.map { name, locale in
        (name, Dictionary(uniqueKeysWithValues: SlotType.allCases.map { ($0, make($0, locale)) }))
    })

    private static func make(_ type: SlotType, _ locale: LocaleGrammar) -> [String] {
        let numbers = ["0", "1", "-1", "10000", "10001", "2147483647", "2147483648", "4294967296", "9223372036854775807",
                       "9223372036854775808", "100000000000000000000", String(repeating: "9", count: 400), "+2147483648",
                       "-9223372036854775809", "0x10", "1e9", "٣", "１２", "3.5"] + numberWords(locale)
        let units = unitWords(locale)
        let text = ["web-1", "", "\u{301}\u{301}\u{301}", "e\u{301}\u{302}\u{303}", "\u{202E}1-bew\u{202C}", "\u{200F}web-1\u{200E}",
                    "\"web-1", "'web 1'", "“web-1”", "`web-1`", "\u{0}", "🔥", String(repeating: "a", count: 65_536),
                    String(repeating: "web-1 ", count: 11_000), "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc",
                    "arn" + String(repeating: ":", count: 5_000), "arn:aws:ec2:" + String(repeating: "eu-west-1:", count: 2_000),
                    "i-" + String(repeating: "0", count: 3_000), "{target}", "<@U024BE7LH>", ":fire:", "%00", "../../etc/passwd"]
        switch type {
        case .count, .delta:
            return numbers
        case .duration:
            var out = ["999999 weeks", "600000h", "seit 999999 wochen", "2147483647 days", "0m", "0 minutes", "1s", "90d", "91d",
                       "last hour", "99999999999999999999 minutes", "15m", "-5m"]
            for unit in units.prefix(6) {
                for n in ["0", "1", "999999", "2147483647", "2147483648", "9223372036854775808", String(repeating: "9", count: 60)] {
                    out.append("\(n) \(unit)")
                    out.append("\(n)\(unit)")
                }
            }
            return out
        case .time:
            return ["18:00", "0:00", "23:59", "24:00", "18:60", "99:99", "18.00", "18 uhr", "18:00 Uhr", "25 uhr", "-1 uhr",
                    "2147483648 uhr", "18:00:00", "１８:００", "18：00", ":", "18:", ":00", String(repeating: "1", count: 400) + ":00"]
        case .environment: return ["prod", "staging", "PROD", "production", "nowhere", ""]
        case .region: return ["eu-west-1", "us-gov-west-1", "xx-yyyyyyyyyyyyyyyy-9", "eu-west-1" + String(repeating: "1", count: 100)]
        case .requestID: return ["r4k7qzab", "rAAAAAAA", "r", String(repeating: "r", count: 5_000)]
        case .alarmState: return ["ok", "alarm", "all", "insufficient", "grün", "nope"]
        case .scope: return ["mine", "all", "team", "alle", "nobody"]
        case .resource, .text, .word: return text + numbers.prefix(6)
        }
    }

    static func numberWords(_ locale: LocaleGrammar) -> [String] {
        words(locale) { locale.tables.numbers[$0] >= 0 }
    }

    static func unitWords(_ locale: LocaleGrammar) -> [String] {
        words(locale) { locale.tables.units[$0] > 0 }
    }

    private static func words(_ locale: LocaleGrammar, _ keep: (Int) -> Bool) -> [String] {
        (0..<locale.tables.numbers.count).filter(keep).map { grammar.vocabulary.text(Int32($0)) }.sorted()
    }

    /// The rule written out: `choices` pick among alternatives and optional groups (0: the
    /// first word, the group included), `fill` gives each slot's text.
    static func render(_ elements: [PatternElement], _ choices: inout IndexingIterator<[Int]>,
                       _ fill: (String) -> String) -> [String] {
        var out: [String] = []
        for element in elements {
            switch element {
            case .word(let words): out.append(words[(choices.next() ?? 0) % words.count])
            case .slot("_", _): out.append("anything")
            case .slot("_*", _): out.append("and the rest")
            case .slot(let name, _): out.append(fill(name))
            case .constant: break
            case .optional(let inner):
                if (choices.next() ?? 0) % 2 == 0 { out += render(inner, &choices, fill) }
            }
        }
        return out
    }

    static let locales = grammar.localeGrammars.keys.sorted()

    /// Everything that makes a result well formed. Returns what is wrong, or nil.
    /// `again`: parse a second time and compare (determinism, on a sample).
    static func problem(_ input: String, locale: String?, again: Bool = true) -> String? {
        let result = grammar.parse(input, locale: locale)
        switch result {
        case .success(let parsed):
            if parsed.intent.risk == .mutating, parsed.command.intent.target == nil { return "a mutating intent without a target" }
            for slot in parsed.slotList {
                guard case .number(let n) = slot.value else { continue }
                switch slot.name {
                case "count", "delta": if abs(n) > GrammarLimits.count { return "\(slot.name) \(n) is past the limit" }
                case "since": if n < 1 || n > GrammarLimits.lookBackSeconds { return "since \(n) s is out of range" }
                default: break
                }
            }
        case .failure(let failure):
            if failure.message.isEmpty { return "an empty refusal" }
            if failure.message.contains(try! Regex(#"\{[a-z_]+\}"#)) { return "a placeholder left in “\(failure.message)”" }
        }
        if again, "\(grammar.parse(input, locale: locale))" != "\(result)" { return "not deterministic" }
        return nil
    }
}

/// CPU-bound: every test runs on `OwnThreadExecutor`, one at a time, so the loopback servers of
/// the other suites keep their share of the two cores.
@Suite(.serialized) struct GrammarRuleFuzzTests {
    /// Every rule of every locale × every hostile value of every slot type it has, with the
    /// optional groups all in and all out, in the rule's locale and with the locale detected.
    /// Values of 1 KB and more (64 KB of one word, 11,000 words, 5,000 colons…) cost tens of
    /// milliseconds each in the debug build: each rule gets one of them, in turn, parsed once,
    /// so that every big value meets many rules and the suite stays fast.
    @Test func everyRuleWithEveryHostileSlotValue() async {
        await onOwnThread { Self.everyRuleWithEveryHostileSlotValue() }
    }

    static func everyRuleWithEveryHostileSlotValue() {
        let started = ContinuousClock.now
        var inputs = 0
        var problems: [String] = []
        var big = 0
        for name in RuleFuzz.locales {
            let locale = grammar.localeGrammars[name]!
            for rule in locale.rules {
                let slots = rule.elements.slotNames.filter { $0 != "_" && $0 != "_*" }
                for target in slots.isEmpty ? [""] : slots {
                    let type = rule.slotTypes[target] ?? .word
                    let all = slots.isEmpty ? [""] : RuleFuzz.values(type, locale)
                    let large = all.filter { $0.utf8.count > 1_000 }
                    var chosen = all.filter { $0.utf8.count <= 1_000 }
                    if !large.isEmpty { chosen.append(large[big % large.count]); big += 1 }
                    for value in chosen {
                        for optional in value.utf8.count > 1_000 ? [0] : [0, 1] {
                            var choices = Array(repeating: optional, count: 64).makeIterator()
                            let words = RuleFuzz.render(rule.elements, &choices) { slot in
                                slot == target ? value : (RuleFuzz.values(rule.slotTypes[slot] ?? .word, locale).first ?? "web-1")
                            }
                            let text = words.joined(separator: " ")
                            for detect in value.utf8.count > 1_000 ? [false] : [false, true] {
                                inputs += 1
                                if let p = RuleFuzz.problem(text, locale: detect ? nil : name, again: inputs % 16 == 0), problems.count < 10 {
                                    problems.append("\(rule.location) \(p): \(text.prefix(200).debugDescription)")
                                }
                            }
                        }
                    }
                }
            }
        }
        #expect(problems.isEmpty, "\(problems.joined(separator: "\n"))")
        #expect(inputs > 10_000, "\(inputs) inputs")
        let seconds = Double((ContinuousClock.now - started).components.attoseconds) / 1e18 + Double((ContinuousClock.now - started).components.seconds)
        print("grammar rule fuzz: \(inputs) inputs from \(grammar.ruleCount) rules in \(Int(seconds * 1000)) ms (debug build)")
    }

    /// Parsing takes time linear in the text: 16 times the text costs at most 64 times the CPU
    /// (linear is 16, quadratic 256). Thread CPU time, the median of three, so other tests
    /// running at the same time do not count; the margin is wide because this checks the
    /// shape of the growth, not a speed.
    @Test func parsingTimeGrowsLinearlyWithTheText() async {
        await onOwnThread { Self.parsingTimeGrowsLinearlyWithTheText() }
    }

    static func parsingTimeGrowsLinearlyWithTheText() {
        func cpu() -> Double {
            var t = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t)
            return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
        }
        func cost(_ text: String) -> Double {
            var samples: [Double] = []
            for _ in 0..<3 {
                let start = cpu()
                _ = grammar.parse(text)
                samples.append(cpu() - start)
            }
            return samples.sorted()[1]
        }
        let shapes: [(String, (Int) -> String)] = [
            ("one long name", { "restart " + String(repeating: "a", count: $0) }),
            ("many names", { "restart " + String(repeating: "web-1 ", count: $0 / 6) }),
            ("command words", { String(repeating: "logs ", count: $0 / 5) + "web-1 since 5m" }),
            ("durations", { "logs web-1 matching " + String(repeating: "since 5m ", count: $0 / 9) }),
            ("digits", { "scale api to " + String(repeating: "9", count: $0) }),
            ("colons", { "status arn" + String(repeating: ":", count: $0) }),
            ("unknown words", { String(repeating: "lgos ", count: $0 / 5) }),
            ("German", { "starte " + String(repeating: "web-1 neu ", count: $0 / 10) }),
        ]
        for (name, make) in shapes {
            let small = cost(make(4_000)), large = cost(make(64_000))
            #expect(large < max(small, 0.000_05) * 64, "\(name): 4 KB took \(small) s, 64 KB \(large) s")
        }
    }

    /// The numbers that once trapped: each now gets its refusal, in the person's language.
    @Test func outOfRangeNumbersAreRefusedByName() throws {
        let cases: [(String, String)] = [
            ("logs web-1 since 999999 weeks", "I can look back at most 90 days"),
            ("logs web-1 last 600000h", "I can look back at most 90 days"),
            ("logs web-1 seit 999999 wochen", "höchstens 90 Tage"),
            ("logs web-1 since 0 minutes", "I can look back at most 90 days"),
            ("scale api to 2147483648", "I can scale to at most 10,000"),
            ("scale api to 99999999999999999999999", "I can scale to at most 10,000"),
            ("scale api to 10001", "I can scale to at most 10,000"),
            ("scale api +9223372036854775808", "I can change a count by at most 10,000"),
            ("scale api up by 4294967296", "I can change a count by at most 10,000"),
            ("skaliere api auf 2147483648", "höchstens 10.000"),
            ("scale api to " + String(repeating: "9", count: 60_000), "“" + String(repeating: "9", count: 40) + "…”"),
        ]
        // Deliberation about a number too large is still deliberation.
        guard case .failure(let negated) = grammar.parse("don't scale api to 99999"), case .notARequest(.scale, .negation) = negated.reason else {
            Issue.record("a negated out-of-range scale was not refused as a negation")
            return
        }
        for (input, expected) in cases {
            guard case .failure(let failure) = grammar.parse(input) else {
                Issue.record("\(input) parsed")
                continue
            }
            #expect(failure.message.contains(expected), "\(input): \(failure.message)")
            if case .outOfRange = failure.reason {} else { Issue.record("\(input): \(failure.reason)") }
        }
        // At the limits themselves, the request goes through.
        guard case .success(let ok) = grammar.parse("scale api to 10000") else { Issue.record("10000 refused"); return }
        #expect(ok.command.intent == .scale(target: ResourceMention("api"), change: .absolute(10_000)))
        guard case .success(let days) = grammar.parse("logs web-1 since 90 days") else { Issue.record("90 days refused"); return }
        #expect(days.slot("since") == .number(90 * 86_400))
    }

    /// Random rules, random choices, random hostile values and decorations around them, with
    /// shrinking: a failure is reported as the smallest choices that still fail.
    @Test func randomRulesWithHostileSlotsShrinkToTheSmallestFailure() async {
        await onOwnThread { await Self.randomRulesWithHostileSlots() }
    }

    static func randomRulesWithHostileSlots() async {
        let all = RuleFuzz.locales.flatMap { name in grammar.localeGrammars[name]!.rules.map { (name, $0) } }
        let decorations = ["", "please", "can you", "don't", "?", "convops:", "/convops", "bitte", "kannst du", "nicht", "if", "🙏",
                           String(repeating: "really ", count: 2_000)]
        await propertyCheck(count: 2_000, input: Gen.int(in: 0...(all.count - 1)), Gen.int(in: 0...1_000).array(of: 0...12),
                            Gen.int(in: 0...(decorations.count - 1)), Gen.bool) { index, picks, decoration, detect in
            let (name, rule) = all[index]
            let locale = grammar.localeGrammars[name]!
            var choices = picks.makeIterator()
            var values = picks.reversed().makeIterator()
            let words = RuleFuzz.render(rule.elements, &choices) { slot in
                let options = RuleFuzz.values(rule.slotTypes[slot] ?? .word, locale)
                return options[(values.next() ?? 0) % options.count]
            }
            let text = (decoration.isMultiple(of: 2) ? [decorations[decoration]] + words : words + [decorations[decoration]])
                .joined(separator: " ")
            let problem = RuleFuzz.problem(text, locale: detect ? nil : name)
            #expect(problem == nil, "\(rule.location): \(problem ?? "") for \(text.prefix(300).debugDescription)")
        }
    }
}
