import LeagueFuzzing

/// libFuzzer's entry point: one input of the `parser` target.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzTarget.parser.run(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}
