import ConvOpsCore

/// Turns the token(s) a slot matched into a normalized value, or nil when they can't fill it.
enum SlotExtraction {
    static func value(_ type: SlotType, from token: Token) -> SlotValue? {
        let raw = String(token.raw)
        switch type {
        case .resource:
            return isResourceName(raw) ? .text(raw) : nil
        case .word, .text:
            return .text(raw)
        case .count:
            guard let n = Int(raw), n >= 0, n <= 10_000 else { return nil }
            return .number(n)
        case .delta:
            guard raw.first == "+" || raw.first == "-", let n = Int(raw.dropFirst()), n > 0, n <= 10_000 else { return nil }
            return .number(raw.first == "-" ? -n : n)
        case .duration:
            return durationSeconds(token.folded).map(SlotValue.number)
        case .environment:
            return raw.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) ? .text(token.folded) : nil
        case .region:
            return isRegion(token.folded) ? .text(token.folded) : nil
        case .alarmState:
            switch token.folded {
            case "alarm", "alarms", "alarming", "firing": return .text(AlarmStateFilter.alarm.rawValue)
            case "ok": return .text(AlarmStateFilter.ok.rawValue)
            case "insufficient", "insufficient_data": return .text(AlarmStateFilter.insufficientData.rawValue)
            case "all", "any": return .text(AlarmStateFilter.any.rawValue)
            default: return nil
            }
        case .scope:
            switch token.folded {
            case "mine", "my", "me": return .text(HistoryScope.mine.rawValue)
            case "all", "everyone", "everything": return .text(HistoryScope.all.rawValue)
            default: return nil
            }
        case .requestID:
            return raw.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" }) ? .text(raw) : nil
        }
    }

    /// Names, instance ids and ARNs: letters, digits and `-._:/+=@`, starting with a letter or digit.
    static func isResourceName(_ s: String) -> Bool {
        guard let first = s.unicodeScalars.first, first.isASCIIAlphanumeric, s.count <= 2048 else { return false }
        return s.unicodeScalars.allSatisfy { $0.isASCIIAlphanumeric || "-._:/+=@".unicodeScalars.contains($0) }
    }

    static func isRegion(_ s: String) -> Bool {
        let parts = s.split(separator: "-")
        guard parts.count >= 3, parts[0].count == 2, parts[0].allSatisfy(\.isLetter),
              let last = parts.last, last.allSatisfy(\.isNumber) else { return false }
        return parts.dropFirst().dropLast().allSatisfy { $0.allSatisfy(\.isLetter) }
    }

    /// `90s`, `15m`, `2h`, `1d` → seconds.
    static func durationSeconds(_ s: String) -> Int? {
        guard let unit = s.last, let n = Int(s.dropLast()), n > 0 else { return nil }
        switch unit {
        case "s": return n
        case "m": return n * 60
        case "h": return n * 3600
        case "d": return n * 86400
        default: return nil
        }
    }
}

extension Unicode.Scalar {
    var isASCIIAlphanumeric: Bool {
        isASCII && (properties.isAlphabetic || ("0"..."9").contains(self))
    }
}
