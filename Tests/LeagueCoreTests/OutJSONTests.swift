import Foundation
import LeagueCore
import Testing

/// OutJSON writes the bytes outbound bodies and outbox payloads are made of (issue 16 made it write
/// runs of bytes at once): the escapes JSON needs, nothing else, members in the given order.
@Suite struct OutJSONTests {
    @Test func stringsAreEscapedExactlyAsJSONNeeds() {
        #expect(OutJSON.quoted("收到 / ok") == #""收到 / ok""#)
        #expect(OutJSON.quoted("a\"b\\c\nd\re\tf\u{8}g\u{c}h") == #""a\"b\\c\nd\re\tf\bg\fh""#)
        #expect(OutJSON.quoted("\u{0}\u{1}\u{1f}\u{7f}") == "\"\\u0000\\u0001\\u001f\u{7f}\"")
        #expect(OutJSON.quoted("x\u{2028}y\u{2029}z\u{2027}") == "\"x\\u2028y\\u2029z\u{2027}\"")
        #expect(OutJSON.quoted("\"\u{301}") == "\"\\\"\u{301}\"", "a combining mark after an escaped quote stays after it")
        #expect(OutJSON.quoted("") == #""""#)
    }

    @Test func documentsKeepTheirOrderAndReadBackWithFoundation() throws {
        let document = OutJSON.object([
            ("z", .string("末尾\n")), ("a", .int(-12)), ("flag", .bool(true)), ("list", .array([.string("x"), .int(3)])),
        ])
        #expect(document.text == #"{"z":"末尾\n","a":-12,"flag":true,"list":["x",3]}"#)
        let back = try #require(try JSONSerialization.jsonObject(with: document.data) as? [String: Any])
        #expect(back["z"] as? String == "末尾\n" && back["a"] as? Int == -12)
    }
}
