import Foundation
import LeagueServer
import LeagueTestSupport
import Testing

@Suite(.tags(.timed))
struct DoorbellTimedTests {
    @Test func aRingWakesAWaiterAndARingWithNobodyWaitingIsKept() async {
        let bell = Doorbell()
        bell.ring()
        let start = Date()
        await bell.wait(seconds: 30)
        #expect(Date().timeIntervalSince(start) < 5, "the earlier ring was kept")
        let waiter = Task { await bell.wait(seconds: 30) }
        try? await Task.sleep(for: .milliseconds(50))
        bell.ring()
        await waiter.value
        #expect(Date().timeIntervalSince(start) < 10)
    }

    @Test func cancellationAndTimeoutsNeverLoseAWaiter() async {
        let bell = Doorbell()
        // Many waits cancelled at racing moments, with rings in between: every one must return,
        // long before the 30 s they would otherwise sleep.
        let start = Date()
        let finished = await withTaskGroup(of: Bool.self) { race -> Bool in
            race.addTask {
                await withTaskGroup(of: Void.self) { group in
                    for index in 0..<400 {
                        group.addTask {
                            let waiter = Task { await bell.wait(seconds: index % 3 == 0 ? 0.001 : 30) }
                            if index % 5 == 0 { bell.ring() }
                            waiter.cancel()
                            await waiter.value
                        }
                    }
                }
                return true
            }
            race.addTask {
                try? await Task.sleep(for: .seconds(20))
                return false
            }
            let first = await race.next() ?? false
            race.cancelAll()
            return first
        }
        #expect(finished, "a cancelled wait was lost")
        #expect(Date().timeIntervalSince(start) < 20)
    }
}
