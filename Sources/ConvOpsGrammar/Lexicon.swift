import ConvOpsCore
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
    /// Words that stand for the resource of the person's last message ("it", "that one", "es").
    var references: [String] = []
    /// Phrases that ask for the last request again with another target or place ("same for",
    /// "dasselbe für"). Entries may be phrases.
    var same: [String] = []
    /// Words that pick among the candidates of the last answer ("the one" in "the one in prod").
    var picks: [String] = []
    /// Kind nouns by resource kind ("service" → ecs-service): next to a name they narrow the
    /// search to that kind ("the api service").
    var kinds: [String: [String]] = [:]
    /// Words that carry a conversation on ("and now", "then", "und jetzt"): with one, a rule
    /// matched with no resource named means the last message's ("und jetzt neu starten").
    /// Removed before matching, like filler.
    var continuations: [String] = []
    /// Words after an hour that make it a time of day ("18 Uhr").
    var clockWords: [String] = []

    enum CodingKeys: String, CodingKey {
        case filler, compounds, polite, questions, negation, conditional, report, outcome, subjects, numbers, units
        case durationWords = "duration_words", environments
        case qualifierPrepositions = "qualifier_prepositions", accountWords = "account_words"
        case regionWords = "region_words", environmentWords = "environment_words", pronouns
        case references, same, picks, kinds, continuations, clockWords = "clock_words"
    }

    init() {}

    static let largestNumber = 1_000_000
    static let longestUnit = 366 * 86_400

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        func list(_ key: CodingKeys) throws -> [String] { try c.decodeIfPresent([String].self, forKey: key)?.map { $0.lowercased() } ?? [] }
        filler = try list(.filler)
        compounds = [:]
        for (phrase, joined) in try c.decodeIfPresent([String: String].self, forKey: .compounds) ?? [:] {
            // Keys differ only in case in the file ("Never mind", "never mind"): one phrase twice.
            guard compounds.updateValue(joined.lowercased(), forKey: phrase.lowercased()) == nil else {
                throw DecodingError.dataCorruptedError(forKey: .compounds, in: c,
                                                       debugDescription: "the compound “\(phrase.lowercased())” is listed twice")
            }
        }
        polite = try list(.polite)
        questions = try list(.questions)
        negation = try list(.negation)
        conditional = try list(.conditional)
        report = try list(.report)
        outcome = try list(.outcome)
        subjects = try list(.subjects)
        numbers = try c.decodeIfPresent([String: Int].self, forKey: .numbers) ?? [:]
        units = try c.decodeIfPresent([String: Int].self, forKey: .units) ?? [:]
        // The matcher keeps these as Int32 and multiplies amount by unit in Int64: bound both.
        for (word, n) in numbers where !(0...Self.largestNumber).contains(n) {
            throw DecodingError.dataCorruptedError(forKey: .numbers, in: c,
                debugDescription: "the number word “\(word)” is \(n); number words must be from 0 to \(Self.largestNumber)")
        }
        for (word, n) in units where !(1...Self.longestUnit).contains(n) {
            throw DecodingError.dataCorruptedError(forKey: .units, in: c,
                debugDescription: "the unit “\(word)” is \(n) seconds; units must be from 1 to \(Self.longestUnit) seconds (a year)")
        }
        durationWords = try list(.durationWords)
        environments = try c.decodeIfPresent([String: [String]].self, forKey: .environments) ?? [:]
        qualifierPrepositions = try list(.qualifierPrepositions)
        accountWords = try list(.accountWords)
        regionWords = try list(.regionWords)
        environmentWords = try list(.environmentWords)
        pronouns = try list(.pronouns)
        references = try list(.references)
        same = try list(.same)
        picks = try list(.picks)
        continuations = try list(.continuations)
        clockWords = try list(.clockWords)
        kinds = [:]
        for (kind, words) in try c.decodeIfPresent([String: [String]].self, forKey: .kinds) ?? [:] {
            guard ResourceKind(rawValue: kind) != nil else {
                throw DecodingError.dataCorruptedError(forKey: .kinds, in: c, debugDescription:
                    "“\(kind)” is not a resource kind (known: \(ResourceKind.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            kinds[kind] = words.map { $0.lowercased() }
        }
    }
}

/// What a token is to the grammar, as bits.
struct WordClass: OptionSet, Sendable, Hashable {
    let rawValue: UInt32
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
    /// The word starts a multi-word lexicon entry or a compound: look it up there.
    static let phraseStart = WordClass(rawValue: 1 << 15)
    /// Stands for the resource of the last message ("it").
    static let reference = WordClass(rawValue: 1 << 16)
    /// "same for": the last request again, with what follows.
    static let same = WordClass(rawValue: 1 << 17)
    /// "the one" (in prod): picks among the last answer's candidates.
    static let pick = WordClass(rawValue: 1 << 18)
    /// A kind noun ("service", "Datenbank").
    static let kind = WordClass(rawValue: 1 << 19)
    /// "and now", "then", "und jetzt": the conversation goes on.
    static let continuation = WordClass(rawValue: 1 << 20)
    /// "Uhr" in "18 Uhr": the number before it is an hour of the day.
    static let clockWord = WordClass(rawValue: 1 << 21)

    /// Classes that are taken out before rules are matched.
    static let stripped: WordClass = [.filler, .polite, .negation, .conditional, .report, .outcome, .continuation]
    /// Classes that say "this is not a request to act".
    static let guards: WordClass = [.negation, .conditional, .report, .outcome]
}

/// One locale's word facts while the grammar is being built.
struct LocaleTablesBuilder {
    var classes: [WordClass]
    var numbers: [Int32]
    var units: [Int32]
    var environments: [Int32]
    /// The index in `ResourceKind.allCases` of the kind a word names, else -1.
    var kinds: [Int8]
    var compounds: [Int32: [(ids: [Int32], joined: Int32)]] = [:]
    /// How a reference reads back in this locale ("it", "es"), for refusals that say what to type.
    var referenceWord: String
    /// How "account" reads in this locale ("account", "konto"), for commands written out.
    var accountWord: String
    /// The first noun of each kind ("service", "Dienst"), for commands written out.
    var kindWords: [ResourceKind: String]
    var phrases: [Int32: [(ids: [Int32], wordClass: WordClass)]] = [:]

    init(_ lexicon: Lexicon, _ vocabulary: inout Vocabulary) {
        func ids(_ phrase: String) -> [Int32] { phrase.split(separator: " ").map { vocabulary.intern(String($0)) } }
        referenceWord = lexicon.references.first ?? "it"
        accountWord = lexicon.accountWords.first ?? "account"
        kindWords = [:]
        for (kind, words) in lexicon.kinds {
            if let kind = ResourceKind(rawValue: kind), let first = words.first { kindWords[kind] = first }
        }
        let lists: [([String], WordClass)] = [
            (lexicon.filler, .filler), (lexicon.polite, .polite), (lexicon.questions, .question),
            (lexicon.negation, .negation), (lexicon.conditional, .conditional), (lexicon.report, .report),
            (lexicon.outcome, .outcome), (lexicon.subjects, .subject), (lexicon.qualifierPrepositions, .qualifierPreposition),
            (lexicon.accountWords, .account), (lexicon.regionWords, .region), (lexicon.environmentWords, .environmentWord),
            (lexicon.durationWords, .durationWord), (lexicon.pronouns, .pronoun),
            (lexicon.references, .reference), (lexicon.same, .same), (lexicon.picks, .pick),
            (lexicon.continuations, .continuation), (lexicon.clockWords, .clockWord),
        ]
        var single: [(Int32, WordClass)] = []
        var multi: [([Int32], WordClass)] = []
        for (words, c) in lists {
            for w in words {
                let p = ids(w)
                if p.count == 1 { single.append((p[0], c)) } else if p.count > 1 { multi.append((p, c)) }
            }
        }
        let numberIDs = lexicon.numbers.map { (vocabulary.intern($0.key), Int32(clamping: $0.value)) }
        let unitIDs = lexicon.units.map { (vocabulary.intern($0.key), Int32(clamping: $0.value)) }
        var envIDs: [(Int32, Int32)] = []
        for (canonical, synonyms) in lexicon.environments {
            let c = vocabulary.intern(canonical)
            envIDs.append((c, c))
            for s in synonyms { envIDs.append((vocabulary.intern(s), c)) }
        }
        var kindIDs: [(Int32, Int8)] = []
        for (kind, words) in lexicon.kinds {
            let index = Int8(ResourceKind.allCases.firstIndex { $0.rawValue == kind }!)
            for w in words { kindIDs.append((vocabulary.intern(w), index)) }
        }
        var compoundIDs: [([Int32], Int32)] = []
        for (phrase, joined) in lexicon.compounds {
            let p = ids(phrase)
            if p.count > 1 { compoundIDs.append((p, vocabulary.intern(joined))) }
        }
        let size = vocabulary.count
        classes = Array(repeating: [], count: size)
        numbers = Array(repeating: -1, count: size)
        units = Array(repeating: 0, count: size)
        environments = Array(repeating: -1, count: size)
        kinds = Array(repeating: -1, count: size)
        for (id, k) in kindIDs {
            kinds[Int(id)] = k
            classes[Int(id)].insert(.kind)
        }
        for (id, c) in single { classes[Int(id)].insert(c) }
        for (id, n) in numberIDs { numbers[Int(id)] = n }
        for (id, u) in unitIDs { units[Int(id)] = u }
        for (id, c) in envIDs { environments[Int(id)] = c }
        for (p, c) in multi {
            phrases[p[0], default: []].append((p, c))
            classes[Int(p[0])].insert(.phraseStart)
        }
        for key in phrases.keys { phrases[key]!.sort { $0.ids.count > $1.ids.count } }
        for (p, joined) in compoundIDs {
            compounds[p[0], default: []].append((p, joined))
            classes[Int(p[0])].insert(.phraseStart)
        }
        for key in compounds.keys { compounds[key]!.sort { $0.ids.count > $1.ids.count } }
    }

    /// Grows the id-indexed tables to a vocabulary that gained words after this locale was built.
    mutating func resize(to size: Int) {
        guard classes.count < size else { return }
        let extra = size - classes.count
        classes += Array(repeating: [], count: extra)
        numbers += Array(repeating: -1, count: extra)
        units += Array(repeating: 0, count: extra)
        environments += Array(repeating: -1, count: extra)
        kinds += Array(repeating: -1, count: extra)
    }

    @inline(__always) func wordClass(_ id: Int32) -> WordClass { id < 0 || Int(id) >= classes.count ? [] : classes[Int(id)] }
}

/// One locale's word facts, by vocabulary id. Immutable and shared by reference.
///
/// `@unchecked Sendable`: `words` is written once, in `init`, read only after, and freed
/// with the tables.
final class LocaleTables: @unchecked Sendable {
    /// What the parse asks of a word, in one place.
    struct Word {
        var wordClass: WordClass
        var number: Int32
        var unit: Int32
        var environment: Int32
        var kind: Int8
    }

    let classes: [WordClass]
    let numbers: [Int32]
    let units: [Int32]
    /// The id of the canonical environment ("prod") a word names, else -1.
    let environments: [Int32]
    /// The index in `ResourceKind.allCases` of the kind a word names, else -1.
    let kinds: [Int8]
    let referenceWord: String
    let accountWord: String
    let kindWords: [ResourceKind: String]
    /// Fixed phrases that become one word, by first word id, longest first.
    let compounds: [Int32: [(ids: [Int32], joined: Int32)]]
    /// Multi-word lexicon entries ("do not", "for me"), by first word id, longest first.
    let phrases: [Int32: [(ids: [Int32], wordClass: WordClass)]]
    /// The tables above by id, for the parse (`Frozen`).
    private let words: UnsafeBufferPointer<Word>

    init(_ b: LocaleTablesBuilder) {
        classes = b.classes
        numbers = b.numbers
        units = b.units
        environments = b.environments
        kinds = b.kinds
        referenceWord = b.referenceWord
        accountWord = b.accountWord
        kindWords = b.kindWords
        compounds = b.compounds
        phrases = b.phrases
        words = Frozen.copy(b.classes.indices.map { i in
            Word(wordClass: b.classes[i], number: b.numbers[i], unit: b.units[i], environment: b.environments[i], kind: b.kinds[i])
        })
    }

    deinit { Frozen.free(words) }

    /// How many ids the tables cover.
    var count: Int { words.count }

    @inline(__always) func wordClass(_ t: Token) -> WordClass { t.quoted ? [] : wordClass(t.id) }

    @inline(__always) func wordClass(_ id: Int32) -> WordClass { id < 0 || Int(id) >= words.count ? [] : words[Int(id)].wordClass }

    /// The number a token stands for: digits, or a number word of this locale.
    @inline(__always) func number(_ t: Token) -> Int32? {
        if t.digits >= 0 { return t.digits }
        if t.id >= 0, !t.quoted, Int(t.id) < words.count, words[Int(t.id)].number >= 0 { return words[Int(t.id)].number }
        return nil
    }

    /// The seconds of the unit a word names ("hours"), else 0.
    @inline(__always) func unit(_ id: Int32) -> Int32 { id < 0 || Int(id) >= words.count ? 0 : words[Int(id)].unit }

    /// The id of the canonical environment a word names ("prod"), else -1.
    @inline(__always) func environment(_ id: Int32) -> Int32 { id < 0 || Int(id) >= words.count ? -1 : words[Int(id)].environment }

    /// The resource kind a kind noun names.
    @inline(__always) func kind(_ t: Token) -> ResourceKind? {
        guard t.id >= 0, !t.quoted, Int(t.id) < words.count, words[Int(t.id)].kind >= 0 else { return nil }
        return ResourceKind.allCases[Int(words[Int(t.id)].kind)]
    }

    /// Whether the grammar knows the token as a word of this locale (so it can't be a name).
    @inline(__always) func knows(_ t: Token) -> Bool {
        guard !t.quoted, t.id >= 0, Int(t.id) < words.count else { return false }
        let w = words[Int(t.id)]
        return !w.wordClass.isEmpty || w.number >= 0 || w.unit > 0 || w.environment >= 0
    }
}
