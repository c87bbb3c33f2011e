-- The schema of parley-server's first release, and what a stranger could
-- leave in it: anonymous "bob" (whom the identified bob would inherit), an
-- anonymous id claimed as identified, and two rightful users
-- (test_server_identity.c, test_legacy_database).
PRAGMA journal_mode=WAL;
CREATE TABLE users(id TEXT PRIMARY KEY, kind TEXT NOT NULL, app TEXT,
 first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL);
CREATE TABLE sessions(token TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(id),
 created_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL);
CREATE TABLE conversations(id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(id),
 subject TEXT, start_cid TEXT, context TEXT, created_ms INTEGER NOT NULL,
 last_seq INTEGER NOT NULL DEFAULT 0);
CREATE TABLE messages(n INTEGER PRIMARY KEY, id TEXT GENERATED ALWAYS AS ('m-' || n) VIRTUAL,
 conv TEXT NOT NULL REFERENCES conversations(id), seq INTEGER NOT NULL, cid TEXT,
 author_kind TEXT NOT NULL, author_name TEXT, text TEXT NOT NULL, ts INTEGER NOT NULL,
 context TEXT, UNIQUE(conv, seq), UNIQUE(conv, cid));
CREATE TABLE attributes(user TEXT NOT NULL REFERENCES users(id), key TEXT NOT NULL,
 value TEXT NOT NULL, updated_ms INTEGER NOT NULL, PRIMARY KEY(user, key));

INSERT INTO users VALUES
 ('bob','anon','x',1,1),
 ('alice','id','x',1,1),
 ('a-11111111-1111-4111-8111-111111111111','anon','x',1,1),
 ('a-22222222-2222-4222-8222-222222222222','id','x',1,1);
INSERT INTO sessions VALUES('s-bob','bob',1,1);
INSERT INTO attributes VALUES('bob','plan','"planted"',1);
INSERT INTO conversations(id, user, created_ms, last_seq) VALUES
 ('c-planted','bob',1,1),
 ('c-alice','alice',1,1),
 ('c-anon','a-11111111-1111-4111-8111-111111111111',1,1),
 ('c-flipped','a-22222222-2222-4222-8222-222222222222',1,1);
INSERT INTO messages(conv, seq, cid, author_kind, text, ts) VALUES
 ('c-planted',1,'p1','user','planted by a stranger',1),
 ('c-alice',1,'a1','user','alice asks',1),
 ('c-anon',1,'n1','user','anonymous asks',1),
 ('c-flipped',1,'f1','user','flipped asks',1);
