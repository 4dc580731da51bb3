import Foundation
/// Every word any locale's rules or lexicon know, each with a small integer id. Tokens are
/// looked up by a 64-bit hash of their folded UTF-8 bytes and confirmed by comparing bytes,
/// so a parse never builds a String to find a word.
struct Vocabulary: Sendable {
    private(set) var ids = HashTable(capacity: 1024)
    private(set) var words: [[UInt8]] = []
    /// Other spellings of known words ("laeuft" for "läuft"), by hash: index into `spellings`.
    private(set) var alternateIDs = HashTable(capacity: 256)
    private(set) var spellings: [(bytes: [UInt8], id: Int32)] = []

    var count: Int { words.count }

    /// Every word with ä, ö, ü or ß is also known written as ae, oe, ue, ss, as people type
    /// without a German keyboard ("laeuft", "erhoehe", "fuenf"). The spelling maps to the
    /// word's own id; a spelling that is a word of its own stays that word.
    mutating func addTransliterations() {
        // ä ö ü ß in UTF-8: 0xC3 and the byte after it. Done on the bytes: Foundation's
        // String.contains and replacingOccurrences were a twentieth of the start-up.
        let spelledOut: [UInt8: [UInt8]] = [0xA4: Array("ae".utf8), 0xB6: Array("oe".utf8), 0xBC: Array("ue".utf8), 0x9F: Array("ss".utf8)]
        for id in words.indices {
            let word = words[id]
            guard word.contains(0xC3) else { continue }
            var bytes: [UInt8] = []
            bytes.reserveCapacity(word.count + 4)
            var changed = false
            var i = 0
            while i < word.count {
                if word[i] == 0xC3, i + 1 < word.count, let replacement = spelledOut[word[i + 1]] {
                    bytes += replacement
                    changed = true
                    i += 2
                } else {
                    bytes.append(word[i])
                    i += 1
                }
            }
            guard changed else { continue }
            Fold.fold(&bytes)
            let hash = Fold.hash(bytes[...])
            guard ids.get(hash) == nil, alternateIDs.get(hash) == nil else { continue }
            alternateIDs.set(hash, Int32(spellings.count))
            spellings.append((bytes, Int32(id)))
        }
    }

    /// The id of a word (folded), adding it if new.
    mutating func intern(_ word: String) -> Int32 {
        var bytes = Array(word.utf8)
        Fold.fold(&bytes)
        let hash = Fold.hash(bytes[...])
        if let id = ids.get(hash) {
            precondition(words[Int(id)] == bytes, "vocabulary hash collision between '\(word)' and '\(String(decoding: words[Int(id)], as: UTF8.self))'")
            return id
        }
        let id = Int32(words.count)
        ids.set(hash, id)
        words.append(bytes)
        return id
    }

    func id(_ word: String) -> Int32? {
        var bytes = Array(word.utf8)
        Fold.fold(&bytes)
        return lookup(bytes[...])
    }

    /// The id of folded bytes, or nil for a word no locale knows.
    @inline(__always)
    func lookup(_ folded: ArraySlice<UInt8>) -> Int32? {
        folded.withUnsafeBufferPointer { lookup($0) }
    }

    @inline(__always)
    func lookup(_ folded: UnsafeBufferPointer<UInt8>) -> Int32? {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in folded {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return lookup(folded, hash: h)
    }

    /// As `lookup(_:)`, with the FNV-1a hash of the bytes already computed.
    @inline(__always)
    func lookup(_ folded: UnsafeBufferPointer<UInt8>, hash h: UInt64) -> Int32? {
        if let id = ids.get(h), Self.same(words[Int(id)], folded) { return id }
        if !spellings.isEmpty, let index = alternateIDs.get(h), Self.same(spellings[Int(index)].bytes, folded) {
            return spellings[Int(index)].id
        }
        return nil
    }

    @inline(__always)
    private static func same(_ word: [UInt8], _ folded: UnsafeBufferPointer<UInt8>) -> Bool {
        guard word.count == folded.count else { return false }
        if folded.isEmpty { return true }
        return word.withUnsafeBufferPointer { w in memcmp(w.baseAddress!, folded.baseAddress!, folded.count) == 0 }
    }

    func text(_ id: Int32) -> String { String(decoding: words[Int(id)], as: UTF8.self) }
}

/// Case folding and hashing on UTF-8 bytes.
enum Fold {
    /// Lowercases ASCII and the Latin-1 capitals (Ä Ö Ü À…Þ), and reads ’ and ‘ as '.
    /// Other scripts pass through unchanged.
    static func fold(_ bytes: inout [UInt8]) {
        var i = 0
        var out = 0
        while i < bytes.count {
            let b = bytes[i]
            if b >= 0x41 && b <= 0x5A {
                bytes[out] = b | 0x20
                i += 1; out += 1
            } else if b == 0xC3, i + 1 < bytes.count, bytes[i + 1] >= 0x80, bytes[i + 1] <= 0x9E, bytes[i + 1] != 0x97 {
                bytes[out] = 0xC3; bytes[out + 1] = bytes[i + 1] + 0x20
                i += 2; out += 2
            } else if b == 0xE2, i + 2 < bytes.count, bytes[i + 1] == 0x80, bytes[i + 2] == 0x98 || bytes[i + 2] == 0x99 {
                bytes[out] = 0x27
                i += 3; out += 1
            } else {
                bytes[out] = b
                i += 1; out += 1
            }
        }
        bytes.removeLast(bytes.count - out)
    }

    /// FNV-1a, 64 bits.
    @inline(__always)
    static func hash(_ bytes: ArraySlice<UInt8>) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for b in bytes {
            h ^= UInt64(b)
            h = h &* 0x0000_0100_0000_01B3
        }
        return h
    }
}
