/// A word of input: its text as typed (slot values keep their case) and lowercased
/// (for matching command words).
struct Token: Sendable, Hashable {
    var raw: Substring
    var folded: String
    /// It was in quotes or backticks: a name, never a command word.
    var quoted = false
}

struct TokenizedText {
    var tokens: [Token]
    var questionMark: Bool
}

enum Tokenizer {
    /// Splits on whitespace; drops Slack mentions (`<@U123>`, `@convops`), emoji and
    /// `:shortcodes:`; strips punctuation around words and keeps the characters resource names
    /// use (`web-1`, `i-0abc`, `arn:aws:ec2:…/i-0abc`) intact. Quoted names stay one token.
    static func tokenize(_ text: String) -> TokenizedText {
        var tokens: [Token] = []
        var questionMark = false
        for piece in text.split(whereSeparator: { $0.isWhitespace }) {
            if piece.contains("?") || piece.contains("¿") { questionMark = true }
            if piece.hasPrefix("<@") || piece.hasPrefix("<!") || piece.hasPrefix("@") { continue }
            if piece.count > 2, piece.first == ":", piece.last == ":", !piece.dropFirst().dropLast().contains(":") { continue }
            let quoted = piece.contains(where: { $0 == "\"" || $0 == "`" || $0 == "“" || $0 == "”" || $0 == "'" && piece.first == "'" })
            let trimmed = piece.drop(while: isEdgePunctuation).reversed().drop(while: isEdgePunctuation)
            let word = Substring(String(trimmed.reversed()))
            guard !word.isEmpty, word.unicodeScalars.contains(where: { $0.properties.isAlphabetic || ("0"..."9").contains($0) }) else {
                continue
            }
            tokens.append(Token(raw: word, folded: word.lowercased(), quoted: quoted && !word.contains(" ")))
        }
        return TokenizedText(tokens: tokens, questionMark: questionMark)
    }

    private static func isEdgePunctuation(_ c: Character) -> Bool {
        switch c {
        case "?", "!", ".", ",", ";", ":", "\"", "'", "`", "“", "”", "‘", "’", "„", "(", ")", "<", ">", "*", "_", "¿", "¡", "[", "]", "…":
            return true
        default:
            return c.unicodeScalars.first.map { $0.properties.isEmojiPresentation || $0.properties.isEmoji && $0.value > 0xFF } ?? false
        }
    }
}
