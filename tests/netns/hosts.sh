#!/bin/bash
# hosts.sh setup [--hosts N] [--rate RATE] [--delay USEC] | teardown | kill LETTER
#
# N simulated hosts on one machine (default 2): hostA (10.10.0.1), hostB
# (10.10.0.2), ... each a network namespace with one link into a switch, a
# bridge in a namespace of its own, as hosts hang off a top-of-rack switch.
#
# The names come from SINAPSIS_NETNS_TAG (letters and digits, at most 10), so
# runs never collide with each other or with other namespaces: hosts
# ${TAG}A, ${TAG}B, ... and the switch ${TAG}sw. Host X's end of its link is
# ${TAG}x (lower case) inside ${TAG}X; the switch's end is ${TAG}x inside
# ${TAG}sw. nsexec runs a command "on" a host; nsrsh is Open MPI's
# remote-shell agent.
#
# --rate RATE (a tc rate: 10gbit, 1gbit, 500mbit) shapes every link, in both
# directions, with a token bucket (tbf) on each end: what a full-duplex link
# of that speed does. Without it the links run at what veth and the two
# cores manage (several GB/s, see experiments/cluster/README.md).
# --delay USEC adds one-way latency on every link with netem. Kernels built
# without netem (CONFIG_NET_SCH_NETEM unset and no modules, as on the machines
# this was written on) cannot add latency; setup then exits 2 with one line
# saying so.
#
# setup exits 77 (ctest's skip) when this machine cannot make namespaces at
# all (not root, no `ip netns`), 2 for a bad option or a --delay this kernel
# cannot add, 1 when it fails after that. teardown kills every process left in any of the namespaces, then
# deletes them (which deletes the links); it is safe to call twice or after a
# partial setup.
set -u
tag=${SINAPSIS_NETNS_TAG:?hosts.sh: set SINAPSIS_NETNS_TAG}
[[ "$tag" =~ ^[A-Za-z0-9]{1,10}$ ]] || { echo "hosts.sh: bad SINAPSIS_NETNS_TAG '$tag'" >&2; exit 1; }
letters=ABCDEFGHIJKLMNOPQRSTUVWXYZ
switch=${tag}sw

usage() { echo "usage: SINAPSIS_NETNS_TAG=TAG hosts.sh setup [--hosts N] [--rate RATE] [--delay USEC] | teardown | kill LETTER" >&2; exit 2; }

# The shaping of one end of a link: netem (latency) at the root when asked,
# with tbf (bandwidth) below it, or tbf alone. The tbf queue holds 10 ms at
# the rate; the burst of 128 KiB lets a 64 KiB GSO packet through whole and
# keeps the rate within a few per cent at 10 Gb/s (measured: README.md).
shape() {
  local ns=$1 dev=$2 rate=$3 delay=$4 parent=root
  if [[ -n "$delay" ]]; then
    tc -n "$ns" qdisc add dev "$dev" root handle 1: netem delay "${delay}us" limit 100000 || return 1
    parent="parent 1:1"
  fi
  if [[ -n "$rate" ]]; then
    # shellcheck disable=SC2086  # parent is one or two words
    tc -n "$ns" qdisc add dev "$dev" $parent handle 10: tbf rate "$rate" burst 128kb latency 10ms || return 1
  fi
}

setup() {
  local hosts=2 rate='' delay=''
  while (($#)); do
    case "$1" in
      --hosts) hosts=${2:-}; shift 2 || usage ;;
      --rate) rate=${2:-}; shift 2 || usage ;;
      --delay) delay=${2:-}; shift 2 || usage ;;
      *) usage ;;
    esac
  done
  if ! [[ "$hosts" =~ ^[0-9]+$ ]] || ((hosts < 2 || hosts > 26)); then
    echo "hosts.sh: --hosts must be 2 to 26, not '$hosts'" >&2; exit 2
  fi
  [[ -z "$rate" || "$rate" =~ ^[0-9]+(\.[0-9]+)?[kmg]?bit$ ]] ||
    { echo "hosts.sh: --rate must be a tc rate such as 10gbit or 500mbit, not '$rate'" >&2; exit 2; }
  [[ -z "$delay" || "$delay" =~ ^[0-9]+$ ]] ||
    { echo "hosts.sh: --delay must be whole microseconds, not '$delay'" >&2; exit 2; }

  if [[ $(id -u) -ne 0 ]]; then echo "network namespaces need root (uid $(id -u))"; exit 77; fi
  if ! command -v ip >/dev/null || ! ip netns list >/dev/null 2>&1; then
    echo "no 'ip netns' on this machine (iproute2)"; exit 77
  fi
  if ! command -v unshare >/dev/null; then echo "no 'unshare' on this machine (util-linux)"; exit 77; fi
  local why
  if ! why=$(ip netns add "$switch" 2>&1); then
    echo "this machine cannot create a network namespace: $why"; exit 77
  fi
  set -e
  ip -n "$switch" link add "${tag}br" type bridge
  ip -n "$switch" link set "${tag}br" up
  ip -n "$switch" link set lo up
  if [[ -n "$delay" ]]; then   # ask the kernel before building anything more
    ip -n "$switch" link add "${tag}t0" type veth peer name "${tag}t1"
    if ! why=$(tc -n "$switch" qdisc add dev "${tag}t0" root netem delay "${delay}us" 2>&1); then
      echo "hosts.sh: --delay $delay: this kernel cannot add latency: it has no netem qdisc" \
           "(tc: ${why:-failed}); run without --delay" >&2
      exit 2
    fi
    ip -n "$switch" link del "${tag}t0"
  fi
  local i letter ns dev
  for ((i = 0; i < hosts; ++i)); do
    letter=${letters:i:1} ns=${tag}${letters:i:1}
    dev=${tag}${letter,,}
    ip netns add "$ns"
    # Made inside the namespaces: nothing ever appears in the machine's own.
    ip -n "$switch" link add "$dev" type veth peer name "$dev" netns "$ns"
    ip -n "$switch" link set "$dev" master "${tag}br" up
    ip -n "$ns" addr add "10.10.0.$((i + 1))/24" dev "$dev"
    ip -n "$ns" link set lo up
    ip -n "$ns" link set "$dev" up
    if [[ -n "$rate$delay" ]]; then shape "$ns" "$dev" "$rate" "$delay"; shape "$switch" "$dev" "$rate" "$delay"; fi
  done
}

# The namespaces of this tag: the hosts and the switch.
namespaces() { ip netns list 2>/dev/null | awk -v t="$tag" '$1 ~ "^" t "([A-Z]|sw)$" { print $1 }'; }

# Every process in a namespace, killed; waits up to 5 s for them to go.
kill_host() {
  local ns=$1 pids
  for _ in $(seq 50); do
    pids=$(ip netns pids "$ns" 2>/dev/null) || return 0
    [[ -z "$pids" ]] && return 0
    # shellcheck disable=SC2086  # one argument per pid
    kill -9 $pids 2>/dev/null
    sleep 0.1
  done
  echo "hosts.sh: processes still in $ns: $pids" >&2
}

teardown() {
  local ns
  for ns in $(namespaces); do kill_host "$ns"; done
  for ns in $(namespaces); do ip netns del "$ns" 2>/dev/null; done
  true
}

case "${1:-}" in
  setup) shift; setup "$@" ;;
  teardown) teardown ;;
  kill) [[ "${2:-}" =~ ^[A-Z]$ ]] || usage; kill_host "${tag}$2" ;;
  *) usage ;;
esac
