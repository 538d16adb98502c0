import Foundation
import GRDB
import LeagueCore
import Synchronization

/// The SQLite store (WAL, one writer), through GRDB.
public final class SQLiteStore: Store {
    /// The database, for the store's own extensions and for tests.
    public let writer: any DatabaseWriter
    /// Told after a commit that added outbox rows or scheduled timers (`onCommit`).
    private let commitHandlers = Mutex<(outbox: @Sendable () -> Void, timers: @Sendable () -> Void)?>(nil)

    /// Opens (and migrates) a database file.
    /// - Parameters:
    ///   - path: the SQLite file; its folder is created when missing.
    ///   - synchronous: `full` or `normal`. Both survive kill -9 of the process in WAL mode;
    ///     `full` also survives a power cut.
    public init(path: String, synchronous: String = "full") throws {
        try Self.prepareFiles(path)
        var configuration = Configuration()
        configuration.busyMode = .timeout(5)
        let mode = synchronous.lowercased() == "normal" ? "NORMAL" : "FULL"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(mode)")
            // Deleted and overwritten content is zeroed, not left in free space (issue 11).
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // After a checkpoint the write-ahead log is cut back to this size (bytes).
            try db.execute(sql: "PRAGMA journal_size_limit = \(SQLiteStore.journalSizeLimit)")
        }
        let pool = try DatabasePool(path: path, configuration: configuration)
        try Migrations.migrator().migrate(pool)
        self.writer = pool
    }

    /// Creates the folder (0700 when new) and the database file with mode 0600 before SQLite opens
    /// it, and tightens an existing file and its WAL and SHM to 0600: the store holds members'
    /// messages and data about minors (issue 11). SQLite creates the WAL and SHM with the mode of
    /// the database file.
    static func prepareFiles(_ path: String) throws {
        let manager = FileManager.default
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
        if !manager.fileExists(atPath: folder.path) {
            try manager.createDirectory(at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        if !manager.fileExists(atPath: path) {
            guard manager.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) else {
                throw StoreUnavailable("cannot create the database file \(path)")
            }
        }
        for file in [path, path + "-wal", path + "-shm"] where manager.fileExists(atPath: file) {
            try manager.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file)
        }
    }

    /// The most the write-ahead log keeps on disk after a checkpoint: 64 MiB.
    public static let journalSizeLimit = 64 << 20

    /// An in-memory database, for tests.
    public init() throws {
        let queue = try DatabaseQueue()
        try Migrations.migrator().migrate(queue)
        self.writer = queue
    }

    public func ingest(_ records: [InboundRecord], process: @Sendable (InboundRecord, any StoreTransaction) throws -> Void) async throws -> [IngestResult] {
        try await mapErrors {
            try await writer.writeWithoutTransaction { db in
                try immediateTransaction(db) { tx in
                    let statement = try db.cachedStatement(
                        sql: """
                            INSERT INTO inbound (platform, message_id, chat, sender, text, sent_at, received_at, mentions_bot)
                            VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (platform, message_id) DO NOTHING
                            """)
                    var results: [IngestResult] = []
                    results.reserveCapacity(records.count)
                    for record in records {
                        let m = record.message
                        try statement.execute(arguments: [
                            m.platform, m.messageID, m.chat, m.sender, record.storedText ?? m.text,
                            m.sentAt.timeIntervalSince1970, record.receivedAt.timeIntervalSince1970, m.mentionsBot,
                        ])
                        guard db.changesCount > 0 else {
                            results.append(.duplicate)
                            continue
                        }
                        var stored = record
                        stored.id = db.lastInsertedRowID
                        results.append(.stored(stored.id))
                        try process(stored, tx)
                    }
                    return results
                }
            }
        }
    }

    public func write<T: Sendable>(_ body: @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await mapErrors {
            try await writer.writeWithoutTransaction { db in try immediateTransaction(db, body) }
        }
    }

    public func onCommit(outbox: @escaping @Sendable () -> Void, timers: @escaping @Sendable () -> Void) {
        commitHandlers.withLock { $0 = (outbox, timers) }
    }

    /// `BEGIN IMMEDIATE` … `COMMIT` through the connection's statement cache, as GRDB's `write` does
    /// but without compiling the three statements anew for every transaction (issue 16). A body that
    /// throws, or a commit that fails, rolls the transaction back and rethrows. After the commit, the
    /// `onCommit` handlers hear of new outbox rows and timers.
    func immediateTransaction<T>(_ db: Database, _ body: (SQLiteTransaction) throws -> T) throws -> T {
        let tx = SQLiteTransaction(db, written: SQLiteTransaction.Written())
        let value = try Self.immediateTransaction(db) { try body(tx) }
        if let written = tx.written, written.outbox || written.timers, let handlers = commitHandlers.withLock({ $0 }) {
            if written.outbox { handlers.outbox() }
            if written.timers { handlers.timers() }
        }
        return value
    }

    static func immediateTransaction<T>(_ db: Database, _ body: () throws -> T) throws -> T {
        try db.cachedStatement(sql: "BEGIN IMMEDIATE TRANSACTION").execute()
        do {
            let value = try body()
            try db.cachedStatement(sql: "COMMIT TRANSACTION").execute()
            return value
        } catch {
            if db.isInsideTransaction { try? db.cachedStatement(sql: "ROLLBACK TRANSACTION").execute() }
            throw error
        }
    }

    public func read<T: Sendable>(_ body: @Sendable (any StoreReader) throws -> T) async throws -> T {
        try await snapshot { try body($0) }
    }

    public func snapshot<T: Sendable>(_ body: @Sendable (any StoreTransaction) throws -> T) async throws -> T {
        try await mapErrors {
            try await writer.read { db in try body(SQLiteTransaction(db)) }
        }
    }

    /// Disk full, database locked or busy, I/O errors: the caller answers 503 and the platform retries.
    private func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as DatabaseError {
            switch error.resultCode {
            case .SQLITE_FULL, .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY:
                throw StoreUnavailable("\(error.resultCode): \(error.message ?? "")")
            default:
                throw error
            }
        }
    }
}

/// A read or write transaction over one GRDB `Database`.
struct SQLiteTransaction: StoreTransaction {
    let db: Database
    /// What a write transaction added, for the store's `onCommit` handlers (nil in reads).
    let written: Written?

    /// Set by `enqueue` and `schedule`; read after the commit, on the writer's queue.
    final class Written {
        var outbox = false
        var timers = false
    }

    init(_ db: Database, written: Written? = nil) {
        self.db = db
        self.written = written
    }

    // MARK: Statements

    // Every statement goes through the connection's statement cache: compiling SQL anew for each
    // call was a fifth of the server's CPU under the ingest benchmark.

    func fetchAll(sql: String, arguments: StatementArguments = StatementArguments()) throws -> [Row] {
        try Row.fetchAll(db.cachedStatement(sql: sql), arguments: arguments)
    }

    func fetchOne(sql: String, arguments: StatementArguments = StatementArguments()) throws -> Row? {
        try Row.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    /// The first row decoded straight from the statement, without copying it into a `Row` first
    /// (the copy was most of a task read on the 收到 path, issue 16).
    func fetchFirst<T>(sql: String, arguments: StatementArguments, _ decode: (Row) throws -> T) throws -> T? {
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        return try cursor.next().map(decode)
    }

    /// Every row decoded straight from the statement (see `fetchFirst`).
    func fetchEach<T>(sql: String, arguments: StatementArguments, _ decode: (Row) throws -> T) throws -> [T] {
        let cursor = try Row.fetchCursor(db.cachedStatement(sql: sql), arguments: arguments)
        var values: [T] = []
        while let row = try cursor.next() { values.append(try decode(row)) }
        return values
    }

    func value<Value: DatabaseValueConvertible & StatementColumnConvertible>(
        _ type: Value.Type, sql: String, arguments: StatementArguments = StatementArguments()
    ) throws -> Value? {
        try Value.fetchOne(db.cachedStatement(sql: sql), arguments: arguments)
    }

    func execute(sql: String, arguments: StatementArguments = StatementArguments()) throws {
        try db.cachedStatement(sql: sql).execute(arguments: arguments)
    }

    // MARK: Reads

    func task(_ id: Int) throws -> WorkTask? {
        try fetchFirst(sql: "SELECT \(Self.taskColumns) FROM tasks WHERE id = ?", arguments: [id], Self.task(from:))
    }

    func targets(ofTask id: Int) throws -> [TaskTarget] {
        try fetchEach(sql: "SELECT \(Self.targetColumns) FROM task_targets WHERE task_id = ?", arguments: [id], Self.target(from:))
    }

    func escalations(ofTask id: Int) throws -> [EscalationRecord] {
        try fetchAll(sql: "SELECT * FROM escalations WHERE task_id = ? ORDER BY step", arguments: [id]).map { row in
            EscalationRecord(
                taskID: row["task_id"], step: row["step"], at: Self.date(row["at"]),
                notifiedUnitIDs: Self.list(row["notified"]), lateUnitIDs: Self.list(row["late"]))
        }
    }

    func openTasks(involving unitID: String, limit: Int) throws -> [WorkTask] {
        // Both halves through their index (tasks_open_issuer, targets_waiting): written as
        // `issuer_unit = ?1 OR id IN (…)` SQLite scanned every task ever stored (issue 16).
        try fetchAll(
            sql: """
                SELECT \(Self.taskColumns) FROM tasks WHERE status = 'open' AND id IN
                    (SELECT id FROM tasks WHERE issuer_unit = ?1 AND status = 'open'
                     UNION ALL SELECT task_id FROM task_targets WHERE unit_id = ?1 AND acknowledged_at IS NULL)
                ORDER BY id DESC LIMIT ?2
                """, arguments: [unitID, limit]
        ).map(Self.task(from:))
    }

    func oldestPendingOutbox() throws -> Date? {
        try value(Double.self, sql: "SELECT created_at FROM outbox WHERE state = 'pending' ORDER BY id LIMIT 1").map(Self.date)
    }

    func waitingTargets() throws -> [WaitingTarget] {
        try fetchAll(
            sql: """
                SELECT w.task_id, w.unit_id, k.created_at + k.target_seconds AS deadline FROM task_targets w JOIN tasks k ON k.id = w.task_id
                WHERE w.acknowledged_at IS NULL AND k.status = 'open' AND k.kind = 'dispatch'
                """
        ).map { row in WaitingTarget(taskID: row["task_id"], unitID: row["unit_id"], deadline: Self.date(row["deadline"] as Double)) }
    }

    func oldestWaitingTarget(unitID: String) throws -> TaskTarget? {
        try fetchFirst(
            sql: """
                SELECT \(Self.targetColumns) FROM task_targets JOIN tasks k ON k.id = task_id
                WHERE unit_id = ? AND acknowledged_at IS NULL AND k.status = 'open' AND k.kind = 'dispatch'
                ORDER BY task_id LIMIT 1
                """, arguments: [unitID], Self.target(from:))
    }

    func unprocessedInbound(limit: Int) throws -> [InboundRecord] {
        try fetchAll(sql: "SELECT * FROM inbound WHERE processed_at IS NULL ORDER BY id LIMIT ?", arguments: [limit]).map(Self.inbound(from:))
    }

    func dueTimers(at now: Date, limit: Int) throws -> [TimerEntry] {
        // A retried timer keeps its original due time for its handler (`first_due_at`).
        try fetchAll(
            sql: "SELECT key, COALESCE(first_due_at, due_at), kind, subject, step FROM timers WHERE fired_at IS NULL AND due_at <= ? ORDER BY due_at LIMIT ?",
            arguments: [now.timeIntervalSince1970, limit]
        ).map { row in
            TimerEntry(key: row[0], dueAt: Self.date(row[1] as Double), kind: TimerKind(rawValue: row[2]), subject: row[3], step: row[4])
        }
    }

    func nextTimerDue() throws -> Date? {
        try value(Double.self, sql: "SELECT MIN(due_at) FROM timers WHERE fired_at IS NULL").map(Self.date)
    }

    func dueOutbox(at now: Date, limit: Int) throws -> [OutboxEntry] {
        try fetchAll(
            sql: """
                SELECT \(Self.outboxColumns) FROM outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY priority, id LIMIT ?
                """, arguments: [now.timeIntervalSince1970, limit]
        ).compactMap(Self.outbox(from:))
    }

    func pendingDeliveries(robots: Set<String>) throws -> [PendingDelivery] {
        // One cached statement per robot rather than an IN list of varying length; no payload decoding.
        var rows: [(id: Int64, delivery: PendingDelivery)] = []
        for robot in robots.sorted() {
            rows += try fetchEach(
                sql: """
                    SELECT id, key, platform, chat, priority, text_bytes, next_attempt_at, last_error FROM outbox
                    WHERE state = 'pending' AND robot_id = ?
                    """, arguments: [robot]
            ) { row in
                let delivery = PendingDelivery(
                    key: row[1], platform: row[2], chat: row[3], robotID: robot, priority: Priority(rawValue: row[4]) ?? .routine,
                    bytes: row[5], nextAttemptAt: Self.date(row[6] as Double), lastError: row[7])
                return (row[0], delivery)
            }
        }
        return rows.sorted { $0.id < $1.id }.map(\.delivery)
    }

    func nextOutboxDue() throws -> Date? {
        try value(Double.self, sql: "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending'").map(Self.date)
    }

    func outbox(key: String) throws -> OutboxEntry? {
        try fetchOne(sql: "SELECT \(Self.outboxColumns) FROM outbox WHERE key = ?", arguments: [key]).flatMap(Self.outbox(from:))
    }

    func events(from: Date, to: Date) throws -> [EventRecord] {
        let decoder = JSONDecoder()
        return try fetchAll(
            sql: "SELECT * FROM events WHERE at >= ? AND at < ? ORDER BY id",
            arguments: [from.timeIntervalSince1970, to.timeIntervalSince1970]
        ).map { Self.event(from: $0, decoder) }
    }

    /// The position is an event id: the last one returned, or, once the range is read to its end,
    /// the highest id at the time of the read (this is a snapshot: every event committed later gets a
    /// higher id). The first read finds the range's first id through the `at` index; every read then
    /// walks ids upwards (`+at` keeps SQLite off the `at` index, which would visit the whole range).
    func events(from: Date, to: Date, after position: Int64, limit: Int) throws -> (events: [EventRecord], position: Int64) {
        let top = try value(Int64.self, sql: "SELECT MAX(id) FROM events") ?? 0
        var start = position
        if start <= 0 {
            guard let first = try value(Int64.self, sql: "SELECT MIN(id) FROM events WHERE at >= ? AND at < ?", arguments: [from.timeIntervalSince1970, to.timeIntervalSince1970]) else {
                return ([], top)
            }
            start = first - 1
        }
        guard top > start else { return ([], start) }
        let rows = try fetchAll(
            sql: "SELECT * FROM events WHERE id > ? AND +at >= ? AND +at < ? ORDER BY id LIMIT ?",
            arguments: [start, from.timeIntervalSince1970, to.timeIntervalSince1970, max(limit, 1)])
        let decoder = JSONDecoder()
        var last = start
        let events = rows.map { row in
            last = row["id"]
            return Self.event(from: row, decoder)
        }
        return (events, rows.count < max(limit, 1) ? top : last)
    }

    func health(at now: Date, tolerance: Double) throws -> StoreHealth {
        let limit = now.timeIntervalSince1970 - tolerance
        var health = StoreHealth()
        health.unprocessedInbound = try value(Int.self, sql: "SELECT COUNT(*) FROM inbound WHERE processed_at IS NULL") ?? 0
        health.pendingOutbox = try value(Int.self, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending'") ?? 0
        health.deadOutbox = try value(Int.self, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'dead'") ?? 0
        health.overdueTimers = try value(Int.self, sql: "SELECT COUNT(*) FROM timers WHERE fired_at IS NULL AND due_at < ?", arguments: [limit]) ?? 0
        health.overdueOutbox = try value(Int.self, sql: "SELECT COUNT(*) FROM outbox WHERE state = 'pending' AND next_attempt_at < ?", arguments: [limit]) ?? 0
        let oldestTimer = try value(Double.self, sql: "SELECT MIN(due_at) FROM timers WHERE fired_at IS NULL AND due_at < ?", arguments: [limit])
        let oldestOutbox = try value(Double.self, sql: "SELECT MIN(next_attempt_at) FROM outbox WHERE state = 'pending' AND next_attempt_at < ?", arguments: [limit])
        if let oldest = [oldestTimer, oldestOutbox].compactMap({ $0 }).min() {
            health.oldestOverdueSeconds = now.timeIntervalSince1970 - oldest
        }
        health.retryingTimers = try value(Int.self, sql: "SELECT COUNT(*) FROM timers WHERE fired_at IS NULL AND attempts > 0") ?? 0
        health.deadTimers = try value(Int.self, sql: "SELECT COUNT(*) FROM timers WHERE dead_reason IS NOT NULL") ?? 0
        return health
    }

    // MARK: Writes

    /// A savepoint inside the open transaction, through cached statements (GRDB's `inSavepoint`
    /// compiles `SAVEPOINT` and `RELEASE` for every command). A body that throws is undone and rethrown.
    func savepoint(_ body: () throws -> Void) throws {
        guard db.isInsideTransaction else {
            try SQLiteStore.immediateTransaction(db, body)
            return
        }
        try db.cachedStatement(sql: "SAVEPOINT league").execute()
        do {
            try body()
        } catch {
            if db.isInsideTransaction {
                try? db.cachedStatement(sql: "ROLLBACK TRANSACTION TO SAVEPOINT league").execute()
                try? db.cachedStatement(sql: "RELEASE SAVEPOINT league").execute()
            }
            throw error
        }
        try db.cachedStatement(sql: "RELEASE SAVEPOINT league").execute()
    }

    func nextTaskID() throws -> Int {
        (try value(Int.self, sql: "SELECT MAX(id) FROM tasks") ?? 0) + 1
    }

    func insert(_ task: WorkTask) throws {
        try execute(
            sql: """
                INSERT INTO tasks (id, kind, urgent, text, issuer_id, issuer_name, issuer_unit, created_at, target_seconds, status)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                task.id, task.kind.rawValue, task.urgent, task.text, task.issuerID, task.issuerName, task.issuerUnitID,
                task.createdAt.timeIntervalSince1970, task.targetSeconds, task.status.rawValue,
            ])
        if task.status != .open || task.claimedBy != nil { try update(task) }
    }

    func update(_ task: WorkTask) throws {
        try execute(
            sql: """
                UPDATE tasks SET status = ?, closed_at = ?, closed_by = ?, close_note = ?, claimed_by = ?, claimed_unit = ?, claimed_at = ?
                WHERE id = ?
                """,
            arguments: [
                task.status.rawValue, task.closedAt?.timeIntervalSince1970, task.closedBy, task.closeNote,
                task.claimedBy, task.claimedUnitID, task.claimedAt?.timeIntervalSince1970, task.id,
            ])
    }

    func insert(_ targets: [TaskTarget]) throws {
        let statement = try db.cachedStatement(sql: "INSERT INTO task_targets (task_id, unit_id, acknowledged_at, acknowledged_by, told) VALUES (?, ?, ?, ?, ?)")
        for target in targets {
            try statement.execute(arguments: [
                target.taskID, target.unitID, target.acknowledgedAt?.timeIntervalSince1970,
                target.acknowledgedBy, target.toldUnitIDs.joined(separator: ","),
            ])
        }
    }

    func update(_ target: TaskTarget) throws {
        try execute(
            sql: "UPDATE task_targets SET acknowledged_at = ?, acknowledged_by = ?, told = ? WHERE task_id = ? AND unit_id = ?",
            arguments: [
                target.acknowledgedAt?.timeIntervalSince1970, target.acknowledgedBy,
                target.toldUnitIDs.joined(separator: ","), target.taskID, target.unitID,
            ])
    }

    func insert(_ record: EscalationRecord) throws {
        try execute(
            sql: "INSERT OR IGNORE INTO escalations (task_id, step, at, notified, late) VALUES (?, ?, ?, ?, ?)",
            arguments: [
                record.taskID, record.step, record.at.timeIntervalSince1970,
                record.notifiedUnitIDs.joined(separator: ","), record.lateUnitIDs.joined(separator: ","),
            ])
    }

    func enqueue(_ message: OutboundMessage, at now: Date) throws {
        written?.outbox = true
        let payload = try OutboxPayload.encode(message)
        try execute(
            sql: """
                INSERT INTO outbox (key, unit_id, platform, chat, robot_id, priority, payload, text_bytes, state, next_attempt_at, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?) ON CONFLICT (key) DO NOTHING
                """,
            arguments: [
                message.key, message.unitID, message.group.platform, message.group.chat, message.group.robotID,
                message.priority.rawValue, payload, message.text.utf8.count, now.timeIntervalSince1970, now.timeIntervalSince1970,
            ])
    }

    func schedule(_ timer: TimerEntry) throws {
        written?.timers = true
        try execute(
            sql: "INSERT INTO timers (key, due_at, kind, subject, step) VALUES (?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
            arguments: [timer.key, timer.dueAt.timeIntervalSince1970, timer.kind.rawValue, timer.subject, timer.step])
    }

    func markFired(_ key: String, at now: Date) throws -> Bool {
        try execute(sql: "UPDATE timers SET fired_at = ? WHERE key = ? AND fired_at IS NULL", arguments: [now.timeIntervalSince1970, key])
        return db.changesCount > 0
    }

    func blankInboundText(_ inboundID: Int64) throws {
        try execute(sql: "UPDATE inbound SET text = '' WHERE id = ?", arguments: [inboundID])
    }

    func countPrivacyRefusals(memberID: String, since: Date) throws -> Int {
        // The kind is written out so that the partial index events_privacy_refused (v7) serves it.
        try value(
            Int.self, sql: "SELECT COUNT(*) FROM events WHERE kind = 'privacy.refused' AND member_id = ? AND at >= ?",
            arguments: [memberID, since.timeIntervalSince1970]) ?? 0
    }

    func markProcessed(_ inboundID: Int64, at now: Date) throws {
        try execute(sql: "UPDATE inbound SET processed_at = ? WHERE id = ?", arguments: [now.timeIntervalSince1970, inboundID])
    }

    func markProcessedOnce(_ inboundID: Int64, at now: Date) throws -> Bool {
        try execute(sql: "UPDATE inbound SET processed_at = ? WHERE id = ? AND processed_at IS NULL", arguments: [now.timeIntervalSince1970, inboundID])
        return db.changesCount > 0
    }

    func retryTimer(_ key: String, error: String, next: (_ attempts: Int) -> Date) throws -> Int {
        let attempts = (try value(Int.self, sql: "SELECT attempts FROM timers WHERE key = ?", arguments: [key]) ?? 0) + 1
        try execute(
            sql: """
                UPDATE timers SET first_due_at = COALESCE(first_due_at, due_at), due_at = ?, attempts = ?, last_error = ?
                WHERE key = ? AND fired_at IS NULL
                """, arguments: [next(attempts).timeIntervalSince1970, attempts, String(error.prefix(500)), key])
        return attempts
    }

    func markTimerDead(_ key: String, reason: String, at now: Date) throws {
        try execute(
            sql: "UPDATE timers SET fired_at = ?, dead_reason = ? WHERE key = ? AND fired_at IS NULL",
            arguments: [now.timeIntervalSince1970, String(reason.prefix(500)), key])
    }

    func append(_ event: EventRecord) throws {
        let data = Self.jsonObject(event.data)
        try execute(
            sql: "INSERT INTO events (at, kind, task_id, unit_id, member_id, data) VALUES (?, ?, ?, ?, ?, ?)",
            arguments: [event.at.timeIntervalSince1970, event.kind.rawValue, event.taskID, event.unitID, event.memberID, data])
    }

    func markSent(_ outboxID: Int64, at now: Date) throws {
        try execute(
            sql: "UPDATE outbox SET state = 'sent', sent_at = ?, attempts = attempts + 1 WHERE id = ? AND state = 'pending'",
            arguments: [now.timeIntervalSince1970, outboxID])
    }

    func markRetry(_ outboxID: Int64, attempts: Int, next: Date, error: String) throws {
        try execute(
            sql: "UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ? AND state = 'pending'",
            arguments: [attempts, next.timeIntervalSince1970, error, outboxID])
    }

    func postpone(_ outboxIDs: [Int64], until: Date) throws {
        let statement = try db.cachedStatement(sql: "UPDATE outbox SET next_attempt_at = ? WHERE id = ? AND state = 'pending'")
        for id in outboxIDs { try statement.execute(arguments: [until.timeIntervalSince1970, id]) }
    }

    func markDead(_ outboxID: Int64, attempts: Int, error: String, at now: Date) throws {
        try execute(
            sql: "UPDATE outbox SET state = 'dead', attempts = ?, last_error = ?, sent_at = ? WHERE id = ?",
            arguments: [attempts, error, now.timeIntervalSince1970, outboxID])
    }

    // MARK: Row mapping

    static func date(_ seconds: Double) -> Date { Date(timeIntervalSince1970: seconds) }
    static func date(_ seconds: Double?) -> Date? { seconds.map(date) }

    /// A flat string-to-string JSON object with sorted keys; written with `OutJSON` because an event
    /// is appended for every acknowledgement and JSONEncoder was 3 % of the CPU.
    static func jsonObject(_ data: [String: String]) -> String {
        OutJSON.object(data.keys.sorted().map { ($0, .string(data[$0]!)) }).text
    }

    static func list(_ text: String) -> [String] {
        text.isEmpty ? [] : text.split(separator: ",").map(String.init)
    }

    // Tasks and targets are read on every acknowledgement: by column position, from these lists
    // (a lookup by name is a case-insensitive search through the row's columns).

    static let taskColumns = """
        id, kind, urgent, text, issuer_id, issuer_name, issuer_unit, created_at, target_seconds, status,
        closed_at, closed_by, close_note, claimed_by, claimed_unit, claimed_at
        """

    static func task(from row: Row) -> WorkTask {
        var task = WorkTask(
            id: row[0], kind: TaskKind(rawValue: row[1]) ?? .dispatch, urgent: row[2], text: row[3],
            issuerID: row[4], issuerName: row[5], issuerUnitID: row[6], createdAt: date(row[7] as Double), targetSeconds: row[8]
        )
        task.status = TaskStatus(rawValue: row[9]) ?? .open
        task.closedAt = date(row[10] as Double?)
        task.closedBy = row[11]
        task.closeNote = row[12]
        task.claimedBy = row[13]
        task.claimedUnitID = row[14]
        task.claimedAt = date(row[15] as Double?)
        return task
    }

    static let targetColumns = "task_id, unit_id, acknowledged_at, acknowledged_by, told"

    static func target(from row: Row) -> TaskTarget {
        TaskTarget(taskID: row[0], unitID: row[1], acknowledgedAt: date(row[2] as Double?), acknowledgedBy: row[3], toldUnitIDs: list(row[4]))
    }

    static func outbox(from row: Row) -> OutboxEntry? {
        try? decodeOutbox(row).get()
    }

    /// Outbox rows are read by position, from this list (by name, GRDB looks each column up
    /// case-insensitively: a lowercased string per column).
    static let outboxColumns = "id, key, state, attempts, next_attempt_at, created_at, last_error, payload"

    /// An outbox row of `outboxColumns`, or why its payload does not decode (a later version, or garbage).
    static func decodeOutbox(_ row: Row) -> Result<OutboxEntry, UndecodableOutbox> {
        let payload: Data = row[7] ?? Data()
        guard let message = OutboxPayload.decode(payload) else {
            return .failure(
                UndecodableOutbox(
                    id: row[0], key: row[1],
                    reason: "undecodable payload (version \(OutboxPayload.version(of: payload).map(String.init) ?? "unknown"); this build reads 1 and \(OutboxPayload.currentVersion))"))
        }
        return .success(
            OutboxEntry(
                id: row[0], message: message, state: OutboxEntry.State(rawValue: row[2]) ?? .pending,
                attempts: row[3], nextAttemptAt: date(row[4] as Double), createdAt: date(row[5] as Double), lastError: row[6]))
    }

    static func inbound(from row: Row) -> InboundRecord {
        InboundRecord(
            id: row["id"],
            message: ChatMessage(
                platform: row["platform"], chat: row["chat"], sender: row["sender"], text: row["text"],
                messageID: row["message_id"], sentAt: date(row["sent_at"] as Double), mentionsBot: row["mentions_bot"]),
            receivedAt: date(row["received_at"] as Double)
        )
    }

    static func event(from row: Row, _ decoder: JSONDecoder) -> EventRecord {
        let data = (row["data"] as String?).flatMap { try? decoder.decode([String: String].self, from: Data($0.utf8)) } ?? [:]
        return EventRecord(
            at: date(row["at"] as Double), kind: EventKind(rawValue: row["kind"]), taskID: row["task_id"], unitID: row["unit_id"],
            memberID: row["member_id"], data: data)
    }

    static func audit(from row: Row) -> AuditEntry {
        AuditEntry(
            at: date(row["at"] as Double), actor: row["actor"], unitID: row["unit_id"], action: row["action"],
            detail: row["detail"], outcome: row["outcome"])
    }
}
