/*
 * The SQL injection detector (threat/sqli.c) on attack strings from the
 * usual cheat sheets and sqlmap's payload shapes, and on a benign corpus
 * that must stay quiet: search boxes, names with apostrophes, prose with
 * SQL words, JSON, URLs, and whole queries as ORMs, drivers and consoles
 * send them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "threat/threat.h"

static const char *const attack_values[] = {
    "1' OR '1'='1",
    "1' or '1'='1' -- ",
    "' OR 1=1 --",
    "\" or \"\"=\"",
    "admin'--",
    "admin' #",
    "admin')--",
    "1 OR 1=1",
    "1) OR (1=1",
    "1 AND 1=1",
    "x' AND 2>1 AND 'a'='a",
    "' or true--",
    "x' or 1",
    "1 or 1 --",
    "1 UNION SELECT NULL,NULL,NULL--",
    "-1 union all select 1,2,group_concat(table_name) from information_schema.tables",
    "1' UNION SELECT username, password FROM users--",
    "1; DROP TABLE users",
    "'; DROP TABLE users; --",
    "1'; exec xp_cmdshell('dir')--",
    "1 AND SLEEP(5)",
    "1' AND SLEEP(5) AND '1'='1",
    "1' || pg_sleep(10)--",
    "1; WAITFOR DELAY '0:0:5'--",
    "1 or benchmark(10000000,MD5(1))#",
    "' OR 'x'='x",
    "1' OR 2 LIKE 2 --",
    NULL,
};

static const char *const benign_values[] = {
    "O'Brien",
    "it's 5 o'clock",
    "rock and roll",
    "select your size",
    "union station",
    "union select is a SQL keyword pair",
    "1-2-3",
    "a=b",
    "x = 1",
    "anna@example.com",
    "https://example.com/a?b=c&d=e",
    "{\"name\":\"a;b\",\"select\":1}",
    "C'est la vie -- vraiment",
    "I'm 100% sure -- really",
    "5 > 3",
    "price < 100 or free",
    "Tom & Jerry",
    "naïve café",
    "--verbose",
    "#hashtag",
    "/* not a comment */",
    "1.5e10",
    "Robert'); stop",
    "SELECT",
    "drop shadow",
    "user's guide; chapter 2",
    "red or 5",
    "Jack's or 2",
    "cats or dogs",
    "2024-01-01T10:00:00Z",
    "en-US,en;q=0.9",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "1;2;3",
    "sort=name;order=desc",
    "SELECT-ALL",
    "a' and b",
    "O'Reilly & Sons; update pending",
    "SGVsbG8gV29ybGQ=",
    "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjMifQ.abc-def_ghi",
    "(555) 123-4567",
    "x=1 and y=2",
    NULL,
};

static const char *const attack_queries[] = {
    "SELECT * FROM users WHERE name = '' OR '1'='1' -- '",
    "SELECT * FROM users WHERE id = 1 OR 1=1",
    "SELECT * FROM items WHERE id = -1 UNION SELECT NULL, NULL, @@version",
    "SELECT name FROM t WHERE id = 1 UNION ALL SELECT table_name FROM information_schema.tables",
    "SELECT * FROM users WHERE name = 'admin' -- ' AND password = 'x'",
    "SELECT * FROM orders WHERE id = '5'; DROP TABLE orders",
    "SELECT * FROM users WHERE id = 1 AND SLEEP(5)",
    "SELECT * FROM users WHERE id = 1 OR BENCHMARK(1000000, SHA1(1))",
    NULL,
};

static const char *const benign_queries[] = {
    "SELECT 1",
    "SELECT @@version_comment LIMIT 1",
    "SET NAMES utf8mb4",
    "SET NAMES utf8mb4; SELECT @@version_comment LIMIT 1",
    "/* mysql-connector-java-8.0.33 (Revision: 7d6b0800528b6b25c68b52dc10d6c1c8429c100c) */"
    "SELECT @@session.auto_increment_increment AS auto_increment_increment",
    "/* ApplicationName=DBeaver 23.0 - Main */ SELECT * FROM users WHERE 1=1 AND active = 1",
    "SELECT id, name FROM users WHERE name = 'it''s' UNION ALL SELECT id, name FROM admins",
    "SELECT a.id FROM a UNION SELECT b.id FROM b WHERE b.x = 'y'",
    "SELECT * FROM t WHERE a = 1 OR b = 2",
    "SELECT * FROM t WHERE a = 1 OR a = 2 -- two cases",
    "INSERT INTO log (msg) VALUES ('it''s done; drop it'); SELECT LAST_INSERT_ID()",
    "DROP TABLE IF EXISTS tmp_x; CREATE TABLE tmp_x (id INT)",
    "UPDATE accounts SET balance = balance - 10 WHERE id = 7",
    "DELETE FROM sessions WHERE expires < NOW()",
    "SELECT SLEEP(1)",
    "BEGIN; UPDATE t SET x = 1 WHERE id = 2; COMMIT",
    "select count(*) from pg_catalog.pg_class where relname = 'x'",
    "SELECT * FROM t WHERE title LIKE '%union select%'",
    "-- migration 42\nALTER TABLE users ADD COLUMN age INT",
    NULL,
};

/* Every string of list judged as want; all the wrong ones are listed. */
static void check(const char *const *list, int query, int want)
{
    int wrong = 0;
    for (int i = 0; list[i]; i++) {
        int got = vg_sqli(list[i], strlen(list[i]), query);
        if (got != want) {
            fprintf(stderr, "%s %s: %s\n", query ? "query" : "value",
                    want ? "missed" : "false alarm", list[i]);
            wrong++;
        }
    }
    assert_int_equal(wrong, 0);
}

static void t_values(void **st)
{
    check(attack_values, 0, 1);
    check(benign_values, 0, 0);
}

static void t_queries(void **st)
{
    check(attack_queries, 1, 1);
    check(benign_queries, 1, 0);
}

static void t_url_decode(void **st)
{
    char out[64];
    const char *in = "a+b%27%3d%zz%00";
    size_t n = vg_url_decode((const uint8_t *)in, strlen(in), out, sizeof(out));
    assert_string_equal(out, "a b'=%zz ");
    assert_int_equal(n, 9);
    /* bounded by the output */
    n = vg_url_decode((const uint8_t *)"abcdef", 6, out, 4);
    assert_int_equal(n, 3);
    assert_string_equal(out, "abc");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_values),
        cmocka_unit_test(t_queries),
        cmocka_unit_test(t_url_decode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
