import Foundation
import LeagueTestSupport
import Testing

/// Headless Chromium (Debian's `chromium`; `.ci/run` installs it) opens the overview and the roll
/// call of a running bot: no console errors, SVG charts present, the roll call changes after a 收到.
/// Screenshots go to `.build/test-output/DashboardBrowserTests/`. Skipped, with a message, when
/// chromium is not installed.
@Suite(.serialized, .tags(.process)) struct DashboardBrowserProcessTests {
    static let chromium = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }
    static let output = repositoryRoot.appendingPathComponent(".build/test-output/DashboardBrowserTests")

    /// Runs chromium headless on a URL (bounded to 60 s); returns its standard output and error.
    func chromium(_ arguments: [String], url: String) throws -> (out: String, err: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.chromium!)
        let profile = FileManager.default.temporaryDirectory.appendingPathComponent("chromium-\(UUID().uuidString)")
        process.arguments =
            [
                "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-dev-shm-usage",
                "--user-data-dir=\(profile.path)", "--enable-logging=stderr", "--v=0", "--window-size=420,900",
                "--timeout=4000",
            ] + arguments + [url]
        let out = Pipe(), err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        // The roll call keeps its event stream open: never wait for chromium longer than 30 s.
        DispatchQueue.global().asyncAfter(deadline: .now() + 30) { if process.isRunning { process.terminate() } }
        let deadline = Date().addingTimeInterval(60)
        let outData = out.fileHandleForReading.readDataToEndOfFile()
        let errData = err.fileHandleForReading.readDataToEndOfFile()
        while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        try? FileManager.default.removeItem(at: profile)
        return (String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
    }

    /// Console messages of level error, and uncaught script errors, in chromium's log.
    func consoleErrors(_ log: String) -> [String] {
        log.split(separator: "\n").map(String.init).filter { ($0.contains("CONSOLE") && ($0.contains("ERROR") || $0.contains("Uncaught"))) || $0.contains("Uncaught") }
    }

    @Test func overviewAndRollCallInHeadlessChromium() async throws {
        guard Self.chromium != nil else {
            print("⚠️ DashboardBrowserProcessTests skipped: chromium is not installed (apt-get install -y chromium; .ci/run installs it)")
            return
        }
        try FileManager.default.createDirectory(at: Self.output, withIntermediateDirectories: true)
        try await withRunning(try await dashboardBot()) { bot in
            #expect(try await bot.say("/任务 今晚8点前上报青年志愿者人数", in: "chat-d", from: "u-d") == 200)
            #expect(try await bot.say("收到", in: "chat-t1", from: "u-t1") == 200)
            try await bot.settle()
            let link = try await bot.dashboardLink(chat: "chat-d", sender: "u-d")
            let base = "http://127.0.0.1:\(bot.port)"
            let overview = base + link
            let rollCall = base + link.replacingOccurrences(of: "/dashboard?", with: "/dashboard/task/1?")

            let page = try chromium(["--dump-dom"], url: overview)
            #expect(page.out.contains("<svg"), "overview has no SVG chart")
            #expect(page.out.contains("第一街道"))
            #expect(consoleErrors(page.err).isEmpty, "console errors: \(consoleErrors(page.err))")
            _ = try chromium(["--screenshot=\(Self.output.appendingPathComponent("overview.png").path)"], url: overview)

            let before = try chromium(["--dump-dom"], url: rollCall)
            #expect(before.out.contains("id=\"timeline\""))
            #expect(consoleErrors(before.err).isEmpty, "console errors: \(consoleErrors(before.err))")
            #expect(before.out.contains("class=\"waiting\"><td>"))
            _ = try chromium(["--screenshot=\(Self.output.appendingPathComponent("rollcall-before.png").path)"], url: rollCall)

            #expect(try await bot.say("收到", in: "chat-t2", from: "u-t2") == 200)
            try await bot.settle()
            let after = try chromium(["--dump-dom"], url: rollCall)
            #expect(!after.out.contains("class=\"waiting\"><td>"), "the roll call did not change after 收到")
            #expect(after.out.contains("class=\"on-time\"><td>第二街道"))
            #expect(consoleErrors(after.err).isEmpty, "console errors: \(consoleErrors(after.err))")
            _ = try chromium(["--screenshot=\(Self.output.appendingPathComponent("rollcall-after.png").path)"], url: rollCall)
            for name in ["overview.png", "rollcall-before.png", "rollcall-after.png"] {
                #expect(FileManager.default.fileExists(atPath: Self.output.appendingPathComponent(name).path), "\(name) missing")
            }
            await bot.stop()
        }
    }
}
