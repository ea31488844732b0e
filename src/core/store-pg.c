/* SPDX-License-Identifier: Apache-2.0 */
/* The postgresql backend of the store interface (docs/FORMAT.md, "The
 * postgresql store"): many hosts' orgvaultd sharing one database. The
 * database holds only what the files would: JSON records (ciphertext and
 * metadata), wrapped org keys, usage. Never the master key.
 *
 * Two connections: one for calls (blocking, one transaction per mutation,
 * the commit is the acknowledgement) and one that only LISTENs, polled by
 * the daemon's event loop. Concurrency between hosts:
 *  - a record row has a version (rev): an update or delete names the rev it
 *    replaces and changes nothing when another host got there first
 *    (-ESTALE, the vault's Conflict);
 *  - an org row has a key document version (keys_rev): a record write is
 *    refused when the org's keys changed since this host read them (a value
 *    sealed under a key a rotation dropped would be lost);
 *  - an org row has a change counter (changes), bumped by every mutation and
 *    sent with its NOTIFY, so a host that lost its connection knows which
 *    orgs to reload;
 *  - an advisory lock per org: a rotation holds it exclusively, record and
 *    key writes take it shared for their transaction. */

#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "log.h"
#include "pq-dl.h"
#include "store-backend.h"
#include "store.h"

#define NOTIFY_CHANNEL "orgvault"
#define LOCK_CLASS 0x6f76       /* "ov": the first key of every advisory lock */
#define SCHEMA_LOCK 0           /* second key of the migration lock */
#define PASSWORD_MAX 4096

typedef struct PgOrg {
        char *name;
        long long keys_rev;      /* of the key document this host read */
        long long changes_seen;  /* change counter of what this host loaded */
        unsigned quarantined;
        /* The key document read with the records (one snapshot), handed to
         * the load_org_keys that follows a load_org: records and the keys
         * they are sealed with always match, even mid-rotation elsewhere. */
        char *snapshot_keys;     /* NULL: none; "" : the org has no keys */
        long long snapshot_keys_rev;
        bool has_snapshot;
} PgOrg;

typedef struct PgStore {
        Store base;
        char *uri;
        char *password;          /* wiped on free; NULL: libpq's own files */
        PGconn *conn;            /* calls */
        PGconn *listen;          /* LISTEN only */
        uint64_t listen_generation;
        bool listen_unchecked;   /* a new LISTEN whose counters are not compared yet */
        bool degraded;
        PgOrg *orgs;
        size_t n_orgs;
} PgStore;

static PgStore *pg_of(Store *st) { return (PgStore *) st; }

static void pqclearp(PGresult **r) {
        if (*r)
                PQclear(*r);
}
#define _cleanup_pgresult_ _cleanup_(pqclearp)

/* The schema, one step per version; orgvault_schema_version says which
 * steps a database has. A step never changes once released: a change is a
 * new step. */
static const char *const migrations[] = {
        /* 1 */
        "CREATE TABLE orgvault_orgs ("
        "  org text COLLATE \"C\" PRIMARY KEY,"
        "  keys json,"
        "  keys_rev bigint NOT NULL DEFAULT 0,"
        "  usage jsonb NOT NULL DEFAULT '{}',"
        "  changes bigint NOT NULL DEFAULT 0);"
        "CREATE TABLE orgvault_records ("
        "  org text COLLATE \"C\" NOT NULL REFERENCES orgvault_orgs (org),"
        "  id text COLLATE \"C\" NOT NULL,"
        "  name text NOT NULL,"
        "  name_key text COLLATE \"C\" NOT NULL,"
        "  type text NOT NULL,"
        "  key_id bigint NOT NULL,"
        "  rev bigint NOT NULL,"
        "  record json NOT NULL,"
        "  written timestamptz NOT NULL DEFAULT now(),"
        "  PRIMARY KEY (org, id));"
        "CREATE UNIQUE INDEX orgvault_records_name ON orgvault_records (org, name_key);"
        "CREATE INDEX orgvault_records_type ON orgvault_records (org, type);"
        "CREATE TABLE orgvault_meta (key text PRIMARY KEY, value text NOT NULL);",
        /* 2: the trash, one entry per id, the record as it was */
        "CREATE TABLE orgvault_trash ("
        "  org text COLLATE \"C\" NOT NULL REFERENCES orgvault_orgs (org),"
        "  id text COLLATE \"C\" NOT NULL,"
        "  deleted bigint NOT NULL,"
        "  record json NOT NULL,"
        "  PRIMARY KEY (org, id));",
        /* 3: the org manifest (FORMAT.md, "Manifest") and records set aside */
        "ALTER TABLE orgvault_orgs ADD COLUMN manifest json;"
        "CREATE TABLE orgvault_quarantine ("
        "  org text COLLATE \"C\" NOT NULL,"
        "  id text COLLATE \"C\" NOT NULL,"
        "  deleted bigint NOT NULL,"
        "  record json NOT NULL,"
        "  reason text NOT NULL,"
        "  at timestamptz NOT NULL DEFAULT now());",
};
#define SCHEMA_VERSION ((int) ELEMENTSOF(migrations))

/* FNV-1a: the advisory lock's second key for an org (the same on every
 * host, independent of the server's hash functions). */
static int32_t org_lock_key(const char *org) {
        uint32_t h = 2166136261u;
        for (const char *p = org; *p; p++)
                h = (h ^ (unsigned char) *p) * 16777619u;
        return (int32_t) (h & 0x7fffffff) | 1;   /* never SCHEMA_LOCK */
}

/* Names ignore ASCII case only, as the vault compares them. */
static char *name_key(const char *name) {
        char *k = strdup(name);
        if (k)
                for (char *p = k; *p; p++)
                        if (*p >= 'A' && *p <= 'Z')
                                *p += 'a' - 'A';
        return k;
}

static PgOrg *pg_org(PgStore *p, const char *org, bool create) {
        for (size_t i = 0; i < p->n_orgs; i++)
                if (strcmp(p->orgs[i].name, org) == 0)
                        return &p->orgs[i];
        if (!create)
                return NULL;
        PgOrg *a = reallocarray(p->orgs, p->n_orgs + 1, sizeof(PgOrg));
        if (!a)
                return NULL;
        p->orgs = a;
        char *name = strdup(org);
        if (!name)
                return NULL;
        p->orgs[p->n_orgs] = (PgOrg) { .name = name };
        return &p->orgs[p->n_orgs++];
}

/* Connections */

/* The server's NOTICEs ("relation already exists, skipping") are not ours
 * to print on stderr. */
static void ignore_notice(void *arg, const char *message) {}

static PGconn *pg_connect(PgStore *p) {
        const char *keys[] = { "dbname", "password", "fallback_application_name", "connect_timeout", NULL };
        const char *vals[] = { p->uri, p->password, "orgvaultd", "5", NULL };
        PGconn *c = PQconnectdbParams(keys, vals, 1);
        if (!c)
                return NULL;
        if (PQstatus(c) != CONNECTION_OK) {
                /* libpq's message names host and reason, never the password. */
                log_warning("Store: cannot connect to PostgreSQL: %s", PQerrorMessage(c));
                PQfinish(c);
                return NULL;
        }
        PQsetNoticeProcessor(c, ignore_notice, NULL);
        return c;
}

static bool conn_ok(PGconn *c) { return c && PQstatus(c) == CONNECTION_OK; }

/* The call connection, reconnecting once when it is gone. */
static int pg_conn(PgStore *p, PGconn **ret) {
        if (!conn_ok(p->conn)) {
                if (p->conn)
                        PQfinish(p->conn);
                p->conn = pg_connect(p);
                if (!p->conn) {
                        p->degraded = true;
                        return -ECONNREFUSED;
                }
                log_info("Store: connected to PostgreSQL");
        }
        *ret = p->conn;
        return 0;
}

/* A failed result as an errno, marking the store degraded when the
 * connection is what failed. */
static int pg_fail(PgStore *p, const PGresult *res, const char *what) {
        const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
        if (!conn_ok(p->conn) || !state || strncmp(state, "08", 2) == 0 || strncmp(state, "57P", 3) == 0) {
                if (!p->degraded)
                        log_warning("Store: PostgreSQL unreachable (%s): %s", what,
                                    p->conn ? PQerrorMessage(p->conn) : "no connection");
                p->degraded = true;
                return -ECONNREFUSED;
        }
        if (strcmp(state, "23505") == 0) {       /* unique violation */
                const char *c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
                return c && strcmp(c, "orgvault_records_name") == 0 ? -EEXIST : -ESTALE;
        }
        if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0)
                return -ESTALE;  /* serialization failure, deadlock: retry */
        log_error("Store: %s failed: %s", what, PQresultErrorMessage(res));
        return -EIO;
}

static int pg_exec(PgStore *p, const char *sql, int n, const char *const *params, ExecStatusType want,
                   PGresult **ret, const char *what) {
        PGconn *c;
        int r = pg_conn(p, &c);
        if (r < 0)
                return r;
        /* A connection the server dropped (a restart, a failover) looks fine
         * until it is used. Outside a transaction, a BEGIN or a read is
         * safe to send again on a new one: nothing of it ran. */
        bool retry = PQtransactionStatus(c) == PQTRANS_IDLE &&
                     (strncmp(sql, "BEGIN", 5) == 0 || strncmp(sql, "SELECT", 6) == 0);
        /* Without parameters, the simple protocol: a migration step is
         * several statements. */
        PGresult *res = n == 0 ? PQexec(c, sql) : PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
        if (retry && PQstatus(c) == CONNECTION_BAD) {
                PQclear(res);
                r = pg_conn(p, &c);
                if (r < 0)
                        return r;
                res = n == 0 ? PQexec(c, sql) : PQexecParams(c, sql, n, NULL, params, NULL, NULL, 0);
        }
        if (!res || PQresultStatus(res) != want) {
                r = pg_fail(p, res, what);
                PQclear(res);
                return r;
        }
        p->degraded = false;
        if (ret)
                *ret = res;
        else
                PQclear(res);
        return 0;
}

static int pg_cmd(PgStore *p, const char *sql, const char *what) {
        return pg_exec(p, sql, 0, NULL, PGRES_COMMAND_OK, NULL, what);
}

static void pg_rollback(PgStore *p) {
        if (conn_ok(p->conn))
                PQclear(PQexec(p->conn, "ROLLBACK"));
}

/* Creates the schema or runs the steps it lacks, under a lock so hosts
 * starting together do it once. Refuses a newer schema than this build's. */
static int pg_migrate(PgStore *p, char **ret_error) {
        _cleanup_pgresult_ PGresult *res = NULL;
        char lock[64];
        int r;

        snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock(%d, %d)", LOCK_CLASS, SCHEMA_LOCK);
        r = pg_cmd(p, "BEGIN", "begin migration");
        if (r < 0)
                return r;
        r = pg_exec(p, lock, 0, NULL, PGRES_TUPLES_OK, NULL, "lock the schema");
        if (r >= 0)
                r = pg_cmd(p, "CREATE TABLE IF NOT EXISTS orgvault_schema_version ("
                              " version integer PRIMARY KEY, applied timestamptz NOT NULL DEFAULT now())",
                           "create orgvault_schema_version");
        if (r >= 0)
                r = pg_exec(p, "SELECT coalesce(max(version), 0) FROM orgvault_schema_version", 0, NULL,
                            PGRES_TUPLES_OK, &res, "read the schema version");
        if (r < 0)
                goto fail;
        int have = atoi(PQgetvalue(res, 0, 0));
        if (have > SCHEMA_VERSION) {
                if (ret_error)
                        *ret_error = strdup_printf("The database's orgvault schema is version %d, newer than this "
                                                   "orgvaultd's %d: upgrade orgvaultd", have, SCHEMA_VERSION);
                r = -EPROTO;
                goto fail;
        }
        for (int v = have + 1; v <= SCHEMA_VERSION; v++) {
                char ins[96];
                r = pg_cmd(p, migrations[v - 1], "migrate the schema");
                if (r < 0)
                        goto fail;
                snprintf(ins, sizeof ins, "INSERT INTO orgvault_schema_version (version) VALUES (%d)", v);
                r = pg_cmd(p, ins, "record the schema version");
                if (r < 0)
                        goto fail;
                log_info("Store: schema migrated to version %d", v);
        }
        return pg_cmd(p, "COMMIT", "commit migration");
fail:
        pg_rollback(p);
        return r;
}

/* What changed while nobody listened: every loaded org's counter against
 * what it loaded. Retried until it got through. */
static int pg_check_counters(PgStore *p, store_changed_cb cb, void *userdata) {
        for (size_t i = 0; i < p->n_orgs; i++) {
                _cleanup_pgresult_ PGresult *r = NULL;
                const char *params[] = { p->orgs[i].name };
                if (pg_exec(p, "SELECT changes FROM orgvault_orgs WHERE org = $1", 1, params, PGRES_TUPLES_OK, &r,
                            "read change counter") < 0)
                        return -ECONNREFUSED;
                long long changes = PQntuples(r) > 0 ? atoll(PQgetvalue(r, 0, 0)) : 0;
                if (changes != p->orgs[i].changes_seen)
                        cb(p->orgs[i].name, userdata);
        }
        p->listen_unchecked = false;
        return 0;
}

/* The LISTEN connection; a new one's counters are compared next
 * (pg_check_counters). */
static int pg_listen_connect(PgStore *p) {
        if (conn_ok(p->listen))
                return 0;
        if (p->listen)
                PQfinish(p->listen);
        p->listen = pg_connect(p);
        if (!p->listen)
                return -ECONNREFUSED;
        PGresult *res = PQexec(p->listen, "LISTEN " NOTIFY_CHANNEL);
        bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (!ok || PQsetnonblocking(p->listen, 1) < 0) {
                PQfinish(p->listen);
                p->listen = NULL;
                return -ECONNREFUSED;
        }
        p->listen_generation++;
        p->listen_unchecked = true;
        return 0;
}

/* Operations */

static int pg_load_org(Store *st, const char *org, Secret ***ret, size_t *ret_n, unsigned *ret_quarantined,
                       bool *ret_cache_stale) {
        PgStore *p = pg_of(st);
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *params[] = { org };
        Secret **a = NULL;
        size_t n = 0;
        unsigned bad = 0;
        int r;

        if (!org_name_valid(org))
                return -EINVAL;
        PgOrg *po = pg_org(p, org, true);
        if (!po)
                return -ENOMEM;
        /* One statement, one snapshot: the records and the counter they
         * correspond to. */
        r = pg_exec(p,
                    "SELECT o.changes, r.id, r.rev, r.record, coalesce(o.keys::text, ''), o.keys_rev FROM orgvault_orgs o"
                    " LEFT JOIN orgvault_records r ON r.org = o.org WHERE o.org = $1 ORDER BY r.id",
                    1, params, PGRES_TUPLES_OK, &res, "load org");
        if (r < 0)
                return r;
        int rows = PQntuples(res);
        a = calloc(rows > 0 ? rows : 1, sizeof(Secret *));
        if (!a)
                return -ENOMEM;
        po->changes_seen = rows > 0 ? atoll(PQgetvalue(res, 0, 0)) : 0;
        free(po->snapshot_keys);
        po->snapshot_keys = strdup(rows > 0 ? PQgetvalue(res, 0, 4) : "");
        po->snapshot_keys_rev = rows > 0 ? atoll(PQgetvalue(res, 0, 5)) : 0;
        po->has_snapshot = po->snapshot_keys != NULL;
        for (int i = 0; i < rows; i++) {
                if (PQgetisnull(res, i, 1))
                        continue;        /* an org row without records */
                _cleanup_free_ char *error = NULL;
                Secret *s = NULL;
                r = secret_parse_text(PQgetvalue(res, i, 3), (size_t) PQgetlength(res, i, 3), org, &s, &error);
                if (r == -ENOMEM)
                        goto nomem;
                if (r < 0 || strcmp(s->id, PQgetvalue(res, i, 1)) != 0) {
                        /* Set aside, not deleted: an admin can read the row. */
                        log_error("Store: record %s/%s in the database is unusable, ignored: %s", org,
                                  PQgetvalue(res, i, 1), error ?: "id does not match its row");
                        secret_free(s);
                        bad++;
                        continue;
                }
                s->stamp = (RecordStamp) { .ino = (uint64_t) atoll(PQgetvalue(res, i, 2)) };
                a[n++] = s;
        }
        po->quarantined = bad;
        *ret = a;
        *ret_n = n;
        if (ret_quarantined)
                *ret_quarantined = bad;
        if (ret_cache_stale)
                *ret_cache_stale = false;        /* the database is its own index */
        return 0;
nomem:
        for (size_t i = 0; i < n; i++)
                secret_free(a[i]);
        free(a);
        return -ENOMEM;
}

/* Runs one mutation as its own transaction: the org's advisory lock shared
 * (a rotation holds it exclusively), the statement, COMMIT. The statement
 * returns (rev, changes) of what it wrote, or no row when the version it
 * names is not the database's (-ESTALE). */
static int pg_mutate(PgStore *p, const char *org, const char *sql, int n, const char *const *params, bool exclusive,
                     long long *ret_rev, const char *what) {
        _cleanup_pgresult_ PGresult *res = NULL;
        char lock[96];
        int r;

        snprintf(lock, sizeof lock, "SELECT pg_advisory_xact_lock%s(%d, %d)", exclusive ? "" : "_shared", LOCK_CLASS,
                 org_lock_key(org));
        r = pg_cmd(p, "BEGIN", what);
        if (r < 0)
                return r;
        r = pg_exec(p, lock, 0, NULL, PGRES_TUPLES_OK, NULL, what);
        if (r >= 0)
                r = pg_exec(p, sql, n, params, PGRES_TUPLES_OK, &res, what);
        if (r >= 0 && PQntuples(res) == 0)
                r = -ESTALE;
        if (r < 0) {
                pg_rollback(p);
                return r;
        }
        r = pg_cmd(p, "COMMIT", what);
        if (r < 0)
                return r;        /* not acknowledged: the caller reports it */
        long long rev = atoll(PQgetvalue(res, 0, 0)), changes = atoll(PQgetvalue(res, 0, 1));
        PgOrg *po = pg_org(p, org, true);
        if (po && changes == po->changes_seen + 1)
                po->changes_seen = changes;      /* only our own change since the load */
        if (ret_rev)
                *ret_rev = rev;
        return 0;
}

static int pg_save_secret(Store *st, const char *org, const Secret *s, RecordStamp *ret_stamp) {
        PgStore *p = pg_of(st);
        char key_id[16], old_rev[24], keys_rev[24];
        long long rev = 0;
        int r;

        if (ret_stamp)
                *ret_stamp = (RecordStamp) {};
        if (!org_name_valid(org) || !secret_id_valid(s->id))
                return -EINVAL;
        _cleanup_json_ json_t *j = secret_to_json(s, org);
        _cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        _cleanup_free_ char *nkey = name_key(s->name);
        PgOrg *po = pg_org(p, org, true);
        if (!text || !nkey || !po)
                return -ENOMEM;
        snprintf(key_id, sizeof key_id, "%u", s->key_id);
        snprintf(old_rev, sizeof old_rev, "%llu", (unsigned long long) s->stamp.ino);
        snprintf(keys_rev, sizeof keys_rev, "%lld", po->keys_rev);
        const char *params[] = { org, s->id, s->name, nkey, s->type, key_id, text, keys_rev, old_rev };

        /* The org's keys must be the ones this host sealed with. */
        static const char insert[] =
                "WITH w AS (INSERT INTO orgvault_records (org, id, name, name_key, type, key_id, rev, record)"
                "  SELECT $1, $2, $3, $4, $5, $6, 1, $7::json"
                "  WHERE EXISTS (SELECT 1 FROM orgvault_orgs WHERE org = $1 AND keys_rev = $8) AND $9 = '0'"
                "  RETURNING rev),"
                " c AS (UPDATE orgvault_orgs SET changes = changes + 1 WHERE org = $1 AND EXISTS (SELECT 1 FROM w)"
                "  RETURNING changes)"
                " SELECT w.rev, c.changes, pg_notify('" NOTIFY_CHANNEL "', $1 || ' ' || $2 || ' add ' || c.changes)"
                " FROM w, c";
        static const char update[] =
                "WITH w AS (UPDATE orgvault_records SET name = $3, name_key = $4, type = $5, key_id = $6,"
                "  rev = rev + 1, record = $7::json, written = now()"
                "  WHERE org = $1 AND id = $2 AND rev = $9::bigint"
                "  AND EXISTS (SELECT 1 FROM orgvault_orgs WHERE org = $1 AND keys_rev = $8)"
                "  RETURNING rev),"
                " c AS (UPDATE orgvault_orgs SET changes = changes + 1 WHERE org = $1 AND EXISTS (SELECT 1 FROM w)"
                "  RETURNING changes)"
                " SELECT w.rev, c.changes, pg_notify('" NOTIFY_CHANNEL "', $1 || ' ' || $2 || ' change ' || c.changes)"
                " FROM w, c";
        r = pg_mutate(p, org, s->stamp.ino == 0 ? insert : update, 9, params, false, &rev, "write record");
        if (r < 0)
                return r;
        if (ret_stamp)
                *ret_stamp = (RecordStamp) { .ino = (uint64_t) rev };
        return 0;
}

static int pg_delete_secret(Store *st, const char *org, const Secret *s) {
        char old_rev[24];

        if (!org_name_valid(org) || !secret_id_valid(s->id))
                return -EINVAL;
        snprintf(old_rev, sizeof old_rev, "%llu", (unsigned long long) s->stamp.ino);
        const char *params[] = { org, s->id, old_rev };
        return pg_mutate(pg_of(st), org,
                         "WITH w AS (DELETE FROM orgvault_records WHERE org = $1 AND id = $2 AND rev = $3::bigint"
                         "  RETURNING rev),"
                         " c AS (UPDATE orgvault_orgs SET changes = changes + 1 WHERE org = $1"
                         "  AND EXISTS (SELECT 1 FROM w) RETURNING changes)"
                         " SELECT w.rev, c.changes, pg_notify('" NOTIFY_CHANNEL "', $1 || ' ' || $2 || ' remove ' || c.changes)"
                         " FROM w, c",
                         3, params, false, NULL, "delete record");
}

/* The trash (docs/FORMAT.md, "Trash"): a delete moves the row's record,
 * unchanged, to orgvault_trash in the same transaction; a restore moves it
 * back as a new row (rev 1). */
static int pg_trash_secret(Store *st, const char *org, const Secret *s, uint64_t deleted, uint64_t replaces) {
        char old_rev[24], when[24];

        if (!org_name_valid(org) || !secret_id_valid(s->id))
                return -EINVAL;
        snprintf(old_rev, sizeof old_rev, "%llu", (unsigned long long) s->stamp.ino);
        snprintf(when, sizeof when, "%llu", (unsigned long long) deleted);
        const char *params[] = { org, s->id, old_rev, when };
        /* At most one entry per id: the newer delete replaces the older. */
        return pg_mutate(pg_of(st), org,
                         "WITH d AS (DELETE FROM orgvault_records WHERE org = $1 AND id = $2 AND rev = $3::bigint"
                         "  RETURNING record),"
                         " t AS (INSERT INTO orgvault_trash (org, id, deleted, record)"
                         "  SELECT $1, $2, $4::bigint, record FROM d"
                         "  ON CONFLICT (org, id) DO UPDATE SET deleted = EXCLUDED.deleted, record = EXCLUDED.record"
                         "  RETURNING 0 AS rev),"
                         " c AS (UPDATE orgvault_orgs SET changes = changes + 1 WHERE org = $1"
                         "  AND EXISTS (SELECT 1 FROM d) RETURNING changes)"
                         " SELECT t.rev, c.changes, pg_notify('" NOTIFY_CHANNEL "', $1 || ' ' || $2 || ' trash ' || c.changes)"
                         " FROM t, c",
                         4, params, false, NULL, "move to the trash");
}

static int pg_restore_secret(Store *st, const char *org, const Secret *s, RecordStamp *ret_stamp) {
        char when[24], key_id[16];
        long long rev = 0;

        if (!org_name_valid(org) || !secret_id_valid(s->id))
                return -EINVAL;
        _cleanup_free_ char *nkey = name_key(s->name);
        if (!nkey)
                return -ENOMEM;
        snprintf(when, sizeof when, "%llu", (unsigned long long) s->deleted);
        snprintf(key_id, sizeof key_id, "%u", s->key_id);
        const char *params[] = { org, s->id, when, s->name, nkey, s->type, key_id };
        int r = pg_mutate(pg_of(st), org,
                          "WITH t AS (DELETE FROM orgvault_trash WHERE org = $1 AND id = $2 AND deleted = $3::bigint"
                          "  RETURNING record),"
                          " w AS (INSERT INTO orgvault_records (org, id, name, name_key, type, key_id, rev, record)"
                          "  SELECT $1, $2, $4, $5, $6, $7::bigint, 1, record FROM t RETURNING rev),"
                          " c AS (UPDATE orgvault_orgs SET changes = changes + 1 WHERE org = $1"
                          "  AND EXISTS (SELECT 1 FROM w) RETURNING changes)"
                          " SELECT w.rev, c.changes, pg_notify('" NOTIFY_CHANNEL "', $1 || ' ' || $2 || ' restore ' || c.changes)"
                          " FROM w, c",
                          7, params, false, &rev, "restore from the trash");
        if (r < 0)
                return r;
        if (ret_stamp)
                *ret_stamp = (RecordStamp) { .ino = (uint64_t) rev };
        return 0;
}

static int pg_purge_trashed(Store *st, const char *org, const Secret *s) {
        char when[24];

        if (!org_name_valid(org) || !secret_id_valid(s->id))
                return -EINVAL;
        snprintf(when, sizeof when, "%llu", (unsigned long long) s->deleted);
        const char *params[] = { org, s->id, when };
        int r = pg_mutate(pg_of(st), org,
                          "WITH t AS (DELETE FROM orgvault_trash WHERE org = $1 AND id = $2 AND deleted = $3::bigint"
                          "  RETURNING 0 AS rev),"
                          " c AS (UPDATE orgvault_orgs SET changes = changes + 1 WHERE org = $1"
                          "  AND EXISTS (SELECT 1 FROM t) RETURNING changes)"
                          " SELECT t.rev, c.changes, pg_notify('" NOTIFY_CHANNEL "', $1 || ' ' || $2 || ' purge ' || c.changes)"
                          " FROM t, c",
                          3, params, false, NULL, "purge from the trash");
        return r == -ESTALE ? -ENOENT : r;       /* gone already (another host purged it) */
}

/* A rotation re-seals trash entries in place. */
static int pg_save_trashed(Store *st, const char *org, const Secret *s) {
        char when[24];

        if (!org_name_valid(org) || !secret_id_valid(s->id))
                return -EINVAL;
        _cleanup_json_ json_t *j = secret_to_json(s, org);
        _cleanup_free_ char *text = j ? json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
        if (!text)
                return -ENOMEM;
        snprintf(when, sizeof when, "%llu", (unsigned long long) s->deleted);
        const char *params[] = { org, s->id, when, text };
        return pg_mutate(pg_of(st), org,
                         "WITH t AS (UPDATE orgvault_trash SET record = $4::json"
                         "  WHERE org = $1 AND id = $2 AND deleted = $3::bigint RETURNING 0 AS rev),"
                         " c AS (UPDATE orgvault_orgs SET changes = changes + 1 WHERE org = $1"
                         "  AND EXISTS (SELECT 1 FROM t) RETURNING changes)"
                         " SELECT t.rev, c.changes, pg_notify('" NOTIFY_CHANNEL "', $1 || ' ' || $2 || ' trash ' || c.changes)"
                         " FROM t, c",
                         4, params, false, NULL, "re-seal in the trash");
}

static int pg_load_trash(Store *st, const char *org, Secret ***ret, size_t *ret_n, unsigned *ret_quarantined) {
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *params[] = { org };
        unsigned bad = 0;
        size_t n = 0;

        if (!org_name_valid(org))
                return -EINVAL;
        int r = pg_exec(pg_of(st), "SELECT id, deleted, record FROM orgvault_trash WHERE org = $1 ORDER BY id", 1,
                        params, PGRES_TUPLES_OK, &res, "load the trash");
        if (r < 0)
                return r;
        int rows = PQntuples(res);
        Secret **a = calloc(rows > 0 ? rows : 1, sizeof(Secret *));
        if (!a)
                return -ENOMEM;
        for (int i = 0; i < rows; i++) {
                _cleanup_free_ char *error = NULL;
                Secret *s = NULL;
                r = secret_parse_text(PQgetvalue(res, i, 2), (size_t) PQgetlength(res, i, 2), org, &s, &error);
                if (r == -ENOMEM) {
                        for (size_t k = 0; k < n; k++)
                                secret_free(a[k]);
                        free(a);
                        return r;
                }
                if (r < 0 || strcmp(s->id, PQgetvalue(res, i, 0)) != 0) {
                        log_error("Store: trash entry %s/%s in the database is unusable, ignored: %s", org,
                                  PQgetvalue(res, i, 0), error ?: "id does not match its row");
                        secret_free(s);
                        bad++;
                        continue;
                }
                s->deleted = (uint64_t) atoll(PQgetvalue(res, i, 1));
                a[n++] = s;
        }
        *ret = a;
        *ret_n = n;
        if (ret_quarantined)
                *ret_quarantined = bad;
        return 0;
}

static int pg_load_manifest(Store *st, const char *org, char **ret_text, size_t *ret_len) {
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *params[] = { org };
        int r = pg_exec(pg_of(st), "SELECT manifest FROM orgvault_orgs WHERE org = $1", 1, params, PGRES_TUPLES_OK,
                        &res, "load the manifest");
        if (r < 0)
                return r;
        if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
                return -ENOENT;
        size_t len = (size_t) PQgetlength(res, 0, 0);
        char *text = malloc(len + 1);
        if (!text)
                return -ENOMEM;
        memcpy(text, PQgetvalue(res, 0, 0), len);
        text[len] = 0;
        *ret_text = text;
        *ret_len = len;
        return 0;
}

/* Each host writes the manifest of what it knows; versions only grow, so
 * no host's manifest says a record is newer than it is. */
static int pg_save_manifest(Store *st, const char *org, const char *text, size_t len) {
        const char *params[] = { org, text };
        return pg_exec(pg_of(st),
                       "INSERT INTO orgvault_orgs AS o (org, manifest) VALUES ($1, $2::json)"
                       " ON CONFLICT (org) DO UPDATE SET manifest = EXCLUDED.manifest",
                       2, params, PGRES_COMMAND_OK, NULL, "write the manifest");
}

/* Set aside, not deleted: the row moves to orgvault_quarantine with the
 * reason, in one transaction. */
static int pg_quarantine_record(Store *st, const char *org, const Secret *s, const char *reason) {
        char when[24];

        if (!org_name_valid(org) || !secret_id_valid(s->id))
                return -EINVAL;
        snprintf(when, sizeof when, "%llu", (unsigned long long) s->deleted);
        const char *params[] = { org, s->id, when, reason ?: "" };
        const char *sql = s->deleted
                ? "WITH d AS (DELETE FROM orgvault_trash WHERE org = $1 AND id = $2 AND deleted = $3::bigint RETURNING record),"
                  " q AS (INSERT INTO orgvault_quarantine (org, id, deleted, record, reason)"
                  "  SELECT $1, $2, $3::bigint, record, $4 FROM d RETURNING 0 AS rev),"
                  " c AS (UPDATE orgvault_orgs SET changes = changes + 1 WHERE org = $1 AND EXISTS (SELECT 1 FROM d)"
                  "  RETURNING changes)"
                  " SELECT q.rev, c.changes FROM q, c"
                : "WITH d AS (DELETE FROM orgvault_records WHERE org = $1 AND id = $2 AND $3 = '0' RETURNING record),"
                  " q AS (INSERT INTO orgvault_quarantine (org, id, deleted, record, reason)"
                  "  SELECT $1, $2, 0, record, $4 FROM d RETURNING 0 AS rev),"
                  " c AS (UPDATE orgvault_orgs SET changes = changes + 1 WHERE org = $1 AND EXISTS (SELECT 1 FROM d)"
                  "  RETURNING changes)"
                  " SELECT q.rev, c.changes, pg_notify('" NOTIFY_CHANNEL "', $1 || ' ' || $2 || ' remove ' || c.changes)"
                  " FROM q, c";
        int r = pg_mutate(pg_of(st), org, sql, 4, params, false, NULL, "quarantine a record");
        if (r >= 0) {
                PgOrg *po = pg_org(pg_of(st), org, false);
                if (po)
                        po->quarantined++;
        }
        return r == -ESTALE ? -ENOENT : r;
}

static int pg_load_org_keys(Store *st, const char *org, json_t **ret) {
        PgStore *p = pg_of(st);
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *params[] = { org };

        PgOrg *po = pg_org(p, org, true);
        if (!po)
                return -ENOMEM;
        if (po->has_snapshot) {
                _cleanup_free_ char *text = TAKE_PTR(po->snapshot_keys);
                po->has_snapshot = false;
                po->keys_rev = po->snapshot_keys_rev;
                if (!*text)
                        return -ENOENT;
                json_t *j = json_loads(text, 0, NULL);
                if (!j)
                        return -EBADMSG;
                *ret = j;
                return 0;
        }
        int r = pg_exec(p, "SELECT keys, keys_rev FROM orgvault_orgs WHERE org = $1", 1, params, PGRES_TUPLES_OK,
                        &res, "load org keys");
        if (r < 0)
                return r;
        if (PQntuples(res) == 0) {
                po->keys_rev = 0;
                return -ENOENT;
        }
        po->keys_rev = atoll(PQgetvalue(res, 0, 1));
        if (PQgetisnull(res, 0, 0))
                return -ENOENT;
        json_t *j = json_loadb(PQgetvalue(res, 0, 0), (size_t) PQgetlength(res, 0, 0), 0, NULL);
        if (!j)
                return -EBADMSG;
        *ret = j;
        return 0;
}

/* Replaces the key document only if it is still the one this host read. */
static int pg_save_org_keys(Store *st, const char *org, json_t *doc) {
        PgStore *p = pg_of(st);
        char keys_rev[24];
        long long rev = 0;

        PgOrg *po = pg_org(p, org, true);
        _cleanup_free_ char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
        if (!po || !text)
                return -ENOMEM;
        snprintf(keys_rev, sizeof keys_rev, "%lld", po->keys_rev);
        const char *params[] = { org, text, keys_rev };
        int r = pg_mutate(p, org,
                          "WITH w AS (INSERT INTO orgvault_orgs AS o (org, keys, keys_rev, changes)"
                          "  VALUES ($1, $2::json, 1, 1)"
                          "  ON CONFLICT (org) DO UPDATE SET keys = EXCLUDED.keys, keys_rev = o.keys_rev + 1,"
                          "   changes = o.changes + 1"
                          "  WHERE o.keys_rev = $3::bigint RETURNING keys_rev, changes)"
                          " SELECT w.keys_rev, w.changes, pg_notify('" NOTIFY_CHANNEL "', $1 || ' - keys ' || w.changes)"
                          " FROM w WHERE $3::bigint = w.keys_rev - 1",
                          3, params, true, &rev, "write org keys");
        if (r < 0)
                return r;
        po->keys_rev = rev;
        return 0;
}

static int pg_load_usage(Store *st, const char *org, json_t **ret) {
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *params[] = { org };
        int r = pg_exec(pg_of(st), "SELECT usage FROM orgvault_orgs WHERE org = $1", 1, params, PGRES_TUPLES_OK,
                        &res, "load usage");
        if (r < 0)
                return r;
        json_t *j = PQntuples(res) > 0 ? json_loadb(PQgetvalue(res, 0, 0), (size_t) PQgetlength(res, 0, 0), 0, NULL)
                                       : json_object();
        if (!j)
                return PQntuples(res) > 0 ? -EBADMSG : -ENOMEM;
        if (!json_is_object(j)) {
                json_decref(j);
                return -EBADMSG;
        }
        *ret = j;
        return 0;
}

/* Merged into what other hosts wrote: each host adds the uses it saw. */
static int pg_save_usage(Store *st, const char *org, json_t *usage) {
        _cleanup_free_ char *text = json_dumps(usage, JSON_COMPACT);
        if (!text)
                return -ENOMEM;
        const char *params[] = { org, text };
        return pg_exec(pg_of(st),
                       "INSERT INTO orgvault_orgs AS o (org, usage) VALUES ($1, $2::jsonb)"
                       " ON CONFLICT (org) DO UPDATE SET usage = o.usage || EXCLUDED.usage",
                       2, params, PGRES_COMMAND_OK, NULL, "write usage");
}

static int pg_save_org_index(Store *st, const char *org, Secret *const *by_id, size_t n) {
        return 0;        /* no load cache: the database's indexes are it */
}

static int pg_list_orgs(Store *st, char ***ret) {
        _cleanup_pgresult_ PGresult *res = NULL;
        _cleanup_strv_free_ char **l = strv_new_empty();
        if (!l)
                return -ENOMEM;
        int r = pg_exec(pg_of(st), "SELECT org FROM orgvault_orgs ORDER BY org", 0, NULL, PGRES_TUPLES_OK, &res,
                        "list orgs");
        if (r < 0)
                return r;
        for (int i = 0; i < PQntuples(res); i++)
                if (strv_push(&l, PQgetvalue(res, i, 0)) < 0)
                        return -ENOMEM;
        *ret = TAKE_PTR(l);
        return 0;
}

static int pg_count_secrets(Store *st, const char *org, unsigned *ret) {
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *params[] = { org };
        int r = pg_exec(pg_of(st), "SELECT count(*) FROM orgvault_records WHERE org = $1", 1, params,
                        PGRES_TUPLES_OK, &res, "count records");
        if (r < 0)
                return r;
        *ret = (unsigned) atoll(PQgetvalue(res, 0, 0));
        return 0;
}

/* Rows set aside by this host's loads (a database has no quarantine/). */
static unsigned pg_count_quarantined(Store *st, const char *org) {
        PgStore *p = pg_of(st);
        unsigned n = 0;
        for (size_t i = 0; i < p->n_orgs; i++)
                if (!org || strcmp(p->orgs[i].name, org) == 0)
                        n += p->orgs[i].quarantined;
        return n;
}

static bool pg_degraded(Store *st) { return pg_of(st)->degraded; }

/* The first host records the master key's fingerprint; every later one
 * must have the same key, or it would seal records no other host opens. */
static int pg_check_master(Store *st, const char *fingerprint) {
        PgStore *p = pg_of(st);
        _cleanup_pgresult_ PGresult *res = NULL;
        const char *params[] = { fingerprint };
        int r = pg_exec(p,
                        "WITH i AS (INSERT INTO orgvault_meta (key, value) VALUES ('master_fingerprint', $1)"
                        "  ON CONFLICT (key) DO NOTHING RETURNING value)"
                        " SELECT value FROM i UNION ALL"
                        " SELECT value FROM orgvault_meta WHERE key = 'master_fingerprint' AND NOT EXISTS (SELECT 1 FROM i)",
                        1, params, PGRES_TUPLES_OK, &res, "check the master key");
        if (r < 0)
                return r;
        if (PQntuples(res) != 1 || strcmp(PQgetvalue(res, 0, 0), fingerprint) != 0)
                return -EKEYREJECTED;
        return 0;
}

static void pg_unlock_org(Store *st, const char *org) {
        PgStore *p = pg_of(st);
        char sql[128];

        /* A lost connection released it already. */
        if (!conn_ok(p->conn))
                return;
        snprintf(sql, sizeof sql, "SELECT pg_advisory_unlock(%d, %d)", LOCK_CLASS, org_lock_key(org));
        (void) pg_exec(p, sql, 0, NULL, PGRES_TUPLES_OK, NULL, "unlock org");
}

static int pg_lock_org(Store *st, const char *org, bool *ret_changed) {
        PgStore *p = pg_of(st);
        _cleanup_pgresult_ PGresult *res = NULL;
        char sql[128];
        const char *params[] = { org };

        snprintf(sql, sizeof sql, "SELECT pg_advisory_lock(%d, %d)", LOCK_CLASS, org_lock_key(org));
        int r = pg_exec(p, sql, 0, NULL, PGRES_TUPLES_OK, NULL, "lock org");
        if (r < 0)
                return r;
        r = pg_exec(p, "SELECT changes FROM orgvault_orgs WHERE org = $1", 1, params, PGRES_TUPLES_OK, &res,
                    "read change counter");
        if (r < 0) {
                pg_unlock_org(st, org);
                return r;
        }
        PgOrg *po = pg_org(p, org, false);
        long long changes = PQntuples(res) > 0 ? atoll(PQgetvalue(res, 0, 0)) : 0;
        *ret_changed = !po || changes != po->changes_seen;
        return 0;
}

static int pg_watch(Store *st, int *ret_fd, uint64_t *ret_generation) {
        PgStore *p = pg_of(st);
        *ret_fd = conn_ok(p->listen) ? PQsocket(p->listen) : -1;
        *ret_generation = p->listen_generation;
        return 0;
}

/* "<org> <id> <op> <changes>": an org loaded here whose counter moved past
 * what it loaded (its own writes moved changes_seen already). */
static void pg_notified(PgStore *p, const char *payload, store_changed_cb cb, void *userdata) {
        char org[64];
        long long changes = 0;

        if (sscanf(payload, "%63s %*s %*s %lld", org, &changes) != 2)
                return;
        PgOrg *po = pg_org(p, org, false);
        if (po && changes > po->changes_seen)
                cb(po->name, userdata);
}

static int pg_process(Store *st, store_changed_cb cb, void *userdata) {
        PgStore *p = pg_of(st);
        int r;

        if (!conn_ok(p->listen)) {
                r = pg_listen_connect(p);
                if (r < 0)
                        return r;
                log_info("Store: listening for changes again");
        }
        if (p->listen_unchecked) {
                r = pg_check_counters(p, cb, userdata);
                if (r < 0)
                        return r;
        }
        if (!PQconsumeInput(p->listen)) {
                log_warning("Store: lost the PostgreSQL connection for changes: %s", PQerrorMessage(p->listen));
                PQfinish(p->listen);
                p->listen = NULL;
                p->listen_generation++;
                p->degraded = true;
                return -ECONNRESET;
        }
        PGnotify *n;
        while ((n = PQnotifies(p->listen))) {
                pg_notified(p, n->extra, cb, userdata);
                PQfreemem(n);
        }
        return 0;
}

static void pg_free(Store *st) {
        PgStore *p = pg_of(st);
        if (p->conn)
                PQfinish(p->conn);
        if (p->listen)
                PQfinish(p->listen);
        for (size_t i = 0; i < p->n_orgs; i++) {
                free(p->orgs[i].name);
                free(p->orgs[i].snapshot_keys);
        }
        free(p->orgs);
        free_secret_string(p->password);
        free(p->uri);
        free(p);
}

/* No group commit: each write is its own transaction, committed when it
 * returns (a batch across hosts would have to hold the org's lock). */
static int pg_set_group_commit(Store *st, bool on) { return on ? -EOPNOTSUPP : 0; }
static size_t pg_pending(Store *st) { return 0; }
static int pg_commit(Store *st) { return 0; }

static const StoreOps pg_ops = {
        .kind = "postgresql",
        .free = pg_free,
        .load_org = pg_load_org,
        .save_secret = pg_save_secret,
        .delete_secret = pg_delete_secret,
        .load_org_keys = pg_load_org_keys,
        .save_org_keys = pg_save_org_keys,
        .load_usage = pg_load_usage,
        .save_usage = pg_save_usage,
        .save_org_index = pg_save_org_index,
        .trash_secret = pg_trash_secret,
        .restore_secret = pg_restore_secret,
        .purge_trashed = pg_purge_trashed,
        .save_trashed = pg_save_trashed,
        .load_trash = pg_load_trash,
        .load_manifest = pg_load_manifest,
        .save_manifest = pg_save_manifest,
        .quarantine_record = pg_quarantine_record,
        .set_group_commit = pg_set_group_commit,
        .pending = pg_pending,
        .commit = pg_commit,
        .list_orgs = pg_list_orgs,
        .count_secrets = pg_count_secrets,
        .count_quarantined = pg_count_quarantined,
        .degraded = pg_degraded,
        .check_master = pg_check_master,
        .lock_org = pg_lock_org,
        .unlock_org = pg_unlock_org,
        .watch = pg_watch,
        .process = pg_process,
};

/* $CREDENTIALS_DIRECTORY/orgvault.pg-password (LoadCredential[Encrypted]=),
 * without its trailing newline; NULL when there is none. */
static int read_password(char **ret) {
        const char *dir = getenv("CREDENTIALS_DIRECTORY");
        *ret = NULL;
        if (!dir)
                return 0;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return 0;
        char *pw = NULL;
        size_t len = 0;
        int r = read_file_at(fd, "orgvault.pg-password", PASSWORD_MAX, &pw, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        while (len > 0 && (pw[len - 1] == '\n' || pw[len - 1] == '\r'))
                pw[--len] = 0;
        *ret = pw;
        return 0;
}

/* A password in the URI would be in argv (ps, the unit file): refused. */
static int check_uri(const char *uri, char **ret_error) {
        char *err = NULL;
        PQconninfoOption *opts = PQconninfoParse(uri, &err);
        if (!opts) {
                if (ret_error)
                        *ret_error = strdup_printf("Invalid PostgreSQL URI: %s", err ?: "out of memory");
                PQfreemem(err);
                return -EINVAL;
        }
        int r = 0;
        for (PQconninfoOption *o = opts; o->keyword; o++)
                if (strcmp(o->keyword, "password") == 0 && o->val && *o->val) {
                        if (ret_error)
                                *ret_error = strdup("The store URI must not hold a password: use the credential "
                                                    "orgvault.pg-password or a PGPASSFILE");
                        r = -EINVAL;
                }
        PQconninfoFree(opts);
        return r;
}

int store_pg_new(const char *uri, Store **ret, char **ret_error) {
        int r = pq_dl_open(ret_error);
        if (r < 0)
                return r;
        r = check_uri(uri, ret_error);
        if (r < 0)
                return r;
        PgStore *p = calloc(1, sizeof(PgStore));
        if (!p)
                return -ENOMEM;
        _cleanup_(store_freep) Store *st = &p->base;
        p->base.ops = &pg_ops;
        p->listen_generation = 1;        /* 0 would mean: nothing to watch */
        if (!(p->uri = strdup(uri)))
                return -ENOMEM;
        r = read_password(&p->password);
        if (r < 0) {
                if (ret_error)
                        *ret_error = strdup_printf("Cannot read the credential orgvault.pg-password: %s", strerror(-r));
                return r;
        }
        p->conn = pg_connect(p);
        if (!p->conn) {
                if (ret_error)
                        *ret_error = strdup("Cannot connect to PostgreSQL (see the log)");
                return -ECONNREFUSED;
        }
        r = pg_migrate(p, ret_error);
        if (r < 0) {
                if (ret_error && !*ret_error)
                        *ret_error = strdup_printf("Cannot create or migrate the schema: %s", strerror(-r));
                return r;
        }
        (void) pg_listen_connect(p);     /* the event loop retries */
        p->listen_unchecked = false;     /* nothing loaded yet */
        *ret = TAKE_PTR(st);
        return 0;
}
