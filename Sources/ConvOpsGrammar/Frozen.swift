/// Read-only buffers of plain values for the parse's hot tables. Reading an array that a class
/// holds costs a retain and a release of its storage on every access the optimizer can't prove
/// safe, which was a fifth of a parse; these buffers cost nothing to read. Whoever makes one
/// owns it and frees it in its `deinit`, after which nothing may read it. Plain values only
/// (`BitwiseCopyable`): nothing in a buffer is retained, and freeing deinitializes nothing.
enum Frozen {
    static func copy<T: BitwiseCopyable>(_ values: [T]) -> UnsafeBufferPointer<T> {
        let buffer = UnsafeMutableBufferPointer<T>.allocate(capacity: values.count)
        _ = buffer.initialize(from: values)
        return UnsafeBufferPointer(buffer)
    }

    static func free<T: BitwiseCopyable>(_ buffer: UnsafeBufferPointer<T>) {
        UnsafeMutableBufferPointer(mutating: buffer).deallocate()
    }
}
