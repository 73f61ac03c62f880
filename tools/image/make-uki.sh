#!/usr/bin/env bash
# Makes a unified kernel image (UKI): systemd's EFI stub with the kernel, the initrd, the
# os-release and the kernel command line as PE sections. Debian 12 has no ukify, so the
# sections are added with objcopy, each placed after the stub's own sections (page
# aligned) instead of at fixed addresses that a bigger kernel or stub could overlap.
#
#   tools/image/make-uki.sh STUB VMLINUZ INITRD OS_RELEASE CMDLINE OUT.efi
set -euo pipefail

die() { echo "make-uki: $*" >&2; exit 1; }
[ $# -eq 6 ] || die "usage: $0 STUB VMLINUZ INITRD OS_RELEASE CMDLINE OUT.efi"
stub="$1" linux="$2" initrd="$3" osrel="$4" cmdline="$5" out="$6"
for f in "$stub" "$linux" "$initrd" "$osrel"; do [ -s "$f" ] || die "missing or empty: $f"; done
command -v objcopy >/dev/null && command -v objdump >/dev/null || die "objcopy/objdump missing (binutils)"

page=4096
align() { echo $(( ($1 + page - 1) / page * page )); }
# The first free address after the stub's sections: VMA + size of the last one.
next=0
while read -r idx _ size vma _; do
  [[ "$idx" =~ ^[0-9]+$ ]] || continue
  end=$(( 0x$vma + 0x$size ))
  [ "$end" -gt "$next" ] && next=$end
done < <(objdump -h "$stub")
[ "$next" -gt 0 ] || die "cannot read the sections of $stub"
next=$(align "$next")

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
printf '%s' "$cmdline" >"$work/cmdline"

args=()
add() {   # add NAME FILE: the section at the next free page
  args+=(--add-section "$1=$2" --change-section-vma "$1=$(printf '0x%x' "$next")")
  next=$(align $(( next + $(stat -c %s "$2") )))
}
add .osrel "$osrel"
add .cmdline "$work/cmdline"
add .linux "$linux"
add .initrd "$initrd"
objcopy "${args[@]}" "$stub" "$out.tmp" || die "objcopy failed"
mv "$out.tmp" "$out"
