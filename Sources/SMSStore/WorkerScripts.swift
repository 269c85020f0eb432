import RedisClient

/// The worker's atomic steps, each one Lua script.
public enum WorkerScripts {
    /// The fence before a send, in one round trip: the job must still be in this worker's processing list (a worker
    /// that stalled past its heartbeat TTL and was reaped no longer owns it), not sent, and its number not opted out;
    /// then its send marker becomes `sending <worker>` for the lease. A marker held by another worker means that
    /// worker may have sent it before it was reaped: wait for the lease (it finishes as `1`, or lapses).
    /// KEYS: processing, send marker, optout. ARGV: raw job, worker id, lease (ms), number ('' skips the opt-out check).
    /// Returns {'send'} | {'fenced'} | {'skipped_sent'} | {'skipped_optout'} | {'busy', ms left}.
    public static let claim = RedisScript("""
        #!lua
        if not redis.call('LPOS', KEYS[1], ARGV[1]) then return {'fenced'} end
        local mine = 'sending ' .. ARGV[2]
        local marker = redis.call('GET', KEYS[2])
        if marker and marker ~= mine then
          if string.sub(marker, 1, 8) ~= 'sending ' then return {'skipped_sent'} end
          return {'busy', redis.call('PTTL', KEYS[2])}
        end
        if ARGV[4] ~= '' and redis.call('SISMEMBER', KEYS[3], ARGV[4]) == 1 then return {'skipped_optout'} end
        redis.call('SET', KEYS[2], mine, 'PX', ARGV[3])
        return {'send'}
        """)

    /// Finishes a job that was not sent (a sent one needs no condition: `Worker.finishSent`, MULTI/EXEC).
    /// KEYS: processing, audit, retry zset, dead list, optout, send marker, message record, then F queues for the
    /// failure event, then the queues for the opt-out event. ARGV: raw job, outcome (skipped_optout | skipped_sent |
    /// retry | dead | deferred: rate-limited, back to the retry set unchanged and not audited), audit maxlen, audit
    /// data, retry member or dead record, retry due (ms), dead max, number to opt out ('' none), worker id, failure
    /// event entry ('' when the job did not fail; '-' when it failed with no endpoint to tell), error, now, record ttl,
    /// opt-out event entry (pushed only when the number was not opted out yet), F. A failed API message's record
    /// (KEYS[7]; for a reply KEYS[7] is KEYS[6], no record) becomes `failed`. This worker's send claim is released in
    /// any case (nothing was sent); nothing else happens to a job no longer in this worker's processing list (the
    /// reaper took it). Every `LREM` from a processing list counts -1: the job leaving is about the oldest held, near
    /// the tail (`LMOVE` pushes at the head), so the scan from the tail is short (a quarter of the Redis CPU of one
    /// from the head with 16 fetch loops of 8).
    public static let finish = RedisScript("""
        #!lua
        local outcome = ARGV[2]
        if redis.call('GET', KEYS[6]) == 'sending ' .. ARGV[9] then redis.call('DEL', KEYS[6]) end
        local removed = redis.call('LREM', KEYS[1], -1, ARGV[1])
        if removed == 0 then
          return 0
        elseif outcome == 'retry' or outcome == 'deferred' then
          redis.call('ZADD', KEYS[3], ARGV[6], ARGV[5])
          if outcome == 'deferred' then return removed end
        elseif outcome == 'dead' then
          redis.call('LPUSH', KEYS[4], ARGV[5])
          redis.call('LTRIM', KEYS[4], 0, tonumber(ARGV[7]) - 1)
        end
        local f = tonumber(ARGV[15])
        if ARGV[8] ~= '' and redis.call('SADD', KEYS[5], ARGV[8]) == 1 and ARGV[14] ~= '' then
          for q = 8 + f, #KEYS do redis.call('LPUSH', KEYS[q], ARGV[14]) end
        end
        if ARGV[10] ~= '' then
          if KEYS[7] ~= KEYS[6] then
            redis.call('HSET', KEYS[7], 'status', 'failed', 'error', ARGV[11], 'updated_at', ARGV[12])
            redis.call('EXPIRE', KEYS[7], ARGV[13])
          end
          for q = 8, 7 + f do redis.call('LPUSH', KEYS[q], ARGV[10]) end
        end
        redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', 'event', 'send', 'decision', outcome, 'data', ARGV[4])
        return removed
        """)

    /// Moves due retries back to the queue. KEYS: retry zset, queue. ARGV: now (ms), most to move.
    public static let schedule = RedisScript("""
        #!lua
        local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]))
        for _, job in ipairs(due) do
          redis.call('ZREM', KEYS[1], job)
          redis.call('RPUSH', KEYS[2], job)
        end
        return #due
        """)

    /// Returns the jobs of a dead worker (its heartbeat expired: checked by the caller, as the heartbeat lives in
    /// another slot) to its shard's queue, counting recoveries; past the limit a job goes to the dead list (poison
    /// pill). KEYS: processing, queue, dead (one shard). ARGV: max recoveries, dead max, now (ISO 8601).
    /// Returns jobs moved.
    public static let reap = RedisScript("""
        #!lua
        local moved = 0
        while true do
          local raw = redis.call('RPOP', KEYS[1])
          if not raw then break end
          local ok, job = pcall(cjson.decode, raw)
          if ok and type(job) == 'table' then
            job.recovered = (tonumber(job.recovered) or 0) + 1
            if job.recovered > tonumber(ARGV[1]) then
              redis.call('LPUSH', KEYS[3], cjson.encode({job = job, failed_at = ARGV[3],
                error = 'recovered from crashed workers more than ' .. ARGV[1] .. ' times (poison pill)'}))
              redis.call('LTRIM', KEYS[3], 0, tonumber(ARGV[2]) - 1)
            else
              redis.call('RPUSH', KEYS[2], cjson.encode(job))
            end
          else
            redis.call('LPUSH', KEYS[3], cjson.encode({raw = raw, error = 'unreadable job', failed_at = ARGV[3]}))
          end
          moved = moved + 1
        end
        return moved
        """)

    /// Returns jobs left in this worker's own processing list by fetches whose reply never arrived (a timeout or a
    /// dropped connection after Redis had moved the job). KEYS: processing, queue. ARGV: raw jobs. Returns jobs moved.
    public static let requeueOrphans = RedisScript("""
        #!lua
        local n = 0
        for _, raw in ipairs(ARGV) do
          if redis.call('LREM', KEYS[1], -1, raw) == 1 then
            redis.call('RPUSH', KEYS[2], raw)
            n = n + 1
          end
        end
        return n
        """)

    /// Gives back everything this worker holds (graceful stop). KEYS: processing, queue. Returns jobs moved.
    public static let requeue = RedisScript("""
        #!lua
        local n = 0
        while redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'RIGHT') do n = n + 1 end
        return n
        """)

    /// GCRA rate limit shared by all workers. KEYS: state. ARGV: interval (ms), burst tolerance (ms).
    /// Returns 0 when a send may go now, else the milliseconds to wait.
    public static let rateLimit = RedisScript("""
        #!lua
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local tat = tonumber(redis.call('GET', KEYS[1])) or now
        if tat < now then tat = now end
        local allowAt = tat - tonumber(ARGV[2])
        if now < allowAt then return allowAt - now end
        local nextTat = tat + tonumber(ARGV[1])
        redis.call('SET', KEYS[1], nextTat, 'PX', nextTat - now + 1000)
        return 0
        """)

    /// What the claim script decided.
    public enum Claim: Equatable, Sendable {
        case send
        /// No longer in this worker's processing list: reaped while it stalled; another worker owns the job now.
        case fenced
        /// `skipped_sent` or `skipped_optout`: finish without sending.
        case skip(String)
        /// Another worker's claim holds the job for this many more milliseconds.
        case busy(Int64)

        public init(reply: RedisReply) throws {
            let parts = try reply.orThrow().array ?? []
            switch parts.first?.string {
            case "send": self = .send
            case "fenced": self = .fenced
            case let outcome? where outcome == "skipped_sent" || outcome == "skipped_optout": self = .skip(outcome)
            case "busy": self = .busy(parts.count > 1 ? parts[1].int ?? 0 : 0)
            default: throw RedisError(.unexpectedReply, "claim script answered \(reply)")
            }
        }
    }
}
