#!/usr/bin/env bash
# A stand-in for the `rauc` program in the updater's tests (CONSULT_RAUC): answers as RAUC
# 1.8 does in --output-format=shell, from files in $FAKE_RAUC_DIR, and logs what it was
# asked to do in $FAKE_RAUC_DIR/log.
#   status          $FAKE_RAUC_DIR/status (the shell text `rauc status --detailed` prints)
#   info FILE       the bundle's first lines "compatible=..." and "version=..."; a bundle
#                   whose first line is BAD-SIGNATURE is refused as RAUC refuses a bad signer
#   install FILE    logged; fails when $FAKE_RAUC_DIR/install-fails exists (its text on stderr)
#   status mark-good booted   logged
set -u
dir="${FAKE_RAUC_DIR:?}"
case "${1:-}" in
  status)
    if [ "${2:-}" = mark-good ]; then echo "mark-good ${3:-}" >>"$dir/log"; exit 0; fi
    cat "$dir/status"
    ;;
  info)
    file="${@: -1}"
    if [ "$(head -c 13 "$file")" = BAD-SIGNATURE ]; then
      echo "rauc-Message: 10:00:00.000: Reading bundle: $file" >&2
      echo "signature verification failed: Verify error:unable to get local issuer certificate" >&2
      exit 1
    fi
    c="$(head -c 4096 "$file" | tr -d '\0' | sed -n 's/^compatible=//p' | head -n1)"
    v="$(head -c 4096 "$file" | tr -d '\0' | sed -n 's/^version=//p' | head -n1)"
    printf "RAUC_MF_COMPATIBLE='%s'\nRAUC_MF_VERSION='%s'\nRAUC_MF_DESCRIPTION=''\n" "$c" "$v"
    ;;
  install)
    v="$(head -c 4096 "$2" | tr -d '\0' | sed -n 's/^version=//p' | head -n1)"
    if [ -e "$dir/install-fails" ]; then cat "$dir/install-fails" >&2; exit 1; fi
    echo "install $v" >>"$dir/log"
    echo "Installing \`$2\` succeeded"
    ;;
  *) echo "fake rauc: unknown command $*" >&2; exit 1 ;;
esac
