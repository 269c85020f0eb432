import RedisClient

/// Event delivery's atomic steps. An event waits in its endpoint's queue on its shard, is moved into the delivering
/// worker's processing list (`LMOVE`), and leaves it by `LREM` once delivered, or by `finish` to the retry set or
/// the dead list. Due retries go back with `WorkerScripts.schedule`; a dead worker's list with `WorkerScripts.requeue`.
public enum EventScripts {
    /// KEYS: processing, retry zset, dead list. ARGV: entry, outcome (retry | dead), next entry (retry) or dead
    /// record, due (ms), dead max. Returns 1, or 0 when the entry was no longer this worker's (reaped).
    public static let finish = RedisScript("""
        #!lua
        if redis.call('LREM', KEYS[1], -1, ARGV[1]) == 0 then return 0 end
        if ARGV[2] == 'retry' then
          redis.call('ZADD', KEYS[2], ARGV[4], ARGV[3])
        else
          redis.call('LPUSH', KEYS[3], ARGV[3])
          redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[5]) - 1)
        end
        return 1
        """)
}
