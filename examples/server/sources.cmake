# parley-server's sources but main.c, by layer (README.md, "Source layout").
# A static library of them is what the fuzz targets link too.
set(PARLEY_SERVER_DIR ${CMAKE_CURRENT_LIST_DIR})
set(PARLEY_SERVER_SOURCES
  # utilities
  util.c json.c anonid.c abuse.c auth.c secrets.c blocks.c survey_def.c filetypes.c redact.c
  pwhash.c pwworker.c websession.c login_limit.c account.c timeline.c sla_policy.c
  metrics_agg.c console_files.c presence_tab.c
  # routing rules and what they need (pure: no database, no connections)
  jpos.c tz.c hours.c cond.c rules.c waitest.c pacer.c
  # storage
  store_sql.c store_sqlite.c store_pg.c store_db.c store_migrate.c store_users.c store_convs.c store_context.c store_surveys.c
  store_kb.c store_agents.c store_routing.c store_attach.c store_push.c blobs.c
  # content
  kb.c flow.c
  # wire and transports
  wire.c outq.c replay.c ws.c http.c http_files.c webhook.c agent_ws.c fanout.c
  # services
  deliver.c userctx.c identity.c triage.c bot.c agent.c survey.c proactive.c triggers.c
  console.c agents.c sla.c metrics.c metrics_csv.c presence.c conv_priority.c attach.c push.c
  # handlers and their tables
  frame_session.c frame_chat.c frame_context.c frame_receipts.c frame_requests.c
  frame_surveys.c frame_attach.c frame_push.c frame_table.c
  api_conversations.c api_agent.c api_surveys.c api_console.c api_attachments.c api_push.c
  api_admin.c api_query.c api_routes.c
  # what main.c prints at startup, and the event loop it runs
  banner.c evloop.c groupcommit.c)
list(TRANSFORM PARLEY_SERVER_SOURCES PREPEND ${PARLEY_SERVER_DIR}/)
