#!/usr/bin/env bash
# Runs every cargo-fuzz target of celltime in turn, each for a fixed time. Targets live
# beside the crate they test: crates/celltime-pyvalue/fuzz (pickle_decode, npy_json) and
# crates/celltime-store/fuzz (map_parse, log_parse).
#
#   scripts/fuzz.sh [SECONDS] [--merge] [TARGET...]
#
#   SECONDS   how long each target runs (default 60)
#   --merge   afterwards, fold what the runs found into the committed corpora with
#             `cargo fuzz cmin` (see below); without it the committed corpora never change
#   TARGET    only these targets (default: every target `cargo fuzz list` names)
#
# Environment:
#   FUZZ_WORK          where the scratch corpora live (default: a new temp folder, printed);
#                      reuse one to carry on from an earlier run
#   CARGO_FUZZ_FLAGS   extra flags for `cargo fuzz run`/`cmin` (e.g. `-O` for a faster build
#                      without debug assertions; default: cargo-fuzz's own, optimised with
#                      debug assertions and AddressSanitizer)
#   FUZZ_ARGS          extra libFuzzer flags (e.g. `-jobs=2 -workers=2`)
#
# Needs a nightly toolchain and cargo-fuzz (`cargo +nightly fuzz`). Works from any folder.
#
# How the corpora are used: each target fuzzes with the scratch folder $FUZZ_WORK/<target>
# FIRST on the command line, so libFuzzer writes new inputs there, and the committed corpus
# <crate>/fuzz/corpus/<target>/ second, read only as seeds; <crate>/fuzz/dict/<target>.dict,
# when there is one,
# is passed as the libFuzzer dictionary. With --merge, the scratch inputs and the
# committed ones are minimised together with `cargo fuzz cmin` in a temp folder; the committed
# folder then gets cmin's choice of fuzzer-named inputs (40 hex digits, libFuzzer's names),
# while hand-named seeds (real map.toml files, real segments, fixtures) are always kept.
# Each crate's test runner replays every committed file in the normal test suite.
#
# Crashes stop only their own target: the input is saved in <crate>/fuzz/artifacts/<target>/ (and
# shown with `cargo fuzz fmt <target> <file>`); the script goes on with the other targets and
# exits 1 at the end. Turn each crash into a test in that crate's tests.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
fuzz_dirs=("$root"/crates/*/fuzz)

seconds=60
merge=false
targets=()
for arg in "$@"; do
    case "$arg" in
        --merge) merge=true ;;
        -h | --help)
            sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
            exit 0
            ;;
        '' | *[!0-9]*) targets+=("$arg") ;;
        *) seconds="$arg" ;;
    esac
done
# The fuzz folder each target belongs to.
declare -A home
for dir in "${fuzz_dirs[@]}"; do
    while read -r target; do
        home[$target]="$dir"
    done < <(cd "$dir" && cargo +nightly fuzz list)
done
if [ "${#targets[@]}" -eq 0 ]; then
    mapfile -t targets < <(printf '%s\n' "${!home[@]}" | sort)
fi

work="${FUZZ_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/celltime-fuzz.XXXXXX")}"
echo "fuzz: ${#targets[@]} targets, ${seconds}s each; scratch corpora in $work"

# shellcheck disable=SC2206 # word splitting of the flag lists is intended
flags=(${CARGO_FUZZ_FLAGS:-})
# shellcheck disable=SC2206
libfuzzer_args=(${FUZZ_ARGS:-})

is_fuzzer_name() {
    [[ "$1" =~ ^[0-9a-f]{40}$ ]]
}

crashed=()
summary=()
for target in "${targets[@]}"; do
    here="${home[$target]:?unknown fuzz target $target}"
    cd "$here"
    scratch="$work/$target"
    committed="$here/corpus/$target"
    mkdir -p "$scratch" "$committed"
    log="$work/$target.log"
    echo "== $target (log: $log)"
    dict=()
    if [ -f "$here/dict/$target.dict" ]; then
        dict=(-dict="$here/dict/$target.dict")
    fi
    status=0
    cargo +nightly fuzz run "${flags[@]}" "$target" "$scratch" "$committed" -- \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        "${dict[@]}" "${libfuzzer_args[@]}" >"$log" 2>&1 || status=$?
    runs="$(awk '/stat::number_of_executed_units:/ { n += $2 } END { if (NR) print n }' "$log")"
    found="$(find "$scratch" -type f | wc -l)"
    if [ "$status" -ne 0 ]; then
        crashed+=("$target")
        summary+=("$target: FAILED (exit $status) after ${runs:-?} runs; see $log and $here/artifacts/$target/")
        grep -E '^(==[0-9]+==|thread .* panicked|SUMMARY|artifact_prefix|Test unit written)' "$log" | head -20 || true
        continue
    fi
    summary+=("$target: ${runs:-?} runs, no crash; $found new inputs in $scratch")

    if $merge && [ "$found" -gt 0 ]; then
        pool="$(mktemp -d "$work/$target-cmin.XXXXXX")"
        find "$committed" "$scratch" -maxdepth 1 -type f -exec cp -p -n -t "$pool" -- {} +
        cargo +nightly fuzz cmin "${flags[@]}" "$target" "$pool" >>"$log" 2>&1
        before="$(find "$committed" -type f | wc -l)"
        for file in "$committed"/*; do
            if [ -f "$file" ] && is_fuzzer_name "$(basename "$file")"; then
                rm -- "$file"
            fi
        done
        for file in "$pool"/*; do
            if [ -f "$file" ] && is_fuzzer_name "$(basename "$file")"; then
                cp -p -- "$file" "$committed"/
            fi
        done
        rm -rf -- "$pool"
        after="$(find "$committed" -type f | wc -l)"
        summary+=("  merged with cmin: $committed now holds $after files (was $before)")
    fi
done

echo
printf '%s\n' "${summary[@]}"
if [ "${#crashed[@]}" -gt 0 ]; then
    echo "crashes in: ${crashed[*]}"
    exit 1
fi
