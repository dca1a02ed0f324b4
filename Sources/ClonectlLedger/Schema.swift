/// The ledger's schema, as ordered migrations. `PRAGMA user_version` holds how many have run; a migration is never
/// edited once released, only followed by another.
enum Schema {
    static let migrations: [String] = [
        // 1: the first schema.
        """
        CREATE TABLE runs (
            id TEXT PRIMARY KEY,
            plan_name TEXT NOT NULL,
            plan_path TEXT NOT NULL,
            plan_sha256 TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'interrupted', 'cleaned')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            finished_at TEXT,
            state_json TEXT
        );
        CREATE INDEX runs_by_plan ON runs (plan_name, status);

        CREATE TABLE steps (
            run_id TEXT NOT NULL REFERENCES runs (id),
            name TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped')),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            error TEXT,
            state_json TEXT,
            PRIMARY KEY (run_id, name)
        );

        CREATE TABLE commands (
            command_id TEXT PRIMARY KEY,
            run_id TEXT REFERENCES runs (id),
            step TEXT NOT NULL,
            payload TEXT NOT NULL,
            version TEXT NOT NULL,
            payload_sha256 TEXT NOT NULL,
            nonce TEXT NOT NULL,
            instance_ids TEXT NOT NULL,
            parameters_json TEXT NOT NULL,
            sent_at TEXT NOT NULL
        );
        CREATE INDEX commands_by_run ON commands (run_id, step);

        CREATE TABLE invocations (
            command_id TEXT NOT NULL REFERENCES commands (command_id),
            instance_id TEXT NOT NULL,
            status TEXT NOT NULL,
            status_details TEXT,
            response_code INTEGER,
            output TEXT,
            verdict TEXT,
            result_json TEXT,
            started_at TEXT,
            finished_at TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (command_id, instance_id)
        );
        CREATE INDEX invocations_by_instance ON invocations (instance_id);

        CREATE TABLE resources (
            kind TEXT NOT NULL,
            id TEXT NOT NULL,
            run_id TEXT NOT NULL REFERENCES runs (id),
            step TEXT NOT NULL,
            created_at TEXT NOT NULL,
            deleted_at TEXT,
            PRIMARY KEY (kind, id)
        );
        CREATE INDEX resources_by_run ON resources (run_id);

        CREATE TABLE events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT,
            at TEXT NOT NULL,
            level TEXT NOT NULL,
            step TEXT,
            message TEXT NOT NULL
        );
        CREATE INDEX events_by_run ON events (run_id, seq);

        CREATE TABLE locks (
            name TEXT PRIMARY KEY,
            run_id TEXT,
            owner_host TEXT NOT NULL,
            owner_pid INTEGER NOT NULL,
            acquired_at TEXT NOT NULL,
            heartbeat_at TEXT NOT NULL
        );
        """,
        // 2: a step can be 'undone': a run cleaned up (`cleanup RUN --all`, `--on-error cleanup`) keeps its steps' history
        // but no longer counts them as succeeded, so nothing resumes it over deleted images (SQLite cannot change a
        // CHECK constraint in place: the table is rebuilt).
        """
        CREATE TABLE steps_v2 (
            run_id TEXT NOT NULL REFERENCES runs (id),
            name TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN ('running', 'succeeded', 'failed', 'skipped', 'undone')),
            started_at TEXT NOT NULL,
            finished_at TEXT,
            error TEXT,
            state_json TEXT,
            PRIMARY KEY (run_id, name)
        );
        INSERT INTO steps_v2 (run_id, name, status, started_at, finished_at, error, state_json)
            SELECT run_id, name, status, started_at, finished_at, error, state_json FROM steps;
        DROP TABLE steps;
        ALTER TABLE steps_v2 RENAME TO steps
        """,
        // 3: what the run report needs and the ledger did not hold: who ran it and where (the caller ARN from
        // GetCallerIdentity, the region), what a resource is besides its id (name, private IP: `detail_json`), and the waits (image pending, source stopping, Sysprep shutdown, agents
        // coming online) with their start and end, so a timeline shows them as waits and not as work.
        """
        ALTER TABLE runs ADD COLUMN caller_arn TEXT;
        ALTER TABLE runs ADD COLUMN region TEXT;
        ALTER TABLE resources ADD COLUMN detail_json TEXT;
        CREATE TABLE waits (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL REFERENCES runs (id),
            step TEXT NOT NULL,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            outcome TEXT
        );
        CREATE INDEX waits_by_run ON waits (run_id, seq)
        """,
        // 4: SendCommand intents (issue 11). Written before the command goes out, so a crash or a lost answer leaves
        // what to look for in Run Command: the nonce (in the parameters and, cut to 16, in the Comment) and the time.
        // attempt_at: when the latest attempt went out (a previous process's call may land until its timeout ends).
        """
        CREATE TABLE command_intents (
            nonce TEXT PRIMARY KEY,
            run_id TEXT REFERENCES runs (id),
            step TEXT NOT NULL,
            payload TEXT NOT NULL,
            version TEXT NOT NULL,
            payload_sha256 TEXT NOT NULL,
            instance_ids TEXT NOT NULL,
            parameters_json TEXT NOT NULL,
            comment TEXT NOT NULL,
            created_at TEXT NOT NULL,
            attempt_at TEXT,
            command_id TEXT,
            state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'abandoned'))
        );
        CREATE INDEX command_intents_by_run ON command_intents (run_id, step, state);
        """,
        // 5: how each command reached the instance (issue 14): mode inline (AWS-RunPowerShellScript with the loader)
        // or documents (clonectl's own document version, pinned by its SHA-256). Keyed by the nonce, written with the
        // intent before the command goes out, so a command adopted after a lost answer has it too.
        """
        CREATE TABLE command_documents (
            nonce TEXT PRIMARY KEY,
            mode TEXT NOT NULL CHECK (mode IN ('inline', 'documents')),
            document_name TEXT NOT NULL,
            document_arn TEXT,
            document_version TEXT,
            document_hash TEXT
        );
        """,
    ]
}
