#!/usr/bin/env bash
# Checks the systemd integration files in systemd/:
#   - every unit passes `systemd-analyze verify` with nothing at all on stderr;
#   - consultd.service scores <= 2.0 in `systemd-analyze security --offline=yes`;
#   - the sysusers.d file applies cleanly to an empty root and creates every
#     user and group the units name;
#   - the tmpfiles.d file creates its directories with the right mode and
#     owner in that root (needs root for the chown; skipped otherwise).
#
# Usage: tests/systemd/verify_units.sh        (from any directory)
# Env:   CONSULTD_BIN=/path/to/build/consultd  verify consultd.service with
#        ExecStart pointing at this binary instead of /usr/bin/consultd.
#
# `systemd-analyze verify` rejects a unit whose ExecStart binary does not
# exist. A binary that is neither installed nor given (e.g. cage/chromium on a
# build machine) is replaced by /bin/true in a temporary copy, and the script
# says so: then only the unit's syntax and dependencies are checked, not the
# binary's presence. Exit status 0 = all checks passed.
set -uo pipefail

here=$(cd -P "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd -P "$here/../.." && pwd)
unitsrc=$repo/systemd
max_exposure=2.0

passed=0
failed=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }
note() { echo "NOTE: $1"; }
indent() { sed 's/^/    /'; }

finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit
}

work=$(mktemp -d "${TMPDIR:-/tmp}/verify_units.XXXXXX") || { fail "mktemp"; finish; }
trap 'rm -rf "$work"' EXIT

for tool in systemd-analyze systemd-sysusers systemd-tmpfiles; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        fail "$tool not found (install the Debian package systemd)"
        finish
    fi
done

shopt -s nullglob
units=("$unitsrc"/*.service "$unitsrc"/*.socket "$unitsrc"/*.timer "$unitsrc"/*.path "$unitsrc"/*.target)
if [ ${#units[@]} -eq 0 ]; then
    fail "no unit files found in $unitsrc"
    finish
fi

consultd_bin=
if [ -n "${CONSULTD_BIN:-}" ]; then
    consultd_bin=$(realpath -e -- "$CONSULTD_BIN" 2>/dev/null) || consultd_bin=
    if [ -z "$consultd_bin" ] || [ ! -f "$consultd_bin" ] || [ ! -x "$consultd_bin" ]; then
        fail "CONSULTD_BIN=$CONSULTD_BIN is not an executable file"
        consultd_bin=
    fi
fi

# ---------------------------------------------------------------------------
# 1. systemd-analyze verify, on temporary copies with ExecStart binaries
#    rewritten as described above. All copies go into one directory, which
#    verify adds to its unit search path, so dependencies between our own
#    units (consult-kiosk -> consultd) resolve to the copies.
# ---------------------------------------------------------------------------
mkdir -p "$work/units"
exec_re='^(Exec[A-Za-z]+=)([-@:+!]*)(/[^[:space:]]+)(.*)$'
for unit in "${units[@]}"; do
    name=$(basename "$unit")
    copy=$work/units/$name
    : >"$copy"
    while IFS= read -r line || [ -n "$line" ]; do
        if [[ $line =~ $exec_re ]]; then
            key=${BASH_REMATCH[1]} prefix=${BASH_REMATCH[2]}
            bin=${BASH_REMATCH[3]} rest=${BASH_REMATCH[4]}
            if [ "$bin" = /usr/bin/consultd ] && [ -n "$consultd_bin" ]; then
                note "$name: $bin -> $consultd_bin (CONSULTD_BIN)"
                bin=$consultd_bin
            elif [ ! -x "$bin" ]; then
                note "$name: $bin is not installed here; verifying with /bin/true in its place"
                bin=/bin/true
            fi
            line=$key$prefix$bin$rest
        fi
        printf '%s\n' "$line" >>"$copy"
    done <"$unit"
done

for unit in "${units[@]}"; do
    name=$(basename "$unit")
    out=$(systemd-analyze verify "$work/units/$name" 2>"$work/verify.err")
    rc=$?
    if [ $rc -eq 0 ] && [ ! -s "$work/verify.err" ] && [ -z "$out" ]; then
        pass "systemd-analyze verify $name"
    else
        fail "systemd-analyze verify $name (exit $rc)"
        { [ -n "$out" ] && printf '%s\n' "$out"; cat "$work/verify.err"; } |
            sed "s#$work/units/#systemd/#g" | indent
    fi
done

# ---------------------------------------------------------------------------
# 2. Exposure score of the daemon.
# ---------------------------------------------------------------------------
daemon=$unitsrc/consultd.service
if [ ! -f "$daemon" ]; then
    fail "systemd/consultd.service is missing"
else
    systemd-analyze security --offline=yes --no-pager "$daemon" \
        >"$work/security.out" 2>"$work/security.err"
    rc=$?
    overall=$(grep 'Overall exposure level' "$work/security.out" | tail -n 1)
    score=$(printf '%s\n' "$overall" | sed -n 's/.*: *\([0-9][0-9]*\.[0-9]*\).*/\1/p')
    [ -n "$overall" ] && echo "$overall"
    if [ -s "$work/security.err" ]; then
        fail "systemd-analyze security --offline=yes consultd.service printed warnings"
        sed "s#$unitsrc/#systemd/#g" "$work/security.err" | indent
    fi
    if [ $rc -ne 0 ] || [ -z "$score" ]; then
        fail "systemd-analyze security --offline=yes consultd.service gave no score (exit $rc)"
        indent <"$work/security.out"
    elif awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s <= m) }'; then
        pass "consultd.service exposure $score <= $max_exposure"
    else
        fail "consultd.service exposure $score > $max_exposure"
        grep '✗' "$work/security.out" | indent
    fi
fi

# ---------------------------------------------------------------------------
# 3. sysusers.d, applied to an empty root (works unprivileged).
# ---------------------------------------------------------------------------
sysusers=$unitsrc/consultd.sysusers.conf
tmpfiles=$unitsrc/consultd.tmpfiles.conf
root=$work/root
mkdir -p "$root/etc"
sysusers_ok=false

# systemd-sysusers reports what it does on stderr; anything that is not one
# of these routine messages is a warning or an error.
routine_re="^(Creating (group|user) '|Would write /etc/|Adding user '|Would add )"
check_log() {   # $1 = file with the tool's stderr; prints unexpected lines
    grep -Ev "$routine_re" "$1"
}

if [ ! -f "$sysusers" ]; then
    fail "systemd/consultd.sysusers.conf is missing"
else
    systemd-sysusers --root="$root" --dry-run "$sysusers" >"$work/su.out" 2>"$work/su.err"
    rc=$?
    if [ $rc -eq 0 ] && ! check_log "$work/su.err" >/dev/null; then
        pass "systemd-sysusers --dry-run consultd.sysusers.conf"
    else
        fail "systemd-sysusers --dry-run consultd.sysusers.conf (exit $rc)"
        cat "$work/su.out" "$work/su.err" | indent
    fi

    systemd-sysusers --root="$root" "$sysusers" >"$work/su.out" 2>"$work/su.err"
    rc=$?
    if [ $rc -eq 0 ] && ! check_log "$work/su.err" >/dev/null && [ -s "$root/etc/passwd" ]; then
        pass "systemd-sysusers applies consultd.sysusers.conf to an empty root"
        sysusers_ok=true
    else
        fail "systemd-sysusers applies consultd.sysusers.conf to an empty root (exit $rc)"
        cat "$work/su.out" "$work/su.err" | indent
    fi
fi

if $sysusers_ok; then
    # Every User=/Group=/SupplementaryGroups= of every unit must be created,
    # and User= must be a member of its SupplementaryGroups= in /etc/group
    # as well (sysusers m lines), so that a login session sees the same groups.
    missing=()
    for unit in "${units[@]}"; do
        name=$(basename "$unit")
        user=$(sed -n 's/^User=//p' "$unit" | tail -n 1)
        group=$(sed -n 's/^Group=//p' "$unit" | tail -n 1)
        supp=$(sed -n 's/^SupplementaryGroups=//p' "$unit" | tr '\n' ' ')
        if [ -n "$user" ] && ! grep -q "^$user:" "$root/etc/passwd"; then
            missing+=("$name: user $user")
        fi
        for g in $group $supp; do
            grep -q "^$g:" "$root/etc/group" || missing+=("$name: group $g")
        done
        for g in $supp; do
            [ -n "$user" ] || continue
            awk -F: -v g="$g" -v u="$user" '
                $1 == g { n = split($4, m, ","); for (i = 1; i <= n; i++) if (m[i] == u) found = 1 }
                END { exit !found }' "$root/etc/group" ||
                missing+=("$name: $user not a member of $g")
        done
    done
    if [ ${#missing[@]} -eq 0 ]; then
        pass "sysusers creates every user and group the units use"
    else
        fail "sysusers creates every user and group the units use"
        printf '%s\n' "${missing[@]}" | indent
    fi

    home=$(awk -F: '$1 == "consult" { print $6 }' "$root/etc/passwd")
    if [ "$home" = /var/lib/consult ]; then
        pass "user consult has home /var/lib/consult"
    else
        fail "user consult has home /var/lib/consult (got '$home')"
    fi
fi

# ---------------------------------------------------------------------------
# 4. tmpfiles.d, into the same root (owners resolve from its /etc/passwd).
# ---------------------------------------------------------------------------
if [ ! -f "$tmpfiles" ]; then
    fail "systemd/consultd.tmpfiles.conf is missing"
elif ! $sysusers_ok; then
    fail "systemd-tmpfiles --create consultd.tmpfiles.conf (no users: sysusers step failed)"
elif [ "$(id -u)" -ne 0 ]; then
    note "not root: skipping systemd-tmpfiles --create (it must chown to consult)"
else
    systemd-tmpfiles --root="$root" --create "$tmpfiles" >"$work/tf.out" 2>"$work/tf.err"
    rc=$?
    if [ $rc -eq 0 ] && [ ! -s "$work/tf.err" ] && [ ! -s "$work/tf.out" ]; then
        pass "systemd-tmpfiles --create consultd.tmpfiles.conf"
    else
        fail "systemd-tmpfiles --create consultd.tmpfiles.conf (exit $rc)"
        cat "$work/tf.out" "$work/tf.err" | indent
    fi

    uid_of() { awk -F: -v n="$1" '$1 == n { print $3 }' "$root/etc/passwd"; }
    gid_of() { awk -F: -v n="$1" '$1 == n { print $3 }' "$root/etc/group"; }
    consult_ids="$(uid_of consult):$(gid_of consult)"
    while read -r path mode ids; do
        got=$(stat -c '%a %u:%g' "$root$path" 2>/dev/null || echo "missing")
        if [ "$got" = "$mode $ids" ]; then
            pass "tmpfiles: $path is $mode $ids"
        else
            fail "tmpfiles: $path is $mode $ids (got: $got)"
        fi
    done <<EOF
/etc/consult 755 0:0
/etc/consult/consultd.conf.d 755 0:0
/var/lib/consult 700 $consult_ids
/var/lib/consult/credentials 700 $consult_ids
EOF
fi

finish
