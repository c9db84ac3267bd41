package dedup

import "github.com/redis/go-redis/v9"

// commitScript stores a member's record and claims its band fields, atomically. Every band is claimed
// only if free (first claimant wins, like SET NX), and the record and bucket TTL are written in the same
// step, so no other instance can see a band before the record it points to.
//
// With check = 1 (incidents) it first verifies that no band field the decision relied on has changed:
// a field that was free (or held an in-batch member) must still be free or hold this member. Otherwise
// another instance claimed a similar text in between, the script writes nothing and returns 0, and the
// caller re-decides. Two racing instances thus serialise here and never both store the same problem as
// an incident.
//
// KEYS: the bucket hashes the decision read (one or two, one hash slot: the scope is a hash tag).
// ARGV: own key index (1-based), ttl ms, check, member id, record field, record, n fields,
// then n band fields, then (check = 1) n expected values for every key in KEYS order ("" = free).
var commitScript = redis.NewScript(`
local own = tonumber(ARGV[1])
local check = ARGV[3] == '1'
local member = ARGV[4]
local n = tonumber(ARGV[7])
local fields = {}
for i = 1, n do fields[i] = ARGV[7 + i] end
local ownvals
for k = 1, #KEYS do
  if check or k == own then
    local vals = redis.call('HMGET', KEYS[k], unpack(fields))
    if check then
      local base = 7 + n + (k - 1) * n
      for i = 1, n do
        local v = vals[i] or ''
        if v ~= member and v ~= ARGV[base + i] then return 0 end
      end
    end
    if k == own then ownvals = vals end
  end
end
local args = {ARGV[5], ARGV[6]}
for i = 1, n do
  if not ownvals[i] then
    args[#args + 1] = fields[i]
    args[#args + 1] = member
  end
end
redis.call('HSET', KEYS[own], unpack(args))
redis.call('PEXPIRE', KEYS[own], ARGV[2])
return 1
`)

// textClaimScript claims an exact-text key for an incident unless another appeal holds it within the
// horizon. A claim whose event time is more than the horizon away is stale and is replaced: in a replay
// a later copy of a recurring text ("нет холодной воды" again next week) may have claimed the key first,
// and with SET NX two copies of this week's report, finding the key taken by a claim they may not follow,
// would each stay an incident of its own.
//
// KEYS[1]: the text key. ARGV: value "<incident>|<event time>", ttl ms, horizon s, own event time.
// Returns 1 when the key now holds this claim, 0 when a claim within the horizon holds it.
// Only for keys a plain SET NX found taken by a claim out of the horizon (rare), so it is sent with EVAL:
// no NOSCRIPT round trip to handle.
const textClaimScript = `
local v = redis.call('GET', KEYS[1])
if v then
  local sep = string.find(v, '|', 1, true)
  local t = sep and tonumber(string.sub(v, sep + 1))
  if t and math.abs(t - tonumber(ARGV[4])) <= tonumber(ARGV[3]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`
