import ConvOpsCore
@testable import ConvOpsGrammar
import ConvOpsTestSupport
import Foundation
import Testing

/// SplitMix64: a small seeded generator, so a failing input can be made again from its seed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Inputs a fuzzer would throw at the grammar: random text from hostile character sets, and
/// corpus lines mutated the ways people and paste buffers mangle them.
enum FuzzInput {
    static let pieces: [String] = [
        "restart", "stop", "start", "scale", "logs", "status", "help", "neu", "starte", "halte", "an", "auf", "um", "to", "by",
        "don't", "not", "nicht", "if", "wenn", "?", "!", "...", "“", "”", "\"", "`", "'", "@convops", "<@U024BE7LH>", ":fire:",
        "🔥", "🙏", "👩‍💻", "e\u{301}", "\u{200D}", "\u{FE0F}", "\u{202E}", "\u{0}", "\t", "\n", "  ", "Ä", "ö", "ß", "ẞ",
        "i-0123456789abcdef0", "arn:aws:ec2:eu-west-1:123456789012:instance/i-0abc1234", "web-1", "+3", "-2", "15m", "zwanzig",
        "in prod", "on account billing", "in eu-central-1", "r4k7qzab", "{target}", "[", "]", "(", ")", "|", "\\", "%", "💥💥💥",
        "\u{1F1E9}\u{1F1EA}", "ﬁ", "Ⅻ", "٣", "漢字", "а", "ǅ", "\u{10FFFF}", "\u{FFFD}",
    ]

    static func random(_ rng: inout SplitMix64) -> String {
        var s = ""
        for _ in 0..<Int.random(in: 0...12, using: &rng) {
            switch Int.random(in: 0..<4, using: &rng) {
            case 0: s += pieces.randomElement(using: &rng)!
            case 1: s += String(UnicodeScalar(UInt8.random(in: 0x20...0x7E, using: &rng)))
            case 2:
                if let scalar = Unicode.Scalar(UInt32.random(in: 0...0x2FFFF, using: &rng)) { s.unicodeScalars.append(scalar) }
            default: s += " "
            }
        }
        return s
    }

    static func mutate(_ line: String, _ rng: inout SplitMix64) -> String {
        var words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        for _ in 0..<Int.random(in: 1...4, using: &rng) {
            guard !words.isEmpty else { words = [pieces.randomElement(using: &rng)!]; continue }
            let i = Int.random(in: 0..<words.count, using: &rng)
            switch Int.random(in: 0..<9, using: &rng) {
            case 0: words.remove(at: i)
            case 1: words.insert(words[i], at: i)
            case 2: words.insert(pieces.randomElement(using: &rng)!, at: i)
            case 3: words[i] = words[i].uppercased()
            case 4: if words[i].count > 1 { var w = Array(words[i]); w.swapAt(0, w.count - 1); words[i] = String(w) }
            case 5: words[i] = String(words[i].dropLast())
            case 6: words.swapAt(i, Int.random(in: 0..<words.count, using: &rng))
            case 7: words[i] = "\"" + words[i]
            default: words[i] += pieces.randomElement(using: &rng)!
            }
        }
        return words.joined(separator: " ")
    }

    /// Long inputs: repeated command words, slots and noise (1 to 20 KB).
    static func large(_ rng: inout SplitMix64) -> String {
        var s = ""
        let target = Int.random(in: 1_000...20_000, using: &rng)
        while s.utf8.count < target { s += pieces.randomElement(using: &rng)! + " " }
        return s
    }
}

@Suite struct GrammarFuzzTests {
    /// 1,000,000 inputs, in 16 seeded chunks. Nothing may crash, every result must be
    /// well formed, and parsing must not depend on anything but the text.
    @Test func aMillionRandomAndMutatedInputs() async {
        let lines = CorpusLine.all.map(\.text)
        let chunks = 16, perChunk = 62_500
        // CPU-bound for a minute: run it on the one thread CPU-bound tests share
        // (OwnThreadExecutor), neither Swift's cooperative pool nor a second busy thread, so the
        // loopback servers and HTTP clients of the other tests still answer in time on 2 cores.
        let results: [(Int, Int, [String])] = await onOwnThread {
            var all: [(Int, Int, [String])] = []
            for chunk in 0..<chunks {
                var rng = SplitMix64(seed: 0xC0FFEE &+ UInt64(chunk))
                var parsed = 0, large = 0
                var problems: [String] = []
                for n in 0..<perChunk {
                    let input: String
                    switch n % 10 {
                    case 0...3: input = FuzzInput.random(&rng)
                    case 9 where n % 500 == 9: input = FuzzInput.large(&rng); large += 1
                    default: input = FuzzInput.mutate(lines.randomElement(using: &rng)!, &rng)
                    }
                    let locale: String? = n % 3 == 0 ? nil : (n % 3 == 1 ? "en" : "de")
                    switch grammar.parse(input, locale: locale) {
                    case .success(let p):
                        parsed += 1
                        if p.intent.risk == .mutating, p.command.intent.target == nil, problems.count < 5 {
                            problems.append("mutating intent without a target for \(input.debugDescription)")
                        }
                    case .failure(let f):
                        if f.message.isEmpty, problems.count < 5 { problems.append("empty message for \(input.debugDescription)") }
                    }
                    // Determinism, on a sample: the same text parses the same way again.
                    if n % 1_000 == 0, "\(grammar.parse(input, locale: locale))" != "\(grammar.parse(input, locale: locale))", problems.count < 5 {
                        problems.append("not deterministic for \(input.debugDescription)")
                    }
                }
                all.append((parsed, large, problems))
            }
            return all
        }
        let problems = results.flatMap(\.2)
        #expect(problems.isEmpty, "\(problems)")
        #expect(results.map(\.1).reduce(0, +) >= 1_000, "large inputs were generated")
        // Mutated corpus lines still parse often: the fuzzer reaches the matcher, not just the tokenizer.
        #expect(results.map(\.0).reduce(0, +) > 50_000)
    }

    @Test func hostileInputsAreRefusedCleanly() {
        let inputs = [
            "", " ", "\u{0}", String(repeating: "a", count: 70_000), String(repeating: "restart ", count: 5_000),
            String(repeating: "🔥", count: 10_000), String(repeating: "\"", count: 3_000), "restart " + String(repeating: "x", count: 30_000),
            "logs web-1 matching " + String(repeating: "since 5m ", count: 2_000),
            String(repeating: "e\u{301}", count: 5_000), "\u{202E}trats\u{202C} web-1",
        ]
        for input in inputs {
            if case .success(let p) = grammar.parse(input) {
                #expect(p.intent.risk == .readOnly || p.command.intent.target != nil)
            }
        }
    }
}
