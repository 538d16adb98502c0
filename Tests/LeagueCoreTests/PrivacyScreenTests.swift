import Foundation
import LeagueCore
import Testing

/// Issue 11 point 5: the screen and the small-count rule as pure functions.
struct PrivacyScreenTests {
    @Test func idCardNumbersWithAValidCheckCharacterAreFound() {
        #expect(PrivacyScreen.containsIDCardNumber("身份证370802201003151236请核实"))
        #expect(PrivacyScreen.containsIDCardNumber("号码 11010519491231002X"))
        #expect(PrivacyScreen.containsIDCardNumber("号码 11010519491231002x"))
        #expect(PrivacyScreen.containsIDCardNumber("全角３７０８０２２０１００３１５１２３６"))
        #expect(!PrivacyScreen.containsIDCardNumber("370802201003151237"), "wrong check digit")
        #expect(!PrivacyScreen.containsIDCardNumber("订单号 93708022010031512361"), "part of a longer number")
        #expect(!PrivacyScreen.containsIDCardNumber("电话 13800000000，人数 1234"))
        #expect(!PrivacyScreen.containsIDCardNumber(""))
    }

    @Test func registeredNamesOfTwoOrMoreCharactersAreFound() {
        #expect(PrivacyScreen.screen("请联系李小明家长", names: ["李小明"]) == .registeredName)
        #expect(PrivacyScreen.screen("请联系家长", names: ["李小明", "明"]) == nil, "one-character names are ignored")
        #expect(PrivacyScreen.screen("370802201003151236 李小明", names: ["李小明"]) == .idCardNumber)
    }

    @Test func mobileNumbersAreFoundAsPeopleWriteThem() {
        for text in [
            "家长电话13800000000", "电话 138 0000 0000", "电话：138-0000-0000", "联系+86 139 1234 5678", "+8613912345678 请回电",
            "0086 15012345678", "全角１３８００００００００", "手机 1381234-5678", "tel:199 12345678", "８６－１３８－００００－００００",
        ] {
            #expect(PrivacyScreen.containsMobileNumber(text), "\(text)")
            #expect(PrivacyScreen.screen(text, names: []) == .mobileNumber, "\(text)")
        }
    }

    @Test func ordinaryNumbersAreNotMobileNumbers() {
        for text in [
            "上报人数 1234", "青少年服务热线 12355", "日期 2026-11-09 19:30", "订单号 138000000001234", "12800000000 不是手机号段",
            "T-13 已完成", "座机 0537-2345678", "各网格 13 20 18 15 9 人", "2026年11月9日", "金额 138000000005 元", "",
        ] {
            #expect(!PrivacyScreen.containsMobileNumber(text), "\(text)")
        }
        #expect(PrivacyScreen.screen("370802201003151236 13800000000", names: []) == .idCardNumber, "the ID number is reported first")
        #expect(PrivacyScreen.screenPatterns("请各网格今晚上报人数") == nil)
    }

    @Test func aLoneSmallCountCannotBeRecoveredFromTheTotal() {
        // 3 in one band, total 40: hiding only the 3 would reveal it as 40 - 37.
        let one = SmallCounts.suppress(parts: [3, 12, 25, 0], total: 40)
        #expect(one.parts == ["<5", "*", "25", "0"])
        #expect(one.total == "40")
        // Two small parts hide each other already.
        #expect(SmallCounts.suppress(parts: [3, 2, 35], total: 40).parts == ["<5", "<5", "35"])
        // Nothing small: unchanged.
        #expect(SmallCounts.suppress(parts: [10, 30], total: 40).parts == ["10", "30"])
        // A small total is hidden as well.
        let tiny = SmallCounts.suppress(parts: [3, 0], total: 3)
        #expect(tiny.parts == ["<5", "0"] && tiny.total == "*")
    }
}
