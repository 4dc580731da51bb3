import ConvOpsCore

/// Turns the token(s) a slot matched into a normalized value, or nil when they can't fill it.
enum SlotExtraction {
    /// How many tokens a slot of this type may take at most.
    static func maxTokens(_ type: SlotType) -> Int {
        switch type {
        case .duration: 6
        case .text: 64
        default: 1
        }
    }

    static func value(_ type: SlotType, sign: Int = 0, from tokens: ArraySlice<Token>, words: LocaleWords) -> SlotValue? {
        guard let token = tokens.first else { return nil }
        if type == .duration { return durationSeconds(tokens, words).map(SlotValue.number) }
        if type == .text { return .text(tokens.map { String($0.raw) }.joined(separator: " ")) }
        guard tokens.count == 1 else { return nil }
        let raw = String(token.raw)
        // A word the grammar knows (a command, filler or qualifier word) is never a name
        // unless it was quoted: "restart status" is not a restart of a resource called status.
        let known = !token.quoted && (!words.wordClass(token.folded).isEmpty || words.number(token.folded) != nil)
        switch type {
        case .resource:
            return !known && isResourceName(raw) ? .text(raw) : nil
        case .word:
            return .text(token.folded)
        case .count:
            if sign != 0 { return words.number(token.folded).map { .number(sign * $0) } }
            guard let n = words.number(token.folded), n <= 10_000 else { return nil }
            return .number(n)
        case .delta:
            if sign != 0 {
                guard let n = words.number(token.folded), n > 0, n <= 10_000 else { return nil }
                return .number(sign * n)
            }
            guard raw.first == "+" || raw.first == "-", let n = Int(raw.dropFirst()), n > 0, n <= 10_000 else { return nil }
            return .number(raw.first == "-" ? -n : n)
        case .environment:
            return words.environments[token.folded].map(SlotValue.text)
        case .region:
            return isRegion(token.folded) ? .text(token.folded) : nil
        case .alarmState:
            switch token.folded {
            case "alarm", "alarms", "alarming", "firing", "active", "aktiv", "aktive", "aktiven": return .text(AlarmStateFilter.alarm.rawValue)
            case "ok", "okay", "green", "grün": return .text(AlarmStateFilter.ok.rawValue)
            case "insufficient", "insufficient_data", "unknown", "unbekannt": return .text(AlarmStateFilter.insufficientData.rawValue)
            case "all", "any", "every", "alle", "allen", "sämtliche": return .text(AlarmStateFilter.any.rawValue)
            default: return nil
            }
        case .scope:
            switch token.folded {
            case "mine", "my", "me", "i", "meine", "meinen", "mein", "ich": return .text(HistoryScope.mine.rawValue)
            case "all", "everyone", "everything", "everybody", "team", "alle", "allen", "aller": return .text(HistoryScope.all.rawValue)
            default: return nil
            }
        case .requestID:
            return !known && isRequestID(token.folded) ? .text(raw) : nil
        case .text, .duration:
            return nil
        }
    }

    /// Request ids as the engine makes them: `r` and 7 characters of base 32.
    static func isRequestID(_ s: String) -> Bool {
        s.count == 8 && s.first == "r" && s.dropFirst().allSatisfy { $0.isLetter || $0.isNumber }
    }

    /// Names, instance ids and ARNs: letters, digits and `-._:/+=@`, starting with a letter or digit.
    static func isResourceName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.isASCIIAlphanumeric, s.count <= 2048 else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || "-._:/+=@".unicodeScalars.contains($0) }
    }

    static func isRegion(_ s: String) -> Bool {
        let parts = s.split(separator: "-")
        guard parts.count >= 3, parts[0].count == 2, parts[0].allSatisfy(\.isLetter),
              let last = parts.last, last.count == 1, last.allSatisfy(\.isNumber) else { return false }
        return parts.dropFirst().dropLast().allSatisfy { $0.allSatisfy(\.isLetter) }
    }

    /// "15m", "15 minutes", "last 2 hours", "since 30 minutes ago", "seit 30 Minuten",
    /// "the last hour": duration words around one amount, every token used.
    static func durationSeconds(_ tokens: ArraySlice<Token>, _ words: LocaleWords) -> Int? {
        var i = tokens.startIndex
        let end = tokens.endIndex
        func isDurationWord(_ t: Token) -> Bool { words.wordClass(t.folded).contains(.durationWord) }
        while i < end, isDurationWord(tokens[i]) { i += 1 }
        guard i < end else { return nil }
        var seconds: Int?
        let t = tokens[i].folded
        if let unit = words.units[t] {
            seconds = unit                       // "last hour"
            i += 1
        } else if let n = words.number(t), i + 1 < end, let unit = words.units[tokens[i + 1].folded] {
            seconds = n * unit                   // "2 hours", "zwei Stunden"
            i += 2
        } else if let glued = gluedDuration(t, words) {
            seconds = glued                      // "15m"
            i += 1
        }
        while i < end, isDurationWord(tokens[i]) { i += 1 }
        guard i == end, let seconds, seconds > 0, seconds <= 90 * 86_400 else { return nil }
        return seconds
    }

    static func gluedDuration(_ s: String, _ words: LocaleWords) -> Int? {
        let digits = s.prefix { $0.isNumber }
        guard !digits.isEmpty, let n = Int(digits), let unit = words.units[String(s.dropFirst(digits.count))] else { return nil }
        return n * unit
    }
}

extension Unicode.Scalar {
    var isASCIIAlphanumeric: Bool {
        isASCII && (properties.isAlphabetic || ("0"..."9").contains(self))
    }
}
