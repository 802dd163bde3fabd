#!/usr/bin/env bash
# Cold build times, side by side: for each revision given (default: HEAD), each build in a fresh
# clone and a fresh target directory, one build at a time. Prints seconds and crates compiled.
#   bash benches/cold_build_times.sh 2605d76 HEAD
#   BUILDS=readme bash benches/cold_build_times.sh 013e5d5 HEAD
# BUILDS picks the builds (default all three):
#   release  `cargo build --release`;
#   test     `cargo test --no-run`;
#   readme   what a newcomer's first two commands build, in that revision's README and in one
#            clone: the build of its `cargo run …` line, then its `cargo test` line with
#            `--no-run` (the second reuses what the first built). Prints each and their sum.
set -u
repo="$(cd "$(dirname "$0")/.." && pwd)"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# Runs `$2…` in directory $1, logging to $1.log; prints "rc=… N s, M crates" (the crates this
# command compiled, not those of an earlier command in the same clone).
timed() {
    local dir="$1"
    shift
    local start rc log="$dir.$(date +%s%N).log"
    start=$(date +%s)
    (cd "$dir" && "$@" >"$log" 2>&1)
    rc=$?
    echo "rc=$rc $(($(date +%s) - start)) s, $(grep -c Compiling "$log") crates"
}

# The README's first command starting with `$2` (`cargo run`, `cargo test`), in checkout $1,
# without its comment and its program arguments.
readme_command() {
    sed -n '/^```sh/,/^```/p' "$1/README.md" | grep -m1 "^$2" | sed 's/ *#.*//; s/ -- .*//'
}

for rev in "${@:-HEAD}"; do
    for what in ${BUILDS:-release test readme}; do
        dir="$work/$rev-$what"
        git clone -q "$repo" "$dir"
        git -C "$dir" checkout -q "$rev"
        case "$what" in
            release) echo "$rev cargo build --release: $(timed "$dir" cargo build --release)" ;;
            test) echo "$rev cargo test --no-run: $(timed "$dir" cargo test --no-run)" ;;
            readme)
                run=$(readme_command "$dir" "cargo run")
                test=$(readme_command "$dir" "cargo test")
                start=$(date +%s)
                # shellcheck disable=SC2086 # the commands are words from the README
                echo "$rev README, ${run/cargo run/cargo build}: $(timed "$dir" ${run/cargo run/cargo build})"
                # shellcheck disable=SC2086
                echo "$rev README, then $test --no-run: $(timed "$dir" $test --no-run)"
                echo "$rev README, both: $(($(date +%s) - start)) s"
                ;;
            *) echo "unknown build: $what (release, test or readme)" >&2 ;;
        esac
        rm -rf "$dir" "$dir".*.log
    done
done
