-- The Lua module (Lua 5.4 and LuaJIT/5.1): every function of
-- bindings/api.json wrapped or listed as omitted, bad input as Lua errors,
-- lifetimes, and a real parley-server over wss (PARLEY_TEST_*, set by
-- bindings/testing/with_server.py). arg[1]: the path of parley.c.
local parley = require("parley")

local passed, failed = 0, 0
local function check(cond, what)
  if cond then
    passed = passed + 1
  else
    failed = failed + 1
    io.stderr:write("FAILED: " .. tostring(what) .. "\n" .. debug.traceback() .. "\n")
  end
end

-- The error `fn` raises (nil when it raises none).
local function raised(fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then return nil end
  return err
end

local function check_code(err, name, what)
  check(type(err) == "table" and err.name == name, what .. ": want " .. name .. ", got " .. tostring(err))
end

local OFFLINE = { url = "wss://localhost:9", app_id = "lua-test" }
local function options(extra)
  local t = {}
  for k, v in pairs(OFFLINE) do t[k] = v end
  for k, v in pairs(extra or {}) do t[k] = v end
  return t
end

-- ---- the description --------------------------------------------------------
do
  local f = assert(io.open(assert(arg[1], "usage: test_parley.lua PATH/parley.c"), "r"))
  local source = f:read("*a")
  f:close()
  local missing = {}
  for _, name in ipairs(parley._api.functions) do
    local used = source:find("[^%w_\"]" .. name .. "%s*[(,]") ~= nil
    local omitted = parley._api.omitted[name] ~= nil
    if not used and not omitted then missing[#missing + 1] = name end
    check(not (used and omitted), name .. " is wrapped yet listed as omitted")
  end
  check(#missing == 0, "functions neither wrapped nor in pl_omitted: " .. table.concat(missing, ", "))
  for name in pairs(parley._api.omitted) do
    local known = false
    for _, f2 in ipairs(parley._api.functions) do known = known or f2 == name end
    check(known, "pl_omitted names a function the API no longer has: " .. name)
  end
  check(#parley._api.functions > 100, "the function list")
end

-- ---- version, enums, constants ------------------------------------------------
check(parley.version() == parley._api.generated_version, "version " .. parley.version())
check(parley.compatible(0, 1, 0, 1) and not parley.compatible(0, 2, 0, 1), "0.x minors must match")
check(parley.compatible(1, 3, 1, 2) and not parley.compatible(1, 1, 1, 2), "1.x: a newer minor is fine")
check(parley.EventType.MESSAGE == 2 and parley.EventType.PROACTIVE == 14, "EventType")
check(parley.ErrorCode.TOO_LONG == -7 and parley.ErrorCode.OK == 0, "ErrorCode")
check(parley.TlsFailure.PIN_MISMATCH == 16, "TlsFailure")
check(parley.ID_SIZE == 129 and parley.SURVEY_ID_SIZE == 129, "constants")
check(parley.strerror(-7) == "value exceeds its limit", "strerror")

-- ---- bad input -------------------------------------------------------------------
check_code(raised(parley.new, { app_id = "x" }), "CONFIG", "no url")
check_code(raised(parley.new, options({ url = "http://example.com" })), "INVALID_ARG", "not a ws url")
check_code(raised(parley.new, options({ url = "ws://localhost:9" })), "INSECURE", "ws://")
check_code(raised(parley.new, options({ app_version = string.rep("v", 5000) })), "TOO_LONG", "app version")
check_code(raised(parley.new, options({ reconnect = { 0, 10 } })), "INVALID_ARG", "reconnect")
check_code(raised(parley.new, options({ durability = 3 })), "INVALID_ARG", "durability")
check_code(raised(parley.new, options({ encryption_key = "short" })), "INVALID_ARG", "key")
check(tostring(raised(parley.new, options({ colour = "blue" }))):find("unknown option"), "unknown option")
check(tostring(raised(parley.new, options({ url = "wss://a\0b" }))):find("NUL"), "NUL in an option")
check(raised(parley.new, "not a table") ~= nil, "options must be a table")
check(tostring(raised(parley.new, options({ log_level = "loud" }))):find("log_level"), "log level")

local c = parley.new(OFFLINE)
local conv = c:conversation_start("Payment problem")
check(conv:sub(1, 2) == "c-", "conversation id " .. conv)
check(c:conversation_start("Gems", { category = "payments", area = "shop/gems", severity = "high" }):sub(1, 2)
  == "c-", "conversation about")
check(c:conversation_start(nil, { severity = parley.Severity.CRITICAL }):sub(1, 2) == "c-", "severity as a number")
check_code(raised(c.conversation_start, c, nil, { category = "pay ments" }), "INVALID_ARG", "bad category")
check_code(raised(c.conversation_start, c, nil, { area = string.rep("a", 300) }), "TOO_LONG", "long area")
check_code(raised(c.conversation_start, c, nil, { severity = 9 }), "INVALID_ARG", "severity out of range")
check(tostring(raised(c.conversation_start, c, nil, { severity = "dire" })):find("severity"), "unknown severity")
check(tostring(raised(c.conversation_start, c, nil, { category = "a\0b" })):find("NUL"), "NUL in category")
check(raised(c.conversation_start, c, nil, "about") ~= nil, "about must be a table")
check(tostring(raised(c.send_text, c, conv, nil)):find("string expected"), "nil text")
check(tostring(raised(c.send_text, c, nil, "hi")):find("string expected"), "nil conversation")
check(tostring(raised(c.send_text, c, conv, "a\0b")):find("NUL"), "NUL in text")
check_code(raised(c.send_text, c, conv, string.rep("x", 5000)), "TOO_LONG", "long text")
check_code(raised(c.send_text, c, conv, ""), "INVALID_ARG", "empty text")
check_code(raised(c.send_text, c, "c-unknown", "hi"), "NOT_FOUND", "unknown conversation")
check_code(raised(c.set_screen, c, string.rep("s", 300)), "TOO_LONG", "long screen")
check_code(raised(c.survey_response, c, "s-nope"), "NOT_FOUND", "unknown survey")
check_code(raised(c.track_event, c, "purchase_failed", "{}"), "CONSENT", "consent")
check_code(raised(c.stop, c), "STATE", "stop before start")
check(raised(c.set_attribute, c, "k", {}) ~= nil, "a table attribute")
check(raised(c.mute_proactive, c, -1) ~= nil, "negative duration")
check(tostring(raised(c.send_text, c, conv, string.rep("x", 5000))):find("parley_send_text"), "__tostring")
c:set_attribute("plan", "vip")
c:set_attribute("level", 7)
c:set_attribute("beta", true)
c:set_attribute("nothing", parley.null)
c:set_attribute_json("inventory", '{"gems":500}')
local cid = c:send_text(conv, "queued offline")
check(c:outbox_count() == 4, "outbox")
check(c:unsynced_count() == 0, "no data dir: nothing waits for a disk")
local pending = false
for ev in c:events() do
  pending = pending or (ev.type == "message_status" and ev.client_id == cid and ev.state == "pending")
end
check(pending, "a pending status event")
check(c:poll() == nil, "nothing more")
check(c:anonymous_id():sub(1, 2) == "a-", "anonymous id")
c:close()
c:close()
check(c:is_closed(), "closed")
check(tostring(raised(c.poll, c)):find("closed"), "poll on a closed client")
check(tostring(raised(c.send_text, c, conv, "x")):find("closed"), "send on a closed client")

-- The redactor: before the disk; an error in it blanks the text; no calls back.
local dir = os.tmpname()
os.remove(dir)
local inner, r
r = parley.new(options({ data_dir = dir, redactor = function(field, text)
  if field == "MESSAGE" and text:find("Bob") then
    inner = raised(function() r:set_screen("x") end)
    return (text:gsub("Bob", "[n]"))
  end
  if field == "MESSAGE" and text:find("boom") then error("a bug in the redactor") end
end }))
local rconv = r:conversation_start()
r:send_text(rconv, "hi Bob, card 4111 1111 1111 1111")
pcall(r.send_text, r, rconv, "boom secret-words")
r:close()
local jf = assert(io.open(dir .. "/journal", "rb"))
local journal = jf:read("*a")
jf:close()
os.execute("rm -rf '" .. dir .. "'")
check(not journal:find("Bob") and not journal:find("4111") and not journal:find("secret%-words"), "redacted")
check(journal:find("hi [n], card [card]", 1, true) ~= nil, "the replacement reached the journal")
check(inner and tostring(inner):find("redactor"), "a call into the client from the redactor is refused")

-- ---- a real server ---------------------------------------------------------------
local URL, CA = os.getenv("PARLEY_TEST_URL"), os.getenv("PARLEY_TEST_CA")

local function recorder(client, threaded)
  local self = { seen = {} }
  function self.wait(pred, what)
    local clock = os.clock
    local deadline = os.time() + 10
    while true do
      for i, ev in ipairs(self.seen) do
        if pred(ev) then
          table.remove(self.seen, i)
          return ev
        end
      end
      if os.time() > deadline then
        check(false, "no " .. what .. " in time")
        return nil
      end
      if threaded then
        local t = clock() + 0.005
        repeat until clock() > t -- Lua has no sleep; the I/O thread works meanwhile
      else
        client:service(20)
      end
      for ev in client:events() do self.seen[#self.seen + 1] = ev end
    end
  end
  return self
end

local function is_bot(ev)
  return ev.type == "message" and ev.author_kind == "bot"
end

if not URL then
  print("skipped the server tests: no PARLEY_TEST_URL (run through bindings/testing/with_server.py)")
else
  local s = parley.new({ url = URL, ca_file = CA, app_id = "lua-test", reconnect = { 100, 1000 }, consent = true })
  local rec = recorder(s, false)
  s:set_screen("inventory")
  s:add_breadcrumb("opened support")
  s:set_device_fact("gpu", "test")
  local sconv = s:conversation_start("Payment problem")
  local scid = s:send_text(sconv, "My gems never arrived")
  local sent = rec.wait(function(e) return e.type == "message_status" and e.client_id == scid and e.state == "sent" end, "SENT")
  check(sent and sent.seq, "SENT with a seq")
  local greeting = rec.wait(is_bot, "greeting")
  check(greeting and greeting.author_name == "Parley Bot", "the bot's greeting")
  local quick = greeting and greeting.blocks[1]
  check(quick and quick.kind == "quick_replies" and quick.options[1].label == "Billing", "quick replies")
  s:postback(sconv, greeting.message_id, quick.options[1].id)
  local answer = rec.wait(function(e) return is_bot(e) and e.text == "What's the billing problem?" end, "answer")
  check(answer ~= nil, "the answer to the postback")
  check_code(raised(s.postback, s, sconv, greeting.message_id, quick.options[1].id), "STATE", "used-up quick replies")
  s:mark_read(sconv, answer.seq)
  check(rec.wait(function(e) return e.type == "unread" and e.conversation_id == sconv and e.count == 0 end, "unread 0"),
        "the read mark brought the unread count to 0")
  check(s:unread_count(sconv) == 0 and s:unread_count() == 0, "unread counts")
  s:set_typing(sconv, true)
  local req = s:list_conversations()
  local list = rec.wait(function(e) return e.request_id == req end, "the list")
  check(list and list.type == "conversations" and list.items[1].conversation_id == sconv, "conversation list")
  req = s:load_history(sconv, nil, 50)
  local history = rec.wait(function(e) return e.request_id == req end, "history")
  check(history and #history.items >= 3, "history")
  req = s:search_articles("refund")
  local found = rec.wait(function(e) return e.request_id == req end, "articles")
  check(found and #found.items > 0, "articles")
  req = s:get_article(found.items[1].message_id)
  local article = rec.wait(function(e) return e.request_id == req end, "article")
  check(article and article.type == "article" and article.text, "the article")
  s:track_event("purchase_failed", '{"sku":"gems_500"}')
  check(rec.wait(function(e) return e.type == "proactive" end, "proactive"), "a proactive message")
  s:mute_proactive(0)
  s:close()

  -- Attachments, push, local history.
  local a = parley.new({ url = URL, ca_file = CA, app_id = "lua-test", reconnect = { 100, 1000 }, local_history = 20 })
  local arec = recorder(a, false)
  a:set_push_token("fcm", "lua-token")
  check_code(raised(a.set_push_token, a, "fcm", "bad token"), "INVALID_ARG", "a token with a space")
  local aconv = a:conversation_start("a save file")
  local data = string.rep("lua-bytes\0\1\2", 2000) -- NULs included: 26 KB
  local acid = a:send_attachment_bytes(aconv, data, "save.bin", "application/octet-stream", "my save")
  check(arec.wait(function(e) return e.type == "attachment" and e.client_id == acid and e.state == "uploaded" end,
        "UPLOADED"), "uploaded")
  check(arec.wait(function(e) return e.type == "message_status" and e.client_id == acid and e.state == "sent" end,
        "SENT"), "sent")
  req = a:load_history(aconv, nil, 20)
  check(arec.wait(function(e) return e.request_id == req and e.from_device end, "local history"), "local history")
  local page = arec.wait(function(e) return e.request_id == req and not e.from_device end, "server history")
  local fid
  for _, item in ipairs(page and page.items or {}) do fid = item.attachment_id or fid end
  check(fid ~= nil, "the file's id in the history")
  if fid then
    req = a:fetch_attachment(fid)
    local got = {}
    local ev
    repeat
      ev = arec.wait(function(e) return e.request_id == req end, "download")
      if ev and ev.state == "data" then got[#got + 1] = ev.chunk end
    until not ev or ev.state ~= "data"
    check(ev and ev.state == "downloaded", "downloaded")
    check(table.concat(got) == data, "the same bytes")
  end
  a:handle_push('{"parley":{"conv":"' .. aconv .. '","seq":"1"}}')
  check_code(raised(a.handle_push, a, "not json"), "INVALID_ARG", "not a push")
  check_code(raised(a.send_attachment, a, aconv, "/no/such/file"), "NOT_FOUND", "no such file")
  a:close()

  -- Threaded: the I/O thread logs into the queue; a survey after the agent closes.
  local t = parley.new({ url = URL, ca_file = CA, app_id = "lua-test", reconnect = { 100, 1000 }, log_level = "debug" })
  local trec = recorder(t, true)
  t:start()
  local tconv = t:conversation_start("Survey please")
  t:send_text(tconv, "hello")
  check(trec.wait(is_bot, "greeting"), "threaded greeting")
  local logs = t:logs()
  check(#logs > 0 and logs[1].level and logs[1].message, "log lines from the I/O thread")
  local cmd = string.format("curl -sS --fail --max-time 10 --cacert '%s' -H 'Authorization: Bearer %s' " ..
    "-H 'Content-Type: application/json' -d '{}' -o /dev/null '%s/conversations/%s/close'",
    CA, os.getenv("PARLEY_TEST_AGENT_TOKEN"), os.getenv("PARLEY_TEST_API"), tconv)
  local ok = os.execute(cmd)
  check(ok == true or ok == 0, "the agent closes the conversation")
  local sev = trec.wait(function(e) return e.type == "survey" end, "survey")
  check(sev and sev.survey and #sev.survey.questions == 3 and sev.survey.questions[1].kind == "rating", "survey")
  if sev and sev.survey then
    local resp = t:survey_response(sev.survey.id)
    local err = raised(resp.submit, resp)
    check_code(err, "INCOMPLETE", "submit without q1")
    check(err and err.question_id == "q1", "the missing question")
    check_code(raised(resp.answer_number, resp, "q1", 9), "RANGE", "out of the scale")
    resp:answer_number("q1", 1)
    check(resp:question_visible("q3"), "q3 shown")
    resp:answer_text("q3", "slow")
    resp:answer_choice("q2", "fixed")
    resp:clear_answer("q2")
    check(raised(resp.answer_choices, resp, "q2", { "fixed" }) ~= nil, "choices on a single question")
    t:close() -- the response keeps the native client until it is closed
    check(tostring(raised(t.poll, t)):find("closed"), "closed client")
    local sub = resp:submit()
    check(type(sub) == "string" and #sub > 0, "submitted")
    resp:close()
    check(tostring(raised(resp.submit, resp)):find("closed"), "closed response")
  end
  t:close()
end

collectgarbage()
print(string.format("%d passed, %d failed", passed, failed))
os.exit(failed == 0 and 0 or 1)
