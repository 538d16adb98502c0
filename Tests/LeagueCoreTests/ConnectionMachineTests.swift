import Foundation
import LeagueCore
import Testing

@Suite("Connection state machine (backoff, jitter, silence, fatal)")
struct ConnectionMachineTests {
    let t0 = Date(timeIntervalSince1970: 1_800_000_000)
    let policy = ConnectionPolicy(keepalive: 30, deadAfter: 90)

    @Test func backoffDoublesAddsJitterAndIsCappedAt60Seconds() {
        #expect(policy.backoff(failures: 0, random: 0.9) == 0)
        #expect(policy.backoff(failures: 1, random: 0) == 1)
        #expect(policy.backoff(failures: 2, random: 0) == 2)
        #expect(policy.backoff(failures: 3, random: 0) == 4)
        #expect(policy.backoff(failures: 3, random: 0.5) == 4.4)
        #expect(policy.backoff(failures: 6, random: 0) == 32)
        #expect(policy.backoff(failures: 6, random: 0.99) <= 60)
        #expect(policy.backoff(failures: 7, random: 0) == 60)
        #expect(policy.backoff(failures: 7, random: 0.99) == 60)
        #expect(policy.backoff(failures: 1000, random: 0.5) == 60)
    }

    @Test func failedAttemptsBackOffAndAFrameResetsTheCount() {
        var machine = ConnectionMachine(policy: policy)
        #expect(machine.handle(.start(t0)) == [.connect])
        #expect(machine.handle(.failed(.retry("HTTP 500"), at: t0, random: 0)) == [.wait(until: t0.addingTimeInterval(1))])
        _ = machine.handle(.start(t0.addingTimeInterval(1)))
        #expect(machine.handle(.failed(.retry("HTTP 500"), at: t0.addingTimeInterval(1), random: 0)) == [.wait(until: t0.addingTimeInterval(3))])
        #expect(machine.failures == 2)
        #expect(machine.state == .backingOff(until: t0.addingTimeInterval(3)))
        _ = machine.handle(.start(t0.addingTimeInterval(3)))
        _ = machine.handle(.connected(t0.addingTimeInterval(4)))
        #expect(machine.downSince == nil)
        _ = machine.handle(.frame(t0.addingTimeInterval(5)))
        #expect(machine.failures == 0)
        // A socket that worked and then dropped reconnects at once.
        #expect(machine.handle(.failed(.retry("closed"), at: t0.addingTimeInterval(6), random: 0.5)) == [.wait(until: t0.addingTimeInterval(6))])
        #expect(machine.lastError == "closed")
    }

    @Test func rateLimitedWaitsAtLeastTheFloor() {
        var machine = ConnectionMachine(policy: policy)
        _ = machine.handle(.start(t0))
        #expect(machine.handle(.failed(.rateLimited("429"), at: t0, random: 0)) == [.wait(until: t0.addingTimeInterval(5))])
    }

    @Test func fatalStopsRetryingAndDegradesAtOnce() {
        var machine = ConnectionMachine(policy: policy)
        _ = machine.handle(.start(t0))
        #expect(machine.handle(.failed(.fatal("bad credentials"), at: t0, random: 0)) == [.reportFatal("bad credentials")])
        #expect(machine.state == .stopped(reason: "bad credentials"))
        #expect(machine.handle(.start(t0.addingTimeInterval(100))) == [])
        #expect(machine.isDegraded(at: t0))
    }

    @Test func downLongerThan60SecondsIsDegraded() {
        var machine = ConnectionMachine(policy: policy)
        _ = machine.handle(.start(t0))
        _ = machine.handle(.failed(.retry("refused"), at: t0, random: 0))
        #expect(!machine.isDegraded(at: t0.addingTimeInterval(60)))
        #expect(machine.isDegraded(at: t0.addingTimeInterval(61)))
        _ = machine.handle(.start(t0.addingTimeInterval(61)))
        _ = machine.handle(.connected(t0.addingTimeInterval(62)))
        #expect(!machine.isDegraded(at: t0.addingTimeInterval(62)))
    }

    @Test func silenceBeyondDeadAfterClosesTheSocket() {
        var machine = ConnectionMachine(policy: policy)
        _ = machine.handle(.start(t0))
        _ = machine.handle(.connected(t0))
        _ = machine.handle(.frame(t0.addingTimeInterval(10)))
        #expect(machine.handle(.tick(t0.addingTimeInterval(100))) == [])
        let actions = machine.handle(.tick(t0.addingTimeInterval(101)))
        #expect(actions.count == 1)
        if case .closeSocket(let reason) = actions.first { #expect(reason.contains("no frame for 91 s")) } else { Issue.record("expected closeSocket") }
    }

    @Test func reconnectsAndRotationsAreCountedForAnHour() {
        var machine = ConnectionMachine(policy: policy)
        _ = machine.handle(.start(t0))
        _ = machine.handle(.connected(t0))
        _ = machine.handle(.rotated(t0.addingTimeInterval(10)))
        _ = machine.handle(.failed(.retry("closed"), at: t0.addingTimeInterval(20), random: 0))
        _ = machine.handle(.start(t0.addingTimeInterval(20)))
        _ = machine.handle(.connected(t0.addingTimeInterval(21)))
        #expect(machine.reconnectsInLastHour(at: t0.addingTimeInterval(30)) == 2)
        #expect(machine.reconnectsInLastHour(at: t0.addingTimeInterval(3615)) == 1)
    }

    @Test func leaseGoesToOneHolderAndTheTokenGrowsOnEachNewGrant() {
        let first = LeaseRule.grant(current: nil, name: "wecom:bot", holder: "a", now: t0, ttl: 30)
        #expect(first?.token == 1)
        #expect(LeaseRule.grant(current: first, name: "wecom:bot", holder: "b", now: t0.addingTimeInterval(10), ttl: 30) == nil)
        let renewed = LeaseRule.grant(current: first, name: "wecom:bot", holder: "a", now: t0.addingTimeInterval(10), ttl: 30)
        #expect(renewed?.token == 1)
        #expect(renewed?.expiresAt == t0.addingTimeInterval(40))
        let taken = LeaseRule.grant(current: renewed, name: "wecom:bot", holder: "b", now: t0.addingTimeInterval(41), ttl: 30)
        #expect(taken?.holder == "b")
        #expect(taken?.token == 2)
    }
}
