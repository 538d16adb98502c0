// swift-tools-version:5.4
import PackageDescription

// libFuzzer entry points for the fuzz targets of LeagueFuzzing (issue 6), one executable each.
// Kept out of the main package: they need `-parse-as-library` (libFuzzer brings its own `main`)
// and are only built with `-sanitize=fuzzer,address`, by scripts/fuzz. Tools version 5.4 on purpose:
// from 5.5 on SwiftPM renames an executable's entry point and links `main` to `<module>_main`,
// which a `-parse-as-library` module does not have, and libFuzzer's own `main` is never linked.
let targets = ["parser", "generic", "wecom", "dingtalk", "feishu"]

let package = Package(
    name: "LeagueOpsFuzz",
    dependencies: [.package(name: "LeagueOps", path: "..")],
    targets: targets.map { name in
        .executableTarget(
            name: "fuzz-\(name)",
            dependencies: [.product(name: "LeagueFuzzing", package: "LeagueOps")],
            path: "Targets/\(name)",
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    }
)
