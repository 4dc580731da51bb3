import ConvOpsCore
import ConvOpsGrammar
import Foundation

/// Parse throughput and latency over the labelled corpus, with the real rules and with the
/// rule set grown ten times by synthetic commands.
enum GrammarBenchmark {
    static func corpus(_ repository: String) -> [String] {
        let text = try! String(contentsOfFile: repository + "/Tests/ConvOpsGrammarTests/Corpus/corpus.jsonl", encoding: .utf8)
        return text.split(separator: "\n").map { line in
            let object = try! JSONSerialization.jsonObject(with: Data(line.utf8)) as! [String: Any]
            // JSONSerialization may hand back NSString-backed strings; chat text reaches the
            // parser as native Swift strings (stdin, JSONDecoder), so measure those.
            var text = object["text"] as! String
            text.makeContiguousUTF8()
            return text
        }
    }

    static func load(commands: String, locales: String) -> Grammar {
        do {
            return try Grammar.load(commandsDirectory: commands, localesDirectory: locales)
        } catch {
            FileHandle.standardError.write(Data("grammar did not load: \(error)\n".utf8))
            exit(1)
        }
    }

    /// A copy of commands/ with synthetic rules added to every intent, `factor` times as many
    /// rules in all. Their verbs are made-up words, so they never match the corpus, as new
    /// commands in a bigger deployment would not match unrelated text.
    static func grownCommands(_ repository: String, factor: Int) -> (commands: String, rules: Int) {
        let fm = FileManager.default
        let dir = NSTemporaryDirectory() + "bench-commands-\(getpid())"
        try? fm.removeItem(atPath: dir)
        try! fm.copyItem(atPath: repository + "/commands", toPath: dir + "/commands")
        var existing = 0
        for case let path as String in fm.enumerator(atPath: dir + "/commands")! where path.hasSuffix(".cmd") {
            let text = try! String(contentsOfFile: dir + "/commands/" + path, encoding: .utf8)
            existing += text.split(separator: "\n").filter { $0.hasPrefix("en:") || $0.hasPrefix("de:") }.count
        }
        let extra = existing * (factor - 1)
        var files: [String: String] = [:]
        let templates: [(IntentKind, String)] = [
            (.status, "{target}"), (.restart, "[(server|box)] {target}"), (.stop, "{target} [now]"),
            (.scale, "{target} (to|auf) {count}"), (.logs, "{target} [{since}]"), (.history, "[{scope}]"),
        ]
        for i in 0..<extra {
            let (intent, tail) = templates[i % templates.count]
            let locale = i % 3 == 0 ? "de" : "en"
            let verb = "zq" + String(i, radix: 36) + "x"
            files["\(locale)/synthetic-\(intent.rawValue).cmd", default: "intent \(intent.rawValue)\n"] += "\(locale): \(verb) \(tail)\n"
        }
        for (name, text) in files { try! text.write(toFile: dir + "/commands/" + name, atomically: true, encoding: .utf8) }
        return (dir + "/commands", existing + extra)
    }

    struct Measurement {
        var utterancesPerSecond: Double
        var p50: Double, p99: Double, p999: Double, max: Double
        var parsed: Int
    }

    /// The median of `runs` measurements, by throughput: one noisy run can't flatter or sink it.
    static func median(_ grammar: Grammar, _ texts: [String], rounds: Int, locale: String?, runs: Int = 5) -> Measurement {
        let all = (0..<runs).map { _ in measure(grammar, texts, rounds: rounds, locale: locale) }
        return all.sorted { $0.utterancesPerSecond < $1.utterancesPerSecond }[runs / 2]
    }

    static func measure(_ grammar: Grammar, _ texts: [String], rounds: Int, locale: String?) -> Measurement {
        // Warm up caches and lazily built state.
        for text in texts { _ = grammar.parse(text, locale: locale) }
        var latencies: [UInt64] = []
        latencies.reserveCapacity(texts.count * rounds)
        var parsed = 0
        let start = nanos()
        for _ in 0..<rounds {
            for text in texts {
                let t0 = nanos()
                let result = grammar.parse(text, locale: locale)
                latencies.append(nanos() - t0)
                if case .success = result { parsed += 1 }
            }
        }
        let elapsed = Double(nanos() - start) / 1e9
        latencies.sort()
        return Measurement(utterancesPerSecond: Double(texts.count * rounds) / elapsed,
                           p50: percentile(latencies, 0.5) / 1000, p99: percentile(latencies, 0.99) / 1000,
                           p999: percentile(latencies, 0.999) / 1000, max: Double(latencies.last ?? 0) / 1000,
                           parsed: parsed / rounds)
    }

    /// The utterances that took longest, for finding what to make faster (BENCH_SLOWEST=N).
    static func slowest(_ grammar: Grammar, _ texts: [String], count: Int) -> [[String: Any]] {
        var timings: [(String, Double)] = []
        for text in texts {
            var best = UInt64.max
            for _ in 0..<20 {
                let t0 = nanos()
                _ = grammar.parse(text, locale: nil)
                best = min(best, nanos() - t0)
            }
            timings.append((text, Double(best) / 1000))
        }
        return timings.sorted { $0.1 > $1.1 }.prefix(count).map { ["text": $0.0, "us": $0.1] }
    }

    /// Time per input as inputs grow to 10 KB, for text built to be hard: repeated command
    /// words (every rule a candidate), long free text, quotes and emoji. Linear means the
    /// nanoseconds per byte stay flat.
    static func scaling(_ grammar: Grammar) -> [[String: Any]] {
        let shapes: [(String, String)] = [
            ("command-words", "restart web-1 starte neu logs since 5m matching "),
            ("noise", "🔥 lorem “ipsum” dolor @sit amet, "),
            ("filter-text", "logs web-1 matching error timeout "),
        ]
        var out: [[String: Any]] = []
        for (name, unit) in shapes {
            for size in [1_000, 2_000, 5_000, 10_000] {
                var text = ""
                while text.utf8.count < size { text += unit }
                var samples: [UInt64] = []
                for _ in 0..<60 {
                    let t0 = nanos()
                    _ = grammar.parse(text)
                    samples.append(nanos() - t0)
                }
                samples.sort()
                let median = Double(samples[samples.count / 2])
                out.append(["shape": name, "bytes": text.utf8.count, "median_us": median / 1000,
                            "ns_per_byte": median / Double(text.utf8.count)])
            }
        }
        return out
    }

    static func run(repository: String) -> [String: Any] {
        let texts = corpus(repository)
        let rounds = Int(ProcessInfo.processInfo.environment["BENCH_ROUNDS"] ?? "") ?? 200
        let base = load(commands: repository + "/commands", locales: repository + "/locales")
        if let rounds = Int(ProcessInfo.processInfo.environment["BENCH_PROFILE"] ?? "") {
            // A fixed workload for instruction counting (valgrind --tool=callgrind), which,
            // unlike the clock, is the same from run to run on a shared machine.
            var parsed = 0
            // BENCH_PROFILE_ONLY=failures (or successes): the texts that parse to no command (or to one).
            let kind = ProcessInfo.processInfo.environment["BENCH_PROFILE_ONLY"]
            let chosen = kind == nil ? texts : texts.filter { text in
                if case .success = base.parse(text) { return kind == "successes" }
                return kind == "failures"
            }
            let only = ProcessInfo.processInfo.environment["BENCH_PROFILE_TEXT"].map { [$0] } ?? chosen
            for _ in 0..<rounds { for text in only { if case .success = base.parse(text) { parsed += 1 } } }
            return ["parsed": parsed]
        }
        if ProcessInfo.processInfo.environment["BENCH_BEST"] != nil {
            // For comparing changes on a noisy machine: the least disturbed of 7 runs.
            let runs = (0..<7).map { _ in measure(base, texts, rounds: rounds, locale: nil) }
            let best = runs.max { $0.utterancesPerSecond < $1.utterancesPerSecond }!
            return ["best_utterances_per_second": Int(best.utterancesPerSecond), "p99_us": best.p99]
        }
        if let one = ProcessInfo.processInfo.environment["BENCH_TEXT"] {
            let m = measure(base, [one], rounds: 200_000, locale: nil)
            return ["text": one, "utterances_per_second": Int(m.utterancesPerSecond), "p50_us": m.p50]
        }
        if let n = Int(ProcessInfo.processInfo.environment["BENCH_SLOWEST"] ?? "") {
            return ["slowest": slowest(base, texts, count: n)]
        }
        let detected = median(base, texts, rounds: rounds, locale: nil)
        let given = median(base, texts, rounds: rounds, locale: "en")
        let growth = scaling(base)
        let (grownPath, grownRules) = grownCommands(repository, factor: 10)
        let loadStart = nanos()
        let grown = load(commands: grownPath, locales: repository + "/locales")
        let grownLoad = Double(nanos() - loadStart) / 1e9
        let grownResult = median(grown, texts, rounds: rounds, locale: nil)
        try? FileManager.default.removeItem(atPath: (grownPath as NSString).deletingLastPathComponent)
        func describe(_ m: Measurement) -> [String: Any] {
            ["utterances_per_second": Int(m.utterancesPerSecond), "latency_us": ["p50": m.p50, "p99": m.p99, "p999": m.p999, "max": m.max],
             "parsed_per_round": m.parsed]
        }
        return [
            "benchmark": "grammar.parse",
            "corpus_utterances": texts.count,
            "rounds": rounds,
            "runs": 5,
            "reported": "the median run by throughput",
            "threads": 1,
            "locale_detected": describe(detected),
            "locale_given_en": describe(given),
            "rules_10x": describe(grownResult).merging(["rules": grownRules, "load_seconds": grownLoad]) { a, _ in a },
            "rules_base": base.ruleCount,
            "input_size_scaling": growth,
        ]
    }
}
