import ConvOpsCore
import Foundation
import Testing

/// An episode runs from ALARM to OK; every order of state changes, also late and repeated ones.
@Suite struct AlertEpisodeTests {
    static let t0 = Date(timeIntervalSince1970: 1_800_000_000)

    func change(_ state: Alarm.State, at minute: Double) -> Alarm {
        var a = Alarm(form: .raw, name: "cpu-high", state: state, reason: "r", changedAt: Self.t0.addingTimeInterval(minute * 60))
        a.arn = "arn:aws:cloudwatch:eu-west-1:123456789012:alarm:cpu-high"
        return a
    }

    @Test func alarmAgainThenResolved() {
        guard case .open(let e1) = AlertEpisode.step(nil, change(.alarm, at: 0), newID: "ep-1", now: Self.t0) else {
            Issue.record("ALARM with no episode opens one"); return
        }
        #expect(e1.alarms == 1 && e1.changes == 1 && e1.isOpen)
        guard case .changed(let e2) = AlertEpisode.step(e1, change(.insufficientData, at: 5), newID: "x", now: Self.t0) else {
            Issue.record("insufficient data changes the episode"); return
        }
        guard case .changed(let e3) = AlertEpisode.step(e2, change(.alarm, at: 10), newID: "x", now: Self.t0) else {
            Issue.record("ALARM again changes it"); return
        }
        #expect(e3.alarms == 2 && e3.changes == 3 && e3.id == "ep-1")
        guard case .closed(let e4) = AlertEpisode.step(e3, change(.ok, at: 12), newID: "x", now: Self.t0.addingTimeInterval(720)) else {
            Issue.record("OK closes it"); return
        }
        #expect(!e4.isOpen && e4.minutes(until: e4.closedAt!) == 12)
        // Once closed, the next ALARM is a new episode.
        guard case .open(let next) = AlertEpisode.step(e4, change(.alarm, at: 20), newID: "ep-2", now: Self.t0) else {
            Issue.record("a new episode after OK"); return
        }
        #expect(next.id == "ep-2")
    }

    @Test func lateAndRepeatedChangesSayNothing() {
        guard case .open(let e) = AlertEpisode.step(nil, change(.alarm, at: 10), newID: "ep-1", now: Self.t0) else { return }
        #expect(AlertEpisode.step(e, change(.ok, at: 5), newID: "x", now: Self.t0) == .stale)
        #expect(AlertEpisode.step(e, change(.alarm, at: 10), newID: "x", now: Self.t0) == .stale)
        #expect(AlertEpisode.step(nil, change(.ok, at: 1), newID: "x", now: Self.t0) == .quiet)
        #expect(AlertEpisode.step(nil, change(.insufficientData, at: 1), newID: "x", now: Self.t0) == .quiet)
    }
}
