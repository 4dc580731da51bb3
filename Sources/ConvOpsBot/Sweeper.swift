import ConvOpsCore
import Foundation

/// The one loop that moves requests on with time, for every channel: expiry and its warning
/// every `interval`, and the retention purge at start and then once a day. It sleeps on an
/// injected clock, so tests run an hour of it in milliseconds.
public struct Sweeper<C: Clock>: Sendable where C.Duration == Duration {
    let engine: Engine
    let clock: C
    let interval: Duration
    let retentionDays: Int
    static var purgeEvery: Duration { .seconds(86_400) }

    public init(engine: Engine, clock: C, interval: Duration = .seconds(1), retentionDays: Int = 365) {
        self.engine = engine
        self.clock = clock
        self.interval = interval
        self.retentionDays = retentionDays
    }

    /// Runs until cancelled, or until `stop` says so between sweeps (so that a sweep's
    /// announcements are never cut off half way); `announce` shows what the bot has to say.
    public func run(until stop: @escaping @Sendable () -> Bool = { false }, announce: @escaping @Sendable (Reply) async -> Void) async {
        await engine.purgeExpiredRecords(days: retentionDays)
        var lastPurge = clock.now
        while !Task.isCancelled, !stop() {
            do {
                try await clock.sleep(for: interval)
            } catch {
                return
            }
            guard !stop() else { return }
            for reply in await engine.sweep() { await announce(reply) }
            if lastPurge.duration(to: clock.now) >= Self.purgeEvery {
                await engine.purgeExpiredRecords(days: retentionDays)
                lastPurge = clock.now
            }
        }
    }
}

extension Sweeper where C == ContinuousClock {
    public init(engine: Engine, interval: Duration = .seconds(1), retentionDays: Int = 365) {
        self.init(engine: engine, clock: ContinuousClock(), interval: interval, retentionDays: retentionDays)
    }
}
