#!/usr/bin/env bash
# Cold build times, side by side: for each revision given (default: HEAD), a fresh clone of this
# repository and a fresh target directory for each of `cargo build --release` and
# `cargo test --no-run`, one build at a time. Prints seconds and crates compiled.
#   bash benches/cold_build_times.sh 2605d76 HEAD
set -u
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for rev in "${@:-HEAD}"; do
    for what in release test; do
        dir="$work/$rev-$what"
        git clone -q "$repo" "$dir"
        git -C "$dir" checkout -q "$rev"
        start=$(date +%s)
        if [ "$what" = release ]; then
            (cd "$dir" && cargo build --release >"$dir.log" 2>&1)
        else
            (cd "$dir" && cargo test --no-run >"$dir.log" 2>&1)
        fi
        rc=$?
        echo "$rev cargo $what: rc=$rc $(( $(date +%s) - start )) s, $(grep -c Compiling "$dir.log") crates"
        rm -rf "$dir"
    done
done
