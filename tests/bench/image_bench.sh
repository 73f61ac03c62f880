#!/usr/bin/env bash
# The appliance image's numbers, from what `make image` and the boot test left behind
# (it builds and boots nothing itself):
#
#   tests/bench/image_bench.sh [IMAGE_DIR] [ARTIFACTS_DIR]   (build/image, build/test-artifacts/image)
#
# - build: each stage's time in the last `make image` (IMAGE_DIR/build-timings.txt,
#   written by tools/image/build-image.sh; "cached" when the stage was reused);
# - size: the raw disk, the data blocks in it (what bmaptool writes), the zstd copy;
# - QEMU TCG boot (tests/image/boot_test.sh's timings.txt): kernel, boot report, /healthz
#   200 (consultd READY), the kiosk's first paint on the screen, the data partition's
#   encryption on first boot, and the second boot;
# - updates (the boot test's stage 3): the v2 bundle's size, the kiosk's look at the USB
#   stick (mount, rauc info of each bundle), v2's install from it (verify, write slot B,
#   UKI) to the restart, the restart into v2 to its boot report and /healthz 200 (READY on
#   the new slot), and the broken v3's failed try to the fallback;
# - the call in the box (320x240): consultd's worst main-loop stall before the admit and
#   once the call runs (ms, two numbers).
set -u
image_dir="${1:-build/image}"
artifacts="${2:-build/test-artifacts/image}"
img="$(ls -t "$image_dir"/consult-appliance-*.img 2>/dev/null | grep -v insecure | head -n1 || true)"
[ -n "$img" ] || { echo "image_bench: no image in $image_dir (make image)"; exit 1; }
mib() { awk -v b="$1" 'BEGIN { printf "%.0f MiB", b / 1048576 }'; }
value() { sed -n "s/^$1 //p" "$2" 2>/dev/null | head -n1; }

echo "image $(basename "$img")"
if [ -f "$image_dir/build-timings.txt" ]; then
  for stage in base slot disk total; do
    printf '  build %-6s %s\n' "$stage" "$(value "$stage" "$image_dir/build-timings.txt" || echo '?')"
  done
else
  echo "  build: no build-timings.txt (an image from before the build wrote it)"
fi
echo "  size raw $(mib "$(stat -c %s "$img")"), data $(mib "$(( $(du -B1 "$img" | cut -f1) ))"), zstd $(mib "$(stat -c %s "$img.zst" 2>/dev/null || echo 0)")"
t="$artifacts/timings.txt"
if [ -f "$t" ]; then
  for key in first_kernel_started_s first_boot_report_s first_healthz_200_s first_kiosk_on_screen_s \
             first_data_encryption_s first_pairing_after_tunnel_s first_boot_total_s second_boot_report_s \
             second_healthz_200_s update_releases_made_s update_stick_look_s update_v2_install_s v2_boot_report_s \
             v2_healthz_200_s update_v2_reported_s admit_main_loop_stall_ms update_call_postponed_s update_v3_download_s \
             update_v3_restart_after_call_s update_v3_download_install_s update_v3_failed_s \
             fallback_healthz_200_s update_fallback_total_s \
             no_tpm_refused_s image_test_total_s; do
    printf '  boot %-26s %s\n' "$key" "$(value "$key" "$t")"
  done
  echo "  update bundle $(value update_bundle_bytes "$t" | awk '{ printf "%.0f MiB", $1 / 1048576 }')"
else
  echo "  boot: no $t (make image-test)"
fi
