#!/usr/bin/env bash
# The container images (contrib/container), built from the test build's .debs and run:
#   - the relay image is healthy, runs as its own user and serves the web client;
#   - the agent image is healthy, pairs with an agent started here, and runs a session
#     as its unprivileged user.
#
# Needs a Docker daemon: scripts/setup.sh installs Debian's docker.io where there is no
# dockerd, and this starts one when none answers (and stops it again): host networking
# only, no bridge and no iptables rules left behind. The base image is Debian slim of
# this machine's release (the packages' libc dependency is this machine's); with no
# registry to pull it from, it is debootstrap's minbase of that release from this
# machine's apt mirror, imported once and kept. Where no daemon can start at all, one
# line says the test was SKIPPED and why.
set -euo pipefail
cd "$(dirname "$0")/.."

work="$(mktemp -d)"
pids=()
containers=()
cleanup() {
  for c in "${containers[@]}"; do docker rm -f "$c" >/dev/null 2>&1 || true; done
  # vfs copies every layer: leave no test images behind.
  docker rmi -f vibemesh-agent:test vibemesh-relay:test >/dev/null 2>&1 || true
  docker image prune -f >/dev/null 2>&1 || true
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "container test: $*" >&2; exit 1; }
# Waits up to $1 seconds for the command after it to succeed.
await() {
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

if ! docker info >/dev/null 2>&1; then
  command -v dockerd >/dev/null || { echo "container test SKIPPED: no dockerd (scripts/setup.sh installs docker.io)" >&2; exit 0; }
  # vfs works on any file system, overlay or not; images here are small.
  dockerd --data-root /var/lib/vibemesh-test-docker --storage-driver vfs \
    --bridge=none --iptables=false --ip6tables=false \
    --pidfile "$work/dockerd.pid" >"$work/dockerd.log" 2>&1 &
  pids+=($!)
  if ! await 60 docker info; then
    echo "container test SKIPPED: dockerd did not start here:" >&2
    tail -5 "$work/dockerd.log" >&2
    exit 0
  fi
fi

suite="$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")"
# The first Debian mirror apt uses (deb822 or one-line sources), else deb.debian.org.
mirror="$(awk '/^URIs:/ && $2 ~ /debian\/?$/ { print $2; exit }' \
  /etc/apt/sources.list.d/*.sources 2>/dev/null || true)"
[ -n "$mirror" ] || mirror="$(awk '$1 == "deb" && $2 ~ /debian\/?$/ { print $2; exit }' \
  /etc/apt/sources.list 2>/dev/null || true)"
mirror="${mirror:-http://deb.debian.org/debian}"
base="debian:$suite-slim"
if ! docker image inspect "$base" >/dev/null 2>&1; then
  base="vibemesh-test/debian:$suite-minbase"
  if ! docker image inspect "$base" >/dev/null 2>&1; then
    if timeout 60 docker pull -q "debian:$suite-slim" >/dev/null 2>&1; then
      base="debian:$suite-slim"
    else
      echo "container test: no registry; building $base with debootstrap from $mirror" >&2
      debootstrap --variant=minbase "$suite" "$work/rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 ||
        { tail -5 "$work/debootstrap.log" >&2; fail "debootstrap failed"; }
      tar -C "$work/rootfs" --exclude=./usr/share/doc --exclude=./usr/share/man \
        --exclude=./var/cache/apt/archives --exclude=./var/lib/apt/lists -c . |
        docker import - "$base" >/dev/null
      rm -rf "$work/rootfs"
    fi
  fi
fi

bash scripts/package.sh --profile dev --no-build --out "$work/ctx" >/dev/null
for image in agent relay; do
  docker build -q --network host --build-arg "BASE=$base" -f "contrib/container/$image.Containerfile" \
    -t "vibemesh-$image:test" "$work/ctx" >/dev/null 2>"$work/build-$image.log" ||
    { cat "$work/build-$image.log" >&2; fail "the $image image did not build"; }
done
healthy() { [ "$(docker inspect -f '{{.State.Health.Status}}' "$1")" = healthy ]; }

# The relay, on a port of its own, without TLS.
port="$(free_port)"
relay="$(docker run -d --network host --health-interval 1s vibemesh-relay:test --listen "127.0.0.1:$port")"
containers+=("$relay")
await 60 healthy "$relay" || { docker logs "$relay" >&2; fail "the relay never became healthy"; }
# docker top names users by the host's passwd: compare uids (the images' 998 and 1000).
uids() { docker top "$1" -o pid,uid | awk 'NR > 1 { print $2 }' | sort -u; }
[ "$(uids "$relay")" = 998 ] || fail "the relay does not run as its own user: $(docker top "$relay" -o pid,uid,cmd)"
page="$(python3 -c "import urllib.request as u; print(u.urlopen('http://127.0.0.1:$port/').read().decode())")"
grep -q '<title>VibeMesh' <<<"$page" || fail "the relay does not serve the web client: $page"
echo "container test: relay image healthy, as its own user, serving the web client" >&2

# The agent, with its state in a folder here, and a second agent here to pair with it.
data="$work/data"
mkdir -m 0700 "$data"
printf 'name = "container"\nrelay = "none"\nlisten = ["127.0.0.1:%s"]\nlan_discovery = false\n' \
  "$(free_port)" >"$data/config.toml"
chown -R 1000:1000 "$data"
agent="$(docker run -d --network host --health-interval 1s -v "$data:/data" vibemesh-agent:test)"
containers+=("$agent")
await 60 healthy "$agent" || { docker logs "$agent" >&2; fail "the agent never became healthy"; }

here="$work/here"
mkdir -m 0700 "$here"
printf 'name = "here"\nrelay = "none"\nlisten = ["127.0.0.1:0"]\nlan_discovery = false\n' >"$here/config.toml"
# shellcheck source=scripts/target-dir.sh
. scripts/target-dir.sh
bin="$(target_dir)/debug/vibemesh"
VIBEMESH_HOME="$here" "$bin" agent 2>"$work/here.log" &
pids+=($!)
vm() { VIBEMESH_HOME="$here" "$bin" "$@"; }
await 30 vm status || { cat "$work/here.log" >&2; fail "the agent here did not start"; }

ticket="$(docker exec "$agent" vibemesh pair --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["ticket"])')"
vm join "$ticket" --name box >/dev/null
vm open box --path /home/vibemesh --detached -- sh -c 'id -un >who.tmp && mv who.tmp who; exec sleep 600' >/dev/null
await 30 docker exec "$agent" test -s /home/vibemesh/who || fail "the session never ran"
who="$(docker exec "$agent" cat /home/vibemesh/who)"
[ "$who" = vibemesh ] || fail "the session runs as $who, not as the unprivileged user"
[ "$(uids "$agent")" = 1000 ] ||
  fail "not every process in the agent container runs as vibemesh: $(docker top "$agent" -o pid,uid,cmd)"
echo "container test: agent image healthy, paired from here, session running as $who" >&2
