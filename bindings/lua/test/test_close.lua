-- Lua 5.4's to-be-closed variables close a client at the end of its scope.
local parley = require("parley")
local kept
do
  local c <close> = parley.new({ url = "wss://localhost:9", app_id = "lua-close" })
  c:conversation_start()
  kept = c
end
assert(kept:is_closed(), "the client was not closed at the end of its scope")
assert(not pcall(kept.poll, kept), "a closed client still polled")
print("1 passed, 0 failed")
