import Foundation
import Testing

@testable import LeagueCore

/// The dashboard keeps one `AssessmentTally` per month over the whole tree and adds only new events:
/// that must give the very report `Assessment.compute` gives from all the events at once, for the
/// whole tree and for any subtree.
@Suite struct AssessmentTallyTests {
    let start = Date(timeIntervalSince1970: 1_793_462_400)  // 2026-11-01 00:00 +08:00
    let settings = RegistrySettings.Assessment()

    @Test func addingInChunksGivesTheReportOfComputeForEveryScope() {
        let events = EventGenerator.month(org: registryOrg, start: start, tasks: 400, seed: 7)
        #expect(events.count > 1_000)
        let minutes: Set<String> = ["g1"]
        var tally = AssessmentTally(org: registryOrg, scopeUnitID: nil)
        var offset = 0
        for size in [1, 37, 500, events.count] where offset < events.count {
            let end = min(offset + size, events.count)
            tally.add(events[offset..<end])
            offset = end
        }
        for scope in [nil, "d", "t1", "c1", "g2", "t2", "nowhere"] as [String?] {
            let whole = Assessment.compute(events: events, org: registryOrg, scopeUnitID: scope, minutesUnitIDs: minutes, month: "2026-11", settings: settings)
            let kept = tally.report(scopeUnitID: scope, minutesUnitIDs: minutes, month: "2026-11", settings: settings)
            #expect(kept == whole, "scope \(scope ?? "root")")
        }
        let g1 = tally.figures("g1", minutesUnitIDs: minutes, settings: settings)
        #expect(g1 == Assessment.compute(events: events, org: registryOrg, scopeUnitID: nil, minutesUnitIDs: minutes, month: "2026-11", settings: settings).unit("g1"))
        #expect((tally.counts("g1")?.received ?? 0) > 0)
        #expect(tally.counts("g1")?.ackSeconds.count == tally.counts("g1")?.acknowledged)
        #expect(tally.counts("nowhere") == nil)
    }
}
