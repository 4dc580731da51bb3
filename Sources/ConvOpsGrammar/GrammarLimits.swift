/// The largest numbers the grammar takes. Larger ones still match their rule and are refused
/// by name ("I can look back at most 90 days"), never misread, wrapped or trapped on.
public enum GrammarLimits {
    /// A count to scale to, or a change to a count.
    public static let count = 10_000
    /// How far back `logs` reads.
    public static let lookBackSeconds = 90 * 86_400
}
