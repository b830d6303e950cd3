# Sourced by backup.sh and restore.sh: DATABASE_URL -> DB_USER DB_PASSWORD DB_HOST DB_PORT DB_NAME,
# and a private client option file ($DB_CNF) so the password never shows in `ps`.
# mysql+pymysql://user:pass@host:3306/name?charset=utf8mb4 (user and password may be %-encoded).

urldecode() {
  local s=${1//+/ }
  printf '%b' "${s//%/\\x}"
}

parse_database_url() {
  local url=$1
  local re='^mysql(\+[a-z0-9]+)?://([^:@/]*)(:([^@/]*))?@([^:/?]+|\[[0-9a-fA-F:]+\])(:([0-9]+))?/([^?]+)(\?.*)?$'
  [[ $url =~ $re ]] || { echo "DATABASE_URL must look like mysql+pymysql://user:pass@host:3306/name" >&2; return 1; }
  DB_USER=$(urldecode "${BASH_REMATCH[2]}")
  DB_PASSWORD=$(urldecode "${BASH_REMATCH[4]}")
  DB_HOST=${BASH_REMATCH[5]}
  DB_HOST=${DB_HOST#[}
  DB_HOST=${DB_HOST%]}
  DB_PORT=${BASH_REMATCH[7]:-3306}
  DB_NAME=$(urldecode "${BASH_REMATCH[8]}")
  [[ $DB_NAME =~ ^[A-Za-z0-9_$-]+$ ]] || { echo "unexpected database name: $DB_NAME" >&2; return 1; }
}

write_client_cnf() {
  local escaped=${DB_PASSWORD//\\/\\\\}
  escaped=${escaped//\"/\\\"}
  DB_CNF=$(mktemp "${TMPDIR:-/tmp}/gongzhi-db.XXXXXX")
  chmod 600 "$DB_CNF"
  {
    echo "[client]"
    echo "user=\"$DB_USER\""
    [[ -n $DB_PASSWORD ]] && echo "password=\"$escaped\""
    echo "host=$DB_HOST"
    echo "port=$DB_PORT"
    echo "protocol=tcp"
    echo "default-character-set=utf8mb4"
  } >"$DB_CNF"
}

first_command() {
  local name
  for name in "$@"; do
    command -v "$name" && return 0
  done
  return 1
}
