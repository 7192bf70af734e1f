#!/usr/bin/env bash
# Writes help2man's include file for the man page: a section per command
# with that command's --help, so `man sinapsis` documents every option.
# Usage: launch/man_commands.sh SINAPSIS OUT
set -euo pipefail
program=$1 out=$2
{
  echo "[COMMANDS]"
  for command in train sweep plan info eval predict report "data make" "data import" "data shard" "data inspect"; do
    # shellcheck disable=SC2086  # "data make" is two words
    help=$("$program" $command --help 2>&1) || true
    echo ".SS \"sinapsis $command\""
    echo ".nf"
    sed 's/\\/\\\\/g; s/^\./\\\&./' <<<"$help"
    echo ".fi"
  done
} >"$out.tmp"
mv "$out.tmp" "$out"
