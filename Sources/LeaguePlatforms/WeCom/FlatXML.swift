import Foundation

/// A minimal reader for WeCom's flat callback XML: `<xml><Name>text</Name>…</xml>` where each
/// child holds text or one CDATA section. Nested children (event details) are kept as raw markup.
/// Entities `&lt; &gt; &amp; &quot; &apos;` and numeric references are decoded outside CDATA.
/// Anything that does not fit this shape yields nil (a 400), never a crash.
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
            if name.hasSuffix("/") {
                name.removeLast()
                guard isName(name) else { return nil }
                fields[name] = ""
                continue
            }
            guard isName(name) else { return nil }
            let end = "</\(name)>"
            guard let endRange = rest.range(of: end) else { return nil }
            let inner = rest[..<endRange.lowerBound]
            rest = rest[endRange.upperBound...]
            guard let value = content(inner) else { return nil }
            fields[name] = value
        }
    }

    private static func content(_ inner: Substring) -> String? {
        let trimmed = inner.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.hasPrefix("<![CDATA["), trimmed.hasSuffix("]]>"), trimmed.count >= 12 {
            let body = trimmed.dropFirst(9).dropLast(3)
            return body.contains("]]>") ? nil : String(body)
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
        !name.isEmpty && name.unicodeScalars.allSatisfy { scalar in
            (scalar.value < 128 && (CharacterSet.alphanumerics.contains(scalar) || scalar == "_" || scalar == "-" || scalar == "."))
        }
    }
}
