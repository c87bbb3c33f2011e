-- Connects, sets context, starts a conversation, sends, prints the bot's
-- replies and answers its first quick reply. PARLEY_URL, PARLEY_CA: the server.
local parley = require("parley")

local client = parley.new({ url = os.getenv("PARLEY_URL"), ca_file = os.getenv("PARLEY_CA"), app_id = "lua-example" })
client:set_attribute("plan", "vip")
client:set_screen("inventory")
local conv = client:conversation_start("Payment problem")
client:send_text(conv, "My gems never arrived")
local answered = false
for frame = 1, 1000 do      -- your main loop (love.update, on_update...)
  client:service(10)        -- or client:start() once, for an I/O thread
  for ev in client:events() do
    if ev.type == "message" and ev.author_kind == "bot" then
      print((ev.author_name or "bot") .. ": " .. ev.text)
      if answered then client:close() os.exit(0) end
      local choice = ev.blocks[1].options[1]
      print("> " .. choice.label)
      client:postback(conv, ev.message_id, choice.id)
      answered = true
    end
  end
end
os.exit(1)
