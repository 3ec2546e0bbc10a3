#!/usr/bin/env bash
# Transcript tests: every shell transcript in README.md and docs/*.md is produced by a script
# that runs it, so the docs cannot drift from what ./shadowbox prints.
#
#   docs/transcripts/NAME.gosh   the commands, one statement a line (# lines are comments,
#                                not shown); a line '#! shell: CMD' runs CMD with bash in the
#                                repository root first (e.g. to copy a plugin into deploy/)
#   docs/transcripts/NAME.out    what the commands print: each line typed, as 'shadowbox> LINE',
#                                then its output
#   <!-- transcript: NAME -->    in a .md page, just before a ```text block that must equal
#                                NAME.out
#
# Each transcript runs as `./shadowbox NAME.gosh` on a fresh workspace (a copy of
# workspace/config and workspace/plugins, an empty deploy/). Before comparing, both sides are
# masked: times, dates, result file stamps, host rates, the temporary workspace's path, and
# vm:list's BUDGET column (by default half the JVM's maximum heap, which the JVM sizes from the
# machine's memory: docs/robustness.md).
#
#   launcher/src/test/sh/transcript-test.sh            check every transcript and page
#   launcher/src/test/sh/transcript-test.sh NAME...    check those transcripts only
#   launcher/src/test/sh/transcript-test.sh --update   re-run, rewrite the .out files and the
#                                                      blocks of the pages that show them
# Run by `mvn verify` in the launcher module.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd -P)
dir=$root/docs/transcripts
limit=${SHADOWBOX_TEST_TIMEOUT:-120}
export SHADOWBOX_NO_BUILD=1
unset JAVA_OPTS SHADOWBOX_TRACE SHADOWBOX_WAIT_MS

update=
names=()
for a in "$@"; do
    case $a in
        --update) update=1 ;;
        *) names+=("$a") ;;
    esac
done
if [[ ${#names[@]} -eq 0 ]]; then
    for f in "$dir"/*.gosh; do
        [[ -e $f ]] && names+=("$(basename "$f" .gosh)")
    done
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/shadowbox-transcript.XXXXXX")
trap 'rm -rf "$work"' EXIT

# mask -- stdin to stdout with what changes from run to run replaced.
mask() {
    sed -E \
        -e 's/[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z/<time>/g' \
        -e 's/[0-9]{8}-[0-9]{6}/<stamp>/g' \
        -e 's/\b[0-9]{2}:[0-9]{2}:[0-9]{2}\b/<hh:mm:ss>/g' \
        -e 's/^(host time: ).*/\1<host>/' \
        -e 's/host time [0-9.]+ s/host time <t>/g' \
        -e 's/[0-9.]+ (M|million)? ?(guest )?accesses( per host second|\/s)/<rate>/g' \
        -e 's/^([A-Za-z0-9_.-]+ +[0-9]+ +[0-9.]+ [KMGTPE]?i?B +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+ [KMGTPE]?i?B +)[0-9.]+ [KMGTPE]?i?B$/\1<budget>/'
}

# run_one NAME -- runs NAME.gosh; its output in $work/NAME.actual.
run_one() {
    local name=$1 ws=$work/ws-$1 script=$work/$1.gosh line
    rm -rf "$ws"
    mkdir -p "$ws/deploy" "$ws/results"
    cp -r "$root/workspace/config" "$ws/config"
    [[ -d $root/workspace/plugins ]] && cp -r "$root/workspace/plugins" "$ws/plugins"
    : >"$script"
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line =~ ^#!\ shell:\ (.*)$ ]]; then
            (cd "$root" && WS=$ws bash -c "${BASH_REMATCH[1]}") || return 1
            continue
        fi
        if [[ $line =~ ^#!\ quiet:\ (.*)$ ]]; then
            printf '%s\n' "${BASH_REMATCH[1]}" >>"$script" # run, not shown (it must print nothing)
            continue
        fi
        [[ -z ${line// /} || $line == \#* ]] && continue
        if [[ $line == *"'"* ]]; then
            echo "    $name.gosh: a line may not contain a single quote: $line"
            return 1
        fi
        printf "echo 'shadowbox> %s'\n%s\n" "$line" "$line" >>"$script"
    done <"$dir/$name.gosh"
    # The statements run after the shell lines: a deploy/ copy is installed before the first.
    SHADOWBOX_WORKSPACE=$ws timeout -k 5 "$limit" "$root/shadowbox" "$script" >"$work/$name.actual" 2>"$work/$name.err"
    local status=$?
    sed -i "s#$ws#workspace#g" "$work/$name.actual"
    if [[ $status -ne 0 ]]; then
        echo "    ./shadowbox $name.gosh failed with status $status:"
        sed 's/^/    | /' "$work/$name.err"
        return 1
    fi
}

# blocks FILE -- each transcript block of a page: 'NAME<TAB>START<TAB>END' (the lines inside the fence).
blocks() {
    awk '/^<!-- transcript: [A-Za-z0-9_.-]+ -->$/ { name = $3; want = 1; next }
         want && /^```/ && !open { open = 1; start = NR + 1; next }
         open && /^```$/ { print name "\t" start "\t" NR - 1; open = 0; want = 0; next }
         want && !open && !/^$/ { want = 0 }' "$1"
}

failed=0
passed=0
for name in "${names[@]}"; do
    echo "transcript $name"
    if [[ ! -f $dir/$name.gosh ]]; then
        echo "    no $dir/$name.gosh"
        failed=$((failed + 1))
        continue
    fi
    if ! run_one "$name"; then
        failed=$((failed + 1))
        continue
    fi
    if [[ -n $update ]]; then
        cp "$work/$name.actual" "$dir/$name.out"
    fi
    if ! diff <(mask <"$dir/$name.out") <(mask <"$work/$name.actual") >"$work/diff"; then
        echo "    output differs from docs/transcripts/$name.out (< expected, > actual; --update rewrites it):"
        sed 's/^/    /' "$work/diff"
        failed=$((failed + 1))
        continue
    fi
    passed=$((passed + 1))
done

# Every page's transcript blocks equal their .out files (after masking).
for page in "$root/README.md" "$root"/docs/*.md; do
    [[ -f $page ]] || continue
    while IFS=$'\t' read -r name start end; do
        rel=${page#"$root"/}
        if [[ ! -f $dir/$name.out ]]; then
            echo "    $rel:$start: no docs/transcripts/$name.out"
            failed=$((failed + 1))
            continue
        fi
        if [[ -n $update ]]; then
            { head -n $((start - 1)) "$page"; cat "$dir/$name.out"; tail -n +$((end + 1)) "$page"; } >"$work/page"
            cat "$work/page" >"$page"
            end=$((start + $(wc -l <"$dir/$name.out") - 1))
        fi
        if ! diff <(sed -n "${start},${end}p" "$page" | mask) <(mask <"$dir/$name.out") >"$work/diff"; then
            echo "    $rel:$start: the block differs from docs/transcripts/$name.out (--update rewrites it):"
            sed 's/^/    /' "$work/diff"
            failed=$((failed + 1))
        fi
    done < <(blocks "$page" | sort -t$'\t' -k2,2nr)
done

echo "transcript-test: $passed transcripts passed, $failed failures"
[[ $failed -eq 0 ]]
