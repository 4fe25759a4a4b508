#!/bin/sh
# The directory tree the image's user (uid 10001) works in. The Dockerfile runs this with
# ROOT=/ ; tests/deploy/test_image_layout.py runs it into an empty temporary tree and starts
# the gateway there as uid 10001, so the two cannot drift apart.
#
# Docker (and Kubernetes' emptyDir with fsGroup) give a new named volume the owner and mode
# of the directory it is mounted on: a path that does not exist in the image becomes a
# root-owned volume the gateway cannot write (PermissionError on `policy build`).
set -eu
ROOT="${1:?usage: image-layout.sh ROOT}"
APP_UID=10001
APP_GID=10001

owned() {
  mode="$1"
  shift
  for dir in "$@"; do
    mkdir -p "$ROOT$dir"
    chown "$APP_UID:$APP_GID" "$ROOT$dir"
    chmod "$mode" "$ROOT$dir"
  done
}

# WORKDIR and HOME.
owned 0755 /srv/ketenpoort
# KETENPOORT_DATA_DIR: the SQLite file in the embedded default, the local KEK file, the
# audit signing and pseudonym keys: owner only.
owned 0700 /srv/ketenpoort/data
# A witness's key and state (ketenpoort witness init --dir /srv/witness): owner only.
owned 0700 /srv/witness
# Private keys of the reference adapters (ketenpoort partners keygen): owner only.
owned 0700 /srv/ketenpoort/adapter-keys
# KETENPOORT_JWKS_DIR (partners' public keys) and the signed policy bundle OPA reads: public.
owned 0755 /srv/ketenpoort/jwks /srv/ketenpoort/bundles
