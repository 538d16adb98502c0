import Foundation
import LeagueCore
import Testing

/// `ManualClock.sleep(until:)`: sleepers wake when the clock is moved to their deadline, never with real
/// time; none is lost to a move or a cancellation that races with its registration. Nothing here
/// sleeps in real time: a stranded sleeper would hang its test until the time limit.
@Suite(.timeLimit(.minutes(1)))
struct ManualClockTests {
    let start = Date(timeIntervalSince1970: 1_800_000_000)

    /// Which sleeps have returned.
    final class Woken: @unchecked Sendable {
        private let lock = NSLock()
        private var names: Set<String> = []
        func insert(_ name: String) { _ = lock.withLock { names.insert(name) } }
        var all: Set<String> { lock.withLock { names } }
    }

    @Test func advancingWakesExactlyTheSleepersWhoseDeadlineItReaches() async {
        let clock = ManualClock(start)
        let woken = Woken()
        func sleeper(_ name: String, _ seconds: Double) -> Task<Void, Never> {
            Task {
                await clock.sleep(until: start.addingTimeInterval(seconds))
                woken.insert(name)
            }
        }
        let ten = sleeper("10", 10)
        let twenty = sleeper("20", 20)
        let thirty = sleeper("30", 30)

        clock.advance(by: 9.5)
        clock.advance(by: 0.5)
        await ten.value
        #expect(woken.all == ["10"], "only the sleeper due at +10 s woke")

        clock.set(start.addingTimeInterval(20))
        await twenty.value
        #expect(woken.all == ["10", "20"], "a step of the wall clock to a deadline wakes its sleeper")
        clock.set(start)
        clock.advance(by: 29)
        #expect(!woken.all.contains("30"), "a step back wakes nobody, and +29 s is not +30 s")

        clock.advance(by: 3600)
        await thirty.value
        #expect(clock.sleeping == 0)
    }

    @Test func aDeadlineAlreadyReachedReturnsAtOnce() async {
        let clock = ManualClock(start)
        await clock.sleep(until: start)
        await clock.sleep(until: start.addingTimeInterval(-60))
        #expect(clock.sleeping == 0)
    }

    @Test func cancellationEndsASleep() async {
        let clock = ManualClock(start)
        let sleeper = Task { await clock.sleep(until: start.addingTimeInterval(3600)) }
        sleeper.cancel()
        await sleeper.value
        #expect(clock.sleeping == 0, "the cancelled sleeper is forgotten")
        #expect(clock.now() == start, "the clock did not move")

        // Cancelled before it starts to sleep: returns too.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            await clock.sleep(until: start.addingTimeInterval(3600))
        }
        await early.value
        #expect(clock.sleeping == 0)
    }

    /// Hundreds of sleepers register while the clock moves and some are cancelled: every one returns.
    @Test func noSleeperIsStrandedByAMoveOrACancellationRacingWithIt() async {
        let clock = ManualClock(start)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<400 {
                group.addTask {
                    let sleeper = Task { await clock.sleep(until: start.addingTimeInterval(Double(index % 10) + 0.5)) }
                    if index % 7 == 0 { sleeper.cancel() }
                    await sleeper.value
                }
            }
            group.addTask {
                for _ in 0..<10 {
                    clock.advance(by: 1)
                    await Task.yield()
                }
            }
        }
        #expect(clock.sleeping == 0)
        #expect(clock.now() == start.addingTimeInterval(10))
    }
}
