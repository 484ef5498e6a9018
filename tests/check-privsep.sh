#!/usr/bin/env bash
# tests/check-privsep.sh - the privilege boundary in the source (README "Processes"):
# only the auth service's folder (server/authd/) may call the keytab, acceptor and
# password-checking APIs, and only server/ident.c may change uids, gids, groups or
# the root directory.  A second run over a copy with a planted violation of each rule
# must fail, so the check itself is checked.
src=${1:-.}
keytab_api='krb5_kt_[a-z_]+|gss_accept_sec_context|gss_acquire_cred[a-z_]*|krb5_rd_req[a-z_]*|krb5_recvauth[a-z_]*|krb5_verify_init_creds|krb5_get_init_creds_password|krb5_get_init_creds_keytab'
uid_api='setuid|setgid|seteuid|setegid|setreuid|setregid|setresuid|setresgid|setgroups|initgroups|chroot|setfsuid|setfsgid'

# calls FILE REGEX: lines calling one of REGEX, comments left out
calls() {
	grep -nE "(^|[^A-Za-z0-9_])($2)[[:space:]]*\(" "$1" | sed -E 's#/\*.*##; s#^([0-9]+:)[[:space:]]*\*.*#\1#' |
		grep -E "(^|[^A-Za-z0-9_])($2)[[:space:]]*\("
}

# scan TREE: prints one FAIL line per violation; returns the count
scan() {
	local tree=$1 f hits n=0
	for f in $(cd "$tree" && find common server client -name '*.[ch]' | sort); do
		case "$f" in
		server/authd/*) ;;
		*)
			hits=$(calls "$tree/$f" "$keytab_api")
			if [ -n "$hits" ]; then
				echo "FAIL - keytab or acceptor API outside server/authd/ in $f:"
				printf '%s\n' "$hits" | sed 's/^/    /'
				n=$((n + 1))
			fi
			;;
		esac
		[ "$f" = server/ident.c ] && continue
		hits=$(calls "$tree/$f" "$uid_api")
		if [ -n "$hits" ]; then
			echo "FAIL - uid, group or root change outside server/ident.c in $f:"
			printf '%s\n' "$hits" | sed 's/^/    /'
			n=$((n + 1))
		fi
	done
	return $n
}

pass=0 fail=0
if out=$(scan "$src"); then
	echo "ok - keytab APIs only in server/authd/, uid changes only in server/ident.c"
	pass=$((pass + 1))
else
	printf '%s\n' "$out"
	fail=$((fail + 1))
fi
# The check must catch what it is for.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/privsep.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/common" "$tmp/server/authd" "$tmp/client"
printf 'int f(void) { return krb5_kt_resolve(0, "x", 0); }\n' >"$tmp/server/session.c"
printf 'int g(void) { return setresuid(1, 1, 1); }\n' >"$tmp/server/master.c"
printf 'int h(void) { return krb5_kt_resolve(0, "x", 0) + setuid(0); }\n' >"$tmp/server/authd/authd.c"
scan "$tmp" >/dev/null
n=$?
if [ "$n" -eq 3 ]; then
	echo "ok - planted violations are caught (keytab API in session.c, setresuid in master.c, setuid in authd.c)"
	pass=$((pass + 1))
else
	echo "FAIL - planted violations: $n of 3 caught"
	fail=$((fail + 1))
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
