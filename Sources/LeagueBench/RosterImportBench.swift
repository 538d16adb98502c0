import Foundation
import LeagueConfig

/// `org import` of rosters of the real district's size (issue 13): 1,154 units with its 1,188
/// cadres, and with 5,000 people (the issue's target: under 2 s). Each roster is saved as GB18030
/// CSV (what Excel on a Chinese Windows writes), imported into a new org file, then imported again
/// into the file just written (the merge path: parse it, match every person by mobile). Whole
/// process wall time of the real `leagueops` binary; peak RSS from /proc while it runs.
func rosterImport(_ options: Options) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("leagueops-bench-import-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    for people in [1_188, 5_000] {
        guard let data = OrgGenerator.rosterCSV(people: people).data(using: RosterFile.gb18030) else {
            throw BenchError("cannot encode the roster as GB18030")
        }
        let roster = folder.appendingPathComponent("roster-\(people).csv").path
        try data.write(to: URL(fileURLWithPath: roster))
        let org = folder.appendingPathComponent("org-\(people).yaml").path
        for pass in ["new", "merge"] {
            // No config: the org file is given with --out (a missing --config is tolerated by `org import`).
            let run = try await runMeasured(
                options.binary, ["org", "import", roster, "--out", org, "--config", folder.appendingPathComponent("none.yaml").path], sample: 0.002)
            let summary = run.output.split(separator: "\n").first { $0.contains(" rows — ") }.map(String.init) ?? "(no summary line)"
            let ok = run.status == 0
            let target = people == 5_000 && !options.smoke ? "  [target <2 s: \(verdict(ok && run.wall < 2))]" : ""
            emit(
                "import       \(people) people, 1,154 units, GB18030 CSV (\(data.count / 1024) KiB), \(pass == "new" ? "into a new org file" : "merged into that file")"
                    + ": exit \(run.status)  whole process \(format(run.wall, 3)) s  peak RSS \(format(run.peakMiB)) MiB"
                    + "  (\(summary.replacingOccurrences(of: roster, with: "roster.csv")))\(target)")
            if !ok { FileHandle.standardError.write(Data(run.output.utf8)) }
        }
    }
}
