import ConvOpsCore
@testable import ConvOpsGrammar
import Foundation
import Testing

/// One labelled utterance of Corpus/corpus.jsonl (see Corpus/SOURCES.md).
struct CorpusLine: Sendable, CustomTestStringConvertible {
    var line: Int
    var text: String
    var locale: String
    var intent: String?
    var slots: [String: String]
    var negative: Bool

    var testDescription: String { "\(line): \(text)" }

    static let all: [CorpusLine] = {
        let url = Bundle.module.url(forResource: "Corpus/corpus", withExtension: "jsonl")!
        let text = try! String(contentsOf: url, encoding: .utf8)
        return text.split(separator: "\n").enumerated().map { index, raw in
            let object = try! JSONSerialization.jsonObject(with: Data(raw.utf8)) as! [String: Any]
            let slots = (object["slots"] as? [String: Any] ?? [:]).mapValues { "\($0)" }
            return CorpusLine(line: index + 1, text: object["text"] as! String, locale: object["locale"] as! String,
                              intent: object["intent"] as? String, slots: slots, negative: object["negative"] as? Bool ?? false)
        }
    }()
}

/// What a parse gave, comparable with a corpus line.
func outcome(_ result: Result<ParsedCommand, ParseFailure>) -> (intent: String?, slots: [String: String]) {
    switch result {
    case .success(let parsed):
        return (parsed.intent.rawValue, parsed.slots.mapValues(\.display))
    case .failure:
        return (nil, [:])
    }
}

@Suite struct GrammarCorpusTests {
    @Test func theCorpusIsBigEnough() {
        let all = CorpusLine.all
        #expect(all.count >= 1_000)
        #expect(all.filter { $0.locale == "de" }.count >= 400)
        #expect(all.filter(\.negative).count >= 300)
    }

    @Test(arguments: CorpusLine.all)
    func parsesAsLabelled(_ line: CorpusLine) {
        let given = outcome(grammar.parse(line.text, locale: line.locale))
        #expect(given.intent == line.intent, "with locale \(line.locale)")
        #expect(given.slots == line.slots, "with locale \(line.locale)")
        let detected = outcome(grammar.parse(line.text))
        #expect(detected.intent == line.intent, "with the locale detected")
        #expect(detected.slots == line.slots, "with the locale detected")
    }

    @Test(arguments: CorpusLine.all.filter(\.negative))
    func negativesNeverMutate(_ line: CorpusLine) {
        for locale in [line.locale, nil] {
            if case .success(let parsed) = grammar.parse(line.text, locale: locale) {
                #expect(!parsed.intent.changesSomething, "parsed to \(parsed.intent.rawValue)")
            }
        }
    }
}
