extension IngestScript {
    /// Two cut-down versions of the ingest script for `smshook-bench floor`, given the very same KEYS and ARGV (the
    /// layout of `script(for:)` with default settings: KEYS 4 + 2 per message, ARGV 3 + 5 per message). Kept here
    /// because they read that layout: they change with it.
    public enum Floor {
        /// Reads the arguments and answers: what the arguments alone cost Redis.
        public static let argumentsOnly = """
            #!lua
            -- bench: the ingest script's KEYS and ARGV, read and answered, no command
            local out = {}
            for j = 1, (#KEYS - 4) / 2 do out[j] = 'queued' end
            return out
            """

        /// The commands of messages that each get a reply, with no other Lua: what the commands cost. The settings'
        /// constants are in its text, as in the ingest script's.
        public static func commandsOnly(_ settings: Settings) -> String {
            "#!lua\n" + Constants(settings).lua + Self.commandsOnlyBody
        }

        private static let commandsOnlyBody = """
            -- bench: the ingest script's commands for messages that each get a reply, with no other Lua
            local out, jobs = {}, {}
            for j = 0, (#KEYS - 4) / 2 - 1 do
              local k, a = 5 + 2 * j, 4 + 5 * j
              redis.call('SET', KEYS[k], ARGV[a], 'NX', 'EX', ttl)
              redis.call('SISMEMBER', KEYS[4], ARGV[a + 3])
              if redis.call('INCR', KEYS[k + 1]) == 1 then redis.call('EXPIRE', KEYS[k + 1], window) end
              redis.call('XADD', KEYS[1], '*', 'event', 'inbound', 'decision', 'queued', 'data', ARGV[a + 1])
              jobs[j + 1] = ARGV[a + 2]
              out[j + 1] = 'queued'
            end
            redis.call('LPUSH', KEYS[2], unpack(jobs))
            return out
            """
    }
}
