import Foundation
import LeagueCore
import LeagueServer
import NIOConcurrencyHelpers
import Testing

/// A doorbell wait with a deadline on a manual clock: moving the clock to the deadline wakes it, not
/// real time; a ring still does. Nothing here sleeps in real time (the real bound is an hour).
@Suite(.timeLimit(.minutes(1)))
struct DoorbellClockTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    @Test func movingTheClockToTheDeadlineWakesTheWaiter() async {
        let clock = ManualClock(start)
        let bell = Doorbell()
        let woke = NIOLockedValueBox(false)
        let waiter = Task {
            await bell.wait(seconds: 3600, orUntil: start.addingTimeInterval(60), on: clock)
            woke.withLockedValue { $0 = true }
        }
        clock.advance(by: 59)
        #expect(!woke.withLockedValue { $0 }, "still waiting one second before its deadline")
        clock.advance(by: 1)
        await waiter.value
        #expect(woke.withLockedValue { $0 })
    }

    @Test func aRingStillWakesAWaiterWithADeadline() async {
        let clock = ManualClock(start)
        let bell = Doorbell()
        let waiter = Task { await bell.wait(seconds: 3600, orUntil: start.addingTimeInterval(60), on: clock) }
        bell.ring()
        await waiter.value
        #expect(clock.now() == start, "woken by the ring, not by the clock")
    }

    @Test func cancellationEndsAWaitWithADeadlineAndForgetsItsClockSleep() async {
        let clock = ManualClock(start)
        let waiter = Task { await Doorbell().wait(seconds: 3600, orUntil: start.addingTimeInterval(60), on: clock) }
        waiter.cancel()
        await waiter.value
        #expect(clock.now() == start)
    }

    /// Waits with deadlines while the clock moves, the bell rings and some waits are cancelled: every
    /// one returns (a stranded one would hang the test until its time limit; the real bound is an hour).
    @Test func noWaitIsStrandedByRacingMovesRingsAndCancellations() async {
        let clock = ManualClock(start)
        let bell = Doorbell()
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<300 {
                group.addTask {
                    let waiter = Task { _ = await bell.wait(after: 0, seconds: 3600) }
                    let timed = Task { await Doorbell().wait(seconds: 3600, orUntil: start.addingTimeInterval(Double(index % 10) + 0.5), on: clock) }
                    if index % 7 == 0 { timed.cancel() }
                    await timed.value
                    bell.ring()
                    await waiter.value
                }
            }
            group.addTask {
                for _ in 0..<10 {
                    clock.advance(by: 1)
                    await Task.yield()
                }
            }
        }
        #expect(clock.now() == start.addingTimeInterval(10))
    }

    @Test func aDeadlinePassedBeforeTheWaitReturnsAtOnce() async {
        let clock = ManualClock(start)
        clock.advance(by: 120)
        await Doorbell().wait(seconds: 3600, orUntil: start.addingTimeInterval(60), on: clock)
        #expect(clock.sleeping == 0)
    }
}

/// Set once a wait returned.
