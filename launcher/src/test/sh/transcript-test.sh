#!/usr/bin/env bash
# Transcript tests: every shell transcript in README.md and docs/*.md is produced by a script
# that runs it, so the docs cannot drift from what ./shadowbox prints.
#
#   docs/transcripts/NAME.gosh   the commands, one statement a line (# lines are comments,
#                                not shown), and these directives:
#     #! shell: CMD     runs CMD with bash in the repository root, $WS the transcript's
#                       workspace: before the shell starts when it comes before the first
#                       statement, else between the statements around it (e.g. to copy a
#                       plugin into deploy/ while a run is under way, as a second terminal would)
#     #! quiet: STMT    runs STMT without showing it (it must print nothing), e.g. 'sleep 5'
#     #! await: STMT    waits, not shown, until STMT succeeds (a bundle's command exists: FileInstall
#                       has started it), trying once a second; '#! await-fail: STMT' until it fails
#     #! fails: STMT    shows STMT and the one line it fails with, as the interactive shell
#                       does; the test fails if STMT succeeds
#     #! keep: ERE      after a statement: show only the lines of its output that match ERE
#                       (grep -E), each run of lines left out shown as one '...' line
#     #! part           the statements after it are the next part (2, 3, ...) of the output,
#                       which a page shows as NAME:2, NAME:3 (one session told in several blocks)
#     #! timeout: SECONDS  this transcript's bound instead of SHADOWBOX_TEST_TIMEOUT (default 120 s)
#     #! mask: SEDEXPR  a sed -E expression applied to both sides before comparing, for what a
#                       run cannot fix (a count that depends on timing); the page shows the
#                       value of the last --update
#   docs/transcripts/NAME.console  instead of NAME.gosh: '$ CMD' lines run with bash beside an
#                                interactive ./shadowbox (stdin a pipe), for what only that mode
#                                has: the web view, whose address is written http://127.0.0.1:8080/
#                                in CMD and in the output (the test puts the real one in);
#                                '#! await: CMD' retries CMD, unseen, until it succeeds
#   docs/transcripts/NAME.out    what the commands print: each line typed, as 'shadowbox> LINE',
#                                then its output
#   <!-- transcript: NAME -->    in a .md page, just before a ```text block that must equal
#                                NAME.out (NAME:N: its part N only, see '#! part'; with
#                                ' keep ERE' after it: only the lines that match ERE, and the
#                                prompt lines, each run of lines left out shown as '...')
#
# Each transcript runs as `./shadowbox NAME.gosh` on a fresh workspace (a copy of
# workspace/config and workspace/plugins, an empty deploy/). Before comparing, both sides are
# masked: times, dates, result file stamps, host rates, bundle version qualifiers, the
# temporary workspace's path, and vm:list's BUDGET column (by default half the JVM's maximum
# heap, which the JVM sizes from the machine's memory: docs/robustness.md).
#
# Every fenced block of README.md and docs/*.md that shows a shell prompt ('shadowbox> ',
# 'g! ', '$ ') must be such a block: one that is not, a transcript copied by hand, fails the
# test. So does a relative link of those pages that reaches no file or heading, and a docs/
# page that README.md's documentation map does not list.
#
#   launcher/src/test/sh/transcript-test.sh            check every transcript and page
#   launcher/src/test/sh/transcript-test.sh NAME...    check those transcripts only
#   launcher/src/test/sh/transcript-test.sh --update   re-run, rewrite the .out files and the
#                                                      blocks of the pages that show them, where
#                                                      they differ beyond what is masked
# After merging branches that change what commands print: build the launcher jar
# (mvn -B -q -DskipTests install -pl launcher -am), run --update, read `git diff docs README.md`.
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
    for f in "$dir"/*.gosh "$dir"/*.console; do
        [[ -e $f ]] && names+=("$(basename "${f%.*}")")
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
        -e 's/^([A-Za-z0-9_.-]+ +[0-9]+ +[0-9.]+ [KMGTPE]?i?B +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+ [KMGTPE]?i?B +)[0-9.]+ [KMGTPE]?i?B$/\1<budget>/' \
        -e 's/\b([0-9]+\.[0-9]+\.[0-9]+)\.[0-9]{12}\b/\1.<qualifier>/g' |
        if [[ -n ${masks:-} ]]; then sed -E -f "$masks"; else cat; fi
}

# keep KEEPFILE -- stdin to stdout: the output of statement N (the lines after the N-th
# 'shadowbox> ' line) filtered by line N of KEEPFILE (an ERE; empty keeps every line), each run
# of lines left out replaced by one '...'.
keep() {
    awk -v keepfile="$1" '
        BEGIN { while ((getline re < keepfile) > 0) keeps[++n] = re }
        function flush_gap() { if (gap) { print "..."; gap = 0 } }
        /^shadowbox> / { flush_gap(); stmt++; print; next }
        { re = keeps[stmt]
          if (re == "" || $0 ~ re) { flush_gap(); print } else gap = 1 }
        END { flush_gap() }'
}

# masks_of NAME -- sets $masks to a sed script of NAME.gosh's '#! mask:' lines, or empty.
masks_of() {
    masks=
    [[ -f $dir/$1.gosh ]] || return 0
    sed -n 's/^#! mask: //p' "$dir/$1.gosh" >"$work/$1.masks"
    [[ -s $work/$1.masks ]] && masks=$work/$1.masks
    return 0
}

# run_one NAME -- runs NAME.gosh; its output (the '#! keep:' filters applied) in $work/NAME.actual.
run_one() {
    local name=$1 ws=$work/ws-$1 script=$work/$1.gosh line stmts=0 syncs=0 cmd bound=$limit
    local keeps=$work/$1.keep shells=()
    rm -rf "$ws" "$work/$name.sync"
    mkdir -p "$ws/deploy" "$ws/results" "$work/$name.sync"
    cp -r "$root/workspace/config" "$ws/config"
    [[ -d $root/workspace/plugins ]] && cp -r "$root/workspace/plugins" "$ws/plugins"
    : >"$script"
    : >"$keeps"
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line =~ ^#!\ shell:\ (.*)$ ]]; then
            cmd=${BASH_REMATCH[1]}
            if ((stmts == 0)); then
                (cd "$root" && WS=$ws bash -c "$cmd") || return 1
            else
                # Between two statements: the script waits on two FIFOs (Gogo's cat blocks on
                # each), the first tells the runner below that the script got here, the second
                # lets the script go on once CMD is done.
                syncs=$((syncs + 1))
                mkfifo "$work/$name.sync/$syncs.here" "$work/$name.sync/$syncs.done"
                printf 'cat %s\ncat %s\n' "$work/$name.sync/$syncs.here" "$work/$name.sync/$syncs.done" >>"$script"
                shells+=("$cmd")
            fi
            continue
        fi
        if [[ $line =~ ^#!\ quiet:\ (.*)$ ]]; then
            printf '%s\n' "${BASH_REMATCH[1]}" >>"$script" # run, not shown (it must print nothing)
            continue
        fi
        if [[ $line =~ ^#!\ await(-fail)?:\ (.*)$ ]]; then
            if [[ -z ${BASH_REMATCH[1]} ]]; then
                printf 'until { try { %s } { } } { sleep 1 }\n' "${BASH_REMATCH[2]}" >>"$script"
            else
                printf 'until { not { try { %s } { } } } { sleep 1 }\n' "${BASH_REMATCH[2]}" >>"$script"
            fi
            continue
        fi
        if [[ $line =~ ^#!\ fails:\ (.*)$ ]]; then
            line=${BASH_REMATCH[1]}
            [[ $line != *"'"* ]] || { echo "    $name.gosh: a line may not contain a single quote: $line"; return 1; }
            printf "echo 'shadowbox> %s'\ntry { %s ; echo 'transcript-test: this statement did not fail' } { echo (\$exception message) }\n" \
                "$line" "$line" >>"$script"
            stmts=$((stmts + 1))
            echo >>"$keeps"
            continue
        fi
        if [[ $line =~ ^#!\ keep:\ (.*)$ ]]; then
            ((stmts > 0)) || { echo "    $name.gosh: '#! keep:' before any statement"; return 1; }
            { head -n $((stmts - 1)) "$keeps"; printf '%s\n' "${BASH_REMATCH[1]}"; } >"$keeps.new"
            mv "$keeps.new" "$keeps"
            continue
        fi
        [[ $line =~ ^#!\ mask:\ (.*)$ || $line == '#! part' ]] && continue # see masks_of, part_of
        if [[ $line =~ ^#!\ timeout:\ ([0-9]+)$ ]]; then
            bound=${BASH_REMATCH[1]}
            continue
        fi
        if [[ $line == '#!'* ]]; then
            echo "    $name.gosh: unknown directive (accepted: #! shell:, #! quiet:, #! await:, #! await-fail:, #! fails:, #! keep:, #! part, #! mask:): $line"
            return 1
        fi
        [[ -z ${line// /} || $line == \#* ]] && continue
        if [[ $line == *"'"* ]]; then
            echo "    $name.gosh: a line may not contain a single quote: $line"
            return 1
        fi
        printf "echo 'shadowbox> %s'\n%s\n" "$line" "$line" >>"$script"
        stmts=$((stmts + 1))
        echo >>"$keeps"
    done <"$dir/$name.gosh"
    # Statements run after the leading shell lines: a deploy/ copy is installed before the first.
    SHADOWBOX_WORKSPACE=$ws timeout -k 5 "$bound" "$root/shadowbox" "$script" >"$work/$name.raw" 2>"$work/$name.err" &
    local pid=$! i status
    for ((i = 1; i <= syncs; i++)); do
        # Opening a FIFO blocks until the other side opens it: bounded by the shell's own timeout.
        timeout "$bound" bash -c ': >"$1"' _ "$work/$name.sync/$i.here" || break
        (cd "$root" && WS=$ws bash -c "${shells[i - 1]}") || {
            echo "    $name.gosh: '#! shell: ${shells[i - 1]}' failed"
            kill "$pid" 2>/dev/null
            wait "$pid"
            return 1
        }
        timeout "$bound" bash -c ': >"$1"' _ "$work/$name.sync/$i.done" || break
    done
    wait "$pid"
    status=$?
    sed "s#$ws#workspace#g" "$work/$name.raw" | keep "$keeps" >"$work/$name.actual"
    if [[ $status -ne 0 ]]; then
        echo "    ./shadowbox $name.gosh failed with status $status:"
        sed 's/^/    | /' "$work/$name.err"
        return 1
    fi
}

# run_console NAME -- runs NAME.console's '$ CMD' lines beside an interactive ./shadowbox; the
# output, each line as '$ CMD' then what CMD printed, in $work/NAME.actual.
run_console() {
    local name=$1 ws=$work/ws-$1 line url= deadline pid
    rm -rf "$ws"
    mkdir -p "$ws/deploy" "$ws/results"
    cp -r "$root/workspace/config" "$ws/config"
    mkfifo "$work/$name.stdin"
    SHADOWBOX_WORKSPACE=$ws timeout -k 5 "$limit" "$root/shadowbox" <"$work/$name.stdin" >"$work/$name.log" 2>&1 &
    pid=$!
    exec 9>"$work/$name.stdin" # the shell's stdin stays open until fd 9 closes
    deadline=$((SECONDS + limit))
    while [[ -z $url ]] && ((SECONDS < deadline)) && kill -0 "$pid" 2>/dev/null; do
        url=$(sed -nE 's#^.*Web view: (http://127\.0\.0\.1:[0-9]+/).*$#\1#p' "$work/$name.log" | head -1)
        [[ -n $url ]] || sleep 0.2
    done
    if [[ -z $url ]]; then
        exec 9>&-
        wait "$pid"
        echo "    ./shadowbox printed no 'Web view: URL' line:"
        sed 's/^/    | /' "$work/$name.log"
        return 1
    fi
    : >"$work/$name.actual"
    while IFS= read -r line || [[ -n $line ]]; do
        if [[ $line =~ ^#!\ await:\ (.*)$ ]]; then
            deadline=$((SECONDS + limit))
            until (cd "$ws" && bash -c "${BASH_REMATCH[1]}") >/dev/null 2>&1; do
                ((SECONDS < deadline)) || { echo "    $name.console: '$line' never succeeded"; break; }
                sleep 0.5
            done
            continue
        fi
        [[ $line == '$ '* ]] || continue
        printf '%s\n' "$line" >>"$work/$name.actual"
        (cd "$ws" && timeout "$limit" bash -c "${line#'$ '}" 2>&1) | sed "s#${url}#http://127.0.0.1:8080/#g" >>"$work/$name.actual"
        [[ -z $(tail -c1 "$work/$name.actual") ]] || echo >>"$work/$name.actual"
    done < <(sed "s#http://127.0.0.1:8080/#${url}#g" "$dir/$name.console")
    sed -i "s#${url}#http://127.0.0.1:8080/#g" "$work/$name.actual"
    exec 9>&-
    wait "$pid"
}

# part_of NAME [PART] -- NAME.out, or its part PART: the output of the statements after the
# (PART-1)-th '#! part' line of NAME.gosh.
part_of() {
    if [[ -z ${2:-} ]]; then
        cat "$dir/$1.out"
        return
    fi
    awk -v part="$2" '
        FNR == NR { if ($0 == "#! part") p++
                    else if ($0 ~ /^#! fails: / || ($0 !~ /^#/ && $0 !~ /^ *$/)) partof[++n] = p + 1
                    next }
        /^shadowbox> / { stmt++ }
        partof[stmt] == part' "$dir/$1.gosh" "$dir/$1.out"
}

# blocks FILE -- each transcript block of a page: 'NAME<TAB>START<TAB>END' (the lines inside the fence).
blocks() {
    awk '/^<!-- transcript: [A-Za-z0-9_.-]+(:[0-9]+)?( keep .+)? -->$/ {
             name = $0; sub(/^<!-- transcript: /, "", name); sub(/ -->$/, "", name); want = 1; next }
         want && /^```/ && !open { open = 1; start = NR + 1; next }
         open && /^```$/ { print name "\t" start "\t" NR - 1; open = 0; want = 0; next }
         want && !open && !/^$/ { want = 0 }' "$1"
}

failed=0
passed=0
for name in "${names[@]}"; do
    echo "transcript $name"
    if [[ -f $dir/$name.console ]]; then
        if ! run_console "$name"; then
            failed=$((failed + 1))
            continue
        fi
    elif [[ ! -f $dir/$name.gosh ]]; then
        echo "    no $dir/$name.gosh or $dir/$name.console"
        failed=$((failed + 1))
        continue
    elif ! run_one "$name"; then
        failed=$((failed + 1))
        continue
    fi
    masks_of "$name"
    # --update keeps a file that differs only in what is masked (times, ids): no noise in diffs.
    if [[ -n $update ]] && ! { [[ -f $dir/$name.out ]] && cmp -s <(mask <"$dir/$name.out") <(mask <"$work/$name.actual"); }; then
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
    while IFS=$'\t' read -r ref start end; do
        rel=${page#"$root"/}
        ere=
        if [[ $ref == *' keep '* ]]; then
            ere=${ref#* keep }
            ref=${ref%% keep *}
        fi
        name=${ref%%:*}
        part=
        [[ $ref == *:* ]] && part=${ref#*:}
        if [[ ! -f $dir/$name.out ]]; then
            echo "    $rel:$start: no docs/transcripts/$name.out"
            failed=$((failed + 1))
            continue
        fi
        if [[ -n $ere ]]; then
            part_of "$name" "$part" | KEEP=$ere awk '
                /^shadowbox> / || $0 ~ ENVIRON["KEEP"] { if (gap) print "..."; gap = 0; print; next }
                { gap = 1 }
                END { if (gap) print "..." }' >"$work/block"
        else
            part_of "$name" "$part" >"$work/block"
        fi
        if [[ ! -s $work/block ]]; then
            echo "    $rel:$start: docs/transcripts/$name.out has no part '$part'"
            failed=$((failed + 1))
            continue
        fi
        masks_of "$name"
        if [[ -n $update ]] && ! cmp -s <(sed -n "${start},${end}p" "$page" | mask) <(mask <"$work/block"); then
            { head -n $((start - 1)) "$page"; cat "$work/block"; tail -n +$((end + 1)) "$page"; } >"$work/page"
            cat "$work/page" >"$page"
            end=$((start + $(wc -l <"$work/block") - 1))
        fi
        if ! diff <(sed -n "${start},${end}p" "$page" | mask) <(mask <"$work/block") >"$work/diff"; then
            echo "    $rel:$start: the block differs from docs/transcripts/$ref (--update rewrites it):"
            sed 's/^/    /' "$work/diff"
            failed=$((failed + 1))
        fi
    done < <(blocks "$page" | sort -t$'\t' -k2,2nr)
done

# No transcript copied by hand: every fenced block showing a prompt is a marked one.
for page in "$root/README.md" "$root"/docs/*.md; do
    [[ -f $page ]] || continue
    while IFS= read -r start; do
        echo "    ${page#"$root"/}:$start: a block shows a shell prompt but is no transcript: write a docs/transcripts/NAME.gosh and mark the block <!-- transcript: NAME -->"
        failed=$((failed + 1))
    done < <(awk '/^<!-- transcript: [A-Za-z0-9_.-]+(:[0-9]+)?( keep .+)? -->$/ { marked = NR; next }
                  /^```/ && !open { open = 1; start = NR; mine = (marked == NR - 1); shown = 0; next }
                  open && /^```$/ { if (shown && !mine) print start; open = 0; next }
                  open && /^(shadowbox> |g! |\$ )/ { shown = 1 }' "$page")
done

# Every relative link of README.md and docs/*.md reaches a file (and a heading, for #anchor),
# and README's documentation map lists every page of docs/.
slugs() { sed -nE 's/^#+ +//p' "$1" | tr 'A-Z' 'a-z' | sed -E 's/[^a-z0-9 _-]//g; s/ /-/g'; }
for page in "$root/README.md" "$root"/docs/*.md; do
    rel=${page#"$root"/}
    while IFS= read -r link; do
        target=${link%%#*}
        anchor=
        [[ $link == *'#'* ]] && anchor=${link#*#}
        file=$page
        [[ -n $target ]] && file=$(dirname "$page")/$target
        if [[ ! -e $file ]]; then
            echo "    $rel: a link to $link: no such file"
            failed=$((failed + 1))
        elif [[ -n $anchor && $file == *.md ]] && ! slugs "$file" | grep -qxF -- "$anchor"; then
            echo "    $rel: a link to $link: no such heading"
            failed=$((failed + 1))
        fi
    done < <(grep -oE '\]\([^) ]+\)' "$page" | sed -E 's/^\]\(//; s/\)$//' | grep -vE '^[a-z]+:')
done
for page in "$root"/docs/*.md; do
    grep -qF "](docs/$(basename "$page"))" "$root/README.md" || {
        echo "    README.md: the documentation map does not list docs/$(basename "$page")"
        failed=$((failed + 1))
    }
done

echo "transcript-test: $passed transcripts passed, $failed failures"
[[ $failed -eq 0 ]]
