#if canImport(Glibc)
import Glibc
#endif

/// One malloc arena for the whole process. glibc gives each thread that allocates its own arena, and memory freed
/// in one (the YAML tree of a plan of 5,000 clones, read on the main thread) is never reused by another (the fleet
/// work on the concurrency pool's threads): peaks add up instead of taking turns. clonectl's threads do little
/// allocating at the same time, so sharing one arena costs nothing measurable.
public enum MemoryTuning {
    public static func useOneArena() {
        #if canImport(Glibc)
        // mallopt is declared in <malloc.h>, which the Glibc module does not export; it is looked up instead.
        typealias Mallopt = @convention(c) (Int32, Int32) -> Int32
        let M_ARENA_MAX: Int32 = -8
        if let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "mallopt") {
            _ = unsafeBitCast(symbol, to: Mallopt.self)(M_ARENA_MAX, 1)
        }
        #endif
    }
}
