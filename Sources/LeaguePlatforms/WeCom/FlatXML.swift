import Foundation

/// A minimal reader for WeCom's flat callback XML: `<xml><Name>text</Name>…</xml>` where each
/// child holds text or CDATA sections. Nested children (event details) are kept as raw markup.
/// Entities `&lt; &gt; &amp; &quot; &apos;` and numeric references are decoded outside CDATA.
///
/// CDATA is skipped as a unit while looking for a closing tag, so user text such as
/// `</Content><FromUserName>boss</FromUserName>` inside `<Content><![CDATA[…]]>` can never end
/// the element early or inject a field; a field given twice is refused. Anything that does not
/// fit this shape yields nil (a 400), never a crash.
enum FlatXML {
    static func parse(_ text: String) -> [String: String]? {
        var rest = Substring(text)
        skipProlog(&rest)
        guard rest.hasPrefix("<xml>") else { return nil }
        rest = rest.dropFirst(5)
        var fields: [String: String] = [:]
        while true {
            skipSpace(&rest)
            if rest.hasPrefix("</xml>") {
                rest = rest.dropFirst(6)
                skipSpace(&rest)
                return rest.isEmpty ? fields : nil
            }
            guard rest.hasPrefix("<"), let close = rest.firstIndex(of: ">") else { return nil }
            var name = String(rest[rest.index(after: rest.startIndex)..<close])
            rest = rest[rest.index(after: close)...]
            let value: String
            if name.hasSuffix("/") {
                name.removeLast()
                value = ""
            } else {
                guard isName(name), let (inner, after) = element(rest, name: name), let decoded = content(inner) else { return nil }
                value = decoded
                rest = after
            }
            guard isName(name), fields[name] == nil else { return nil }
            fields[name] = value
        }
    }

    /// The inner markup of `<name>` up to its matching `</name>` (CDATA skipped whole), and what follows.
    private static func element(_ text: Substring, name: String) -> (Substring, Substring)? {
        let end = "</\(name)>"
        var cursor = text.startIndex
        while cursor < text.endIndex {
            let tail = text[cursor...]
            if tail.hasPrefix("<![CDATA[") {
                guard let close = tail.range(of: "]]>") else { return nil }
                cursor = close.upperBound
            } else if tail.hasPrefix(end) {
                return (text[..<cursor], text[tail.index(tail.startIndex, offsetBy: end.count)...])
            } else {
                cursor = text.index(after: cursor)
            }
        }
        return nil
    }

    /// Text, one or more adjacent CDATA sections, or nested markup (kept raw).
    private static func content(_ inner: Substring) -> String? {
        var rest = inner
        skipSpace(&rest)
        if rest.hasPrefix("<![CDATA[") {
            var out = ""
            while rest.hasPrefix("<![CDATA[") {
                rest = rest.dropFirst(9)
                guard let close = rest.range(of: "]]>") else { return nil }
                out += rest[..<close.lowerBound]
                rest = rest[close.upperBound...]
            }
            skipSpace(&rest)
            return rest.isEmpty ? out : nil
        }
        if inner.contains("<") { return String(inner) }  // nested markup, kept raw
        return decodeEntities(inner)
    }

    private static func decodeEntities(_ text: Substring) -> String? {
        guard text.contains("&") else { return String(text) }
        var out = ""
        var rest = text
        while let amp = rest.firstIndex(of: "&") {
            out += rest[..<amp]
            guard let semi = rest[amp...].firstIndex(of: ";") else { return nil }
            let entity = rest[rest.index(after: amp)..<semi]
            switch entity {
            case "lt": out += "<"
            case "gt": out += ">"
            case "amp": out += "&"
            case "quot": out += "\""
            case "apos": out += "'"
            default:
                let code: UInt32?
                if entity.hasPrefix("#x") || entity.hasPrefix("#X") {
                    code = UInt32(entity.dropFirst(2), radix: 16)
                } else if entity.hasPrefix("#") {
                    code = UInt32(entity.dropFirst())
                } else {
                    code = nil
                }
                guard let value = code, let scalar = Unicode.Scalar(value) else { return nil }
                out.unicodeScalars.append(scalar)
            }
            rest = rest[rest.index(after: semi)...]
        }
        out += rest
        return out
    }

    private static func skipSpace(_ text: inout Substring) {
        while let first = text.first, first.isWhitespace { text.removeFirst() }
    }

    private static func skipProlog(_ text: inout Substring) {
        if text.first == "\u{FEFF}" { text.removeFirst() }
        skipSpace(&text)
        if text.hasPrefix("<?xml"), let end = text.range(of: "?>") {
            text = text[end.upperBound...]
            skipSpace(&text)
        }
    }

    private static func isName(_ name: String) -> Bool {
        !name.isEmpty
            && name.unicodeScalars.allSatisfy { scalar in
                scalar.value < 128 && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "-" || scalar == ".")
            }
    }
}
