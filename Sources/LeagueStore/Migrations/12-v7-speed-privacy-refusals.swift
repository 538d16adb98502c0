import GRDB
import LeagueCore

extension Migrations {
    static let m12_v7_speed_privacy_refusals = Migration(name: "v7-speed-privacy-refusals") { db in
        // Every screened command (/任务, /上报, …) counts its sender's privacy refusals of the last
        // hour; through events_at that read every event of the hour (2.2 M instructions a /任务 in
        // the in-process bench). This index holds only the refusals.
        try db.execute(sql: "CREATE INDEX events_privacy_refused ON events(member_id, at) WHERE kind = 'privacy.refused'")
    }
}
