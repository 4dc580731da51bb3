/// At most `width` of some costly start-up at a time (Python servers, seeding scripts): the
/// rest wait their turn in order rather than all loading a 2-core machine at once.
public actor StartGate {
    public static let moto = StartGate(width: 2)
    public static let seeding = StartGate(width: 2)

    private let width: Int
    private var running = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    public init(width: Int) { self.width = max(1, width) }

    public func run<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        if running >= width { await withCheckedContinuation { waiting.append($0) } } else { running += 1 }
        defer {
            if waiting.isEmpty { running -= 1 } else { waiting.removeFirst().resume() }
        }
        return try await body()
    }
}
