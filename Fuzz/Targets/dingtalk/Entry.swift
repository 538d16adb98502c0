import LeagueFuzzing

/// libFuzzer's entry point: one input of the `dingtalk` target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTarget.dingtalk.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
