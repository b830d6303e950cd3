#!/usr/bin/env bash
# Restore a Gongzhi backup (deploy/backup.sh) into a database and a photo directory.
#
#   DATABASE_URL=mysql+pymysql://user:pass@host:3306/gongzhi MEDIA_ROOT=/var/lib/gongzhi/media \
#   deploy/restore.sh /var/backups/gongzhi/gongzhi-20261101T033000Z [--force]
#
# The checksums are verified first. The database is created if it does not exist; one
# that has tables, or a photo directory that is not empty, is refused unless --force
# (then the dump's tables replace the ones of the same name and the photos are added).
# Stop the web service and the worker while restoring over a live system.
set -euo pipefail
umask 022

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=deploy/db-url.sh
. "$here/db-url.sh"

force=0
source_dir=
for arg in "$@"; do
  case $arg in
    --force) force=1 ;;
    -h | --help)
      sed -n '2,11p' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) source_dir=$arg ;;
  esac
done
[[ -n $source_dir ]] || { echo "usage: restore.sh BACKUP_DIRECTORY [--force]" >&2; exit 2; }
: "${DATABASE_URL:?DATABASE_URL (the database to restore into) is required}"
: "${MEDIA_ROOT:?MEDIA_ROOT (the photo directory to restore into) is required}"
for name in database.sql.gz media.tar.gz SHA256SUMS; do
  [[ -f $source_dir/$name ]] || { echo "restore: $source_dir/$name is missing" >&2; exit 1; }
done
(cd "$source_dir" && sha256sum --quiet --strict -c SHA256SUMS) || { echo "restore: checksums do not match" >&2; exit 1; }

parse_database_url "$DATABASE_URL"
MYSQL=${MYSQL:-$(first_command mysql mariadb)} || { echo "restore: mysql client not found" >&2; exit 1; }
DB_CNF=
trap '[[ -n $DB_CNF ]] && rm -f "$DB_CNF"; true' EXIT
write_client_cnf

"$MYSQL" --defaults-extra-file="$DB_CNF" -e \
  "CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"
tables=$("$MYSQL" --defaults-extra-file="$DB_CNF" -N -B -e \
  "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '$DB_NAME'")
if ((tables > 0 && !force)); then
  echo "restore: database $DB_NAME has $tables tables; use --force to replace them" >&2
  exit 1
fi
mkdir -p "$MEDIA_ROOT"
if [[ -n $(ls -A "$MEDIA_ROOT") ]] && ((!force)); then
  echo "restore: $MEDIA_ROOT is not empty; use --force to add the backup's photos to it" >&2
  exit 1
fi

gzip -dc "$source_dir/database.sql.gz" | "$MYSQL" --defaults-extra-file="$DB_CNF" "$DB_NAME"
tar -C "$MEDIA_ROOT" --no-same-owner -xzf "$source_dir/media.tar.gz"

echo "restored $source_dir into database $DB_NAME and $MEDIA_ROOT"
