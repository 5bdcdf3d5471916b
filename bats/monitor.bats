#!/usr/bin/env bats
# runk-monitor with real VMs: discovery through the state roots, the
# exposition (promtool when Debian's prometheus package is installed, and a
# strict checker of our own always), a paused and a stuck sandbox, and load.
#
# One monitor and the containers serve the whole file (each VM boot costs
# seconds under TCG), so the tests run in order and build on each other.

load helpers

MONITOR_BIN=${RUNK_MONITOR_BIN:-$BUILDDIR/src/monitor/runk-monitor}
RESYNC_DELAY=1     # seconds, given to the monitor
SCRAPE_TIMEOUT=2   # seconds, given to the monitor
MIN_INTERVAL=0.5   # seconds, given to the monitor

setup_file() {
	[ -x "$MONITOR_BIN" ] || return 0
	setup_runk
	ROOT2=$TEST_DIR/state2 # does not exist yet: the monitor retries it
	export TEST_DIR ROOT ROOT2 RUNK_CONFIG
	MON_LOG=$TEST_DIR/monitor.log
	"$MONITOR_BIN" --root "$ROOT" --root "$ROOT2" --listen-address 127.0.0.1:0 \
		--resync-delay ${RESYNC_DELAY}s --scrape-timeout ${SCRAPE_TIMEOUT}s \
		--min-interval ${MIN_INTERVAL}s --root-retry 200ms --debug \
		</dev/null >"$MON_LOG" 2>&1 3>&- &
	MON_PID=$!
	local i
	for i in $(seq 100); do
		PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$MON_LOG")
		[ -n "$PORT" ] && break
		sleep 0.05
	done
	export MON_LOG MON_PID PORT
}

teardown_file() {
	[ -n "${MON_PID:-}" ] && kill "$MON_PID" 2>/dev/null && wait "$MON_PID" 2>/dev/null
	if [ -n "${ROOT2:-}" ] && [ -d "$ROOT2" ]; then
		local id
		for id in $(ls "$ROOT2"); do
			"$RUNK_BIN" --root "$ROOT2" delete --force "$id" >/dev/null 2>&1 || true
		done
	fi
	teardown_runk
}

setup() {
	[ -x "$MONITOR_BIN" ] || skip "no $MONITOR_BIN (make builds it)"
	require_vm
	[ -n "${PORT:-}" ] || fail "the monitor did not start: $(cat "$MON_LOG")"
	kill -0 "$MON_PID" || fail "the monitor died: $(cat "$MON_LOG")"
}

scrape() {
	curl -sf --max-time 10 "http://127.0.0.1:$PORT$1"
}

# value TEXT NAME LABELS: the value of the series NAME{LABELS} (exact label set text).
value() {
	awk -v want="$2{$3}" '$1 == want { print $2 }' <<<"$1"
}

# wait_for SECONDS CMD...: run CMD every 0.1 s until it succeeds.
wait_for() {
	local deadline=$(($(date +%s%N) + $1 * 1000000000))
	shift
	while [ "$(date +%s%N)" -lt $deadline ]; do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

listed() {
	scrape /sandboxes | grep -qx "$1"
}

not_listed() {
	! scrape /sandboxes | grep -qx "$1"
}

running_in_metrics() {
	local m
	m=$(scrape /metrics) || return 1
	[ "$(value "$m" runk_sandbox_status "sandbox_id=\"$1\",status=\"running\"")" = 1 ]
}

# create_containers ROOT ID...: create them side by side (the boots overlap), then start them.
create_containers() {
	local root=$1 id pids=() status=0
	shift
	for id in "$@"; do
		[ -d "$TEST_DIR/bundle" ] || make_bundle "$TEST_DIR/bundle" sleep 1000
		"$RUNK_BIN" --root "$root" create --bundle "$TEST_DIR/bundle" "$id" \
			</dev/null >"$TEST_DIR/create-$id.log" 2>&1 &
		pids+=($!)
	done
	for id in "${pids[@]}"; do
		wait "$id" || status=1
	done
	[ $status -eq 0 ] || fail "create failed: $(cat "$TEST_DIR"/create-*.log)"
	for id in "$@"; do
		"$RUNK_BIN" --root "$root" start "$id"
	done
}

# A strict reader of the text exposition format 0.0.4: every family once,
# HELP/TYPE before its samples and its samples together, valid names, label
# syntax and escapes, no duplicate series, numeric values, counters >= 0,
# histograms with cumulative buckets ending at +Inf and _count equal to it.
check_exposition() {
	python3 -c '
import math, re, sys
NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*$")
LABEL = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*$")
text = sys.stdin.read()
errors = []
def err(n, msg):
    errors.append(f"line {n}: {msg}")
if not text.endswith("\n"):
    errors.append("does not end with a newline")
types, helps, done, series = {}, set(), set(), set()
current = None
hist = {}
def family_of(name):
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[: -len(suffix)]
        if name.endswith(suffix) and types.get(base) == "histogram":
            return base
    return name
def parse_labels(s, n):
    labels, i = {}, 0
    while i < len(s):
        m = re.match(r"([^=]+)=\"", s[i:])
        if not m or not LABEL.match(m.group(1)):
            err(n, f"bad label at {s[i:]!r}"); return None
        name = m.group(1); i += m.end(); v = ""
        while True:
            if i >= len(s):
                err(n, "unterminated label value"); return None
            c = s[i]
            if c == "\\":
                if i + 1 >= len(s) or s[i + 1] not in "\\\"n":
                    err(n, "bad escape in a label value"); return None
                v += {"n": "\n"}.get(s[i + 1], s[i + 1]); i += 2
            elif c == "\"":
                i += 1; break
            elif c == "\n":
                err(n, "raw newline in a label value"); return None
            else:
                v += c; i += 1
        if name in labels:
            err(n, f"label {name} twice")
        labels[name] = v
        if i < len(s):
            if s[i] != ",":
                err(n, f"expected , at {s[i:]!r}"); return None
            i += 1
    return labels
for n, line in enumerate(text.splitlines(), 1):
    if line.startswith("#"):
        parts = line.split(" ", 3)
        if len(parts) < 3 or parts[1] not in ("HELP", "TYPE"):
            continue
        kind, name = parts[1], parts[2]
        if not NAME.match(name):
            err(n, f"bad metric name {name}")
        if name in done or (name != current and (name in types or name in helps)):
            err(n, f"family {name} appears twice")
        if current != name and current is not None:
            done.add(current)
        current = name
        if kind == "HELP":
            if name in helps: err(n, f"second HELP for {name}")
            helps.add(name)
        else:
            t = parts[3] if len(parts) > 3 else ""
            if t not in ("counter", "gauge", "histogram", "summary", "untyped"):
                err(n, f"bad type {t!r} for {name}")
            if name in types: err(n, f"second TYPE for {name}")
            types[name] = t
        continue
    if not line.strip():
        continue
    m = re.match(r"([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$", line)
    if not m:
        err(n, f"bad sample line {line!r}"); continue
    name, labels = m.group(1), parse_labels(m.group(3) or "", n)
    try:
        value = float(m.group(4))
    except ValueError:
        err(n, f"bad value {m.group(4)!r}"); continue
    fam = family_of(name)
    if fam not in types:
        err(n, f"{name} has no TYPE before it")
    if fam != current:
        err(n, f"{name} is not next to its family {current}")
    if labels is None:
        continue
    key = (name, tuple(sorted(labels.items())))
    if key in series:
        err(n, f"duplicate series {line!r}")
    series.add(key)
    t = types.get(fam)
    if t == "counter" and (value < 0 or math.isnan(value)):
        err(n, f"counter {name} is {value}")
    if t == "counter" and not fam.endswith("_total"):
        err(n, f"counter {fam} does not end in _total")
    if t == "histogram":
        h = hist.setdefault((fam, tuple(sorted((k, v) for k, v in labels.items() if k != "le"))), {"buckets": []})
        if name.endswith("_bucket"):
            if "le" not in labels: err(n, "bucket without le")
            else: h["buckets"].append((float(labels["le"]), value))
        elif name.endswith("_count"):
            h["count"] = value
        elif name.endswith("_sum"):
            h["sum"] = value
        elif name == fam:
            err(n, f"histogram {fam} has a plain sample")
for (fam, _), h in hist.items():
    b = h["buckets"]
    if not b or b[-1][0] != math.inf: errors.append(f"{fam}: no +Inf bucket last")
    if any(b[i][0] >= b[i + 1][0] or b[i][1] > b[i + 1][1] for i in range(len(b) - 1)):
        errors.append(f"{fam}: buckets not increasing and cumulative")
    if "count" not in h or "sum" not in h: errors.append(f"{fam}: _count or _sum missing")
    elif b and h["count"] != b[-1][1]: errors.append(f"{fam}: _count differs from +Inf bucket")
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
'
}

@test "monitor: two containers appear within the resync delay with status and hypervisor RSS" {
	create_containers "$ROOT" c1 c2
	local created m id
	created=$(date +%s%N)
	wait_for $((RESYNC_DELAY + 3)) running_in_metrics c1
	wait_for $((RESYNC_DELAY + 3)) running_in_metrics c2
	echo "# both listed $((($(date +%s%N) - created) / 1000000)) ms after their create returned" >&3
	m=$(scrape /metrics)
	for id in c1 c2; do
		[ "$(value "$m" runk_hypervisor_rss_bytes "sandbox_id=\"$id\"")" -gt 0 ]
		[ "$(value "$m" runk_hypervisor_pss_bytes "sandbox_id=\"$id\"")" -gt 0 ]
		[ "$(value "$m" runk_hypervisor_threads "sandbox_id=\"$id\"")" -gt 1 ]
		[ "$(value "$m" runk_hypervisor_fds "sandbox_id=\"$id\"")" -gt 0 ]
		[ "$(value "$m" runk_shim_rss_bytes "sandbox_id=\"$id\"")" -gt 0 ]
		[ "$(value "$m" runk_vm_vcpus "sandbox_id=\"$id\"")" -ge 1 ]
		[ "$(value "$m" runk_vm_memory_bytes "sandbox_id=\"$id\"")" -gt 0 ]
		# The guest, through the shim: meminfo, tasks, the container's cgroup.
		[ "$(value "$m" runk_guest_memory_total_bytes "sandbox_id=\"$id\"")" -gt 0 ]
		[ "$(value "$m" runk_guest_memory_available_bytes "sandbox_id=\"$id\"")" -gt 0 ]
		[ "$(value "$m" runk_guest_tasks "sandbox_id=\"$id\"")" -gt 0 ]
		[ "$(value "$m" runk_guest_container_memory_usage_bytes "sandbox_id=\"$id\"")" -gt 0 ]
		[ "$(value "$m" runk_guest_container_pids "sandbox_id=\"$id\"")" -ge 1 ]
		[ "$(value "$m" runk_sandbox_status "sandbox_id=\"$id\",status=\"paused\"")" = 0 ]
		[ "$(value "$m" runk_monitor_scrape_failures_total "sandbox_id=\"$id\"")" = 0 ]
	done
	[ "$(awk '$1 == "runk_monitor_running_sandboxes" { print $2 }' <<<"$m")" = 2 ]
}

@test "monitor: the exposition is valid (strict checker, and promtool when installed)" {
	local m one
	m=$(scrape /metrics)
	one=$(scrape "/metrics?sandbox=c1")
	run check_exposition <<<"$m"
	assert_success
	run check_exposition <<<"$one"
	assert_success
	# One family per name, and the histogram is there.
	[ -z "$(grep '^# TYPE' <<<"$m" | awk '{ print $3 }' | sort | uniq -d)" ]
	grep -qx '# TYPE runk_monitor_scrape_duration_seconds histogram' <<<"$m"
	grep -q '^runk_monitor_scrape_duration_seconds_bucket{le="+Inf"} [1-9]' <<<"$m"
	# The checker catches what it should.
	run check_exposition <<<$'# TYPE a gauge\na 1\n# TYPE a gauge\na 2\n'
	assert_failure
	run check_exposition <<<$'# TYPE a gauge\na{x="1\\q"} 1\n'
	assert_failure
	if command -v promtool >/dev/null; then
		run promtool check metrics <<<"$m"
		assert_success
		assert_output ""
		run promtool check metrics <<<"$one"
		assert_success
	else
		echo "# promtool not installed (Debian package prometheus): strict checker only" >&3
	fi
}

@test "monitor: /sandboxes lists them, /metrics?sandbox=ID shows one, an unknown id is 404" {
	run scrape /sandboxes
	assert_success
	assert_output $'c1\nc2'
	run scrape "/metrics?sandbox=c2"
	assert_success
	assert_output --partial 'runk_hypervisor_rss_bytes{sandbox_id="c2"}'
	refute_output --partial 'sandbox_id="c1"'
	refute_output --partial 'runk_monitor_running_sandboxes'
	run curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/metrics?sandbox=nope"
	assert_output 404
}

@test "monitor: a paused VM yields host metrics and a scrape failure; a stuck shim does not stall the endpoint" {
	local m before after t shim
	before=$(value "$(scrape /metrics)" runk_monitor_scrape_failures_total 'sandbox_id="c2"')
	runk pause c2
	sleep $MIN_INTERVAL
	t=$(curl -s -o "$TEST_DIR/paused" -w '%{time_total}' --max-time $((SCRAPE_TIMEOUT + 2)) \
		"http://127.0.0.1:$PORT/metrics")
	m=$(cat "$TEST_DIR/paused")
	[ "$(value "$m" runk_sandbox_status 'sandbox_id="c2",status="paused"')" = 1 ]
	[ "$(value "$m" runk_hypervisor_rss_bytes 'sandbox_id="c2"')" -gt 0 ]
	[ -z "$(value "$m" runk_guest_tasks 'sandbox_id="c2"')" ]
	after=$(value "$m" runk_monitor_scrape_failures_total 'sandbox_id="c2"')
	[ "$after" -gt "$before" ]
	# The other sandbox is untouched.
	[ "$(value "$m" runk_guest_tasks 'sandbox_id="c1"')" -gt 0 ]
	echo "# scrape with c2 paused: ${t}s" >&3
	runk resume c2

	# A shim that answers nothing (stopped): the scrape still answers within the timeout.
	shim=$(runk state c2 | jq .pid)
	kill -STOP "$shim"
	sleep $MIN_INTERVAL
	t=$(curl -s -o "$TEST_DIR/stuck" -w '%{time_total}' --max-time $((SCRAPE_TIMEOUT + 2)) \
		"http://127.0.0.1:$PORT/metrics") || { kill -CONT "$shim"; fail "scrape failed"; }
	kill -CONT "$shim"
	m=$(cat "$TEST_DIR/stuck")
	echo "# scrape with c2's shim stopped: ${t}s" >&3
	awk -v t="$t" -v max=$((SCRAPE_TIMEOUT + 1)) 'BEGIN { exit !(t < max) }'
	[ "$(value "$m" runk_hypervisor_rss_bytes 'sandbox_id="c2"')" -gt 0 ]
	[ "$(value "$m" runk_guest_tasks 'sandbox_id="c1"')" -gt 0 ]
	wait_for 10 running_in_metrics c2
	[ "$(value "$(scrape /metrics)" runk_monitor_scrape_failures_total 'sandbox_id="c2"')" -gt "$after" ]
}

@test "monitor: 200 concurrent scrapes against 5 sandboxes complete without error" {
	create_containers "$ROOT" c3 c4 c5
	wait_for $((RESYNC_DELAY + 3)) listed c5
	wait_for $((RESYNC_DELAY + 3)) listed c4
	wait_for $((RESYNC_DELAY + 3)) listed c3
	local args=() i start codes
	for i in $(seq 200); do
		args+=(-o /dev/null "http://127.0.0.1:$PORT/metrics")
	done
	start=$(date +%s%N)
	codes=$(curl -s --parallel --parallel-immediate --parallel-max 200 --max-time 30 \
		-w '%{http_code}\n' "${args[@]}")
	echo "# 200 scrapes: $((($(date +%s%N) - start) / 1000000)) ms" >&3
	[ "$(grep -c '^200$' <<<"$codes")" -eq 200 ] || fail "status codes: $(sort <<<"$codes" | uniq -c)"
	kill -0 "$MON_PID"
	run check_exposition <<<"$(scrape /metrics)"
	assert_success
	[ "$(scrape /sandboxes | wc -l)" -eq 5 ]
}

@test "monitor: a deleted container disappears" {
	runk delete --force c5
	wait_for 2 not_listed c5
	run scrape /metrics
	refute_output --partial 'sandbox_id="c5"'
}

@test "monitor: a directory that never becomes a container is dropped after the resync" {
	local m
	mkdir "$ROOT/stray"
	m=$(scrape /metrics)
	[ "$(awk '$1 == "runk_monitor_pending_sandboxes" { print $2 }' <<<"$m")" -ge 0 ]
	pending_is() {
		[ "$(scrape /metrics | awk '$1 == "runk_monitor_pending_sandboxes" { print $2 }')" = "$1" ]
	}
	wait_for 1 pending_is 1
	wait_for $((3 * RESYNC_DELAY + 2)) pending_is 0
	grep -q 'stray: dropped (not a container)' "$MON_LOG"
	not_listed stray
	rmdir "$ROOT/stray"
}

@test "monitor: a root that appears later, and is removed and re-created, is watched" {
	# ROOT2 did not exist when the monitor started.
	mkdir -p "$ROOT2"
	"$RUNK_BIN" --root "$ROOT2" create --bundle "$TEST_DIR/bundle" r1 </dev/null
	wait_for $((RESYNC_DELAY + 3)) listed r1
	"$RUNK_BIN" --root "$ROOT2" delete --force r1
	rm -rf "$ROOT2"
	wait_for 2 not_listed r1
	wait_for 2 grep -q "root $ROOT2 went away" "$MON_LOG"
	mkdir "$ROOT2"
	watched_twice() {
		[ "$(grep -c "watching $ROOT2\$" "$MON_LOG")" -ge 2 ]
	}
	wait_for 2 watched_twice
	"$RUNK_BIN" --root "$ROOT2" create --bundle "$TEST_DIR/bundle" r2 </dev/null
	wait_for $((RESYNC_DELAY + 3)) listed r2
	# The first root was never disturbed.
	listed c1
}
