/// A word of input: its text as typed (slot values keep their case) and lowercased
/// (for matching command words).
struct Token: Sendable, Hashable {
    var raw: Substring
    var folded: String
}

enum Tokenizer {
    /// Splits on whitespace, drops punctuation around words, and keeps the characters
    /// resource names use (`web-1`, `i-0abc`, `arn:aws:ec2:…/i-0abc`) intact.
    static func tokenize(_ text: String) -> [Token] {
        var tokens: [Token] = []
        for piece in text.split(whereSeparator: { $0.isWhitespace }) {
            let trimmed = piece.drop(while: isEdgePunctuation).reversed().drop(while: isEdgePunctuation)
            let word = Substring(String(trimmed.reversed()))
            if word.isEmpty { continue }
            tokens.append(Token(raw: word, folded: word.lowercased()))
        }
        return tokens
    }

    private static func isEdgePunctuation(_ c: Character) -> Bool {
        switch c {
        case "?", "!", ".", ",", ";", ":", "\"", "'", "`", "“", "”", "‘", "’", "(", ")", "<", ">", "*", "_", "¿", "¡":
            return true
        default:
            return false
        }
    }
}
