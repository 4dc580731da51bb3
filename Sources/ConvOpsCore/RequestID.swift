/// A request's id: `r` and 7 characters of a base-32 alphabet without look-alikes (no i, l,
/// o, 0, 1): short, unguessable, easy to type.
public enum RequestID {
    static let alphabet = Array("abcdefghjkmnpqrstuvwxyz23456789")

    public static func new() -> String {
        var generator = SystemRandomNumberGenerator()
        return "r" + String((0..<7).map { _ in alphabet[Int(generator.next() % UInt64(alphabet.count))] })
    }

    /// Whether `s` has the shape of one; anything else is not ours.
    public static func isValid(_ s: String) -> Bool {
        s.count == 8 && s.first == "r" && s.dropFirst().allSatisfy(alphabet.contains)
    }
}
