/// Group commit for ingest calls to one shard, as pure state: up to `limit` calls in flight; a request arriving
/// while they are all taken waits, and when one finishes the waiting requests go out together as one call (in
/// arrival order, up to `maxMessages` messages, only requests with equal `Key`s: one script and argument layout).
/// Keys differ only around a config reload.
/// Invariant: requests wait only while every slot is taken. The I/O is `IngestStore`'s.
struct CallMerging<Item, Key: Equatable> {
    let limit: Int
    let maxMessages: Int
    private(set) var inFlight = 0
    private var waiting: [(item: Item, key: Key, messages: Int)] = []

    init(limit: Int, maxMessages: Int) {
        self.limit = max(1, limit)
        self.maxMessages = max(1, maxMessages)
    }

    var waitingCount: Int { self.waiting.count }

    /// Takes a slot when one is free and nobody waits: the caller sends its own call now.
    mutating func takeSlot() -> Bool {
        guard self.inFlight < self.limit, self.waiting.isEmpty else { return false }
        self.inFlight += 1
        return true
    }

    /// Queues a request that found no free slot; a later `finished()` hands it out.
    mutating func wait(_ item: Item, key: Key, messages: Int) {
        self.waiting.append((item, key, messages))
    }

    /// A call finished: the requests the next call carries (its slot stays taken), or nil when none waits (the slot
    /// is freed). The first waiting request always goes; later ones with its key join in order while they fit (those
    /// with another key keep their place for a later call).
    mutating func finished() -> [Item]? {
        guard let first = self.waiting.first else {
            self.inFlight = max(0, self.inFlight - 1)
            return nil
        }
        var batch = [first.item]
        var messages = first.messages
        var kept: [(item: Item, key: Key, messages: Int)] = []
        var full = false
        for other in self.waiting.dropFirst() {
            if !full, other.key == first.key {
                if messages + other.messages <= self.maxMessages {
                    batch.append(other.item)
                    messages += other.messages
                    continue
                }
                full = true  // no overtaking within a key
            }
            kept.append(other)
        }
        self.waiting = kept
        return batch
    }
}
