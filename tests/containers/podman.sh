#!/usr/bin/env bash
# Prepares rootful podman on a Debian machine for the container tests (tests/integration/test_containers.py)
# and builds the project's images from their unchanged Dockerfiles.
#
#   podman.sh check          exit 0 when podman can run here (root and apt-get); else print why, exit 3
#   podman.sh setup          install podman and what it needs, write our containers.conf, import the Debian
#                            base images the Dockerfiles name (debian:bookworm, debian:bookworm-slim)
#   podman.sh build TAG DIR  podman build DIR as TAG, never pulling (the base images come from `setup`)
#   podman.sh env            print the environment a podman command needs here (eval it)
#
# Why each step (facts about this kind of machine, verified on it):
# * Docker Hub is unreachable and Debian's mirror is not, so the base images are made here with
#   debootstrap (minbase) and imported under the names the Dockerfiles use; the host's apt sources and
#   certificate authorities go in, so `apt-get` and Maven inside a build reach what the host reaches, the
#   way the host does. Kept between runs (podman's own storage); never assumed to exist.
# * crun 1.8 refuses this machine's hybrid cgroup layout, so the runtime is runc; there is no systemd, so
#   cgroups are managed by cgroupfs and events go to a file; podman's default nproc ulimit (1048576) cannot
#   be set without CAP_SYS_RESOURCE and nofile must not exceed the hard limit, so both are set explicitly.
#   All of it goes into a containers.conf of ours (CONTAINERS_CONF), not the machine's /etc.
set -euo pipefail

STATE_DIR="${SFB_PODMAN_STATE:-/var/tmp/statefun-bootstrap-podman}"
CONF="$STATE_DIR/containers.conf"
SUITE=bookworm

die() { echo "podman.sh: $*" >&2; exit 1; }

check() {
  if [[ $(id -u) -ne 0 ]]; then echo "podman.sh: not root: rootful podman cannot run here"; exit 3; fi
  if ! command -v apt-get >/dev/null 2>&1 && ! command -v podman >/dev/null 2>&1; then
    echo "podman.sh: no apt-get to install podman with, and no podman"; exit 3
  fi
}

write_conf() {
  mkdir -p "$STATE_DIR"
  local hard_nofile nofile
  hard_nofile=$(ulimit -Hn)
  [[ "$hard_nofile" == unlimited ]] && hard_nofile=1048576
  nofile=$(( hard_nofile < 65536 ? hard_nofile : 65536 ))
  cat >"$CONF.tmp" <<CONF
# Written by tests/containers/podman.sh (see there for why each line).
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
  mv "$CONF.tmp" "$CONF"
}

print_env() { echo "export CONTAINERS_CONF=$CONF"; }

install_packages() {
  local missing=()
  for p in podman runc debootstrap iptables; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if (( ${#missing[@]} > 0 )); then
    echo "podman.sh: installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
}

# The mirror the host's apt uses, for debootstrap (first deb URI of the host's sources).
host_mirror() {
  local uri
  uri=$(grep -hE '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null |
        grep -v security | head -n 1 | sed -E 's/^URIs: *//; s/^deb +(\[[^]]*\] +)?//; s/ .*$//')
  echo "${uri:-http://deb.debian.org/debian}"
}

import_base_images() {
  if podman image exists docker.io/library/debian:$SUITE && podman image exists docker.io/library/debian:$SUITE-slim
  then
    echo "podman.sh: base images debian:$SUITE and debian:$SUITE-slim exist"
    return
  fi
  local root="$STATE_DIR/rootfs-$SUITE"
  rm -rf "$root" "$root.tmp"
  echo "podman.sh: debootstrap --variant=minbase $SUITE from $(host_mirror)"
  debootstrap --variant=minbase "$SUITE" "$root.tmp" "$(host_mirror)" >"$STATE_DIR/debootstrap.log" 2>&1 ||
    { tail -n 20 "$STATE_DIR/debootstrap.log" >&2; die "debootstrap failed (log: $STATE_DIR/debootstrap.log)"; }
  # apt inside the images reaches what the host's apt reaches, with the host's apt settings.
  rm -f "$root.tmp/etc/apt/sources.list"
  cp -a /etc/apt/sources.list.d/*.sources "$root.tmp/etc/apt/sources.list.d/" 2>/dev/null || true
  [[ -f /etc/apt/sources.list ]] && cp -a /etc/apt/sources.list "$root.tmp/etc/apt/sources.list"
  cp -a /etc/apt/apt.conf.d/99* "$root.tmp/etc/apt/apt.conf.d/" 2>/dev/null || true
  # So do TLS clients (Maven inside the function image's build): the machine's own certificate
  # authorities, which the ca-certificates package adds to the image's trust store when a layer installs it.
  mkdir -p "$root.tmp/usr/local/share/ca-certificates"
  cp -a /usr/local/share/ca-certificates/. "$root.tmp/usr/local/share/ca-certificates/" 2>/dev/null || true
  rm -rf "$root.tmp/var/cache/apt/archives/"*.deb "$root.tmp/var/lib/apt/lists/"*
  mv "$root.tmp" "$root"
  tar -C "$root" -c . | podman import -q --change 'CMD ["bash"]' - docker.io/library/debian:$SUITE >/dev/null
  # The slim variant: the same system without documentation, manual pages and locales, as Debian's is.
  rm -rf "$root/usr/share/doc/"* "$root/usr/share/man/"* "$root/usr/share/info/"* "$root/usr/share/locale/"*
  tar -C "$root" -c . | podman import -q --change 'CMD ["bash"]' - docker.io/library/debian:$SUITE-slim >/dev/null
  rm -rf "$root"
  echo "podman.sh: imported debian:$SUITE and debian:$SUITE-slim"
}

case "${1:-}" in
  check) check ;;
  setup)
    check
    install_packages
    write_conf
    export CONTAINERS_CONF="$CONF"
    podman info >/dev/null 2>"$STATE_DIR/info.err" || { cat "$STATE_DIR/info.err" >&2; die "podman info failed"; }
    import_base_images
    ;;
  env) print_env ;;
  build)
    [[ $# -eq 3 ]] || die "usage: podman.sh build TAG DIR"
    export CONTAINERS_CONF="$CONF"
    # --network host: the build's apt-get and mvn reach the registries as the host does.
    podman build --pull=never --network host -t "$2" "$3"
    ;;
  *) die "usage: podman.sh check | setup | env | build TAG DIR" ;;
esac
