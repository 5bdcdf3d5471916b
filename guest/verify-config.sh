#!/bin/sh
# verify-config.sh FRAGMENT DOTCONFIG
#
# Check that every option FRAGMENT sets survived into DOTCONFIG (a kernel
# .config after olddefconfig).  olddefconfig silently drops an option whose
# dependencies are not met and turns others on: a guest kernel missing, say,
# SECCOMP_FILTER would boot fine and fail containers much later.
#
#   CONFIG_X=VALUE          DOTCONFIG must have exactly CONFIG_X=VALUE
#   # CONFIG_X is not set   DOTCONFIG must not set CONFIG_X (absent is fine)
#
# Prints one line per lost option and exits 1 if any; exits 0 otherwise.
set -eu

[ $# -eq 2 ] || {
	echo "usage: verify-config.sh FRAGMENT DOTCONFIG" >&2
	exit 2
}
for f in "$1" "$2"; do
	[ -r "$f" ] || {
		echo "verify-config: cannot read $f" >&2
		exit 2
	}
done

awk -v fragment="$1" '
	# The final .config: name -> value ("n" for "is not set").
	FNR == NR {
		if (match($0, /^CONFIG_[A-Za-z0-9_]+=/))
			have[substr($0, 1, RLENGTH - 1)] = substr($0, RLENGTH + 1)
		else if ($0 ~ /^# CONFIG_[A-Za-z0-9_]+ is not set$/)
			have[$2] = "n"
		next
	}
	match($0, /^CONFIG_[A-Za-z0-9_]+=/) {
		name = substr($0, 1, RLENGTH - 1)
		want = substr($0, RLENGTH + 1)
		checked++
		if (want == "n") {
			if (name in have && have[name] != "n")
				lost(name, want, have[name])
		} else if (!(name in have) || have[name] == "n") {
			lost(name, want, "")
		} else if (have[name] != want) {
			lost(name, want, have[name])
		}
		next
	}
	/^# CONFIG_[A-Za-z0-9_]+ is not set$/ {
		checked++
		if ($2 in have && have[$2] != "n")
			lost($2, "n", have[$2])
	}
	function lost(name, want, got) {
		bad++
		if (got == "")
			printf "verify-config: %s=%s was lost (not set in the final .config: a dependency is missing)\n", name, want
		else
			printf "verify-config: %s=%s was changed to %s\n", name, want, got
	}
	END {
		if (bad) {
			printf "verify-config: %d of %d options of %s did not survive\n", bad, checked, fragment
			exit 1
		}
	}
' "$2" "$1" >&2
