#!/usr/bin/env bash
# Builds the guest for the VM end-to-end test, once per set of inputs, and prints the directory
# that holds it: rootfs/ (a minimal Debian bookworm with systemd), vmlinuz and initrd.img.
#
# The result is cached under $SLUICE_E2E_CACHE (default /var/cache/sluice-e2e), keyed by the hash
# of this script and guest/, so editing either builds anew and a clean machine builds it once
# (about 75 s of debootstrap on our machines). The per-run parts (the sluice executable, its
# Ignition config) are not in it: scripts/e2e-vm/image.ts applies those to a copy for each run.
# Needs root (debootstrap, and files owned by root as on a real host).
set -euo pipefail
# All in one function: bash parses it whole before running, so editing this file while a build
# runs cannot change what the build does half-way.
main() {
export PATH="$PATH:/usr/sbin:/sbin"
here="$(cd "$(dirname "$0")" && pwd)"
cache="${SLUICE_E2E_CACHE:-/var/cache/sluice-e2e}"
mirror="${SLUICE_E2E_MIRROR:-http://deb.debian.org/debian}"
key="$(cat "$0" "$here"/guest/* | sha256sum | cut -c1-16)"
out="$cache/$key"

if [ -f "$out/done" ]; then touch "$out/done"; echo "$out"; exit 0; fi
mkdir -p "$cache"
# One builder at a time; a second one waits and then finds the result.
exec 9>"$cache/.lock"
flock 9
if [ -f "$out/done" ]; then echo "$out"; exit 0; fi
# What a killed build left, and images no run has used for two weeks (each about 300 MB).
rm -rf "$cache"/build.*
find "$cache" -mindepth 2 -maxdepth 2 -name done -mtime +14 -printf '%h\0' | xargs -0r rm -rf

work="$(mktemp -d "$cache/build.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/rootfs"
log="$work/build.log"
echo "building the e2e guest image in $work (log: $log)" >&2
# systemd as PID 1 and what it needs to boot and reboot for real; dbus for systemctl and logind;
# a kernel whose initramfs the chroot makes; iproute2 to look at the network when debugging.
debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,udev,dbus,iproute2,kmod,linux-image-amd64 \
  bookworm "$root" "$mirror" >"$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }

# Only what the boot needs in the initramfs: a small one unpacks fast under emulation.
cat >"$root/etc/initramfs-tools/conf.d/e2e" <<'CONF'
MODULES=list
COMPRESS=gzip
CONF
printf '%s\n' virtio_pci virtio_blk ext4 >"$root/etc/initramfs-tools/modules"
chroot "$root" update-initramfs -u -k all >>"$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }
# Modules no guest of ours loads: smaller to copy for every run.
for d in sound drivers/gpu drivers/media drivers/infiniband drivers/net/wireless net/wireless \
  drivers/staging drivers/bluetooth net/bluetooth drivers/isdn drivers/usb drivers/hid drivers/scsi \
  drivers/md drivers/iio drivers/input drivers/mtd drivers/net/ethernet fs/btrfs fs/xfs fs/ocfs2 \
  fs/nfs fs/cifs fs/smb fs/ceph fs/gfs2 fs/f2fs fs/nilfs2 fs/jfs fs/bcachefs fs/ubifs; do
  rm -rf "$root"/lib/modules/*/kernel/$d
done
for k in "$root"/lib/modules/*; do chroot "$root" depmod "$(basename "$k")"; done
rm -rf "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/* "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*

echo vm-1 >"$root/etc/hostname"
printf '127.0.0.1 localhost\n127.0.1.1 vm-1\n' >"$root/etc/hosts"
echo '/dev/vda / ext4 rw,errors=remount-ro 0 1' >"$root/etc/fstab"
install -m 0755 "$here/guest/e2e-control" "$root/usr/local/sbin/e2e-control"
install -m 0644 "$here/guest/e2e-control.service" "$root/etc/systemd/system/e2e-control.service"
install -m 0644 -D "$here/guest/10-e2e.network" "$root/etc/systemd/network/10-e2e.network"
install -m 0644 -D "$here/guest/90-e2e.preset" "$root/etc/systemd/system-preset/90-e2e.preset"
# Ignition's files stage reads the SELinux config (Flatcar has one) and calls setfiles.
mkdir -p "$root/etc/selinux"
printf 'SELINUX=disabled\nSELINUXTYPE=targeted\n' >"$root/etc/selinux/config"
# A first boot, as a Flatcar host's: systemd applies the presets (Ignition's enable sluice.service
# among them) when the machine id is not yet set.
echo uninitialized >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"

cp -L "$root"/boot/vmlinuz-* "$work/vmlinuz"
cp -L "$root"/boot/initrd.img-* "$work/initrd.img"
du -sh "$root" >>"$log"
rm -rf "$out"
mv "$work" "$out"
trap - EXIT
touch "$out/done"
echo "$out"
}
main "$@"
