/// Writes bytes into memory sized in advance. SigV4 knows an upper bound for every piece it
/// writes, so it fills one buffer with bulk copies instead of growing arrays byte by byte.
/// Every write checks the bound: a wrong estimate stops the process, it never overruns.
struct ByteWriter {
    private let base: UnsafeMutableBufferPointer<UInt8>
    private(set) var count = 0

    init(_ base: UnsafeMutableBufferPointer<UInt8>) { self.base = base }

    var written: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(rebasing: base[..<count]) }

    mutating func byte(_ b: UInt8) {
        precondition(count < base.count, "ByteWriter bound")
        base[count] = b
        count += 1
    }

    mutating func bytes(_ source: UnsafeBufferPointer<UInt8>) {
        guard let from = source.baseAddress, !source.isEmpty else { return }
        precondition(count + source.count <= base.count, "ByteWriter bound")
        (base.baseAddress! + count).update(from: from, count: source.count)
        count += source.count
    }

    mutating func bytes(_ s: String) {
        if s.utf8.withContiguousStorageIfAvailable({ bytes($0) }) == nil { for b in s.utf8 { byte(b) } }
    }

    mutating func bytes(_ s: StaticString) {
        s.withUTF8Buffer { bytes($0) }
    }

    /// ASCII letters lowercased (header names).
    mutating func lowercased(_ s: String) {
        func write(_ name: UnsafeBufferPointer<UInt8>) {
            precondition(count + name.count <= base.count, "ByteWriter bound")
            let to = base.baseAddress! + count
            for i in 0..<name.count { to[i] = SigV4.lower(name[i]) }
            count += name.count
        }
        if s.utf8.withContiguousStorageIfAvailable(write) == nil { Array(s.utf8).withUnsafeBufferPointer(write) }
    }

    /// Lowercase hex of `source`.
    mutating func hex(_ source: UnsafeRawBufferPointer) {
        precondition(count + 2 * source.count <= base.count, "ByteWriter bound")
        let digits: StaticString = "0123456789abcdef"
        digits.withUTF8Buffer { d in
            var i = count
            for b in source {
                base[i] = d[Int(b >> 4)]
                base[i + 1] = d[Int(b & 0xF)]
                i += 2
            }
        }
        count += 2 * source.count
    }

    /// A header value as SigV4 signs it: white space trimmed at both ends and each inner run
    /// of it written as one space. Never longer than the value.
    mutating func headerValue(_ s: String) {
        func write(_ value: UnsafeBufferPointer<UInt8>) {
            precondition(count + value.count <= base.count, "ByteWriter bound")
            var i = count
            var started = false, pendingSpace = false
            for b in value {
                if b == 0x20 || (b >= 0x09 && b <= 0x0D) {
                    pendingSpace = started
                } else {
                    if pendingSpace {
                        base[i] = 0x20
                        i += 1
                        pendingSpace = false
                    }
                    base[i] = b
                    i += 1
                    started = true
                }
            }
            count = i
        }
        if s.utf8.withContiguousStorageIfAvailable(write) == nil { Array(s.utf8).withUnsafeBufferPointer(write) }
    }
}
