import LeagueCore

extension SplitMix {
    /// Random bytes of a random length below `maxLength`.
    public mutating func bytes(maxLength: Int) -> [UInt8] {
        (0..<Int.random(in: 0..<maxLength, using: &self)).map { _ in UInt8.random(in: 0...255, using: &self) }
    }

    /// `seed` with one to `maxEdits` random byte replacements, deletions, insertions or
    /// duplicated runs: the cheap half of what libFuzzer's mutator does.
    public mutating func mutate(_ seed: [UInt8], maxEdits: Int = 8) -> [UInt8] {
        var bytes = seed
        for _ in 0..<Int.random(in: 1...maxEdits, using: &self) {
            guard !bytes.isEmpty else { return bytes }
            let index = Int.random(in: 0..<bytes.count, using: &self)
            switch Int.random(in: 0..<4, using: &self) {
            case 0: bytes[index] = UInt8.random(in: 0...255, using: &self)
            case 1: bytes.remove(at: index)
            case 2: bytes.insert(UInt8.random(in: 0...255, using: &self), at: index)
            default:
                let end = min(bytes.count, index + Int.random(in: 1...16, using: &self))
                bytes.insert(contentsOf: bytes[index..<end], at: index)
            }
        }
        return bytes
    }
}
