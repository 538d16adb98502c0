import Foundation
import GRDB
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import LeagueTestSupport
import Logging
import ServiceLifecycle

/// `leagueops-bench inprocess`: the ingest path without sockets, per message kind, measured in CPU
/// time and (under valgrind's callgrind, when installed) in instructions per message.
///
/// Each message goes the way a webhook goes after Hummingbird has read its body: the generic
/// adapter verifies the HMAC and decodes the JSON, the bound unit is looked up, and the real
/// `Ingestor` commits it and processes it in the same transaction (command, task rows, targets,
/// events, outbox rows and timers). The real outbox service sends the notices to a transport that
/// answers 200 at once (no socket), unless `--no-outbox`.
///
/// Instructions per message are the difference between two callgrind runs of N and 2N messages over
/// copies of the same store, divided by N: start-up, config loading and statement preparation cancel.
///
///     .build/release/leagueops-bench inprocess                       # every kind on a fresh store
///     .build/release/leagueops-bench inprocess --prestore 300000     # after 300,000 stored messages
///     .build/release/leagueops-bench inprocess --kinds ack --profile /tmp/prof   # keep the callgrind file
struct InProcessOptions {
    static let kinds = ["ack", "task", "report", "status", "agenda"]

    var kinds = InProcessOptions.kinds
    var count = 2_000
    var instructionCount = 200
    var instructions = true
    var prestore = 0
    var base: String?
    var profile: String?
    var synchronous = "full"
    var scale = 1
    var outbox = true
    var repository = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)

    init(_ arguments: [String]) throws {
        try parseArguments(arguments) { argument, value in
            func number() throws -> Int {
                let text = try value()
                guard let n = Int(text.replacingOccurrences(of: "_", with: "").replacingOccurrences(of: ",", with: "")), n >= 0 else {
                    throw BenchError("\(argument) needs a whole number, not \(text)")
                }
                return n
            }
            switch argument {
            case "--kinds": kinds = try value().split(separator: ",").map(String.init)
            case "--count": count = max(1, try number())
            case "--instruction-count": instructionCount = max(1, try number())
            case "--no-instructions": instructions = false
            case "--prestore": prestore = try number()
            case "--base": base = try value()
            case "--profile": profile = try value()
            case "--synchronous": synchronous = try value()
            case "--scale": scale = max(1, try number())
            case "--no-outbox": outbox = false
            case "--repo": repository = URL(fileURLWithPath: try value())
            case "-h", "--help":
                print(
                    """
                    usage: leagueops-bench inprocess [--kinds \(Self.kinds.joined(separator: ","))] [--count N] [--instruction-count N]
                                                     [--no-instructions] [--prestore N] [--base FILE] [--profile DIR]
                                                     [--synchronous full|normal] [--scale K] [--no-outbox] [--repo PATH]
                    Drives decode → commit → process → outbox rows in this process, N messages of each kind, and prints
                    CPU time per message; with valgrind installed also instructions per message (callgrind, 2N − N runs).
                    --prestore N   first store N messages (80 % /议程, 20 % 收到, 1 in 50 a /任务) through the same path
                    --base FILE    keep the prepared store in FILE and reuse it when it exists (prestoring takes minutes)
                    --scale K      an org K times the district (15K towns, 109K communities, 1034K grids)
                    --profile DIR  keep the callgrind output of the N and 2N runs of each kind (scripts/callgrind-diff
                                   prints instructions per message by function from the pair)
                    --no-outbox    leave the outbox service off (by default it sends every notice to a null transport
                                   and the run ends when the outbox is empty, so a /任务 counts with its sends)
                    """)
                exit(0)
            default: throw BenchError("unknown argument \(argument) (try inprocess --help)")
            }
        }
        let unknown = Set(kinds).subtracting(Self.kinds)
        guard unknown.isEmpty else { throw BenchError("unknown kind(s) \(unknown.sorted()); known: \(Self.kinds)") }
    }
}

/// A transport that answers every send with 200 at once: the outbox service's own work, without a socket.
struct NullTransport: HTTPTransport {
    func send(_ request: OutboundRequest, timeout: Double) async throws -> OutboundResponse {
        OutboundResponse(status: 200, body: Data())
    }
}

/// The org of the district (or `scale` times it) and what each message kind looks like.
struct InProcessOrg {
    let communities: Int
    let grids: Int

    init(scale: Int) {
        communities = 109 * scale
        grids = 1034 * scale
    }

    /// The i-th message of a kind: (chat, sender, text). Deterministic, spread over every group.
    func message(_ kind: String, _ i: Int) -> (chat: String, sender: String, text: String) {
        let grid = i % grids + 1
        switch kind {
        case "task":
            let community = i % communities + 1
            return ("chat-c\(community)", "u-m-c\(community)", "/任务 @全部 第\(i)号通知：本周五前报送青年之家活动照片")
        case "report":
            return ("chat-g\(grid)", "u-m-g\(grid)", "/上报 第\(i)号：网格内发现一名需要帮扶的困难青年，请社区协调")
        case "status":
            return ("chat-g\(grid)", "u-m-g\(grid)", "/进度")
        case "agenda":
            return ("chat-g\(grid)", "u-m-g\(grid)", "/议程 第\(i)项：讨论暑期青少年托管服务的场地安排")
        default:
            return ("chat-g\(grid)", "u-m-g\(grid)", "收到")
        }
    }

    /// The mix the issue measured growth with: 80 % /议程, 20 % 收到, and 1 in 50 a /任务 from a
    /// community so that 收到 has targets to acknowledge.
    func prestoreMessage(_ i: Int) -> (chat: String, sender: String, text: String) {
        if i % 50 == 0 { return message("task", i / 50) }
        return message(i % 5 == 1 ? "ack" : "agenda", i)
    }
}

/// A signed generic webhook as the adapter receives it.
func inProcessRequest(id: String, chat: String, sender: String, text: String, ts: Double) -> InboundRequest {
    let body = TestBot.body(id: id, chat: chat, sender: sender, text: text, ts: ts)
    return InboundRequest(
        method: "POST",
        headers: [
            "content-type": ["application/json"],
            GenericAdapter.signatureHeader.lowercased(): [GenericAdapter.signature(body: body, secret: testSecret)],
        ], body: body)
}

/// One assembled bot over a store file, without its services.
struct InProcessBot {
    let app: LeagueApp
    let adapter: any PlatformAdapter
    let store: SQLiteStore

    init(configPath: String, databasePath: String, synchronous: String) throws {
        let config = try ConfigLoader.load(path: configPath)
        var logger = Logger(label: "leagueops-bench")
        logger.logLevel = .warning
        store = try SQLiteStore(path: databasePath, synchronous: synchronous)
        app = try LeagueApp(
            config: config, store: store, transport: NullTransport(), logger: logger,
            answerWithin: 120)  // a fan-out to 16 × 1,034 grids in a loaded machine takes more than the webhooks' 4 s
        guard let adapter = app.engine.adapters["generic"] else { throw BenchError("the bench config has no generic platform") }
        self.adapter = adapter
    }

    /// decode → bound unit → Ingestor (commit + process in one transaction), one message at a time.
    /// - Returns: how many messages were refused or not stored (should be 0).
    func ingest(_ requests: [InboundRequest]) async throws -> Int {
        var failures = 0
        for request in requests {
            let now = app.engine.clock.now()
            guard case .message(let message, _) = try adapter.decode(request, path: "generic", now: now),
                app.engine.config.org.unit(platform: message.platform, chat: message.chat) != nil,
                case .stored = try await app.ingestor.submit(message)
            else {
                failures += 1
                continue
            }
        }
        return failures
    }
}

/// CPU time of this process so far (user + system, every thread), in seconds.
func processCPUSeconds() -> Double {
    var usage = rusage()
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

enum InProcess {
    /// Waiting targets per grid the `ack` kind may consume, for at most `acks` acknowledgements.
    static func dispatchesForAcks(_ acks: Int, grids: Int) -> Int { acks / grids + 2 }

    /// Prepares the base store: the prestored messages (if any), then the district's /任务 @全体网格
    /// that give every grid enough waiting targets for the `ack` kind; the outbox marked sent.
    static func prepareBase(_ options: InProcessOptions, workspace: BenchWorkspace, org: InProcessOrg, path: String) async throws {
        let bot = try InProcessBot(configPath: workspace.configPath, databasePath: path, synchronous: "normal")
        let engine = bot.app.engine
        let now = Date().timeIntervalSince1970
        if options.prestore > 0 {
            let started = Date()
            let batch = 500
            for start in stride(from: 0, to: options.prestore, by: batch) {
                let records = (start..<min(start + batch, options.prestore)).map { i -> InboundRecord in
                    let m = org.prestoreMessage(i)
                    let message = ChatMessage(
                        platform: "generic", chat: m.chat, sender: m.sender, text: m.text, messageID: "pre-\(i)",
                        sentAt: Date(timeIntervalSince1970: now))
                    return InboundRecord(message: message, receivedAt: engine.clock.now())
                }
                _ = try await engine.store.ingest(records) { record, tx in try engine.process(record, tx: tx) }
                if start % 50_000 == 0 && start > 0 {
                    FileHandle.standardError.write(Data("  prestored \(start) messages in \(format(Date().timeIntervalSince(started), 0)) s\n".utf8))
                }
            }
        }
        let maxAcks = max(options.count, 2 * options.instructionCount)
        let ts = Date().timeIntervalSince1970  // prestoring takes minutes; the generic adapter refuses a ts 5 min old
        let dispatches = (0..<dispatchesForAcks(maxAcks, grids: org.grids)).map { i in
            inProcessRequest(id: "base-task-\(i)", chat: "chat-d", sender: "u-m-d", text: "/任务 @全体网格 基准第\(i)号：核对网格青年名单", ts: ts)
        }
        guard try await bot.ingest(dispatches) == 0 else { throw BenchError("the base /任务 @全体网格 were not stored") }
        // The outbox as a running server leaves it: everything sent.
        try await bot.store.writer.write { db in
            try db.execute(sql: "UPDATE outbox SET state = 'sent', sent_at = created_at, attempts = 1 WHERE state = 'pending'")
        }
        guard try await bot.store.checkpoint() == 0 else { throw BenchError("the base store's write-ahead log could not be checkpointed") }
    }

    nonisolated(unsafe) static var keptUntilExit: [InProcessBot] = []

    /// Runs `count` messages of `kind` over the store at `path` (generating `generate` requests first,
    /// so that generating them costs the same in the N and the 2N run). Returns CPU and wall seconds of the run.
    static func runKind(
        configPath: String, path: String, synchronous: String, org: InProcessOrg, kind: String,
        count: Int, generate: Int, outboxService: Bool
    ) async throws -> (cpu: Double, wall: Double) {
        // Generated before the run, so stamped up to 280 s ahead: the generic adapter accepts 300 s either
        // way, which leaves a slow /进度 run under callgrind on a loaded machine almost 10 minutes.
        let now = Date().timeIntervalSince1970 + 280
        let requests = (0..<max(generate, count)).map { i in
            let m = org.message(kind, i)
            return inProcessRequest(id: "ip-\(kind)-\(i)", chat: m.chat, sender: m.sender, text: m.text, ts: now)
        }
        let bot = try InProcessBot(configPath: configPath, databasePath: path, synchronous: synchronous)
        let slice = Array(requests.prefix(count))
        let cpu0 = processCPUSeconds()
        let wall0 = Date()
        // The real outbox service sends what the messages enqueue (to a transport that answers 200 at
        // once), so a /任务 is measured with its notices sent and marked, as the issue's targets count it.
        let outbox = outboxService ? bot.app.services().first { $0 is OutboxService } : nil
        let group = outbox.map { ServiceGroup(services: [$0], logger: bot.app.engine.logger) }
        let sender = group.map { group in Task { try await group.run() } }
        let failures = try await bot.ingest(slice)
        if let group, let sender {
            while try await bot.store.writer.read({ db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") ?? 0 }) > 0 {
                try await Task.sleep(for: .milliseconds(50))
            }
            await group.triggerGracefulShutdown()
            bot.app.outboxBell.ring()
            try await sender.value
        }
        let cpu = processCPUSeconds() - cpu0
        let wall = Date().timeIntervalSince(wall0)
        // Never torn down before the process exits: tearing down the org (tens of millions of instructions)
        // fell inside one of the two callgrind runs and not the other, ±60k per message of noise.
        keptUntilExit.append(bot)
        guard failures == 0 else { throw BenchError("\(failures) of \(count) \(kind) messages were refused or not stored") }
        return (cpu, wall)
    }

    static func valgrind() -> String? {
        let folders = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":")
        return folders.map { "\($0)/valgrind" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// A copy of this executable without DWARF for callgrind: valgrind 3.x gives up on the debug info
    /// of a Swift release build ("possibly corrupted debuginfo"). Symbols stay, so profiles keep names.
    static func executableForValgrind(folder: URL) -> String {
        let own = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().path
        let copy = folder.appendingPathComponent("leagueops-bench-nodebug").path
        guard (try? FileManager.default.copyItem(atPath: own, toPath: copy)) != nil else { return own }
        let stripped = try? runProcess("/usr/bin/env", ["strip", "--strip-debug", copy], timeout: 300)
        return stripped?.status == 0 ? copy : own
    }

    /// Total instructions of one child run under callgrind (`Collected :` line).
    static func instructions(
        valgrind: String, executable: String, configPath: String, base: String, folder: URL, kind: String, count: Int,
        generate: Int, synchronous: String, scale: Int, outbox: Bool, keep: String?
    ) throws -> Double {
        let copy = folder.appendingPathComponent("child-\(kind)-\(count).sqlite").path
        try? FileManager.default.removeItem(atPath: copy)
        try FileManager.default.copyItem(atPath: base, toPath: copy)
        defer {
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + suffix) }
        }
        let out = keep.map { "\($0)/callgrind.\(kind).\(count).out" } ?? folder.appendingPathComponent("callgrind.\(kind).\(count).out").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: valgrind)
        process.arguments = [
            "--tool=callgrind", "--callgrind-out-file=\(out)", executable, "inprocess-child",
            "--config", configPath, "--db", copy, "--kind", kind, "--count", String(count),
            "--generate", String(generate), "--synchronous", synchronous, "--scale", String(scale),
            "--outbox", outbox ? "on" : "off",
        ]
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_DETERMINISTIC_HASHING"] = "1"
        process.environment = environment
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        if keep == nil { try? FileManager.default.removeItem(atPath: out) }
        guard process.terminationStatus == 0,
            let line = stderr.split(separator: "\n").last(where: { $0.contains("Collected :") }),
            let value = Double(line.split(separator: ":").last?.trimmingCharacters(in: .whitespaces) ?? "")
        else {
            throw BenchError("callgrind run of \(kind) × \(count) failed (exit \(process.terminationStatus)):\n\(stderr.suffix(2000))")
        }
        return value
    }

    /// `leagueops-bench inprocess …`
    static func main(_ arguments: [String]) async throws {
        let options = try InProcessOptions(arguments)
        let org = InProcessOrg(scale: options.scale)
        let workspace = try BenchWorkspace(
            repository: options.repository, outboundPort: 9, synchronous: options.synchronous, scale: options.scale)
        defer { workspace.remove() }
        let base: String
        if let given = options.base, FileManager.default.fileExists(atPath: given) {
            base = given
            emit("inprocess    base store \(given) (reused)")
        } else {
            base = options.base ?? workspace.folder.appendingPathComponent("base.sqlite").path
            let started = Date()
            // Prepared under another name and renamed when complete: a failed run leaves no half store to reuse.
            let partial = base + ".partial"
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
            try await prepareBase(options, workspace: workspace, org: org, path: partial)
            try FileManager.default.moveItem(atPath: partial, toPath: base)
            for suffix in ["-wal", "-shm"] { try? FileManager.default.removeItem(atPath: partial + suffix) }
            emit(
                "inprocess    base store prepared in \(format(Date().timeIntervalSince(started), 1)) s: \(options.prestore) messages prestored, "
                    + "\(dispatchesForAcks(max(options.count, 2 * options.instructionCount), grids: org.grids)) × /任务 @全体网格")
        }
        let stored = try readDatabase(base) { db in
            try ["inbound", "outbox", "events"].map { try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM \($0)") ?? 0 }
        }
        let valgrind = options.instructions ? valgrind() : nil
        emit(
            "inprocess    org ×\(options.scale) (\(org.grids) grids)  store: \(stored[0]) inbound, \(stored[1]) outbox, \(stored[2]) events  sync=\(options.synchronous)"
                + "  outbox service \(options.outbox ? "on (null transport)" : "off")  instructions: \(valgrind == nil ? (options.instructions ? "valgrind not installed" : "off") : "callgrind, (I(2N) − I(N)) / N with N = \(options.instructionCount)")"
        )
        if let profile = options.profile { try FileManager.default.createDirectory(atPath: profile, withIntermediateDirectories: true) }
        let executable = valgrind == nil ? "" : executableForValgrind(folder: workspace.folder)
        for kind in options.kinds {
            let copy = workspace.folder.appendingPathComponent("run-\(kind).sqlite").path
            try FileManager.default.copyItem(atPath: base, toPath: copy)
            let (cpu, wall) = try await runKind(
                configPath: workspace.configPath, path: copy, synchronous: options.synchronous, org: org,
                kind: kind, count: options.count, generate: options.count, outboxService: options.outbox)
            for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: copy + suffix) }
            var line =
                "inprocess    \(kind.padding(toLength: 7, withPad: " ", startingAt: 0)) \(options.count) msgs  CPU \(format(cpu / Double(options.count) * 1e6, 0)) µs/msg"
                + "  (wall \(format(wall / Double(options.count) * 1e6, 0)) µs/msg)"
            if let valgrind {
                let n = options.instructionCount
                let runs = try [n, 2 * n].map { count in
                    try instructions(
                        valgrind: valgrind, executable: executable, configPath: workspace.configPath, base: base, folder: workspace.folder, kind: kind,
                        count: count, generate: 2 * n, synchronous: options.synchronous, scale: options.scale, outbox: options.outbox, keep: options.profile)
                }
                line += "  instructions \(format((runs[1] - runs[0]) / Double(n) / 1000, 0))k/msg"
            }
            emit(line)
        }
    }

    /// `leagueops-bench inprocess-child …`: one kind over one store copy (run by `main` under callgrind).
    static func child(_ arguments: [String]) async throws {
        var values: [String: String] = [:]
        try parseArguments(arguments) { key, value in
            guard key.hasPrefix("--") else { throw BenchError("inprocess-child: bad argument \(key)") }
            values[String(key.dropFirst(2))] = try value()
        }
        guard let config = values["config"], let db = values["db"], let kind = values["kind"], let count = values["count"].flatMap({ Int($0) }) else {
            throw BenchError("inprocess-child needs --config --db --kind --count")
        }
        let org = InProcessOrg(scale: Int(values["scale"] ?? "1") ?? 1)
        let (cpu, _) = try await runKind(
            configPath: config, path: db, synchronous: values["synchronous"] ?? "full", org: org, kind: kind,
            count: count, generate: Int(values["generate"] ?? "") ?? count,
            outboxService: values["outbox"] != "off")
        print("cpu \(cpu)")
    }
}
