import ClonectlCrypto
import Synchronization

/// Memoises SigV4 signing keys per (secret, date, region, service).
///
/// Deriving a key costs four HMACs, a third of a signature's crypto; a key only changes daily, so the signer
/// looks it up here. A `Mutex` guards the table: signing runs on many threads at once, and the critical
/// section is one dictionary lookup. The key is derived outside the lock (a race only derives it twice).
public final class SigningKeyCache: Sendable {
    /// The cache `SigV4.sign` uses unless given another.
    public static let shared = SigningKeyCache()

    private struct Key: Hashable {
        var secret: String
        var date: String
        var region: String
        var service: String
    }

    private struct State {
        var keys: [Key: SigningKey] = [:]
        /// The entry used last: nearly every lookup asks for it again, and comparing four strings that share
        /// storage with the caller's is cheaper than hashing them.
        var last: (key: Key, value: SigningKey)?
        var hits = 0
        var misses = 0
    }

    private let state = Mutex(State())
    /// Entries kept before the table is emptied; keys roll over daily, so a handful are live at a time.
    public let capacity: Int

    public init(capacity: Int = 64) {
        self.capacity = max(1, capacity)
    }

    /// The signing key (kSigning), derived on first use and cached.
    public func signingKey(secret: String, date: String, region: String, service: String) -> [UInt8] {
        entry(secret: secret, date: date, region: region, service: service).bytes
    }

    func entry(secret: String, date: String, region: String, service: String) -> SigningKey {
        let key = Key(secret: secret, date: date, region: region, service: service)
        let cached: SigningKey? = state.withLock { s in
            if let last = s.last, last.key == key {
                s.hits += 1
                return last.value
            }
            if let k = s.keys[key] {
                s.hits += 1
                s.last = (key, k)
                return k
            }
            s.misses += 1
            return nil
        }
        if let cached { return cached }
        let derived = SigningKey(SigV4.deriveSigningKey(secret: secret, date: date, region: region, service: service))
        state.withLock { s in
            if s.keys.count >= capacity { s.keys.removeAll(keepingCapacity: true) }
            s.keys[key] = derived
            s.last = (key, derived)
        }
        return derived
    }

    /// Lookups answered from the table, and lookups that derived a key.
    public var statistics: (hits: Int, misses: Int) {
        state.withLock { ($0.hits, $0.misses) }
    }

    /// Drops every key (for example after credentials rotate).
    public func removeAll() {
        state.withLock {
            $0.keys.removeAll()
            $0.last = nil
        }
    }
}

extension SigV4 {
    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"), uncached.
    public static func deriveSigningKey(secret: String, date: String, region: String, service: String) -> [UInt8] {
        let kDate = Crypto.hmacSHA256(key: Array(("AWS4" + secret).utf8), string: date)
        let kRegion = Crypto.hmacSHA256(key: kDate, string: region)
        let kService = Crypto.hmacSHA256(key: kRegion, string: service)
        return Crypto.hmacSHA256(key: kService, string: "aws4_request")
    }
}
