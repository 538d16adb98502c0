import Foundation
import LeagueCore
import Testing

@testable import LeaguePlatforms

/// A scripted fake of the Feishu OpenAPI: the token endpoint and im/v1/messages.
final class FakeFeishuOpenAPI: HTTPTransport, @unchecked Sendable {
    private let lock = NSLock()
    private var sendAnswers: [(Int, String)] = []
    private var tokenAnswers: [(Int, String)] = []
    private(set) var tokenRequests: [OutboundRequest] = []
    private(set) var sendRequests: [OutboundRequest] = []
    private var issued = 0

    func scriptSends(_ answers: [(Int, String)]) { lock.withLock { sendAnswers = answers } }
    func scriptTokens(_ answers: [(Int, String)]) { lock.withLock { tokenAnswers = answers } }
    var sends: [OutboundRequest] { lock.withLock { sendRequests } }
    var tokens: [OutboundRequest] { lock.withLock { tokenRequests } }

    func send(_ request: OutboundRequest, timeout: Double) async throws -> OutboundResponse {
        lock.withLock {
            if request.url.hasSuffix("/open-apis/auth/v3/tenant_access_token/internal") {
                tokenRequests.append(request)
                if !tokenAnswers.isEmpty {
                    let (status, body) = tokenAnswers.removeFirst()
                    return OutboundResponse(status: status, body: Data(body.utf8))
                }
                issued += 1
                return OutboundResponse(status: 200, body: Data(#"{"code":0,"msg":"ok","tenant_access_token":"t-\#(issued)","expire":7200}"#.utf8))
            }
            sendRequests.append(request)
            let (status, body) = sendAnswers.isEmpty ? (200, #"{"code":0,"msg":"success","data":{}}"#) : sendAnswers.removeFirst()
            return OutboundResponse(status: status, body: Data(body.utf8))
        }
    }
}

@Suite("Feishu app sending (tenant token, im/v1/messages)")
struct FeishuAppSenderTests {
    let clock = ManualClock(Date(timeIntervalSince1970: 1_780_000_000))
    let api = FakeFeishuOpenAPI()

    func sender() -> FeishuAppSender {
        FeishuAppSender(transport: api, baseURL: "http://127.0.0.1:1/", appID: "cli_a1", appSecret: "s3cret", clock: clock)
    }

    func message(_ text: String = "请回复收到", key: String = "task:T-1:grp:g1:step:dispatch", mentions: [Mention] = [], markdown: Bool = false) -> OutboundMessage {
        OutboundMessage(key: key, unitID: "g1", group: GroupBinding(platform: "feishu", chat: "oc_g1"), text: text, mentions: mentions, markdown: markdown)
    }

    func json(_ data: Data) throws -> [String: Any] { try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any]) }

    @Test("a chat-only binding goes through the app; a binding with its own hook does not")
    func handles() {
        let sender = sender()
        #expect(sender.handles(GroupBinding(platform: "feishu", chat: "oc_1")))
        #expect(!sender.handles(GroupBinding(platform: "feishu", chat: "oc_1", credentials: ["hook": "abc"])))
        #expect(!sender.handles(GroupBinding(platform: "dingtalk", chat: "cid")))
    }

    @Test("the send is im/v1/messages to the chat id with the bearer token, content as a JSON string, a stable uuid")
    func sendShape() async throws {
        let sender = sender()
        #expect(await sender.send(message(), timeout: 5) == .delivered)
        let token = try #require(api.tokens.first)
        #expect(token.url == "http://127.0.0.1:1/open-apis/auth/v3/tenant_access_token/internal")
        #expect(try json(token.body)["app_id"] as? String == "cli_a1")
        let send = try #require(api.sends.first)
        #expect(send.url == "http://127.0.0.1:1/open-apis/im/v1/messages?receive_id_type=chat_id")
        #expect(send.headers["Authorization"] == "Bearer t-1")
        let body = try json(send.body)
        #expect(body["receive_id"] as? String == "oc_g1")
        #expect(body["msg_type"] as? String == "text")
        let content = try #require(body["content"] as? String)
        #expect(try json(Data(content.utf8))["text"] as? String == "请回复收到")
        let uuid = try #require(body["uuid"] as? String)
        #expect(uuid.count <= 50)
        #expect(uuid == FeishuAppAPI.uuid(forKey: "task:T-1:grp:g1:step:dispatch"))
        #expect(uuid != FeishuAppAPI.uuid(forKey: "task:T-1:grp:g2:step:dispatch"))
    }

    @Test("@-mentions: <at user_id> in text (open_id and all), at elements in post rich text")
    func mentions() throws {
        let members = [
            Mention(memberID: "m1", name: "李闻闻", userID: "ou_li", mobile: nil),
            Mention(memberID: "m2", name: "no id", userID: nil, mobile: "138"),
            Mention(memberID: "all", name: "", userID: "@all", mobile: nil),
        ]
        let text = FeishuAppAPI.sendRequest(message(mentions: members), token: "t", baseURL: "https://open.feishu.cn")
        let content = try #require(try json(text.body)["content"] as? String)
        #expect(try json(Data(content.utf8))["text"] as? String == "请回复收到 <at user_id=\"ou_li\">李闻闻</at> <at user_id=\"all\">所有人</at>")
        let post = FeishuAppAPI.sendRequest(message("# 标题\n第一行", mentions: members, markdown: true), token: "t", baseURL: "https://open.feishu.cn")
        #expect(try json(post.body)["msg_type"] as? String == "post")
        let postContent = try #require(try json(post.body)["content"] as? String)
        #expect(postContent.contains(#""title":"标题""#))
        #expect(postContent.contains(#"{"tag":"at","user_id":"ou_li"}"#))
        #expect(postContent.contains(#"{"tag":"at","user_id":"all"}"#))
    }

    @Test("the token is cached until shortly before it expires, then fetched again")
    func tokenCache() async throws {
        let sender = sender()
        for _ in 0..<3 { #expect(await sender.send(message(), timeout: 5) == .delivered) }
        #expect(api.tokens.count == 1)
        clock.advance(by: 7200 - 299)  // inside the 300 s margin
        #expect(await sender.send(message(), timeout: 5) == .delivered)
        #expect(api.tokens.count == 2)
        #expect(api.sends.last?.headers["Authorization"] == "Bearer t-2")
    }

    @Test("a token refused as expired is fetched again and the send repeated once")
    func tokenRefresh() async throws {
        let sender = sender()
        api.scriptSends([(400, #"{"code":99991663,"msg":"Invalid access token for authorization"}"#)])
        #expect(await sender.send(message(), timeout: 5) == .delivered)
        #expect(api.tokens.count == 2)
        #expect(api.sends.map { $0.headers["Authorization"] } == ["Bearer t-1", "Bearer t-2"])
        // Refused twice in a row: retried later, not dead.
        api.scriptSends([(400, #"{"code":99991677,"msg":"token expired"}"#), (400, #"{"code":99991677,"msg":"token expired"}"#)])
        guard case .retryLater = await sender.send(message(), timeout: 5) else { Issue.record("expected retryLater"); return }
    }

    @Test("rate-limit answers, permanent errors and server errors are told apart")
    func classification() async throws {
        let sender = sender()
        api.scriptSends([
            (429, #"{"code":99991400,"msg":"request trigger frequency limit"}"#),
            (400, #"{"code":230020,"msg":"This operation triggers the frequency limit"}"#),
            (400, #"{"code":230002,"msg":"The bot can not be outside the group"}"#),
            (500, #"{"code":1,"msg":"internal error"}"#),
            (502, "bad gateway"),
        ])
        guard case .rateLimited = await sender.send(message(), timeout: 5) else { Issue.record("99991400"); return }
        guard case .rateLimited(let after, _) = await sender.send(message(), timeout: 5) else { Issue.record("230020"); return }
        #expect(after == 1)
        guard case .permanentFailure(let reason) = await sender.send(message(), timeout: 5) else { Issue.record("230002"); return }
        #expect(reason.contains("230002"))
        guard case .retryLater = await sender.send(message(), timeout: 5) else { Issue.record("code 1"); return }
        guard case .retryLater = await sender.send(message(), timeout: 5) else { Issue.record("502"); return }
    }

    @Test("wrong app credentials make the message permanent; a busy token endpoint is retried")
    func tokenErrors() async throws {
        let sender = sender()
        api.scriptTokens([(200, #"{"code":10003,"msg":"invalid param"}"#), (503, "")])
        guard case .permanentFailure(let reason) = await sender.send(message(), timeout: 5) else { Issue.record("10003"); return }
        #expect(reason.contains("app_secret"))
        guard case .retryLater = await sender.send(message(), timeout: 5) else { Issue.record("503"); return }
        #expect(api.sends.isEmpty)
    }
}
