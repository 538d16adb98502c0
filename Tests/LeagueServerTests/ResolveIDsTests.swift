import Foundation
import GRDB
import Hummingbird
import LeagueConfig
import LeagueCore
import LeaguePlatforms
import LeagueServer
import LeagueStore
import LeagueTestSupport
import LeagueTransport
import NIOCore
import Testing

/// A loopback fake of the three platforms' token and user-by-mobile APIs (DingTalk oapi, WeCom
/// qyapi, Feishu open-apis), answering from a fixed directory of mobile → user id.
final class FakeUserDirectoryServer: Startable, @unchecked Sendable {
    struct Call: Sendable { var path: String; var mobiles: [String]; var token: String }
    let directory: [String: String]
    /// Every lookup is refused as a missing permission.
    let refuse: Bool
    private let lock = NSLock()
    private var recorded: [Call] = []
    private var run: ServiceRun?
    private(set) var port = 0
    static let token = "tok-123"

    init(directory: [String: String], refuse: Bool = false) {
        self.directory = directory
        self.refuse = refuse
    }

    var calls: [Call] { lock.withLock { recorded } }
    var baseURL: String { "http://127.0.0.1:\(port)" }

    private func record(_ path: String, _ mobiles: [String], _ token: String) {
        lock.withLock { recorded.append(Call(path: path, mobiles: mobiles, token: token)) }
    }

    private static func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = try! JSONSerialization.data(withJSONObject: object)
        return Response(status: status, headers: [.contentType: "application/json"], body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    private static func body(_ request: Request) async throws -> [String: Any] {
        let bytes = try await request.body.collect(upTo: 1 << 20)
        return (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any] ?? [:]
    }

    func start() async throws {
        let router = Router()
        // DingTalk
        router.get("/gettoken") { request, _ -> Response in
            let q = request.uri.queryParameters
            guard q.get("appkey") == "ding-key", q.get("appsecret") == "ding-secret" else { return Self.json(["errcode": 40089, "errmsg": "invalid appkey"]) }
            return Self.json(["errcode": 0, "errmsg": "ok", "access_token": Self.token, "expires_in": 7200])
        }
        router.post("/topapi/v2/user/getbymobile") { request, _ -> Response in
            let token = request.uri.queryParameters.get("access_token") ?? ""
            let mobile = try await Self.body(request)["mobile"] as? String ?? ""
            self.record("dingtalk", [mobile], token)
            guard token == Self.token else { return Self.json(["errcode": 40014, "errmsg": "不合法的access_token"]) }
            if self.refuse { return Self.json(["errcode": 60011, "errmsg": "没有调用该接口的权限"]) }
            guard let id = self.directory[mobile] else { return Self.json(["errcode": 60121, "errmsg": "找不到该用户"]) }
            return Self.json(["errcode": 0, "errmsg": "ok", "result": ["userid": id], "request_id": "r"])
        }
        // WeCom
        router.get("/cgi-bin/gettoken") { request, _ -> Response in
            let q = request.uri.queryParameters
            guard q.get("corpid") == "ww-corp", q.get("corpsecret") == "ww-secret" else { return Self.json(["errcode": 40001, "errmsg": "invalid credential"]) }
            return Self.json(["errcode": 0, "errmsg": "ok", "access_token": Self.token, "expires_in": 7200])
        }
        router.post("/cgi-bin/user/getuserid") { request, _ -> Response in
            let token = request.uri.queryParameters.get("access_token") ?? ""
            let mobile = try await Self.body(request)["mobile"] as? String ?? ""
            self.record("wecom", [mobile], token)
            guard token == Self.token else { return Self.json(["errcode": 40014, "errmsg": "invalid access_token"]) }
            if self.refuse { return Self.json(["errcode": 60011, "errmsg": "no privilege to access/modify contact/party/agent"]) }
            guard let id = self.directory[mobile] else { return Self.json(["errcode": 46004, "errmsg": "user no exist"]) }
            return Self.json(["errcode": 0, "errmsg": "ok", "userid": id])
        }
        // Feishu
        router.post("/open-apis/auth/v3/tenant_access_token/internal") { request, _ -> Response in
            let body = try await Self.body(request)
            guard body["app_id"] as? String == "cli_app", body["app_secret"] as? String == "fs-secret" else {
                return Self.json(["code": 10014, "msg": "app secret invalid"])
            }
            return Self.json(["code": 0, "msg": "ok", "tenant_access_token": Self.token, "expire": 7200])
        }
        router.post("/open-apis/contact/v3/users/batch_get_id") { request, _ -> Response in
            let token = request.headers[.authorization] ?? ""
            let mobiles = try await Self.body(request)["mobiles"] as? [String] ?? []
            self.record("feishu", mobiles, String(token.dropFirst("Bearer ".count)))
            guard token == "Bearer \(Self.token)", request.uri.queryParameters.get("user_id_type") == "open_id" else {
                return Self.json(["code": 99991663, "msg": "invalid tenant access token"], status: .badRequest)
            }
            if self.refuse { return Self.json(["code": 41050, "msg": "no user authority error"], status: .badRequest) }
            guard mobiles.count <= 50 else { return Self.json(["code": 99992402, "msg": "field validation failed"], status: .badRequest) }
            let list: [[String: Any]] = mobiles.map { mobile in
                var entry: [String: Any] = ["mobile": mobile]
                if let id = self.directory[mobile] { entry["user_id"] = id; entry["status"] = ["is_frozen": false, "is_resigned": false] }
                return entry
            }
            return Self.json(["code": 0, "msg": "success", "data": ["user_list": list]])
        }
        (port, run) = try await startLoopback { running in
            Application(
                router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)), onServerRunning: running,
                logger: quietLogger("fake-user-directory"))
        }
    }

    func stop() async { await run?.stop() }
}

@Suite(.serialized) struct ResolveIDsTests {
    /// A grid whose cadre is in the platform's directory, a member who is not, one linked already in
    /// org.yaml, one without a mobile; and 60 more people so Feishu needs two batches.
    static func org(platform: String) -> OrgTree {
        var gridMembers = [
            Member(id: "m-found", name: "甲", roles: [.cadre], ids: [:], mobile: "13800000001", unitID: "g1"),
            Member(id: "m-missing", name: "乙", roles: [], ids: [:], mobile: "13800000002", unitID: "g1"),
            Member(id: "m-linked", name: "丙", roles: [], ids: [platform: "already-1"], mobile: "13800000003", unitID: "g1"),
            Member(id: "m-nomobile", name: "丁", roles: [], ids: [:], unitID: "g1"),
        ]
        for i in 0..<60 {
            gridMembers.append(Member(id: "m-extra\(i)", name: "人员\(i)", roles: [], ids: [:], mobile: "1370000\(String(format: "%04d", i))", unitID: "g1"))
        }
        return OrgTree(units: [
            OrgUnit(
                id: "d", name: "测试区", tier: "district", parentID: nil, group: GroupBinding(platform: "generic", chat: "chat-d"),
                members: [Member(id: "m-d", name: "区书记", roles: [.admin], ids: ["generic": "u-d"], unitID: "d")]),
            OrgUnit(id: "g1", name: "第1网格", tier: "grid", parentID: "d", group: nil, members: gridMembers),
        ])
    }

    static let settings: [String: [String: String]] = [
        "dingtalk": ["client_id": "ding-key", "client_secret": "ding-secret"],
        "wecom": ["corp_id": "ww-corp", "corp_secret": "ww-secret", "token": "t", "aes_key": String(repeating: "A", count: 43)],
        "feishu": ["app_id": "cli_app", "app_secret": "fs-secret"],
    ]

    static func store() throws -> SQLiteStore {
        try SQLiteStore(path: FileManager.default.temporaryDirectory.appendingPathComponent("resolve-\(UUID().uuidString).sqlite").path)
    }

    @Test(arguments: ["dingtalk", "wecom", "feishu"])
    func membersUserIDsAreLookedUpByMobileAndOnlyTheIDsStored(platform: String) async throws {
        var directoryEntries = ["13800000001": "\(platform)-user-1", "13800000003": "someone-else"]
        for i in 0..<60 where i % 2 == 0 { directoryEntries["1370000\(String(format: "%04d", i))"] = "\(platform)-extra-\(i)" }
        try await withStarted(FakeUserDirectoryServer(directory: directoryEntries)) { server in
            var settings = try #require(Self.settings[platform])
            settings["base_url"] = server.baseURL
            let directory = try UserDirectory.make(platform: platform, settings: settings)
            let org = Self.org(platform: platform)
            let store = try Self.store()

            let report = try await Onboarding.resolveMemberIDs(
                units: nil, org: org, store: store, directory: directory,
                transport: AsyncHTTPClientTransport(), now: Date(), pause: 0)
            #expect(report.stopped == nil)
            #expect(report.resolved.count == 31 && report.resolved.contains { $0.member.id == "m-found" && $0.userID == "\(platform)-user-1" })
            #expect(report.notFound.map(\.id).contains("m-missing") && report.notFound.count == 31)
            #expect(report.alreadyLinked == 1 && report.withoutMobile == 2, "m-d has no mobile either")
            #expect(report.failed.isEmpty && report.conflicts.isEmpty)
            // Feishu asks 50 at a time; the others one by one. The linked member is never asked.
            let calls = server.calls
            #expect(calls.allSatisfy { $0.token == FakeUserDirectoryServer.token })
            #expect(calls.count == (platform == "feishu" ? 2 : 62) && calls.map(\.mobiles.count).reduce(0, +) == 62)
            #expect(!calls.contains { $0.mobiles.contains("13800000003") })

            // Stored: the ids as registrations, which the engine's org sees; no mobile anywhere.
            let learned = try await store.write { try $0.learnedBindings() }
            #expect(learned.members.count == 31)
            let effective = OrgOverlay.apply(learned, to: org).tree
            #expect(effective.member(platform: platform, userID: "\(platform)-user-1")?.id == "m-found")
            let rows = try await store.writer.read { db in
                try String.fetchAll(db, sql: "SELECT platform || ' ' || user_id || ' ' || member_id FROM onboard_members")
                    + String.fetchAll(db, sql: "SELECT actor || ' ' || action || ' ' || detail FROM audit")
            }
            #expect(rows.contains("operator onboard.resolve-id m-found (138****0001) via \(platform)"))
            #expect(rows.contains { $0.hasPrefix("operator onboard.resolve-ids \(platform): 31 linked, 31 not found") })
            #expect(!rows.contains { $0.contains("13800000001") || $0.contains("1370000") }, "no mobile is stored")
            // What is printed masks the mobiles too.
            let lines = report.lines()
            #expect(lines.contains { $0.hasPrefix("not found") && $0.contains("m-missing") && $0.contains("138****0002") })
            #expect(!lines.joined().contains("13800000002"))

            // A second run asks only about those still without an id, and links nobody twice.
            let again = try await Onboarding.resolveMemberIDs(
                units: ["g1"], org: org, store: store, directory: directory,
                transport: AsyncHTTPClientTransport(), now: Date(), pause: 0)
            #expect(again.resolved.isEmpty && again.alreadyLinked == 32 && again.notFound.count == 31)
        }
    }

    @Test func anAccountLinkedToAnotherMemberIsAConflictNotStored() async throws {
        // The directory gives m-found's mobile the account org.yaml has for m-linked.
        try await withStarted(FakeUserDirectoryServer(directory: ["13800000001": "already-1"])) { server in
            let directory = UserDirectory(kind: .dingtalk, baseURL: server.baseURL, appID: "ding-key", secret: "ding-secret")
            let store = try Self.store()
            let report = try await Onboarding.resolveMemberIDs(
                units: nil, org: Self.org(platform: "dingtalk"), store: store, directory: directory,
                transport: AsyncHTTPClientTransport(), now: Date(), pause: 0)
            #expect(report.resolved.isEmpty)
            #expect(report.conflicts.map(\.member.id) == ["m-found"] && report.conflicts[0].why.contains("m-linked"))
            #expect(try await store.rowCount("onboard_members") == 0)
        }
    }

    @Test func wrongCredentialsOrAMissingPermissionStoreNothing() async throws {
        try await withStarted(FakeUserDirectoryServer(directory: ["13800000001": "x"], refuse: true)) { server in
            let store = try Self.store()
            let org = Self.org(platform: "wecom")
            // Wrong secret: no token, nothing asked, nothing stored.
            let wrong = UserDirectory(kind: .wecom, baseURL: server.baseURL, appID: "ww-corp", secret: "nope")
            await #expect(throws: UserDirectory.Failure.self) {
                _ = try await Onboarding.resolveMemberIDs(units: nil, org: org, store: store, directory: wrong, transport: AsyncHTTPClientTransport(), now: Date(), pause: 0)
            }
            #expect(server.calls.isEmpty)
            // No permission: it stops after 5 refused requests in a row instead of trying all 62 numbers.
            let refused = UserDirectory(kind: .wecom, baseURL: server.baseURL, appID: "ww-corp", secret: "ww-secret")
            let report = try await Onboarding.resolveMemberIDs(
                units: nil, org: org, store: store, directory: refused,
                transport: AsyncHTTPClientTransport(), now: Date(), pause: 0)
            #expect(server.calls.count == 5)
            #expect(report.stopped?.contains("errcode 60011") == true && report.failed.count == 5 && report.notAsked.count == 57)
            #expect(try await store.rowCount("onboard_members") == 0)
        }
    }

    @Test func settingsNameWhatIsMissing() {
        #expect(throws: PlatformSettingError(platform: "wecom", key: "corp_secret", problem: "is required to look user ids up by mobile")) {
            _ = try UserDirectory.make(platform: "wecom", settings: ["corp_id": "c"])
        }
        #expect(throws: PlatformSettingError.self) { _ = try UserDirectory.make(platform: "generic", settings: [:]) }
        #expect(throws: PlatformSettingError.self) { _ = try UserDirectory.make(platform: "feishu", settings: ["app_id": "a", "app_secret": "s", "base_url": "http://example.com"]) }
        let dingtalk = try? UserDirectory.make(platform: "dingtalk", settings: ["client_id": "k", "app_secret": "s"])
        #expect(dingtalk?.baseURL == "https://oapi.dingtalk.com" && dingtalk?.secret == "s")
    }
}
