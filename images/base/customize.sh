#!/bin/sh
# mmdebstrap --customize-hook: "$1" is the finished root file system, $QBOX_OVERLAY the overlay
# directory whose files are installed over it (owned by root, modes kept).
set -eu
root=$1
cd "$QBOX_OVERLAY"
find . -type f | while read -r file; do
    mode=$(stat -c %a "$file")
    install -D -o root -g root -m "$mode" "$file" "$root/${file#./}"
done
echo qbox > "$root/etc/hostname"
printf '/dev/vda / ext4 defaults 0 1\n' > "$root/etc/fstab"

# dahdi-dkms compiled the driver while the packages were installed; a missing module here means
# the pinned kernel and its headers disagree, and the image would boot without DAHDI.
for module in dahdi dahdi_dynamic dahdi_dynamic_loc; do
    if ! find "$root/lib/modules" -name "$module.ko*" | grep -q .; then
        echo "customize: DAHDI module $module was not built for $(ls "$root/lib/modules")" >&2
        exit 1
    fi
done
