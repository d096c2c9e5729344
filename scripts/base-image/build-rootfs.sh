#!/usr/bin/env bash
# Builds the root filesystem of paved's offline Python base image and writes it as
# a tar archive, ready for `docker import`. Nothing is pulled from an image
# registry: the packages come from the Debian mirror apt already uses.
#
# usage: build-rootfs.sh OUT.tar SUITE MIRROR
# The image tag is keyed by this file's content: change the recipe here and the
# next `paved stack up` builds a new image.
set -euo pipefail
out="$1" suite="$2" mirror="$3"
root="$(mktemp -d /tmp/paved-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT

# libgomp1: LightGBM's wheel links the system OpenMP runtime (scikit-learn and
# XGBoost bundle their own).
debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates,libgomp1 \
  "$suite" "$root" "$mirror" >&2

# A smaller image and no stale package lists: builds install from a wheelhouse,
# never from apt, inside the image.
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
# The unprivileged user model containers run as (--user 1000:1000).
chroot "$root" groupadd --gid 1000 model
chroot "$root" useradd --uid 1000 --gid 1000 --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin model

tar --numeric-owner -C "$root" -cf "$out.partial" .
mv "$out.partial" "$out"
