import Foundation
import Hummingbird
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import Logging
import NIOCore
import ServiceLifecycle

/// The assembled bot: engine, ingestor, services and routes. `leagueops serve`, `leagueops chat`
/// and the tests all build it here; everything is injected, nothing is global.
public final class LeagueApp: Sendable {
    public let engine: Engine
    public let ingestor: Ingestor
    public let auditor: Auditor
    /// Rung to look for committed, unprocessed inbound messages.
    public let inboxBell = Doorbell()
    /// Rung when timers may be due (new timers, a moved clock).
    public let timerBell = Doorbell()
    /// Rung when outbound messages are waiting.
    public let outboxBell = Doorbell()
    /// Rung after every commit; the dashboard's live views wait on it (`Doorbell.wait(after:seconds:)`).
    public let liveBell = Doorbell()
    /// Longest a live view waits without a commit before it reads the store anyway.
    let liveFallback: Double
    /// The dashboard's month figures, kept between page views.
    public let dashboardFigures = DashboardFigures()
    public let transport: any HTTPTransport
    /// State of the platform connections (stream / long-connection modes), shown in /healthz.
    public let connectionRegistry: ConnectionRegistry
    /// The inbound path of pushed messages: the same `Ingestor` as webhooks, ACK only after commit.
    public let pushIngest: PushIngest
    /// Builds the connection supervisors for the configured modes (see Connections/StreamDriver.swift).
    let connectionDrivers: [any StreamDriver]
    /// Adapters by webhook path (`wecom-app` → the WeCom adapter).
    let webhookAdapters: [String: any PlatformAdapter]
    let maxSleep: Double
    /// Platform apps that post for bindings naming only the chat (Feishu app, WeCom AI bot), by platform.
    let appSenders: [String: any AppSender]
    /// Why webhooks were refused, for the operator: escaped and rate-limited.
    let rejectionLog = RejectionLog()
    /// Seconds between store maintenance rounds (retention, WAL checkpoint).
    let maintenanceInterval: Double

    /// - Parameters:
    ///   - maxSleep: longest (real time) a service sleeps before looking again; a timed wait also ends when the clock reaches its deadline.
    ///   - answerWithin: longest a webhook waits for its commit before it is answered 503 (platforms retry after 5 s).
    ///   - liveFallback: longest a dashboard live view waits for a commit before it reads the store anyway.
    ///   - seams: the engine's cross-feature seams (a test replaces one to see what crosses it).
    public init(
        config: BotConfig, store: any Store, clock: any WallClock = SystemClock(), transport: any HTTPTransport,
        logger: Logger, maxSleep: Double = 1.0, answerWithin: Double = 4, maintenanceInterval: Double = 600,
        ingestQueue: (count: Int, bytes: Int) = (20_000, 32 << 20), liveFallback: Double = 5,
        seams: Seams = .live
    ) throws(ConfigError) {
        var adapters: [String: any PlatformAdapter] = [:]
        var problems: [ConfigProblem] = []
        for (name, settings) in config.platforms {
            do {
                adapters[name] = try PlatformFactory.make(name: name, settings: settings)
            } catch {
                problems.append(ConfigProblem(file: config.file, line: nil, message: error.description))
            }
        }
        guard problems.isEmpty else { throw ConfigError(problems) }
        self.webhookAdapters = Dictionary(adapters.values.flatMap { adapter in adapter.webhookPaths.map { ($0, adapter) } }) { $1 }
        self.engine = Engine(config: config, store: store, clock: clock, adapters: adapters, logger: logger, seams: seams)
        // The features' own contracts (timer kinds, duplicate registrations): a fault of this build.
        let contract = engine.registrationProblems
        guard contract.isEmpty else {
            throw ConfigError(contract.map { ConfigProblem(file: "LeagueServer (this build)", line: nil, message: $0) })
        }
        let unhandled = engine.commandsWithoutHandler
        guard unhandled.isEmpty else {
            let folder = config.commandsDirectory.isEmpty ? "the built-in catalogue" : config.commandsDirectory
            throw ConfigError([
                ConfigProblem(
                    file: folder, line: nil,
                    message:
                        "command(s) \(unhandled.joined(separator: ", ")) have no handler in this build; remove their files or use a catalogue made for this version")
            ])
        }
        // The outbox and timer services wake when a commit added outbox rows or timers; the dashboard's
        // live views on every commit of a message.
        let (outboxBell, timerBell) = (outboxBell, timerBell)
        store.onCommit(outbox: { outboxBell.ring() }, timers: { timerBell.ring() })
        self.ingestor = Ingestor(
            engine: engine, committed: [liveBell], answerWithin: answerWithin,
            maxQueued: ingestQueue.count, maxQueuedBytes: ingestQueue.bytes)
        self.auditor = Auditor(engine: engine, tolerance: 30)
        // The DingTalk app robot's sends carry a token placeholder; this transport fills in the cached token.
        if let app = (adapters["dingtalk"] as? DingTalkAdapter)?.app {
            self.transport = DingTalkAppTokenTransport(base: transport, app: app, clock: clock)
        } else {
            self.transport = transport
        }
        self.maxSleep = maxSleep
        self.liveFallback = liveFallback
        self.connectionRegistry = ConnectionRegistry(clock: clock)
        self.pushIngest = PushIngest(ingestor: ingestor, engine: engine)
        self.connectionDrivers = try ConnectionFactory.drivers(
            config: config, transport: transport, push: pushIngest,
            adapters: adapters, logger: logger)
        self.appSenders = ConnectionFactory.appSenders(config: config, drivers: connectionDrivers, transport: transport, clock: clock)
        self.maintenanceInterval = maintenanceInterval
    }

    /// One supervisor per platform in stream / long-connection mode, each holding its lease in the store
    /// when the store keeps leases (SQLite does).
    public func connectionSupervisors(holder: String = ProcessInfo.processInfo.hostName) -> [ConnectionSupervisor] {
        connectionDrivers.map { driver in
            let lease = (engine.store as? any LeaseStore).map {
                ConnectionSupervisor.LeaseSettings(store: $0, name: driver.leaseName, holder: holder)
            }
            return ConnectionSupervisor(
                driver: driver, registry: connectionRegistry, clock: engine.clock,
                logger: engine.logger, lease: lease)
        }
    }

    /// The background services: inbox processing, timers, outbox, auditor.
    public func services() -> [any Service] {
        [
            InboxService(engine: engine, inbound: inboxBell, outbound: outboxBell, timers: timerBell, batch: 256),
            TimerService(engine: engine, doorbell: timerBell, outbound: outboxBell, maxSleep: maxSleep, fired: [liveBell]),
            OutboxService(
                engine: engine, transport: transport, doorbell: outboxBell, maxSleep: maxSleep, concurrency: 64,
                appSenders: appSenders),
            AuditorService(auditor: auditor, interval: 10, outbound: outboxBell),
            MaintenanceService(engine: engine, interval: maintenanceInterval),
            DashboardWarmUp(engine: engine, figures: dashboardFigures),
        ] + connectionSupervisors()
    }

    public func router() -> Router<BasicRequestContext> {
        let router = Router()
        WebhookRoutes(app: self).add(to: router)
        DashboardRoutes(app: self).add(to: router)
        MetricsRoutes(app: self, requireToken: true).add(to: router)
        return router
    }

    /// The Hummingbird application with the bot's services attached.
    public func application(onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }) -> some ApplicationProtocol {
        let config = engine.config
        return Application(
            router: router(),
            // A connection that sends nothing for `server.idle_timeout` is closed (issue 11).
            server: .http1(configuration: .init(idleTimeout: .milliseconds(Int64(config.server.idleTimeoutSeconds * 1000)))),
            configuration: .init(address: .hostname(config.server.host, port: config.server.port), serverName: "LeagueOps"),
            services: services() + MetricsRoutes.loopbackServer(self),
            onServerRunning: onServerRunning,
            logger: engine.logger
        )
    }

    /// Wakes every service (after a test moved the clock, for example).
    public func wakeAll() {
        inboxBell.ring()
        timerBell.ring()
        outboxBell.ring()
        liveBell.ring()
    }
}
