/// Schema versions, applied in order and recorded in `PRAGMA user_version`.
/// Never edit a shipped migration; add the next one.
enum Migrations {
    static let all: [String] = [
        // 1: people (personal data encrypted), requests, the hash-chained audit log with its
        // retention checkpoint, and anonymous counters.
        """
        CREATE TABLE people (
            pseudonym TEXT PRIMARY KEY,
            id_index BLOB NOT NULL UNIQUE,
            chat_id BLOB NOT NULL,
            display_name BLOB NOT NULL,
            email BLOB,
            phone BLOB,
            created_at REAL NOT NULL
        );
        CREATE TABLE requests (
            id TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            plan TEXT NOT NULL,
            requester TEXT NOT NULL,
            channel TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            approver TEXT,
            outcome TEXT,
            needs_approval INTEGER NOT NULL DEFAULT 0,
            environment TEXT
        );
        CREATE INDEX requests_by_state ON requests(state, expires_at);
        CREATE INDEX requests_by_requester ON requests(requester);
        CREATE TABLE audit (
            seq INTEGER PRIMARY KEY,
            at_ms INTEGER NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            decision TEXT NOT NULL,
            principal TEXT,
            outcome TEXT,
            request_id TEXT,
            prev_hash TEXT NOT NULL,
            hash TEXT NOT NULL
        );
        CREATE INDEX audit_by_request ON audit(request_id);
        CREATE TABLE audit_checkpoint (
            id INTEGER PRIMARY KEY CHECK (id = 1),
            seq INTEGER NOT NULL,
            hash TEXT NOT NULL,
            at_ms INTEGER NOT NULL,
            signature TEXT NOT NULL
        );
        CREATE TABLE counters (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        );
        CREATE TRIGGER audit_append_only_update BEFORE UPDATE ON audit
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
        CREATE TRIGGER audit_append_only_delete BEFORE DELETE ON audit
            WHEN OLD.seq > COALESCE((SELECT seq FROM audit_checkpoint WHERE id = 1), 0)
            BEGIN SELECT RAISE(ABORT, 'the audit log is append-only; only entries a retention checkpoint covers can be purged'); END;
        """,
        // 2: where each request's messages are in a chat (Slack's channel id and message ts),
        // so they can be updated in place, and so a click can be checked against its message.
        """
        CREATE TABLE chat_messages (
            request_id TEXT NOT NULL,
            role TEXT NOT NULL,
            channel TEXT NOT NULL,
            ts TEXT NOT NULL,
            PRIMARY KEY (request_id, role)
        );
        CREATE INDEX chat_messages_by_message ON chat_messages(channel, ts);
        """,
        // 3: alerts. Every message from the alarm queue is one row (or a parked one, when it
        // could not be read) before it is deleted from the queue; state changes of one alarm
        // belong to one episode, ALARM to OK, whose chat messages are updated in place.
        """
        CREATE TABLE alerts (
            id TEXT PRIMARY KEY,
            delivery_id TEXT UNIQUE,
            alarm_key TEXT NOT NULL,
            state TEXT NOT NULL,
            changed_at_ms INTEGER NOT NULL,
            received_at REAL NOT NULL,
            alarm TEXT NOT NULL,
            disposition TEXT NOT NULL,
            episode_id TEXT,
            UNIQUE (alarm_key, state, changed_at_ms)
        );
        CREATE INDEX alerts_by_disposition ON alerts(disposition, received_at);
        CREATE INDEX alerts_by_episode ON alerts(episode_id);
        CREATE TABLE alert_episodes (
            id TEXT PRIMARY KEY,
            alarm_key TEXT NOT NULL,
            alarm TEXT NOT NULL,
            state TEXT NOT NULL,
            opened_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            last_change_ms INTEGER NOT NULL,
            closed_at REAL,
            changes INTEGER NOT NULL,
            alarms INTEGER NOT NULL,
            acked_by TEXT,
            acked_at REAL,
            resource TEXT
        );
        CREATE UNIQUE INDEX alert_episodes_open ON alert_episodes(alarm_key) WHERE closed_at IS NULL;
        CREATE TABLE alert_messages (
            episode_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            ts TEXT NOT NULL,
            PRIMARY KEY (episode_id, channel)
        );
        CREATE INDEX alert_messages_by_message ON alert_messages(channel, ts);
        CREATE TABLE parked_alerts (
            id TEXT PRIMARY KEY,
            delivery_id TEXT,
            body BLOB NOT NULL,
            reason TEXT NOT NULL,
            received_at REAL NOT NULL,
            attempts INTEGER NOT NULL
        );
        """,
        // 4: snoozes, and which snooze held an alert back.
        """
        CREATE TABLE snoozes (
            id TEXT PRIMARY KEY,
            scope TEXT NOT NULL,
            target TEXT NOT NULL,
            label TEXT NOT NULL,
            until_at REAL NOT NULL,
            created_at REAL NOT NULL,
            created_by TEXT NOT NULL,
            channel TEXT NOT NULL,
            ended_at REAL
        );
        CREATE INDEX snoozes_by_end ON snoozes(ended_at, until_at);
        ALTER TABLE alerts ADD COLUMN snooze_id TEXT;
        """,
        // 5: episodes held back for the hold wait, flapping ones, and reminders.
        """
        ALTER TABLE alert_episodes ADD COLUMN hold_until REAL;
        ALTER TABLE alert_episodes ADD COLUMN flapping INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE alert_episodes ADD COLUMN reminded_at REAL;
        CREATE INDEX alert_episodes_by_key ON alert_episodes(alarm_key, closed_at);
        CREATE INDEX alerts_by_key_time ON alerts(alarm_key, changed_at_ms);
        """,
        // 6: storms. Past a number of posts in a channel within a window, new episodes join
        // one grouped message there, which is updated in place.
        """
        CREATE TABLE alert_groups (
            id TEXT PRIMARY KEY,
            channel TEXT NOT NULL,
            ts TEXT,
            opened_at REAL NOT NULL,
            last_at REAL NOT NULL,
            dirty INTEGER NOT NULL,
            shown_at REAL
        );
        CREATE INDEX alert_groups_by_channel ON alert_groups(channel, last_at);
        ALTER TABLE alert_messages ADD COLUMN posted_at REAL;
        ALTER TABLE alert_messages ADD COLUMN group_id TEXT;
        CREATE INDEX alert_messages_by_group ON alert_messages(group_id);
        CREATE INDEX alert_messages_by_time ON alert_messages(channel, posted_at);
        """,
        // 7: a post about to be made (an episode's or a group's), so that after a crash between
        // Slack taking it and its ts being stored, the message is found rather than posted twice.
        """
        CREATE TABLE alert_attempts (
            ref TEXT NOT NULL,
            channel TEXT NOT NULL,
            at REAL NOT NULL,
            PRIMARY KEY (ref, channel)
        );
        """,
        // 8: a snooze is told to every alert channel, not only where it was asked for.
        """
        ALTER TABLE snoozes ADD COLUMN announced INTEGER NOT NULL DEFAULT 0;
        """,
        // 9: WhatsApp. A verified webhook body is stored (sealed: it holds phone numbers and
        // what people wrote) before Meta gets its 200, and goes once processed. Message ids
        // (wamids encode the phone number) are kept only as keyed hashes: for recognising a
        // redelivery, and for a sent message's delivery state, which never moves backwards.
        """
        CREATE TABLE whatsapp_inbox (
            id TEXT PRIMARY KEY,
            body BLOB NOT NULL,
            received_at REAL NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT
        );
        CREATE TABLE whatsapp_seen (
            ref BLOB PRIMARY KEY,
            at REAL NOT NULL
        );
        CREATE INDEX whatsapp_seen_by_time ON whatsapp_seen(at);
        CREATE TABLE whatsapp_statuses (
            ref BLOB PRIMARY KEY,
            state TEXT NOT NULL,
            rank INTEGER NOT NULL,
            updated_at REAL NOT NULL,
            error_code INTEGER
        );
        CREATE TABLE whatsapp_numbers (
            person_index BLOB PRIMARY KEY,
            person_id BLOB NOT NULL,
            number BLOB NOT NULL,
            changed_at REAL NOT NULL
        );
        """,
        // 10: a request may have an approval message in several places (Slack's approval
        // channel and each WhatsApp approver's conversation), each of them valid to decide on.
        """
        CREATE TABLE chat_messages_by_place (
            request_id TEXT NOT NULL,
            role TEXT NOT NULL,
            channel TEXT NOT NULL,
            ts TEXT NOT NULL,
            PRIMARY KEY (request_id, role, channel)
        );
        INSERT INTO chat_messages_by_place (request_id, role, channel, ts) SELECT request_id, role, channel, ts FROM chat_messages;
        DROP TABLE chat_messages;
        ALTER TABLE chat_messages_by_place RENAME TO chat_messages;
        CREATE INDEX chat_messages_by_message ON chat_messages(channel, ts);
        """,
        // 11: alerts for WhatsApp recipients, queued with the alert (before the SQS message
        // goes) and sent at one message per person per 6 s, several coalesced into one.
        """
        CREATE TABLE whatsapp_alerts (
            episode_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            kind TEXT NOT NULL,
            queued_at REAL NOT NULL,
            sent_at REAL,
            message_ref TEXT,
            PRIMARY KEY (episode_id, channel, kind)
        );
        CREATE INDEX whatsapp_alerts_pending ON whatsapp_alerts(sent_at, channel);
        CREATE INDEX whatsapp_alerts_by_message ON whatsapp_alerts(channel, message_ref);
        """,
        // 12: WhatsApp messages Meta would not deliver (131026 and its kin, or a message it
        // refused), parked with the code and Meta's title for `convops whatsapp undelivered`.
        // Who it was for: the conversation's keyed name and the person's keyed index (erased
        // with them), never the number.
        """
        CREATE TABLE whatsapp_undelivered (
            id TEXT PRIMARY KEY,
            person_index BLOB,
            channel TEXT NOT NULL,
            what TEXT NOT NULL,
            code INTEGER NOT NULL,
            reason TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX whatsapp_undelivered_by_person ON whatsapp_undelivered(person_index);
        """,
        // 13: an episode's WhatsApp news may come more than once per kind: a recovered alarm that
        // flaps back is said once ("flapping"), and its next recovery again (seq 1).
        """
        CREATE TABLE whatsapp_alerts_by_seq (
            episode_id TEXT NOT NULL,
            channel TEXT NOT NULL,
            kind TEXT NOT NULL,
            seq INTEGER NOT NULL DEFAULT 0,
            queued_at REAL NOT NULL,
            sent_at REAL,
            message_ref TEXT,
            PRIMARY KEY (episode_id, channel, kind, seq)
        );
        INSERT INTO whatsapp_alerts_by_seq (episode_id, channel, kind, seq, queued_at, sent_at, message_ref)
            SELECT episode_id, channel, kind, 0, queued_at, sent_at, message_ref FROM whatsapp_alerts;
        DROP TABLE whatsapp_alerts;
        ALTER TABLE whatsapp_alerts_by_seq RENAME TO whatsapp_alerts;
        CREATE INDEX whatsapp_alerts_pending ON whatsapp_alerts(sent_at, channel);
        CREATE INDEX whatsapp_alerts_by_message ON whatsapp_alerts(channel, message_ref);
        """,
        // 14: the WhatsApp id Meta reports for a person when it differs from the number dialled
        // (Brazil's ninth digit, Mexico's 1), learned from a send's answer, so that their
        // messages from it reach them, as long as that is still their number. The id and the
        // number only as keyed hashes; erased with the person.
        """
        CREATE TABLE whatsapp_ids (
            id_index BLOB PRIMARY KEY,
            person_index BLOB NOT NULL,
            person_id BLOB NOT NULL,
            number_index BLOB NOT NULL,
            learned_at REAL NOT NULL
        );
        CREATE INDEX whatsapp_ids_by_person ON whatsapp_ids(person_index);
        """,
    ]
}

/// Every column the store may hold, with the class of data it is. The privacy policy names
/// these classes; a test fails if the schema has a column that is not declared here.
public enum DataClass: String, Sendable, CaseIterable {
    case accountInformation = "account information (encrypted personal data, keyed index, pseudonym)"
    case channelIdentifier = "channel identifier"
    case awsIdentifiers = "AWS account ids and role ARNs"
    case auditEntry = "audit entry"
    case aggregateCounter = "aggregate counter"
    case operational = "request state (no personal data)"
    case sealedPayload = "a message as received, encrypted (AES-256-GCM)"
}

extension Store {
    public static let declaredColumns: [String: [String: DataClass]] = [
        "people": ["pseudonym": .accountInformation, "id_index": .accountInformation, "chat_id": .accountInformation,
                   "display_name": .accountInformation, "email": .accountInformation, "phone": .accountInformation,
                   "created_at": .accountInformation],
        "requests": ["id": .operational, "state": .operational, "plan": .awsIdentifiers, "requester": .accountInformation,
                     "channel": .channelIdentifier, "created_at": .operational, "updated_at": .operational,
                     "expires_at": .operational, "approver": .accountInformation, "outcome": .awsIdentifiers,
                     "needs_approval": .operational, "environment": .operational],
        "audit": ["seq": .auditEntry, "at_ms": .auditEntry, "actor": .auditEntry, "action": .auditEntry, "target": .auditEntry,
                  "decision": .auditEntry, "principal": .awsIdentifiers, "outcome": .auditEntry, "request_id": .auditEntry,
                  "prev_hash": .auditEntry, "hash": .auditEntry],
        "audit_checkpoint": ["id": .auditEntry, "seq": .auditEntry, "hash": .auditEntry, "at_ms": .auditEntry, "signature": .auditEntry],
        "counters": ["name": .aggregateCounter, "value": .aggregateCounter],
        "chat_messages": ["request_id": .operational, "role": .operational, "channel": .channelIdentifier, "ts": .channelIdentifier],
        "alerts": ["id": .operational, "delivery_id": .operational, "alarm_key": .awsIdentifiers, "state": .operational,
                   "changed_at_ms": .operational, "received_at": .operational, "alarm": .sealedPayload,
                   "disposition": .operational, "episode_id": .operational, "snooze_id": .operational],
        "snoozes": ["id": .operational, "scope": .operational, "target": .awsIdentifiers, "label": .awsIdentifiers,
                    "until_at": .operational, "created_at": .operational, "created_by": .accountInformation,
                    "channel": .channelIdentifier, "ended_at": .operational, "announced": .operational],
        "alert_episodes": ["id": .operational, "alarm_key": .awsIdentifiers, "alarm": .sealedPayload, "state": .operational,
                           "opened_at": .operational, "updated_at": .operational, "last_change_ms": .operational,
                           "closed_at": .operational, "changes": .operational, "alarms": .operational,
                           "acked_by": .accountInformation, "acked_at": .operational, "resource": .awsIdentifiers,
                           "hold_until": .operational, "flapping": .operational, "reminded_at": .operational],
        "alert_messages": ["episode_id": .operational, "channel": .channelIdentifier, "ts": .channelIdentifier,
                           "posted_at": .operational, "group_id": .operational],
        "alert_attempts": ["ref": .operational, "channel": .channelIdentifier, "at": .operational],
        "alert_groups": ["id": .operational, "channel": .channelIdentifier, "ts": .channelIdentifier, "opened_at": .operational,
                         "last_at": .operational, "dirty": .operational, "shown_at": .operational],
        "whatsapp_inbox": ["id": .operational, "body": .sealedPayload, "received_at": .operational, "attempts": .operational,
                           "last_error": .operational],
        "whatsapp_seen": ["ref": .accountInformation, "at": .operational],
        "whatsapp_alerts": ["episode_id": .operational, "channel": .channelIdentifier, "kind": .operational, "seq": .operational,
                            "queued_at": .operational,
                            "sent_at": .operational, "message_ref": .channelIdentifier],
        "whatsapp_numbers": ["person_index": .accountInformation, "person_id": .accountInformation, "number": .accountInformation,
                             "changed_at": .operational],
        "whatsapp_statuses": ["ref": .accountInformation, "state": .operational, "rank": .operational, "updated_at": .operational,
                              "error_code": .operational],
        "whatsapp_ids": ["id_index": .accountInformation, "person_index": .accountInformation, "person_id": .accountInformation,
                         "number_index": .accountInformation, "learned_at": .operational],
        "whatsapp_undelivered": ["id": .operational, "person_index": .accountInformation, "channel": .channelIdentifier,
                                 "what": .operational, "code": .operational, "reason": .operational, "at": .operational],
        "parked_alerts": ["id": .operational, "delivery_id": .operational, "body": .sealedPayload, "reason": .operational,
                          "received_at": .operational, "attempts": .operational],
    ]
}
