import GRDB
import LeagueCore

extension Migrations {
    static let m08_v6_security_outbox_payload_v2 = Migration(name: "v6-security-outbox-payload-v2") { db in
        // Issue 11: rows held the group's robot credentials and the mentioned members' mobile
        // numbers, and robot_id was the robot's key. Rewrite every row as payload version 2
        // (unit, chat, robot alias, member ids) with the alias as robot_id. Rows the payload
        // reader cannot read keep their payload (they are put aside when due) but lose the key.
        var last: Int64 = 0
        while true {
            let rows = try Row.fetchAll(db, sql: "SELECT id, payload FROM outbox WHERE id > ? ORDER BY id LIMIT 1000", arguments: [last])
            guard let end = rows.last else { break }
            last = end["id"]
            for row in rows {
                let id: Int64 = row["id"]
                if let message = OutboxPayload.decode(row["payload"]) {
                    try db.execute(
                        sql: "UPDATE outbox SET payload = ?, robot_id = ? WHERE id = ?",
                        arguments: [try OutboxPayload.encode(message), message.group.robotID, id])
                } else {
                    try db.execute(sql: "UPDATE outbox SET robot_id = platform || ':' || chat WHERE id = ?", arguments: [id])
                }
            }
        }
        // Rate windows and pauses were kept by the robot's key: forget them (a minute's sends and
        // a pause at most; the outbox is rebuilt from the rows above).
        try db.execute(sql: "DELETE FROM robot_sends; DELETE FROM robot_pauses")
    }
}
