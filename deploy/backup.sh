#!/usr/bin/env bash
# Back up Gongzhi: a consistent dump of the database and a tar of the photos, with checksums.
#
#   DATABASE_URL=mysql+pymysql://user:pass@host:3306/gongzhi MEDIA_ROOT=/var/lib/gongzhi/media \
#   BACKUP_DIR=/var/backups/gongzhi deploy/backup.sh
#
# Writes BACKUP_DIR/gongzhi-<UTC time>/ with database.sql.gz, media.tar.gz, backup.info and
# SHA256SUMS, and prints that directory. The directory appears only when complete. Backups
# older than BACKUP_KEEP_DAYS days (default 14; 0 keeps all) are removed afterwards.
#
# The dump is one transaction (--single-transaction: InnoDB rows as of one instant, no
# locks held against the service). The photos are taken after the dump: they are named by
# their content and never change, so every photo the dump refers to is in the tar (a photo
# uploaded in between is there too, unreferenced, which is harmless).
set -euo pipefail
umask 077

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/db-url.sh
. "$here/db-url.sh"

: "${DATABASE_URL:?DATABASE_URL is required}"
: "${MEDIA_ROOT:?MEDIA_ROOT is required}"
BACKUP_DIR=${BACKUP_DIR:-/var/backups/gongzhi}
BACKUP_KEEP_DAYS=${BACKUP_KEEP_DAYS:-14}

[[ -d $MEDIA_ROOT ]] || { echo "backup: MEDIA_ROOT $MEDIA_ROOT is not a directory" >&2; exit 1; }
parse_database_url "$DATABASE_URL"
DUMP=${MYSQLDUMP:-$(first_command mysqldump mariadb-dump)} || { echo "backup: mysqldump not found" >&2; exit 1; }
MYSQL=${MYSQL:-$(first_command mysql mariadb)} || { echo "backup: mysql client not found" >&2; exit 1; }

mkdir -p "$BACKUP_DIR"
stamp=$(date -u +%Y%m%dT%H%M%SZ)
final="$BACKUP_DIR/gongzhi-$stamp"
work="$BACKUP_DIR/.partial-gongzhi-$stamp"
[[ ! -e $final ]] || { echo "backup: $final exists already" >&2; exit 1; }
DB_CNF=
cleanup() {
  [[ -n $DB_CNF ]] && rm -f "$DB_CNF"
  [[ -d $work ]] && rm -rf "$work"
  return 0
}
trap cleanup EXIT
write_client_cnf
mkdir "$work"

options=(--single-transaction --quick --routines --triggers --hex-blob --no-tablespaces
         --default-character-set=utf8mb4)
# MySQL's own mysqldump adds GTID statements a restore into another server refuses.
if "$DUMP" --help 2>/dev/null | grep -q -- '--set-gtid-purged'; then
  options+=(--set-gtid-purged=OFF)
fi
"$DUMP" --defaults-extra-file="$DB_CNF" "${options[@]}" "$DB_NAME" | gzip -6 >"$work/database.sql.gz"

# LocalStorage's half-written files (.tmp-*) are not photos.
tar -C "$MEDIA_ROOT" --exclude='.tmp-*' -czf "$work/media.tar.gz" .

heads=$("$MYSQL" --defaults-extra-file="$DB_CNF" -N -B -e 'SELECT version_num FROM alembic_version ORDER BY 1' "$DB_NAME" | tr '\n' ' ')
{
  echo "created=$stamp"
  echo "database=$DB_NAME"
  echo "host=$DB_HOST:$DB_PORT"
  echo "migrations=${heads% }"
  echo "photos=$(tar -tzf "$work/media.tar.gz" | grep -vc '/$' || true)"
} >"$work/backup.info"
(cd "$work" && sha256sum database.sql.gz media.tar.gz backup.info >SHA256SUMS)

mv "$work" "$final"
echo "$final"

if [[ $BACKUP_KEEP_DAYS =~ ^[0-9]+$ ]] && ((BACKUP_KEEP_DAYS > 0)); then
  find "$BACKUP_DIR" -mindepth 1 -maxdepth 1 -type d -name 'gongzhi-*' -mtime "+$BACKUP_KEEP_DAYS" \
    -exec rm -rf {} +
fi
