import Foundation

/// A locale's words for understanding natural phrasing, from the `grammar` section of
/// `locales/LOCALE.json`. The code applies fixed logic over these word classes, so a new
/// locale is new files, not new code.
struct Lexicon: Sendable, Decodable {
    /// Greetings, politeness and filler, removed before matching. Entries may be phrases ("for me").
    var filler: [String] = []
    /// Fixed phrases read as one word before anything else ("never mind" → "nevermind").
    var compounds: [String: String] = [:]
    /// Words that make a question a polite request ("can you…?", "kannst du…?"). Also removed.
    var polite: [String] = []
    /// Words that, first in a sentence, make it a question ("who", "should", "wer").
    var questions: [String] = []
    /// Words that negate ("don't", "nicht").
    var negation: [String] = []
    /// Words that make it hypothetical or conditional ("if", "falls").
    var conditional: [String] = []
    /// Past tense, participles and nouns of actions: a report, not a request ("restarted", "Neustart").
    var report: [String] = []
    /// Outcome words: talk about a result ("failed", "fehlgeschlagen").
    var outcome: [String] = []
    /// First-person subjects: "I restarted…", "we should…".
    var subjects: [String] = []
    /// Number words: "six" → 6.
    var numbers: [String: Int] = [:]
    /// Duration units in seconds: "minutes" → 60.
    var units: [String: Int] = [:]
    /// Words around a duration that carry no value: "since", "last", "ago", "seit", "letzten".
    var durationWords: [String] = []
    /// Canonical environment → its synonyms ("prod" → ["production", "live"]).
    var environments: [String: [String]] = [:]
    /// Words introducing an environment or region ("in", "on", "im", "auf").
    var qualifierPrepositions: [String] = []
    /// Words introducing an account alias ("account", "konto").
    var accountWords: [String] = []
    /// Words introducing a region ("region").
    var regionWords: [String] = []
    /// Words naming an environment explicitly ("env", "environment", "umgebung").
    var environmentWords: [String] = []
    /// Pronouns and quantifiers ("it", "that", "everything", "es"): never a resource name.
    var pronouns: [String] = []

    enum CodingKeys: String, CodingKey {
        case filler, compounds, polite, questions, negation, conditional, report, outcome, subjects, numbers, units
        case durationWords = "duration_words", environments
        case qualifierPrepositions = "qualifier_prepositions", accountWords = "account_words"
        case regionWords = "region_words", environmentWords = "environment_words", pronouns
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func list(_ key: CodingKeys) throws -> [String] { try c.decodeIfPresent([String].self, forKey: key)?.map { $0.lowercased() } ?? [] }
        filler = try list(.filler)
        compounds = Dictionary(uniqueKeysWithValues: (try c.decodeIfPresent([String: String].self, forKey: .compounds) ?? [:])
            .map { ($0.key.lowercased(), $0.value.lowercased()) })
        polite = try list(.polite)
        questions = try list(.questions)
        negation = try list(.negation)
        conditional = try list(.conditional)
        report = try list(.report)
        outcome = try list(.outcome)
        subjects = try list(.subjects)
        numbers = try c.decodeIfPresent([String: Int].self, forKey: .numbers) ?? [:]
        units = try c.decodeIfPresent([String: Int].self, forKey: .units) ?? [:]
        durationWords = try list(.durationWords)
        environments = try c.decodeIfPresent([String: [String]].self, forKey: .environments) ?? [:]
        qualifierPrepositions = try list(.qualifierPrepositions)
        accountWords = try list(.accountWords)
        regionWords = try list(.regionWords)
        environmentWords = try list(.environmentWords)
        pronouns = try list(.pronouns)
    }
}

/// What a token is to the grammar, as bits.
struct WordClass: OptionSet, Sendable, Hashable {
    let rawValue: UInt16
    static let filler = WordClass(rawValue: 1 << 0)
    static let polite = WordClass(rawValue: 1 << 1)
    static let question = WordClass(rawValue: 1 << 2)
    static let negation = WordClass(rawValue: 1 << 3)
    static let conditional = WordClass(rawValue: 1 << 4)
    static let report = WordClass(rawValue: 1 << 5)
    static let outcome = WordClass(rawValue: 1 << 6)
    static let subject = WordClass(rawValue: 1 << 7)
    static let qualifierPreposition = WordClass(rawValue: 1 << 8)
    static let account = WordClass(rawValue: 1 << 9)
    static let region = WordClass(rawValue: 1 << 10)
    static let environmentWord = WordClass(rawValue: 1 << 11)
    static let durationWord = WordClass(rawValue: 1 << 12)
    /// A literal word of some rule.
    static let command = WordClass(rawValue: 1 << 13)
    static let pronoun = WordClass(rawValue: 1 << 14)

    /// Classes that are taken out before rules are matched.
    static let stripped: WordClass = [.filler, .polite, .negation, .conditional, .report, .outcome]
    /// Classes that say "this is not a request to act".
    static let guards: WordClass = [.negation, .conditional, .report, .outcome]
}

/// The compiled lookups of one locale.
struct LocaleWords: Sendable {
    var classes: [String: WordClass] = [:]
    /// Compound phrases by first word, longest first, with the word they become.
    var compounds: [String: [(words: [String], joined: String)]] = [:]
    /// Multi-word entries of any class ("do not", "for me"), by first word, longest first.
    var phrases: [String: [(words: [String], wordClass: WordClass)]] = [:]
    var numbers: [String: Int]
    var units: [String: Int]
    var environments: [String: String] = [:]

    init(_ lexicon: Lexicon) {
        numbers = lexicon.numbers
        units = lexicon.units
        func add(_ words: [String], _ c: WordClass) {
            for w in words {
                let parts = w.split(separator: " ").map(String.init)
                if parts.count > 1 {
                    phrases[parts[0], default: []].append((parts, c))
                } else {
                    classes[w, default: []].insert(c)
                }
            }
        }
        add(lexicon.filler, .filler)
        add(lexicon.polite, .polite)
        add(lexicon.questions, .question)
        add(lexicon.negation, .negation)
        add(lexicon.conditional, .conditional)
        add(lexicon.report, .report)
        add(lexicon.outcome, .outcome)
        add(lexicon.subjects, .subject)
        add(lexicon.qualifierPrepositions, .qualifierPreposition)
        add(lexicon.accountWords, .account)
        add(lexicon.regionWords, .region)
        add(lexicon.environmentWords, .environmentWord)
        add(lexicon.pronouns, .pronoun)
        add(lexicon.durationWords, .durationWord)
        for (canonical, synonyms) in lexicon.environments {
            environments[canonical.lowercased()] = canonical.lowercased()
            for s in synonyms { environments[s.lowercased()] = canonical.lowercased() }
        }
        for phrase in phrases.keys { phrases[phrase]!.sort { $0.words.count > $1.words.count } }
        for (phrase, joined) in lexicon.compounds {
            let parts = phrase.split(separator: " ").map(String.init)
            guard parts.count > 1 else { continue }
            compounds[parts[0], default: []].append((parts, joined))
        }
        for key in compounds.keys { compounds[key]!.sort { $0.words.count > $1.words.count } }
    }

    func wordClass(_ folded: String) -> WordClass { classes[folded] ?? [] }

    func number(_ folded: String) -> Int? {
        if !folded.isEmpty, folded.utf8.count <= 6, folded.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let n = Int(folded) { return n }
        return numbers[folded]
    }
}
