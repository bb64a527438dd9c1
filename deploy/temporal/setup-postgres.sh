#!/bin/sh
# Creates Temporal's two PostgreSQL databases (the default store and the visibility store) when they
# are missing and migrates both to the schema version shipped in this admin-tools image. Safe to rerun
# on every `docker compose up`: setup-schema keeps an existing version, update-schema applies only newer
# versions. Connection settings come from SQL_PLUGIN, SQL_HOST, SQL_PORT, SQL_USER and SQL_PASSWORD.
set -eu

schema_root=/etc/temporal/schema/postgresql/v12

migrate() {
  db=$1
  schema_dir=$schema_root/$2/versioned
  # `create` fails when the database exists; setup-schema below fails too if it is really missing.
  if temporal-sql-tool --db "$db" create; then
    echo "Created database $db"
  else
    echo "Database $db was not created (it usually exists already); migrating it"
  fi
  temporal-sql-tool --db "$db" setup-schema -v 0.0
  temporal-sql-tool --db "$db" update-schema -d "$schema_dir"
  echo "Database $db is at the latest schema version in $schema_dir"
}

migrate "${TEMPORAL_DB:-temporal}" temporal
migrate "${TEMPORAL_VISIBILITY_DB:-temporal_visibility}" visibility
