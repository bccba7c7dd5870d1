-- Demo data for the d1-vault test database.
--
-- Apply once, to a fresh database on which every file in migrations/ has
-- been applied:
--   wrangler d1 execute DB --local --file scripts/lib/demo-seed.sql
--   sqlite3 -bail demo.db < scripts/lib/demo-seed.sql
-- The first statement fails (UNIQUE constraint failed: users.id) on a database
-- that has been seeded already, so the data is never duplicated. (D1 runs the
-- whole file as one batch and rolls it back; sqlite3 needs -bail to stop.)
--
-- Deterministic: no random(), no clock. Every row comes from the statements
-- below; generated rows use recursive CTEs so the file stays small, and no
-- statement comes near the 100,000-byte statement limit of D1.
--
-- The data holds the values a backup must carry over exactly: Unicode
-- (accents in NFC and NFD, CJK, emoji with ZWJ, skin tones, flags and
-- keycaps, combining marks, right-to-left text and bidi controls), single
-- and double quotes, backslashes, embedded LF, CR, CRLF and tabs, other
-- control characters, NULL next to empty strings and empty BLOBs, BLOBs with
-- zero bytes, 64-bit integers at both ends of the range and above 2^53,
-- REALs that need all 17 digits, strings that look like SQL, a 1 MiB BLOB
-- and a text of about 350 KB (rows too big for any single statement).
-- Text never contains a NUL character (SQLite quote() stops there); NUL
-- bytes live in BLOBs. There are no subnormal REALs: SQLite 3.40 does not
-- read them back exactly from text (its own .dump turns 4.9e-324 into 0.0).
-- -0.0 is written once but SQLite stores it as 0.0.
--
-- Row counts after this file: users 200, teams 20, memberships 466,
-- projects 50, tasks 3000 (ids 1..3010 with gaps), attachments 100,
-- team_settings 89, audit_log 1524 (written by triggers), tasks_fts 3000.

-- Users 1..24: one hard case each.
WITH special (id, email, display_name, role, bio, external_id) AS (
    VALUES
    (1, 'ada@example.com', 'Ada Lovelace', 'admin', NULL, 9223372036854775807),
    (2, 'min.int@example.com', 'Minnie Int', 'admin', '', -9223372036854775808),
    (3, 'conan.obrien@example.com', 'Conan O''Brien', 'member',
        'Says "hello", ''goodbye'' and "it''s ''fine''".', 3),
    (4, 'jose@example.com', 'José Ñúñez', 'member', 'Précomposé (NFC) accents: àéîõü ÀÉÎÕÜ ç ß ø å æ œ', 4),
    (5, 'zoe.nfd@example.com', 'Zoe' || char(776) || ' Decomposed', 'member',
        'NFD: e + U+0308 combining diaeresis; looks like the next user but is not the same text', -5),
    (6, 'zoe.nfc@example.com', 'Zoë Composed', 'member', 'NFC: U+00EB', 6),
    (7, 'yamada@example.jp', '山田 太郎', 'member', '日本語のプロフィール。' || char(10) || '二行目です。', 7),
    (8, 'kim@example.kr', '김민준', 'viewer', '한국어 소개', NULL),
    (9, 'mohammed@example.eg', 'محمد عبد الله', 'member',
        'مرحبا بالعالم! mixed with English 123 and ' || char(8207) || 'RLM, ' || char(8206) || 'LRM, '
        || char(8238) || 'RLO override' || char(8236) || ' PDF.', 9),
    (10, 'shalom@example.il', 'שָׁלוֹם כֹּהֵן', 'member', 'עברית עם ניקוד (combining marks) and English', 10),
    (11, 'family@example.com', '👩‍👩‍👧‍👦 Family', 'member',
        'ZWJ: ' || char(128105, 8205, 128187) || ' skin tone: ' || char(128077, 127997)
        || ' flags: ' || char(127471, 127477) || ' ' || char(127987, 65039, 8205, 127752)
        || ' tag sequence: ' || char(127988, 917607, 917602, 917619, 917603, 917620, 917631)
        || ' keycap: 1' || char(65039, 8419) || ' heart on fire: ❤️‍🔥', 11),
    (12, 'zalgo@example.com', 'Z' || char(823, 802, 851) || 'a' || char(822, 789) || 'l' || char(821)
        || 'g' || char(820, 774) || 'o' || char(824, 801), 'member', 'Stacked combining marks', 12),
    (13, 'math@example.com', '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕯𝖔𝖊', 'member', 'Astral planes: 𝔘 (U+1D518), 𠜎 𠜱 (CJK Ext B), 🀄', 13),
    (14, 'newlines@example.com', 'Line' || char(10) || 'Break', 'member',
        'CRLF line 1' || char(13, 10) || 'CRLF line 2' || char(13, 10) || 'lone CR' || char(13)
        || 'after CR' || char(9) || 'after tab' || char(10) || char(10) || 'after blank line', 14),
    (15, 'control@example.com', 'Control Characters', 'viewer',
        'bell' || char(7) || ' backspace' || char(8) || ' vtab' || char(11) || ' formfeed' || char(12)
        || ' escape' || char(27) || '[31mred' || char(27) || '[0m unit-sep' || char(31) || ' del' || char(127)
        || ' c1:' || char(133, 150), 15),
    (16, 'invisible@example.com', 'Zero' || char(8203) || 'Width' || char(8288) || 'Joiner', 'member',
        'BOM:' || char(65279) || ' LS:' || char(8232) || ' PS:' || char(8233) || ' NBSP:' || char(160)
        || ' soft-hyphen:' || char(173) || ' replacement:' || char(65533) || ' max:' || char(1114111), 16),
    (17, 'UPPER.Case@Example.COM', 'Upper Case Email', 'member', NULL, 17),
    (18, 'plus+tag@example.com', 'Plus Tag', 'member', '   leading and trailing spaces   ', 18),
    (19, '"quoted local part"@example.com', 'Double "Quoted"', 'member', '"', 19),
    (20, 'back\slash@example.com', 'Back\Slash 100% _wild_ \n \t \\', 'member',
        'C:\Users\admin\AppData\Local\Temp\ and a regex ^\d+(\.\d*)?$', 20),
    (21, 'sql@example.com', 'Robert''); DROP TABLE users;--', 'member',
        'semi; colons; -- not a comment /* nor this */ END; $$ dollar $$ `tick` [bracket]', 21),
    (22, 'long@example.com', replace(hex(zeroblob(1000)), '00', 'Lo'), 'member',
        replace(hex(zeroblob(5000)), '00', 'long bio text ') , 22),
    (23, 'emoji.😀@example.com', 'Emoji In Email', 'member', '😀', 23),
    (24, 'ümlaut@exämple.de', 'Ümlaut Ünïcödé', 'member', 'above 2^53: 9007199254740993', 9007199254740993)
)
INSERT INTO users (id, email, display_name, role, bio, external_id, last_login_at, created_at, updated_at)
SELECT id, email, display_name, role, bio, external_id,
       iif(id % 3 = 0, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-01', printf('+%d minutes', id * 613 + 4321))),
       strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-01', printf('+%d minutes', id * 613)),
       strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-01', printf('+%d minutes', id * 613))
  FROM special;

-- Users 25..200.
WITH RECURSIVE
    seq (n) AS (SELECT 25 UNION ALL SELECT n + 1 FROM seq WHERE n < 200),
    names (first, last) AS (
        SELECT '["Ana","Björn","Chloé","Dmitri","Eun-ji","Fatima","Giorgos","Hana","Iñaki","Jürgen",'
               || '"Kwame","Léa","Mateus","Nguyễn","Olúwaseun","Priya","Quentin","Renée","Søren","Tomasz"]',
               '["Silva","Müller","Dubois","Иванов","Kim","Al-Sayed","Παπαδόπουλος","田中","Etxeberria","Schröder",'
               || '"Mensah","Garçon","Costa","Văn","Adébáyọ̀","Sharma","O''Neil","Łukasiewicz","Kierkegaard","Nowak"]'
    )
INSERT INTO users (id, email, display_name, role, bio, external_id, last_login_at, created_at, updated_at)
SELECT n,
       printf('user%03d@example.com', n),
       json_extract(first, printf('$[%d]', n % 20)) || ' ' || json_extract(last, printf('$[%d]', (n * 7) % 20)),
       CASE WHEN n % 17 = 0 THEN 'admin' WHEN n % 5 = 0 THEN 'viewer' ELSE 'member' END,
       CASE n % 6
           WHEN 0 THEN NULL
           WHEN 1 THEN ''
           WHEN 2 THEN printf('Works in team %d.', n % 20 + 1)
           WHEN 3 THEN printf('First line of bio %d.', n) || char(10) || 'Second line.'
           WHEN 4 THEN printf('Quote: "%d" and ''%d''', n, n)
           ELSE printf('Tab%sseparated%svalues', char(9), char(9))
       END,
       CASE WHEN n % 4 = 0 THEN NULL ELSE n * 46116860184273879 * iif(n % 2 = 0, -1, 1) END,
       iif(n % 3 = 0, NULL, strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-01', printf('+%d minutes', n * 613 + 4321))),
       strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-01', printf('+%d minutes', n * 613)),
       strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-01', printf('+%d minutes', n * 613))
  FROM seq, names;

-- Teams 1..6 and 20 by hand; team 20 is deleted and shares its slug with
-- team 1 (allowed by the partial UNIQUE index on live slugs).
INSERT INTO teams (id, slug, name, plan, created_at, deleted_at) VALUES
    (1, 'acme', 'Acme Corp', 'enterprise', '2023-12-01T09:00:00.000Z', NULL),
    (2, 'equipe-zurich', 'Équipe Zürich', 'pro', '2023-12-02T09:00:00.000Z', NULL),
    (3, 'tokyo', '東京チーム', 'pro', '2023-12-03T09:00:00.000Z', NULL),
    (4, 'cairo', 'فريق القاهرة', 'free', '2023-12-04T09:00:00.000Z', NULL),
    (5, 'quotes', 'Team "Quotes" & <Brackets> ''n'' Apostrophes', 'free', '2023-12-05T09:00:00.000Z', NULL),
    (6, 'rocket', '🚀 Rocket Team 👩‍🚀', 'enterprise', '2023-12-06T09:00:00.000Z', NULL),
    (20, 'acme', 'Acme Corp (old account)', 'free', '2023-01-01T00:00:00.000Z', '2023-11-30T23:59:59.999Z');

-- Teams 7..19.
WITH RECURSIVE seq (n) AS (SELECT 7 UNION ALL SELECT n + 1 FROM seq WHERE n < 19)
INSERT INTO teams (id, slug, name, plan, created_at, deleted_at)
SELECT n,
       printf('team-%02d', n),
       printf('Team %02d', n),
       CASE n % 3 WHEN 0 THEN 'free' WHEN 1 THEN 'pro' ELSE 'enterprise' END,
       strftime('%Y-%m-%dT%H:%M:%fZ', '2023-12-01 09:00', printf('+%d days', n - 1)),
       NULL
  FROM seq;

-- Every user joins two teams, every third user a third one; users 1..20
-- each own one team. (466 rows, each also written to audit_log.)
WITH k (k) AS (VALUES (0), (1), (2))
INSERT INTO memberships (team_id, user_id, role, joined_at)
SELECT (u.id + 7 * k.k) % 20 + 1,
       u.id,
       CASE
           WHEN k.k = 0 AND u.id <= 20 THEN 'owner'
           WHEN u.id % 11 = 0 THEN 'admin'
           WHEN u.id % 13 = 0 THEN 'guest'
           ELSE 'member'
       END,
       strftime('%Y-%m-%dT%H:%M:%fZ', u.created_at, printf('+%d days', k.k))
  FROM users AS u, k
 WHERE k.k < 2 OR u.id % 3 = 0
 ORDER BY u.id, k.k;

-- Projects 1..50 on the live teams 1..19.
WITH RECURSIVE
    seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 50),
    names (list) AS (
        SELECT '["Website relaunch","Mobile app","Data pipeline","Billing","Onboarding",'
               || '"Internationalisation (i18n)","Café ordering","データ移行","إعادة التصميم",'
               || '"Q3 \"growth\" push"]'
    )
INSERT INTO projects (id, team_id, code, name, description, owner_id, created_at, archived_at, deleted_at)
SELECT n,
       (n - 1) % 19 + 1,
       printf('PRJ%02d', n),
       json_extract(list, printf('$[%d]', n % 10)) || printf(' #%d', n),
       CASE
           WHEN n = 1 THEN 'Multi-line description written with literal newlines:
  * first point, indented
  * second point with a ''quote'' and a "double quote"

Last paragraph after an empty line.'
           WHEN n % 5 = 0 THEN NULL
           WHEN n % 5 = 1 THEN ''
           WHEN n % 5 = 2 THEN printf('Goals:%s- ship%s- measure', char(13, 10), char(13, 10))
           WHEN n % 5 = 3 THEN printf('Column%sseparated%sby tabs', char(9), char(9))
           ELSE printf('Project %d of team %d — “typographic quotes” and ‘apostrophes’ …', n, (n - 1) % 19 + 1)
       END,
       (n * 13) % 200 + 1,
       strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-10', printf('+%d hours', n * 11)),
       iif(n % 12 = 0, strftime('%Y-%m-%dT%H:%M:%fZ', '2024-06-01', printf('+%d hours', n)), NULL),
       iif(n % 17 = 0, strftime('%Y-%m-%dT%H:%M:%fZ', '2024-07-01', printf('+%d hours', n)), NULL)
  FROM seq, names;

-- Tasks 1..3010: 60 or 61 per project, numbered within the project.
-- (Each insert also fills tasks_fts through its trigger.)
WITH RECURSIVE
    seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 3010),
    words (verbs, objects) AS (
        SELECT '["Fix","Implement","Review","Document","Refactor","Test","Translate","Deploy",'
               || '"Investigate","Design","Optimise","Clean up"]',
               '["login flow","invoice PDF","search index","Café menu","ユーザー設定","نموذج الاتصال",'
               || '"dark mode","CSV export","rate limiter","emoji picker 😀","webhook retries",'
               || '"naïve date handling","Überweisung form","payment ''3-D Secure''","the \"new\" editor"]'
    )
INSERT INTO tasks (id, project_id, number, assignee_id, reporter_id, title, body, status, priority,
                   estimate_hours, due_date, labels, created_at, updated_at)
SELECT n,
       (n - 1) % 50 + 1,
       (n - 1) / 50 + 1,
       CASE WHEN n % 9 = 0 THEN NULL ELSE (n * 37) % 200 + 1 END,
       (n * 53) % 200 + 1,
       printf('%s %s #%d', json_extract(verbs, printf('$[%d]', n % 12)),
              json_extract(objects, printf('$[%d]', (n / 12) % 15)), n),
       CASE
           WHEN n % 11 = 0 THEN NULL
           WHEN n % 13 = 0 THEN ''
           WHEN n % 5 = 0 THEN printf('Windows line endings.%sStep 1%sStep 2', char(13, 10), char(13, 10))
           ELSE printf('Task %d in project %d.%sAcceptance criteria:%s%s- it works%s%s- it is tested',
                       n, (n - 1) % 50 + 1, char(10), char(10), char(9), char(10), char(9))
       END,
       CASE n % 10 WHEN 1 THEN 'in_progress' WHEN 2 THEN 'in_progress' WHEN 3 THEN 'blocked' ELSE 'open' END,
       n % 5 + 1,
       CASE WHEN n % 7 = 0 THEN NULL ELSE ((n * 3) % 40) * 0.5 + 0.25 END,
       CASE WHEN n % 6 = 0 THEN NULL ELSE date('2024-02-01', printf('+%d days', (n * 7) % 365)) END,
       CASE n % 4
           WHEN 0 THEN '[]'
           WHEN 1 THEN json_array('bug')
           WHEN 2 THEN json_array('feature', 'ui')
           ELSE json_array('ops', 'ünïcödé', '🚀', 'with "quotes"')
       END,
       strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-15', printf('+%d minutes', n * 97)),
       strftime('%Y-%m-%dT%H:%M:%fZ', '2024-01-15', printf('+%d minutes', n * 97))
  FROM seq, words;

-- Tasks 1..24 get the hard cases, through UPDATE so that the FTS update
-- trigger and tasks_touch (revision + 1) run on them.
WITH hard (id, title, body, estimate_hours) AS (
    VALUES
    (1, 'Fix the "login" bug — it''s urgent', 'Steps to reproduce:
1. Open the app
2. Click "Sign in"
3. See ''Error 500''', 0.1),
    (2, '日本語のタスク：バグ修正', '中文内容；全角标点。한국어 내용도 있습니다.', 1e308),
    (3, 'مهمة عاجلة: إصلاح الخطأ', 'نص عربي with embedded English and ' || char(8207) || 'marks' || char(8206)
        || ', plus עברית and an override ' || char(8238) || 'desrever' || char(8236) || '.', -0.0),
    (4, 'Deploy 👩‍💻 to prod 🚀', 'Family 👨‍👩‍👧, flag 🇺🇦, tag flag '
        || char(127988, 917607, 917602, 917605, 917614, 917607, 917631) || ', keycap #️⃣, skin tone 👋🏿', 3.141592653589793),
    (5, 'Tabs' || char(9) || 'in' || char(9) || 'title', 'CRLF' || char(13, 10) || 'CRLF' || char(13, 10)
        || 'CR only' || char(13) || 'LF only' || char(10) || 'trailing newline' || char(10), 0.1 + 0.2),
    (6, 'Body is NULL', NULL, 1.0000000000000002),
    (7, 'Body is the empty string', '', 2.2250738585072014e-308),
    (8, 'Body is the word NULL', 'NULL', 1.7976931348623157e308),
    (9, 'Huge body of about 350 KB (Ünïcödé)', replace(hex(zeroblob(12000)), '00', 'Ünïcödé 日本 🎉 line' || char(10)), -1.5e-10),
    (10, 'Paths C:\Temp\new and %PATH% _under_', 'printf("%s\n", x); regex ^\d+$; 100% done; a_b', 1e20),
    (11, 'x''); DELETE FROM tasks; --', 'semicolons; inside; a string;' || char(10) || 'END;' || char(10)
        || 'CREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END;' || char(10) || '/* comment */ -- comment', 123456789012345.67),
    (12, 'Combining: e' || char(769) || ' vs é, n' || char(771) || ' vs ñ', 'Ā̈ q̣̇ — precomposed and decomposed forms differ byte-wise', 0.5),
    (13, 'Zero' || char(8203) || 'width and ' || char(65279) || 'BOM', 'Line separator' || char(8232) || 'paragraph'
        || char(8233) || 'NEL' || char(133) || 'end', -2.5),
    (14, 'Control' || char(1) || 'chars' || char(31) || 'in title', 'escape ' || char(27) || '[1mbold' || char(27) || '[0m del' || char(127), 7.0),
    (15, '   padded title   ', '   ', 1e-7),
    (16, 'Emoji only', '😀😃😄😁😆😅🤣😂🙂🙃', 9007199254740993.0),
    (17, 'Numbers as text', '00123 1e5 -0 0x1F 9223372036854775808 NaN Infinity', 0.0),
    (18, 'JSON in body', '{"a": [1, 2.5, "x", null, true], "b": {"c": "\u00e9\n"}}', 42.0),
    (19, 'Mixed scripts: Ελληνικά, Русский, हिन्दी, ไทย, ქართული', 'Tamil தமிழ், Devanagari with virama क्षत्रिय', 0.333333333333333315),
    (20, 'Mathematical 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 and 𠜎', 'Astral characters need four UTF-8 bytes and two UTF-16 units', 1.0e-300),
    (21, 'Single '' and double " quotes', '''''''' || '""""', 0.2),
    (22, 'Backslash at end \', '\', 0.7),
    (23, 'Trailing space ', ' ', 100.0),
    (24, 'A', 'B', 0.000001)
)
UPDATE tasks
   SET title = hard.title,
       body = hard.body,
       estimate_hours = hard.estimate_hours,
       updated_at = '2024-06-01T12:00:00.000Z'
  FROM hard
 WHERE tasks.id = hard.id;

-- Work progresses: status changes (each written to audit_log by
-- tasks_audit_status; each bumps the revision through tasks_touch).
UPDATE tasks
   SET status = 'done',
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+3 days')
 WHERE id % 4 = 0 AND id > 24;

UPDATE tasks
   SET status = 'cancelled',
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+5 days')
 WHERE id % 29 = 0 AND id > 24;

-- Soft-deleted tasks (is_open becomes 0; they leave the partial indexes).
UPDATE tasks
   SET deleted_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+7 days'),
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+7 days')
 WHERE id % 31 = 0;

-- Hard-deleted tasks: a gap in the middle of the rowids and at the end, so
-- sqlite_sequence (3010) stays above max(id) (3005). Leaves 3000 tasks.
DELETE FROM tasks WHERE id BETWEEN 1501 AND 1505 OR id BETWEEN 3006 AND 3010;

-- Attachments 1..10: hard cases, including a 1 MiB BLOB with NUL, 0xFF, CR,
-- LF and quote bytes in it.
INSERT INTO attachments (id, task_id, uploaded_by, filename, content_type, content, thumbnail, created_at) VALUES
    (1, 1, 1, 'empty.bin', 'application/octet-stream', X'', NULL, '2024-03-01T00:00:00.000Z'),
    (2, 1, 2, 'one-nul-byte.bin', 'application/octet-stream', X'00', X'', '2024-03-01T00:01:00.000Z'),
    (3, 2, 3, 'nul-ff-nul.bin', 'application/octet-stream', X'00FF00', X'FF', '2024-03-01T00:02:00.000Z'),
    (4, 2, NULL, 'zeros-1k.bin', 'application/octet-stream', zeroblob(1024), NULL, '2024-03-01T00:03:00.000Z'),
    (5, 3, 4, 'large-1MiB.bin', 'application/octet-stream',
        CAST(replace(hex(zeroblob(131072)), '00', CAST(X'00FF7F800D0A2700' AS TEXT)) AS BLOB),
        NULL, '2024-03-01T00:04:00.000Z'),
    (6, 4, 5, 'résumé final (v2).pdf', 'application/pdf', CAST('%PDF-1.7' || char(10) || '%âãÏÓ' AS BLOB), NULL, '2024-03-01T00:05:00.000Z'),
    (7, 5, 6, 'notes.txt', 'text/plain; charset=utf-8', CAST('Ünïcödé text stored as a BLOB 🎉' || char(13, 10) AS BLOB), NULL, '2024-03-01T00:06:00.000Z'),
    (8, 6, 7, 'it''s "quoted".txt', 'text/plain', CAST('''"' AS BLOB), NULL, '2024-03-01T00:07:00.000Z'),
    (9, 7, 8, '日本語ファイル.txt', 'text/plain', CAST('日本語' AS BLOB), NULL, '2024-03-01T00:08:00.000Z'),
    (10, 8, 9, 'emoji-😀.png', 'image/png', X'89504E470D0A1A0A0000000D49484452', X'89504E47', '2024-03-01T00:09:00.000Z');

-- Attachments 11..100 on tasks 319, 348, ..., 2900.
WITH RECURSIVE seq (n) AS (SELECT 11 UNION ALL SELECT n + 1 FROM seq WHERE n < 100)
INSERT INTO attachments (id, task_id, uploaded_by, filename, content_type, content, thumbnail, created_at)
SELECT n,
       n * 29,
       CASE WHEN n % 10 = 0 THEN NULL ELSE (n * 7) % 200 + 1 END,
       printf('file-%03d.%s', n, CASE n % 3 WHEN 0 THEN 'png' WHEN 1 THEN 'txt' ELSE 'bin' END),
       CASE n % 3 WHEN 0 THEN 'image/png' WHEN 1 THEN 'text/plain' ELSE 'application/octet-stream' END,
       CAST(X'89504E470D0A1A0A' || zeroblob(n % 5) || CAST(printf('attachment %d of task %d', n, n * 29) AS BLOB)
            || X'00FF00FE' AS BLOB),
       CASE WHEN n % 4 = 0 THEN CAST(X'FFD8FFE0' || zeroblob(n % 7) || X'FFD9' AS BLOB) ELSE NULL END,
       strftime('%Y-%m-%dT%H:%M:%fZ', '2024-03-01', printf('+%d hours', n * 5))
  FROM seq;

-- Team settings: team 1 holds one value of every storage class and edge
-- (the STRICT ANY column keeps the type), every team has three ordinary ones.
INSERT INTO team_settings (team_id, "group", key, value, updated_at) VALUES
    (1, 'zoo', 'int_max', 9223372036854775807, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'int_min', -9223372036854775808, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'int_2p53_plus_1', 9007199254740993, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'int_zero', 0, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'int_42', 42, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'real_42', 42.0, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'text_42', '42', '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'blob_42', X'3432', '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'real_0_1', 0.1, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'real_0_1_plus_0_2', 0.1 + 0.2, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'real_pi', 3.141592653589793, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'real_1e308', 1e308, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'real_max', 1.7976931348623157e308, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'real_min_normal', 2.2250738585072014e-308, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'real_one_plus_ulp', 1.0000000000000002, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'real_negative_zero', -0.0, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'real_negative', -2.5e-7, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'real_2p63', 9223372036854775808.0, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'null', NULL, '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'text_empty', '', '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'text_null_word', 'NULL', '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'blob_empty', X'', '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'blob_nul_ff_nul', X'00FF00', '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'blob_zeroblob_16', zeroblob(16), '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'text_exponent', '1e5', '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'text_leading_zeros', '007', '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'text_spaces', ' 12 ', '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'text_zwj', '👩‍👩‍👧‍👦', '2024-05-01T00:00:00.000Z'),
    (1, 'zoo', 'text_json', '{"a":[1,2.5,"x"],"b":null}', '2024-05-01T00:00:00.000Z');

WITH RECURSIVE seq (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM seq WHERE n < 20)
INSERT INTO team_settings (team_id, "group", key, value, updated_at)
SELECT n, 'general', 'max_seats', n * 5, '2024-05-02T00:00:00.000Z' FROM seq
UNION ALL
SELECT n, 'general', 'timezone',
       json_extract('["UTC","Europe/Zurich","Asia/Tokyo","Africa/Cairo","America/Sao_Paulo"]', printf('$[%d]', n % 5)),
       '2024-05-02T00:00:00.000Z'
  FROM seq
UNION ALL
SELECT n, 'billing', 'tax_rate', n * 0.0125, '2024-05-02T00:00:00.000Z' FROM seq;

-- Account changes (each written to audit_log by users_audit_update).
UPDATE users
   SET role = 'admin',
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+30 days')
 WHERE id % 40 = 7;

UPDATE users
   SET deleted_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+60 days'),
       updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+60 days')
 WHERE id % 50 = 0;
