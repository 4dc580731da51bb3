import ConvOpsCore
@testable import ConvOpsGrammar
import Testing

/// `convops parse --explain`: what each word became, the rule that matched, or the rules that
/// got furthest and the word each stopped at.
@Suite struct GrammarExplainTests {
    @Test func aMatchNamesItsRuleAndWhatEachWordBecame() throws {
        let e = grammar.explain("could you please restart the api service in prod")
        #expect(e.locale == "en")
        #expect(!e.localeGiven)
        #expect(e.content == ["restart", "api"])
        #expect(e.words.first { $0.text == "could" }?.role == "polite, removed")
        #expect(e.words.first { $0.text == "service" }?.role == "kind ecs-service, taken out")
        #expect(e.words.first { $0.text == "prod" }?.role == "qualifier, taken out")
        #expect(e.words.first { $0.text == "api" }?.role == "kept (a name)")
        let matched = try #require(e.matched)
        #expect(matched.intent == .restart)
        #expect(matched.rule.file == "commands/en/restart.cmd")
        #expect(matched.pattern.hasPrefix("(restart|reboot"))
        #expect(e.closest.isEmpty)
        #expect(e.qualifiers.map(\.name).sorted() == ["env", "kind"])
    }

    @Test func aMissNamesTheClosestRulesAndWhereTheyStopped() throws {
        let e = grammar.explain("set the desired number of checkout to 3", locale: "en")
        #expect(e.localeGiven)
        #expect(e.matched == nil)
        guard case .failure = e.result else { Issue.record("must not parse"); return }
        let best = try #require(e.closest.first)
        #expect(best.intent == .scale)
        #expect(best.pattern.contains("(count|capacity|size)"))
        #expect(best.matchedWords == 2)
        #expect(best.stoppedAt == "number")
        #expect(e.closest.count <= 3)
        #expect(e.closest.map(\.matchedWords) == e.closest.map(\.matchedWords).sorted(by: >))
    }

    @Test func phrasesAndReferencesAreShownWhole() {
        let e = grammar.explain("don't do the same for web-2 in prod")
        #expect(e.words.map(\.text) == ["don't", "do the same for", "web-2", "in", "prod"])
        #expect(e.words[1].role == "same as before (phrase), removed")
        let it = grammar.explain("starte es neu", locale: "de")
        #expect(it.words.first { $0.text == "es" }?.role == "kept (stands for the last message's resource)")
    }

    @Test(arguments: ["", "   ", "🙂", String(repeating: "restart ", count: 2_000), "\"", "in prod", "&gt; restart web-1"])
    func anyTextIsExplainedWithoutTrapping(_ text: String) {
        let e = grammar.explain(text)
        #expect(e.closest.count <= 3)
    }
}
