/// "Did you mean" lookups: every command word under each of its forms with up to two letters
/// deleted (the deletion neighbourhood), so a typo finds its near words with a few hash
/// lookups instead of an edit distance to every word.
struct SuggestionIndex: Sendable {
    /// Deletion hash → index into `lists`, each a list of word ids.
    private var byDeletion = HashTable()
    private var lists: [[Int32]] = []
    /// The bytes of each indexed word, by vocabulary id (empty for words not indexed).
    private var words: [[UInt8]]
    /// The longest indexed word, in bytes: a text longer by more than two is near none of them.
    private var longest = 0

    init(_ ids: [Int32], _ vocabulary: Vocabulary) {
        words = Array(repeating: [], count: vocabulary.count)
        for id in ids {
            let word = Array(vocabulary.text(id).utf8)
            guard word.count >= 3 else { continue }
            words[Int(id)] = word
            longest = max(longest, word.count)
            Self.forEachDeletion(word[...], depth: 2) { h in
                if let list = byDeletion.get(h) {
                    if !lists[Int(list)].contains(id) { lists[Int(list)].append(id) }
                } else {
                    byDeletion.set(h, Int32(lists.count))
                    lists.append([id])
                }
            }
        }
    }

    /// Command words within edit distance 1 (words of up to 5 letters) or 2 of `folded`.
    func near(_ folded: ArraySlice<UInt8>) -> [Int32] {
        guard folded.count >= 3, folded.count <= 32 else { return [] }
        let limit = folded.count <= 5 ? 1 : 2
        // An edit distance is at least the difference in length: "checkout-service-prod" is
        // no typo of a command word, and its 200-odd deletions need not be looked up.
        guard folded.count <= longest + limit else { return [] }
        var found: [Int32] = []
        var checked: [Int32] = []
        Self.forEachDeletion(folded, depth: limit) { h in
            guard let list = byDeletion.get(h) else { return }
            for id in lists[Int(list)] where !checked.contains(id) {
                checked.append(id)
                let word = words[Int(id)]
                if !word.isEmpty, word[...] != folded, editDistance(word[...], folded, limit: limit) <= limit {
                    found.append(id)
                }
            }
        }
        return found.sorted()
    }

    /// Calls `body` with the hash of the word itself and of every form with one, and (at depth 2)
    /// two, bytes deleted, without building the forms.
    static func forEachDeletion(_ word: ArraySlice<UInt8>, depth: Int, _ body: (UInt64) -> Void) {
        let bytes = Array(word)
        let n = bytes.count
        func hash(skipping a: Int, _ b: Int) -> UInt64 {
            var h: UInt64 = 0xcbf2_9ce4_8422_2325
            for k in 0..<n where k != a && k != b {
                h ^= UInt64(bytes[k])
                h = h &* 0x0000_0100_0000_01B3
            }
            return h
        }
        body(hash(skipping: -1, -1))
        guard depth >= 1, n > 1 else { return }
        for a in 0..<n { body(hash(skipping: a, -1)) }
        guard depth >= 2, n > 2 else { return }
        for a in 0..<n { for b in (a + 1)..<n { body(hash(skipping: a, b)) } }
    }
}

/// Levenshtein distance over bytes, bounded: returns `limit + 1` as soon as it must exceed it.
/// Words are short, so the two rows live on the stack.
func editDistance(_ a: ArraySlice<UInt8>, _ b: ArraySlice<UInt8>, limit: Int) -> Int {
    if abs(a.count - b.count) > limit { return limit + 1 }
    if a.isEmpty { return b.count }
    if b.isEmpty { return a.count }
    let width = b.count + 1
    return withUnsafeTemporaryAllocation(of: Int.self, capacity: width * 2) { rows in
        var previous = rows.baseAddress!
        var current = previous + width
        for j in 0..<width { previous[j] = j }
        var i = 0
        for ca in a {
            i += 1
            current[0] = i
            var rowMin = i
            var j = 0
            for cb in b {
                j += 1
                let cost = ca == cb ? 0 : 1
                let v = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
                current[j] = v
                if v < rowMin { rowMin = v }
            }
            if rowMin > limit { return limit + 1 }
            swap(&previous, &current)
        }
        return previous[width - 1]
    }
}
