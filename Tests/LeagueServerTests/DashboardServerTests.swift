import AsyncHTTPClient
import Foundation
import LeagueConfig
import LeagueCore
import LeagueServer
import LeagueStore
import LeagueTestSupport
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
import Testing

/// A bot on loopback with `server.public_url` set, so /看板 answers with links.
func dashboardBot(extra: String = "", liveFallback: Double = 5) async throws -> TestBot {
    try await TestBot(configPath: try writeTestConfig(extra: extra, server: #"{host: 127.0.0.1, port: 0, public_url: "http://bot.example/"}"#), liveFallback: liveFallback)
}

extension TestBot {
    /// Sends a command and returns the path of the dashboard link the bot answered with.
    func dashboardLink(_ command: String = "/看板", chat: String, sender: String, marker: String = "http://bot.example") async throws -> String {
        let before = fake.to(chat).count
        #expect(try await say(command, in: chat, from: sender) == 200)
        var found: String?
        try await waitUntil("a dashboard link in \(chat)") { sent in
            let mine = sent.filter { $0.group == chat }.dropFirst(before)
            for message in mine {
                if let range = message.text.range(of: marker) {
                    found = String(message.text[range.upperBound...].prefix { !$0.isWhitespace })
                    return true
                }
            }
            return false
        }
        return try #require(found)
    }

    func audit() async throws -> [AuditEntry] { try await store.write { try $0.auditEntries(limit: 200) } }
}

/// Replaces (or adds) one query field of a path.
func replacing(_ path: String, _ key: String, with value: String) -> String {
    var parts = path.components(separatedBy: "?")
    var fields = parts.count > 1 ? parts[1].components(separatedBy: "&").filter { !$0.hasPrefix("\(key)=") } : []
    fields.append("\(key)=\(value)")
    parts = [parts[0], fields.joined(separator: "&")]
    return parts.joined(separator: "?")
}

@Suite(.serialized) struct DashboardServerTests {
    @Test func linkOpensOwnSubtreeOnlyAndExpires() async throws {
        try await withRunning(try await dashboardBot(extra: "dashboard: {link_ttl: 2h}")) { bot in
            let link = try await bot.dashboardLink(chat: "chat-g1", sender: "u-g1")
            #expect(link.hasPrefix("/dashboard?s=g1&m=m-g1&e="))
            let (status, page) = try await bot.request("GET", link)
            #expect(status == 200)
            #expect(page.contains("第1网格"))
            // Sibling and parent: refused, whatever the signature.
            for unit in ["g2", "c1", "d"] {
                let (refused, body) = try await bot.request("GET", replacing(link, "u", with: unit))
                #expect(refused == 403, "u=\(unit)")
                #expect(body.contains("发送 /看板"))
            }
            // Widening the scope in the link breaks its signature.
            let (widened, _) = try await bot.request("GET", replacing(link, "s", with: "c1"))
            #expect(widened == 403)
            let (tampered, body) = try await bot.request("GET", replacing(link, "sig", with: String(repeating: "0", count: 32)))
            #expect(tampered == 403)
            #expect(body.contains("无效"))
            let (extended, _) = try await bot.request("GET", replacing(link, "e", with: "4102444800"))
            #expect(extended == 403)
            // Past the link's 2 hours: 403 saying how to get a new one.
            bot.advance(2 * 3600 + 1)
            let (expired, expiredBody) = try await bot.request("GET", link)
            #expect(expired == 403)
            #expect(expiredBody.contains("已过期"))
            #expect(expiredBody.contains("发送 /看板"))
            // Every view is in the audit log, allowed or refused.
            let views = try await bot.audit().filter { $0.action == "dashboard.view" }
            #expect(views.filter { $0.outcome == "allowed" }.count == 1)
            #expect(views.filter { $0.outcome == "refused" }.count == 7)
            #expect(views.allSatisfy { $0.actor == "m-g1" })
            #expect(try await bot.audit().contains { $0.action == "dashboard.link" && $0.actor == "m-g1" })
        }
    }

    @Test func everyPageOfTheDistrictRendersWithData() async throws {
        try await withRunning(try await dashboardBot()) { bot in
            #expect(try await bot.say("/任务 检查消防通道 <b>今晚</b>", in: "chat-c1", from: "u-c1") == 200)
            #expect(try await bot.say("收到", in: "chat-g1", from: "u-g1") == 200)
            #expect(try await bot.say("/诉求 篮球场灯坏了 #设施", in: "chat-g2", from: "u-g2") == 200)
            try await bot.settle()
            let link = try await bot.dashboardLink(chat: "chat-d", sender: "u-d")
            let pages: [(String, String)] = [
                (link, "第一街道"),
                (replacing(link, "u", with: "c1"), "T-1"),
                (link.replacingOccurrences(of: "/dashboard?", with: "/dashboard/task/1?"), "on-time"),
                (link.replacingOccurrences(of: "/dashboard?", with: "/dashboard/assessment?"), "<svg"),
                (link.replacingOccurrences(of: "/dashboard?", with: "/dashboard/minutes?"), "议事单位已有纪要"),
                (link.replacingOccurrences(of: "/dashboard?", with: "/dashboard/demands?"), "设施"),
            ]
            for (path, expected) in pages {
                let (status, body) = try await bot.request("GET", path)
                #expect(status == 200, "\(path)")
                #expect(body.contains(expected), "\(path) lacks \(expected)")
                #expect(!body.contains("<b>今晚</b>"), "\(path) shows a task text unescaped")
            }
            let (_, demands) = try await bot.request("GET", link.replacingOccurrences(of: "/dashboard?", with: "/dashboard/demands?"))
            #expect(!demands.contains("篮球场灯坏了"))  // demand texts never shown
            let (csvStatus, csv) = try await bot.request("GET", link.replacingOccurrences(of: "/dashboard?", with: "/dashboard/assessment.csv?"))
            #expect(csvStatus == 200)
            #expect(csv.contains("第1网格"))
            // A grid cadre's link cannot read the assessment (permissions.assessment: admin, supervisor).
            let gridLink = try await bot.dashboardLink(chat: "chat-g1", sender: "u-g1")
            let (role, _) = try await bot.request("GET", gridLink.replacingOccurrences(of: "/dashboard?", with: "/dashboard/assessment?"))
            #expect(role == 403)
        }
    }

    /// The month figures are kept between views and brought up to date with the events appended
    /// since: a view after two 收到 shows them, though the first view already filled the tally.
    @Test func keptMonthFiguresFollowNewEvents() async throws {
        try await withRunning(try await dashboardBot()) { bot in
            #expect(try await bot.say("/任务 检查消防通道", in: "chat-c1", from: "u-c1") == 200)
            try await bot.settle()
            let link = try await bot.dashboardLink(chat: "chat-d", sender: "u-d")
            let (_, before) = try await bot.request("GET", link)
            #expect(before.contains("<span class=\"muted\"> 0/2</span>"))  // t1's row: 0 of 2 acknowledged
            #expect(try await bot.say("收到", in: "chat-g1", from: "u-g1") == 200)
            #expect(try await bot.say("收到", in: "chat-g2", from: "u-g2") == 200)
            try await bot.settle()
            let (_, after) = try await bot.request("GET", link)
            #expect(after.contains("<span class=\"muted\"> 2/2</span>"), "the kept tally missed the new acknowledgements")
            await bot.stop()
        }
    }

    /// After start-up the current month is read into the kept figures before anyone asks.
    @Test func warmUpKeepsTheCurrentMonth() async throws {
        try await withRunning(try await dashboardBot()) { bot in
            #expect(try await bot.say("/任务 检查消防通道", in: "chat-c1", from: "u-c1") == 200)
            try await bot.settle()
            let figures = DashboardFigures()
            let warmUp = ServiceRun(DashboardWarmUp(engine: bot.app.engine, figures: figures, delay: 0))
            try await withStopping(warmUp) {
                let month = TimeFormat(timeZone: bot.config.timeZone).month(bot.clock.now())
                try? await waitFor("the warm-up keeps the current month", timeout: 10) { figures.keptMonths == [month] }
                #expect(figures.keptMonths == [month])
            }
        }
    }

    /// The overview's medians count whole seconds instead of sorting; same result as sorting.
    @Test func countedMedianEqualsTheSortedOne() {
        var random = SystemRandomNumberGenerator()
        for size in [0, 1, 2, 3, 10, 101, 1_000] {
            let lists = (0..<4).map { _ in (0..<(size / 4 + (size % 4 > 0 ? 1 : 0))).map { _ in Double(Int.random(in: 0...1800, using: &random)) } }
            #expect(DashboardData.median(of: lists) == Assessment.median(lists.flatMap { $0 }.sorted()), "size \(size)")
        }
        #expect(DashboardData.median(of: [[3, 1], [2, 10]]) == 2.5)
        #expect(DashboardData.median(of: [[], []]) == nil)
        #expect(DashboardData.median(of: [[1.5, 2], [7]]) == 2)  // not whole seconds: sorted instead
    }

    @Test func statusAndQueryAnswersCarryDashboardLinks() async throws {
        try await withRunning(try await dashboardBot()) { bot in
            #expect(try await bot.say("/任务 检查消防通道", in: "chat-c1", from: "u-c1") == 200)
            let status = try await bot.dashboardLink("/进度 T-1", chat: "chat-c1", sender: "u-c1")
            #expect(status.hasPrefix("/dashboard/task/1?s=c1&m=m-c1"))
            #expect(try await bot.request("GET", status).0 == 200)
            let query = try await bot.dashboardLink("/查询 诉求", chat: "chat-c1", sender: "u-c1")
            #expect(query.hasPrefix("/dashboard/demands?s=c1&m=m-c1"))
            #expect(query.contains("&u=c1"))
            let assessment = try await bot.dashboardLink("/查询 考核", chat: "chat-c1", sender: "u-c1")
            #expect(assessment.hasPrefix("/dashboard/assessment?"))
        }
    }

    @Test func dashboardWithoutPublicURLSaysWhatToSet() async throws {
        try await withLiveBot(configPath: try writeTestConfig()) { bot in
            try await bot.ask("/看板", in: "chat-g1", from: "u-g1", answer: "server.public_url", "the refusal")
        }
    }
}

/// An open `text/event-stream` on loopback: every event with the time it arrived.
final class EventStreamReader: Sendable {
    struct Event: Sendable {
        var text: String
        var at: ContinuousClock.Instant
    }

    private let seen = NIOLockedValueBox<[Event]>([])
    private let reader: Task<Void, any Error>

    init(port: Int, path: String) async throws {
        var request = HTTPClientRequest(url: "http://127.0.0.1:\(port)\(path)")
        request.method = .GET
        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
        #expect(response.status.code == 200)
        #expect(response.headers.first(name: "content-type")?.hasPrefix("text/event-stream") == true)
        let seen = seen
        reader = Task {
            var text = ""
            for try await chunk in response.body {
                text += String(buffer: chunk)
                while let end = text.range(of: "\n\n") {
                    let event = String(text[..<end.lowerBound])
                    text = String(text[end.upperBound...])
                    if event.hasPrefix("event:") { seen.withLockedValue { $0.append(Event(text: event, at: .now)) } }
                }
            }
        }
    }

    var events: [Event] { seen.withLockedValue { $0 } }

    /// Waits (bounded) for an event that satisfies `condition`; nil when none came in time.
    func first(within seconds: Double, _ condition: (String) -> Bool) async throws -> Event? {
        do {
            try await waitFor("an event", timeout: seconds, fallback: 0.01) { events.contains { condition($0.text) } }
        } catch is WaitTimedOut {}
        return events.first { condition($0.text) }
    }

    func close() async {
        reader.cancel()
        _ = try? await reader.value
    }
}

/// The live roll call is pushed on commit, not polled (issue 14): the stream wakes from the same
/// commit path that rings the outbox, with a bounded fallback for changes nobody rings for.
@Suite(.serialized) struct DashboardLiveTests {
    /// With a 120 s fallback, a 收到 reaches the open stream soon after its commit (well under a
    /// second when the machine is idle; the bound leaves room for a loaded CI machine): the stream
    /// was woken by the commit, not by a poll.
    @Test func acknowledgementIsPushedWithoutWaitingForAPoll() async throws {
        try await withRunning(try await dashboardBot(liveFallback: 120)) { bot in
            #expect(try await bot.say("/任务 检查消防通道", in: "chat-c1", from: "u-c1") == 200)
            try await bot.settle()
            let link = try await bot.dashboardLink(chat: "chat-c1", sender: "u-c1")
            let stream = try await EventStreamReader(port: bot.port, path: link.replacingOccurrences(of: "/dashboard?", with: "/dashboard/task/1/events?"))
            let initial = try await stream.first(within: 10) { $0.hasPrefix("event: rollcall") }
            #expect(initial?.text.contains("\"c\":\"waiting\"") == true)
            #expect(stream.events.first?.text.hasPrefix("event: rollcall") == true, "the first event is the whole roll call")
            // Let the stream settle into its wait, so a wake-up can only come from the commit.
            try await Task.sleep(for: .milliseconds(200))
            let sent = ContinuousClock.now
            #expect(try await bot.say("收到", in: "chat-g1", from: "u-g1") == 200)
            let pushed = try await stream.first(within: 30) { $0.contains("\"c\":\"on-time\"") }
            let arrived = try #require(pushed, "the 收到 never reached the stream")
            let delay = arrived.at - sent
            #expect(delay < .seconds(30), "the update took \(delay); the fallback is 120 s")
            #expect(arrived.text.contains("\"i\":0"))
            // Closing the task is pushed too, and ends the stream.
            let closing = ContinuousClock.now
            #expect(try await bot.say("/完成 T-1", in: "chat-c1", from: "u-c1") == 200)
            let end = try await stream.first(within: 30) { $0.hasPrefix("event: end") }
            #expect(end != nil)
            if let end { #expect(end.at - closing < .seconds(30)) }
            #expect(stream.events.last?.text.hasPrefix("event: end") == true)
            await stream.close()
        }
    }

    /// A change no commit path rings for (here a write straight to the store) still reaches the
    /// stream within the fallback period.
    @Test func unsignalledChangeArrivesWithinTheFallback() async throws {
        try await withRunning(try await dashboardBot(liveFallback: 0.3)) { bot in
            #expect(try await bot.say("/任务 检查消防通道", in: "chat-c1", from: "u-c1") == 200)
            try await bot.settle()
            let link = try await bot.dashboardLink(chat: "chat-c1", sender: "u-c1")
            let stream = try await EventStreamReader(port: bot.port, path: link.replacingOccurrences(of: "/dashboard?", with: "/dashboard/task/1/events?"))
            #expect(try await stream.first(within: 10) { $0.hasPrefix("event: rollcall") } != nil)
            let at = bot.clock.now()
            try await bot.store.write { tx in
                var target = try #require(try tx.targets(ofTask: 1).first { $0.unitID == "g2" })
                target.acknowledgedAt = at
                target.acknowledgedBy = "m-g2"
                try tx.update(target)
            }
            let update = try await stream.first(within: 5) { $0.contains("\"c\":\"on-time\"") }
            #expect(update?.text.contains("\"i\":1") == true, "g2's row never turned on-time")
            await stream.close()
        }
    }

    @Test func waitReturnsOnPublishOnAMissedPublishAndOnTimeOut() async throws {
        let live = Doorbell()
        // A publish that happened after the caller's read is not lost.
        let seen = live.generation
        live.ring()
        let start = ContinuousClock.now
        #expect(await live.wait(after: seen, seconds: 30) == seen + 1)
        #expect(ContinuousClock.now - start < .seconds(1))
        // A waiter is woken by a publish.
        let current = live.generation
        let waiter = Task { await live.wait(after: current, seconds: 30) }
        try await Task.sleep(for: .milliseconds(50))
        live.ring()
        #expect(await waiter.value == current + 1)
        #expect(ContinuousClock.now - start < .seconds(5))
        // Nothing published: back after the fallback, generation unchanged.
        let quiet = ContinuousClock.now
        #expect(await live.wait(after: live.generation, seconds: 0.1) == current + 1)
        #expect(ContinuousClock.now - quiet >= .milliseconds(90))
    }
}
