import ConvOpsCore
import Foundation

/// A message from the alarm queue that could not be read: kept (encrypted: a custom
/// notification may carry anything) with the reason, until retried or dropped.
public struct ParkedAlert: Sendable, Hashable {
    public var id: String
    public var deliveryID: String?
    public var reason: String
    public var receivedAt: Date
    public var attempts: Int
}

extension Store {
    /// Parks a message; the same SQS message parked again only counts another attempt.
    @discardableResult
    public func park(body: String, deliveryID: String?, reason: String, id: String, at: Date) throws -> String {
        try write { db in
            if let deliveryID {
                let s = try db.prepare("SELECT id FROM parked_alerts WHERE delivery_id = ?").bind([.text(deliveryID)])
                if try s.step(), let existing = s.text(0) {
                    try db.prepare("UPDATE parked_alerts SET attempts = attempts + 1, reason = ? WHERE id = ?")
                        .bind([.text(reason), .text(existing)]).run()
                    return existing
                }
            }
            let sealed = try keys.seal(body, context: Self.parkedContext(id))
            try db.prepare("INSERT INTO parked_alerts (id, delivery_id, body, reason, received_at, attempts) VALUES (?, ?, ?, ?, ?, 1)")
                .bind([.text(id), .text(deliveryID), .blob(sealed), .text(reason), .real(at.timeIntervalSince1970)]).run()
            try Self.count(db, "alerts.parked")
            return id
        }
    }

    /// The parked messages, oldest first.
    public func parkedAlerts(limit: Int = 200) throws -> [ParkedAlert] {
        try read { db in
            let s = try db.prepare("SELECT id, delivery_id, reason, received_at, attempts FROM parked_alerts ORDER BY received_at, id LIMIT ?")
                .bind([.integer(Int64(limit))])
            var out: [ParkedAlert] = []
            while try s.step() {
                out.append(ParkedAlert(id: s.text(0) ?? "", deliveryID: s.text(1), reason: s.text(2) ?? "",
                                       receivedAt: Date(timeIntervalSince1970: s.real(3)), attempts: Int(clamping: s.integer(4))))
            }
            return out
        }
    }

    /// A parked message's body, decrypted (for a retry, or `alerts failed --show`).
    public func parkedBody(id: String) throws -> String? {
        try read { db in
            let s = try db.prepare("SELECT body FROM parked_alerts WHERE id = ?").bind([.text(id)])
            guard try s.step(), let blob = s.blob(0) else { return nil }
            do {
                return try keys.open(blob, context: Self.parkedContext(id))
            } catch {
                throw StoreError(code: 0, operation: "read parked alert \(id)", message: "it does not decrypt with this data key (the file was edited, or the key changed); drop it with `convops alerts drop \(id)`")
            }
        }
    }

    /// Forgets a parked message (dropped, or retried successfully). False when there is none.
    @discardableResult
    public func unpark(id: String) throws -> Bool {
        try write { db in
            try db.prepare("DELETE FROM parked_alerts WHERE id = ?").bind([.text(id)]).run()
            return db.changes == 1
        }
    }

    static func parkedContext(_ id: String) -> String { "parked_alerts.body:\(id)" }
}
