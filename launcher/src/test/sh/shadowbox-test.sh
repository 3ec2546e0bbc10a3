#!/usr/bin/env bash
# Tests of the ./shadowbox script against the exported launcher jar: batch modes (-c, a
# .gosh file), errors and exit codes, no terminal, interactive mode fed from a pipe, two
# processes in one checkout, and what a run leaves behind.
#
# Run by `mvn verify` in the launcher module (integration-test phase, after the export);
# by hand: launcher/src/test/sh/shadowbox-test.sh [TEST_NAME...]
# Every ./shadowbox run is bounded by `timeout` (SHADOWBOX_TEST_TIMEOUT seconds, default 60).
# SC2016: the Gogo programs are in single quotes on purpose ($ is Gogo's).
# SC2015: "check && check || fail" calls fail when any check fails, as intended.
# shellcheck disable=SC2016,SC2015
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd -P)
sb=$root/shadowbox
limit=${SHADOWBOX_TEST_TIMEOUT:-60}
# Never build from inside the tests (they run inside a Maven build of this tree).
export SHADOWBOX_NO_BUILD=1
unset JAVA_OPTS SHADOWBOX_TRACE SHADOWBOX_WAIT_MS

work=$(mktemp -d "${TMPDIR:-/tmp}/shadowbox-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
# The runs' own temporary directories go here, so that the cleanup test can see them.
export TMPDIR=$work/tmp
mkdir -p "$TMPDIR"
marker=$work/started
touch "$marker"

passed=0
failed=0
skipped=0
status=0

# run ARGS... -- ./shadowbox ARGS with stdin from /dev/null; sets $status, $work/out, $work/err.
run() {
    timeout -k 5 "$limit" "$sb" "$@" </dev/null >"$work/out" 2>"$work/err"
    status=$?
}

# stderr without the readiness warnings that a partial sandbox prints.
errors() {
    grep -v '^shadowbox: warning: ' "$work/err" || true
}

# fail MESSAGE -- records a failure of the current test, with its output.
fail() {
    echo "    $*"
    echo "    --- exit status: $status; stdout:"
    sed 's/^/    | /' "$work/out"
    echo "    --- stderr:"
    sed 's/^/    | /' "$work/err"
    return 1
}

expect_status() {
    [[ $status -eq $1 ]] || fail "expected exit status $1, got $status${2:+ ($2)}"
}

expect_stdout() {
    local expected=$1
    [[ $(cat "$work/out") == "$expected" ]] || fail "stdout differs; expected:" "$(printf '\n%s' "$expected" | sed 's/^/    > /')"
}

expect_no_errors() {
    [[ -z $(errors) ]] || fail "expected nothing on stderr but warnings"
}

test_help() {
    run --help
    expect_status 0 && grep -q "^Usage:" "$work/out" && grep -q -- "-c 'CMD; CMD'" "$work/out" \
        || fail "--help does not print the usage"
}

test_bad_arguments() {
    run -c
    expect_status 2 && grep -q '^shadowbox: -c takes exactly one argument' "$work/err" || fail "-c without commands"
    run "$work/no-such-script.gosh"
    expect_status 2 && grep -q "^shadowbox: cannot read script" "$work/err" || fail "missing script file"
}

test_command_runs_each_statement() {
    run -c 'echo first; echo second; n = 40; echo "n is $n"; [a b]'
    expect_status 0 && expect_stdout $'first\nsecond\n40\nn is 40\na\nb' && expect_no_errors
}

test_command_stops_at_first_failure() {
    run -c 'echo before; nosuchcommand 1 2; echo after'
    expect_status 1 || return 1
    expect_stdout "before" || return 1
    [[ $(errors) == "shadowbox: nosuchcommand 1 2: Command not found: nosuchcommand (help lists the commands)" ]] \
        || fail "expected exactly one error line on stderr"
}

test_command_exception_message_is_one_line() {
    run -c 'throw "first line
second line"; echo after'
    expect_status 1 || return 1
    [[ $(errors | wc -l) -eq 1 ]] || fail "expected one line on stderr"
    [[ $(errors) == 'shadowbox: throw "first line second line": first line second line' ]] \
        || fail "unexpected error line"
    [[ ! -s $work/out ]] || fail "nothing may run after the failing statement"
}

test_syntax_error_runs_nothing() {
    run -c 'echo a; echo {'
    expect_status 1 || return 1
    [[ ! -s $work/out ]] || fail "a program that does not parse must run nothing"
    errors | grep -q '^shadowbox: syntax error: ' || fail "expected a syntax error line"
}

test_trace_prints_stack_trace() {
    SHADOWBOX_TRACE=1 run -c 'nosuchcommand'
    expect_status 1 && grep -q '^shadowbox: nosuchcommand: Command not found' "$work/err" \
        && grep -q '^	at ' "$work/err" || fail "SHADOWBOX_TRACE=1 should add the stack trace"
}

test_script_file() {
    cat >"$work/ok.gosh" <<'EOF'
# a comment line
echo one   # a trailing comment
each [1 2] {
    echo "item $it"
}
// another comment style
total = 3; echo "total=$total"
EOF
    run "$work/ok.gosh"
    # each returns the list of its closure's results (nulls), which Gogo prints as nothing.
    expect_status 0 && expect_stdout $'one\nitem 1\nitem 2\n3\ntotal=3' && expect_no_errors
}

test_script_failure_names_file_and_line() {
    printf 'echo start\n\nnosuchcommand here\necho never\n' >"$work/bad.gosh"
    run "$work/bad.gosh"
    expect_status 1 && expect_stdout "start" || return 1
    [[ $(errors) == "shadowbox: bad.gosh:3: nosuchcommand here: Command not found: nosuchcommand (help lists the commands)" ]] \
        || fail "expected one error line with FILE:LINE"
}

# Gogo's built-ins report errors with a status, not an exception; || and && see it.
test_command_failing_status() {
    run -c 'sleep notanumber || echo recovered; sleep notanumber; echo never'
    expect_status 1 && expect_stdout "recovered" || return 1
    [[ $(errors | tail -1) == "shadowbox: sleep notanumber: failed with status 2" ]] \
        || fail "expected the failing statement and its status as the last line"
}

test_relative_script_path() {
    mkdir -p "$work/dir"
    printf 'echo relative\n' >"$work/dir/rel.gosh"
    (cd "$work/dir" && run rel.gosh)
    # run set $status in the subshell only: check the output instead
    [[ $(cat "$work/out") == "relative" ]] || fail "a script path relative to the caller's directory"
}

test_no_terminal_and_stdin_closed() {
    timeout -k 5 "$limit" setsid -w "$sb" -c 'echo alive; lb -s org.apache.felix.scr' <&- >"$work/out" 2>"$work/err"
    status=$?
    expect_status 0 && grep -qx alive "$work/out" && grep -q 'org.apache.felix.scr' "$work/out" \
        || fail "batch mode without a terminal and with stdin closed"
}

test_interactive_from_pipe() {
    printf 'echo hi\n' | timeout -k 5 "$limit" "$sb" >"$work/out" 2>"$work/err"
    status=$?
    expect_status 0 "end of input stops the framework: the launcher's 117 maps to 0" || return 1
    grep -q 'hi$' "$work/out" || fail "the piped command's output is missing"
}

# The interactive shell prints where the web view is (127.0.0.1, 8080 or the next free port);
# the batch modes start no web server and print nothing of it.
test_interactive_prints_the_web_url() {
    printf 'echo hi\n' | timeout -k 5 "$limit" "$sb" >"$work/out" 2>"$work/err"
    status=$?
    expect_status 0 || return 1
    grep -Eq '^Web view: http://127\.0\.0\.1:[0-9]+/ \(read-only' "$work/out" \
        || fail "the interactive shell printed no web view URL"
    run -c 'echo hi'
    expect_status 0 || return 1
    ! grep -q 'Web view' "$work/out" "$work/err" || fail "a batch run started the web view"
}

# On a terminal (a pseudo-terminal made by util-linux's script), the Gogo console must get a
# real JLine terminal (line editing, history, completion), not JLine's dumb fallback.
test_interactive_terminal_is_real() {
    if ! command -v script >/dev/null 2>&1; then
        echo "    util-linux 'script' is not installed"
        return 2
    fi
    # util-linux script sends the end of input (Ctrl-D) only once the shell has read what was
    # typed ahead, and gives up after 2 s: keep stdin open long enough for a slow start (a
    # loaded machine takes over 10 s to the first prompt).
    { printf '($.terminal) type\n'; sleep 20; } \
        | TERM=xterm timeout -k 5 "$limit" script -qec "$sb" /dev/null >"$work/out" 2>"$work/err"
    status=$?
    expect_status 0 || return 1
    tr -d '\r' <"$work/out" | grep -q 'xterm$' || fail "the console's terminal is not an xterm"
    ! tr -d '\r' <"$work/out" | grep -q 'dumb' || fail "the console fell back to a dumb terminal"
}

# An unknown command gets one line with the nearest names; help CMD prints what CMD --help does.
test_did_you_mean_and_help() {
    run -c 'vm:lst'
    expect_status 1 || return 1
    [[ $(errors) == "shadowbox: vm:lst: Command not found: vm:lst; did you mean vm:list?" ]] \
        || fail "expected the did-you-mean line"
    run -c 'help track:add'
    expect_status 0 && cp "$work/out" "$work/help.out" || return 1
    run -c 'track:add --help'
    expect_status 0 && diff "$work/help.out" "$work/out" >/dev/null || fail "help track:add differs from track:add --help"
    run -c 'man track:add'
    expect_status 0 && diff "$work/help.out" "$work/out" >/dev/null || fail "man track:add differs from track:add --help"
    grep -q '^SYNTAX$' "$work/out" || fail "no SYNTAX section"
    run -c 'help'
    expect_status 0 && grep -Eq '^  vm:list +list the VMs$' "$work/out" && ! grep -q 'gogo:' "$work/out" \
        || fail "help should list Shadowbox's commands with descriptions, and no Gogo internals"
    run -c 'help --all'
    expect_status 0 && grep -Eq '^  gogo:echo ' "$work/out" || fail "help --all should list Gogo's commands"
}

test_interactive_eof_at_once() {
    run
    expect_status 0 "empty stdin ends the interactive console"
}

# The batch result printer must print what the interactive shell prints for the same lines.
test_batch_prints_like_interactive() {
    local program='[a b c]
x = 7
lb -s org.apache.felix.scr
echo "two words"'
    printf '%s\n' "$program" | timeout -k 5 "$limit" "$sb" >"$work/interactive" 2>/dev/null
    run -c "$program"
    expect_status 0 || return 1
    # The interactive output: the web view's URL, the banner (launcher/gosh/etc/motd), then a
    # "shadowbox> " prompt before each line's output, and a last line that announces the stop.
    local banner
    banner=$(wc -l <"$root/launcher/gosh/etc/motd")
    sed -e '/^Web view: /d' "$work/interactive" \
        | sed -e "1,${banner}d" -e 's/^\(shadowbox> \)*//' -e '/^gosh: stopping framework$/d' >"$work/interactive.clean"
    diff "$work/interactive.clean" "$work/out" >"$work/diff" \
        || fail "batch and interactive output differ: $(cat "$work/diff")"
}

test_demo_configuration_loaded_before_commands() {
    run -c 'ca = $.context getService ($.context getServiceReference org.osgi.service.cm.ConfigurationAdmin)
configs = $ca listConfigurations "(service.factoryPid=org.shadowbox.vm)"
(($configs 0) properties) get name
(($configs 0) properties) get slots'
    expect_status 0 || return 1
    grep -qx demo "$work/out" && grep -qx '0:0x0:0xa0, 1:0x100:0x3ff00' "$work/out" \
        || fail "workspace/config/org.shadowbox.vm-demo.cfg is not in Configuration Admin when commands run"
}

# Needs the shell bundle (vm:list) and the vm bundle (the demo VM). Skipped until vm:list exists.
test_vm_list_shows_demo() {
    run -c 'vm:list'
    if grep -q 'Command not found: vm:list' "$work/err"; then
        echo "    vm:list is not provided yet (needs the shell and vm bundles)"
        return 2
    fi
    expect_status 0 && grep -qw demo "$work/out" || fail "vm:list should list the demo VM"
}

# The example script shipped in workspace/scripts/ runs (it uses vm:list too).
test_example_script_runs() {
    run "$root/workspace/scripts/demo.gosh"
    expect_status 0 && grep -qw demo "$work/out" && grep -qx org.shadowbox.console "$work/out" \
        || fail "workspace/scripts/demo.gosh should run and list the demo VM"
}

# The MMU, as a user drives it: page tables built with host writes (mmu:map), then a guest
# write to one of its own page-table pages, which the shadow MMU emulates (the PD is
# write-tracked through page track), and the invariant checker agrees.
test_mmu_emulates_a_write_to_a_page_table() {
    run -c 'cpu:set demo 0 cr3 0x1000000
mmu:map demo 0 0x400000 0x2000000 --user --writable --tables 0x1001
mmu:map demo 0 0x8000000000 0x1002000 --writable --tables 0x1001
mmu:access demo 0 0x400000 read
track:list demo
mmu:access demo 0 0x8000000020 write --value 0x1003007
mmu:check demo'
    expect_status 0 && expect_no_errors || return 1
    grep -q '^0x1002  write      1  org.shadowbox.mmu=1$' "$work/out" \
        || fail "the shadowed page directory (gfn 0x1002) should be write-tracked by the MMU" || return 1
    sed -n '/^gva: *0x8000000020$/,/^counters:/p' "$work/out" >"$work/write"
    grep -q '^emulated: *yes$' "$work/write" && grep -q '^counters: *pf_fixed +1, pf_emulate +1,' "$work/write" \
        || fail "the write to the page directory should be emulated, with pf_emulate moving" || return 1
    [[ $(tail -1 "$work/out") == "violations: -" ]] || fail "mmu:check should find no violation"
}

# mmu:check fails when an invariant is broken (here by a host write behind the MMU's back), so
# that a script stops there: exit status 1, the violations on stdout, one line on stderr.
test_mmu_check_failure_stops_the_script() {
    run -c 'cpu:set demo 0 cr3 0x1000000
mmu:map demo 0 0x400000 0x2000000 --writable --tables 0x1001
mmu:access demo 0 0x400000 write --value 1
mem:write demo 0x1003000 0x2005003
mmu:check demo
echo never'
    expect_status 1 || return 1
    ! grep -q '^never$' "$work/out" || fail "the script went on after mmu:check failed" || return 1
    [[ $(errors | wc -l) -eq 1 ]] && errors | grep -q '^shadowbox: mmu:check demo: VM demo: [0-9]* MMU invariant violation' \
        || fail "expected one error line naming the violations"
}

# The seed's experiment from the command line: the side-by-side table on stdout (no progress
# bar in batch mode), the JSON, CSV and SVG files in the workspace's results/ folder, named in
# the output. A workspace of its own, removed afterwards.
test_run_compare_prints_the_table_and_writes_three_files() {
    local ws=$work/ws
    mkdir -p "$ws/config"
    SHADOWBOX_WORKSPACE=$ws run -c 'run:compare kernel-build --scale 1'
    expect_status 0 && expect_no_errors || { rm -rf "$ws"; return 1; }
    local line
    for line in '^ *legacy *pagetrack *change$' '^real (s) ' '^user (s) ' '^sys (s) ' '^emulations ' '^pte writes ' \
        '^unsyncs ' '^remote TLB flushes ' '^live shadow pages, peak ' '^mean hash chain ' \
        '^  sys change ' '^measured against predicted: sys ' '^guest-visible results: identical' '^files: '; do
        grep -q "$line" "$work/out" || { fail "no line matching '$line'"; rm -rf "$ws"; return 1; }
    done
    ! grep -q $'\r' "$work/out" || { fail "a progress bar was drawn in batch mode"; rm -rf "$ws"; return 1; }
    local n=0 f
    for f in "$ws"/results/compare-kernel-build-seed1-*.{json,csv,svg}; do
        [[ -s $f ]] && grep -q "$f" "$work/out" && n=$((n + 1))
    done
    rm -rf "$ws"
    [[ $n -eq 3 ]] || fail "expected 3 result files named in the output, found $n"
}

# A user's own recorded workload (docs/replay.md): a real recording of tools/test/three-children.sh
# replayed on the demo VM; the report shows the recorded figures beside the simulated ones, and
# the process counts agree. A file that is not a trace is refused in one line, the VM untouched.
test_run_scenario_replays_a_trace() {
    local trace=$root/bundles/guest/src/test/resources/traces/three-children.jsonl.gz ws=$work/ws
    mkdir -p "$ws" && cp -r "$root/workspace/config" "$ws/config" # the demo VM; the saved report goes here
    SHADOWBOX_WORKSPACE=$ws run -c "run:scenario demo trace:$trace"
    expect_status 0 && expect_no_errors || { rm -rf "$ws"; return 1; }
    ls "$ws"/results/run-demo-trace-three-children-seed1-*.json >/dev/null 2>&1 || fail "the report was not saved as run-demo-trace-three-children-...json"
    rm -rf "$ws"
    local line
    for line in '^recorded workload: ' '^  processes  *4  *4$' '^  execs  *\([0-9][0-9]*\)  *\1$' '^  first touches (minor faults) ' \
        '^  not re-enacted exactly: '; do
        grep -q "$line" "$work/out" || { fail "no line matching '$line'"; return 1; }
    done
    run -c "run:scenario demo trace:$root/README.md"
    expect_status 1 || return 1
    [[ $(errors | wc -l) -eq 1 ]] && errors | grep -q 'not gzip.*expected a gzipped JSON-lines trace' \
        || fail "expected one error line saying the file is not a trace"
}

# The same experiment under TDP: the pre-series TDP fault path against the series', with the
# page-track lookups counted; files of their own (compare-SCENARIO-tdp-seedS-...).
test_run_compare_under_tdp() {
    local ws=$work/ws
    mkdir -p "$ws/config"
    SHADOWBOX_WORKSPACE=$ws run -c 'run:compare kernel-build --scale 1 --mmu tdp'
    expect_status 0 && expect_no_errors || { rm -rf "$ws"; return 1; }
    local line
    for line in 'mmu=tdp' '^ *legacy *pagetrack *change$' '^sys (s) ' '^page-track lookups  *0 ' \
        '^guest-visible results: identical' '^files: '; do
        grep -q "$line" "$work/out" || { fail "no line matching '$line'"; rm -rf "$ws"; return 1; }
    done
    local n=0 f
    for f in "$ws"/results/compare-kernel-build-tdp-seed1-*.{json,csv,svg}; do
        [[ -s $f ]] && grep -q "$f" "$work/out" && n=$((n + 1))
    done
    rm -rf "$ws"
    [[ $n -eq 3 ]] || fail "expected 3 result files named in the output, found $n"
}

# A background run leaves the shell free; a shell command on one of its vCPUs is refused in one
# line (the run holds them); run:report gives the report; afterwards the vCPU is the shell's again.
test_background_run_holds_its_vcpus_and_wait_gives_the_report() {
    run -c 'run:scenario demo steady --scale 4 --background
run:jobs
cpu:write demo 0 0x2000 1'
    expect_status 1 || return 1
    grep -q '^run 1: steady on demo started in the background' "$work/out" || fail "no start line" || return 1
    grep -Eq '^ +1  demo +steady +(running|done) ' "$work/out" || fail "run:jobs does not list run 1" || return 1
    errors | grep -Eq '^shadowbox: cpu:write demo 0 0x2000 1: vCPU 0 of VM demo is busy: scenario steady \(seed 1\) has it since [0-9:]+;' \
        || fail "expected the busy refusal" || return 1
    run -c 'run:scenario demo steady --scale 1 --background
run:report 1
run:jobs
cpu:write demo 0 0x2000 1'
    expect_status 0 && expect_no_errors || return 1
    grep -q '^steady on VM demo: scale 1, seed 1' "$work/out" || fail "run:report printed no report" || return 1
    grep -Eq '^ +1  demo +steady +done +100% ' "$work/out" || fail "run 1 not done in run:jobs" || return 1
    grep -q '^notifications: ' "$work/out" || fail "the vCPU was not free again"
}

# Issue 3's "done when" through the launcher: the steps of workspace/scripts/pagetable.gosh on a
# VM created with --mmu tdp and on one created with --policy legacy show the guest exactly what
# they show on a pagetrack VM (values, gpas, faults and error codes); the legacy writes to the
# page directory are emulated as under pagetrack but reach kvm_mmu_pte_write from the emulator;
# under TDP the guest writes its tables natively; the checker agrees on all three.
test_tdp_and_legacy_guests_see_what_pagetrack_guests_see() {
    local vm program='vm:create pt --memory 64M
vm:create lg --memory 64M --policy legacy
vm:create td --memory 64M --mmu tdp
'
    for vm in pt lg td; do
        program+="cpu:set $vm 0 cr3 0x1000000
mmu:map $vm 0 0x400000 0x2000000 --user --writable --tables 0x1001
mmu:map $vm 0 0x8000000000 0x1002000 --writable --tables 0x1001
mem:write $vm 0x2000000 0x1122334455667788
mmu:access $vm 0 0x400000 read
mmu:access $vm 0 0x8000000020 write --value 0x1003007
mmu:access $vm 0 0x400000 read
mmu:access $vm 0 0x8000000028 write --value 0x1003007
mmu:access $vm 0 0xa00000 read
mmu:access $vm 0 0x8000000000 read --user
mmu:check $vm
"
    done
    run -c "$program"
    expect_status 0 && expect_no_errors || return 1
    # Per VM, what each mmu:access showed: the guest-visible lines, then whether it was emulated.
    awk -v dir="$work" '
        function flush() { if (access) { printf "%s", seen > (dir "/seen." vm); printf "%s", emu > (dir "/emu." vm) } }
        /^vm: / { flush(); vm = $2; access = 0; seen = ""; emu = "" }
        /^access: / { access = 1 }
        /^(gva|access|outcome|value|gpa|error code|error bits):/ { seen = seen $0 "\n" }
        /^emulated: / { emu = emu $2 "\n" }
        /^counters: / { emu = emu ($0 ~ /pte_write_emulator/ ? "direct" : "-") "\n" }
        END { flush() }' "$work/out"
    [[ $(grep -c '^outcome:' "$work/seen.pt") -eq 6 ]] || fail "expected six accesses on the pagetrack VM" || return 1
    cmp -s "$work/seen.pt" "$work/seen.lg" || fail "the legacy guest saw something else:" \
        "$(diff "$work/seen.pt" "$work/seen.lg")" || return 1
    cmp -s "$work/seen.pt" "$work/seen.td" || fail "the TDP guest saw something else:" \
        "$(diff "$work/seen.pt" "$work/seen.td")" || return 1
    [[ $(paste -sd' ' "$work/emu.pt") == "no - yes - no - yes - no - no -" ]] \
        || fail "pagetrack: the two page-directory writes should be emulated, by the notifier route" || return 1
    [[ $(paste -sd' ' "$work/emu.lg") == "no - yes direct no - yes direct no - no -" ]] \
        || fail "legacy: the same two writes emulated, each handed to kvm_mmu_pte_write by the emulator" || return 1
    [[ $(paste -sd' ' "$work/emu.td") == "no - no - no - no - no - no -" ]] \
        || fail "TDP: the guest writes its page tables natively" || return 1
    [[ $(grep -c '^violations: -$' "$work/out") -eq 3 ]] || fail "mmu:check should pass on the three VMs"
}

test_two_processes_at_once() {
    local a=$work/a b=$work/b
    timeout -k 5 "$limit" "$sb" -c 'echo one; sleep 2; $.context getProperty org.osgi.framework.storage' \
        </dev/null >"$a.out" 2>"$a.err" &
    local pa=$!
    timeout -k 5 "$limit" "$sb" -c 'echo two; sleep 2; $.context getProperty org.osgi.framework.storage' \
        </dev/null >"$b.out" 2>"$b.err" &
    local pb=$!
    wait "$pa"
    local sa=$?
    wait "$pb"
    local sb_status=$?
    cp "$a.out" "$work/out"
    cat "$a.err" "$b.err" >"$work/err"
    status=$sa
    expect_status 0 "first process" || return 1
    status=$sb_status
    expect_status 0 "second process" || return 1
    [[ $(head -1 "$a.out") == one && $(head -1 "$b.out") == two ]] || fail "outputs mixed up"
    local sa_dir sb_dir
    sa_dir=$(sed -n 2p "$a.out")
    sb_dir=$(sed -n 2p "$b.out")
    [[ -n $sa_dir && $sa_dir != "$sb_dir" ]] || fail "both processes used framework storage '$sa_dir'"
    [[ $sa_dir == "$TMPDIR"/* && $sb_dir == "$TMPDIR"/* ]] || fail "framework storage not under TMPDIR: $sa_dir $sb_dir"
}

# FileInstall, as the script configures it: a jar dropped into deploy/ is installed and
# started (at the level the framework ends at), and removing it uninstalls it. Uses a
# workspace of its own, so that the checkout's deploy/ is not touched.
test_deploy_folder_installs_and_uninstalls() {
    local ws=$work/ws bsn=org.shadowbox.test.dropped
    mkdir -p "$ws/deploy" "$ws/config" "$work/bundle"
    printf 'Manifest-Version: 1.0\nBundle-ManifestVersion: 2\nBundle-SymbolicName: %s\nBundle-Version: 1.0.0\n' \
        "$bsn" >"$work/bundle.mf"
    echo "a bundle with no code" >"$work/bundle/README"
    jar --create --file "$work/dropped.jar" --manifest "$work/bundle.mf" -C "$work/bundle" . \
        || { fail "cannot make the test bundle with the JDK's jar tool"; return 1; }
    SHADOWBOX_WORKSPACE=$ws run -c "echo before; lb -s $bsn
(new java.io.File '$work/dropped.jar') renameTo (new java.io.File '$ws/deploy/dropped.jar')
sleep 3
echo dropped; lb -s $bsn
(new java.io.File '$ws/deploy/dropped.jar') delete
sleep 3
echo removed; lb -s $bsn"
    expect_status 0 || return 1
    local before dropped removed
    before=$(sed -n '/^before$/,/^true$/p' "$work/out" | grep -c "$bsn")
    dropped=$(sed -n '/^dropped$/,/^removed$/p' "$work/out" | grep "$bsn")
    removed=$(sed -n '/^removed$/,$p' "$work/out" | grep -c "$bsn")
    [[ $before -eq 0 ]] || fail "the bundle was there before the drop"
    [[ $dropped =~ \|Active\ +\|\ +4\| ]] || fail "the dropped bundle is not active at level 4: '$dropped'"
    [[ $removed -eq 0 ]] || fail "the bundle is still installed after its jar was removed"
}

# A workspace copy whose org.shadowbox.budget configuration is "sandbox = $1", in $work/ws-$1.
budget_workspace() {
    local ws=$work/ws-$1
    rm -rf "$ws"
    cp -r "$root/workspace" "$ws"
    rm -rf "$ws/deploy"/* "$ws/results"
    printf 'sandbox = %s\n' "$1" >"$ws/config/org.shadowbox.budget.cfg"
    echo "$ws"
}

# writes_gosh N -- a script that creates VM big (1 TiB declared) and writes N distinct pages.
writes_gosh() {
    local i
    echo 'vm:create --memory 1T big'
    for ((i = 0; i < $1; i++)); do printf 'mem:write big 0x%x 1\n' $(((0x100 + i) << 12)); done
}

# Issue 13: a write past the sandbox's memory budget is one line naming the budget; the VM and
# the shell keep working (the interactive console runs the next lines).
test_memory_budget_refuses_in_one_line() {
    local ws
    ws=$(budget_workspace 4M)
    { writes_gosh 1030; echo 'echo still-here'; echo 'mem:read big 0x100000'; } >"$work/fill.gosh"
    timeout -k 5 "$limit" env SHADOWBOX_WORKSPACE="$ws" JAVA_OPTS=-Xmx256m "$sb" <"$work/fill.gosh" >"$work/out" 2>"$work/err"
    status=$?
    expect_status 0 "the interactive console goes on after a refusal" || return 1
    grep -c '^\(shadowbox> \)\?sandbox memory budget exhausted: all VMs hold 4 MiB of 4 MiB (sandbox = 4M in ' "$work/out" >"$work/count"
    [[ $(cat "$work/count") -eq 6 ]] || fail "expected 6 one-line refusals (1030 writes, 1024 pages fit)" || return 1
    grep -q 'still-here' "$work/out" && ! grep -q 'Exception\|^\s*at ' "$work/out" "$work/err" \
        || fail "the shell did not go on, or printed a stack trace"
}

# Issue 13's "done when": with JAVA_OPTS=-Xmx256m and the default budgets (the sandbox's is half
# the heap), writes to a million distinct pages of a 1 TiB VM (one mem:fill of 4 GiB) are one
# line naming the budget; the shell keeps working, and what fits is written.
test_a_million_pages_under_a_256m_heap() {
    local ws=$work/ws-default
    rm -rf "$ws"
    cp -r "$root/workspace" "$ws"
    rm -rf "$ws/deploy"/* "$ws/results" "$ws/config/org.shadowbox.budget.cfg"
    printf '%s\n' 'vm:create --memory 1T big' 'mem:fill big 0x100000 4G 0x5a' 'echo still-here' \
        'mem:fill big 0x100000 64M 0x5a' 'mem:read big 0x40ffff8' 'vm:info big' >"$work/million.gosh"
    timeout -k 5 "$limit" env SHADOWBOX_WORKSPACE="$ws" JAVA_OPTS=-Xmx256m "$sb" <"$work/million.gosh" >"$work/out" 2>"$work/err"
    status=$?
    expect_status 0 "the interactive console goes on after the refusal" || return 1
    [[ $(grep -c 'memory budget' "$work/out") -eq 1 ]] \
        && grep -q '^\(shadowbox> \)\?mem:fill of 4 GiB would make more than [0-9.]* MiB of new guest pages resident, past the sandbox memory budget: all VMs hold 0 B of [0-9.]* MiB; raise .sandbox. in workspace/config/org.shadowbox.budget.cfg (and -Xmx in JAVA_OPTS), or destroy a VM; nothing was written$' "$work/out" \
        || fail "expected one line naming the sandbox's budget" || return 1
    grep -q 'still-here' "$work/out" && grep -q '0x5a5a5a5a5a5a5a5a' "$work/out" && grep -q 'resident: *16384\b' "$work/out" \
        && ! grep -q 'Exception\|^\s*at \|OutOfMemory' "$work/out" "$work/err" \
        || fail "the shell did not go on, the 64 MiB that fit were not written, or a stack trace was printed"
}

# Issue 13: if the heap runs out anyway (a budget set above it), one line and exit status 3.
test_out_of_memory_is_one_line_and_exits() {
    local ws
    ws=$(budget_workspace 1T)
    writes_gosh 12000 >"$work/oom.gosh"
    timeout -k 5 $((limit * 3)) env SHADOWBOX_WORKSPACE="$ws" JAVA_OPTS=-Xmx32m "$sb" "$work/oom.gosh" >/dev/null 2>"$work/err"
    status=$?
    expect_status 3 "-XX:+ExitOnOutOfMemoryError" || return 1
    [[ $(grep -c . "$work/err") -eq 1 ]] && grep -q '^Terminating due to java.lang.OutOfMemoryError' "$work/err" \
        || fail "expected one line on stderr"
}

# Issue 15: the default collector is the serial one with conditional card marks (so two vCPU
# threads' reference stores do not both write one cache line of the card table); a collector
# named in JAVA_OPTS replaces both.
test_default_collector_marks_cards_conditionally() {
    JAVA_OPTS=-XX:+PrintCommandLineFlags run -c help
    expect_status 0 || return 1
    grep -q -- '-XX:+UseCondCardMark' "$work/out" "$work/err" && grep -q -- '-XX:+UseSerialGC' "$work/out" "$work/err" \
        || fail "the default JVM lacks -XX:+UseSerialGC -XX:+UseCondCardMark" || return 1
    JAVA_OPTS='-XX:+PrintCommandLineFlags -XX:+UseParallelGC' run -c help
    expect_status 0 || return 1
    grep -q -- '-XX:+UseParallelGC' "$work/out" "$work/err" && ! grep -q -- 'UseSerialGC\|UseCondCardMark' "$work/out" "$work/err" \
        || fail "a collector in JAVA_OPTS did not replace the default one and its card marks"
}

# Issue 13: SIGTERM to ./shadowbox always ends it and its JVM: at once when Java handles it, and
# within the 10 s grace when the JVM cannot (here: stopped with SIGSTOP).
test_sigterm_always_ends_it() {
    local pid jvm t0 how
    printf 'echo started\nsleep 600000\n' >"$work/sleep.gosh"
    for how in running stopped; do
        : >"$work/out"
        setsid "$sb" "$work/sleep.gosh" >"$work/out" 2>"$work/err" &
        pid=$!
        for ((t0 = 0; t0 < 300; t0++)); do grep -q started "$work/out" && break; sleep 0.1; done
        jvm=$(pgrep -P "$pid" java)
        [[ -n $jvm ]] || { fail "no JVM under ./shadowbox"; kill -KILL -- -"$pid"; return 1; }
        [[ $how == running ]] || kill -STOP "$jvm"
        t0=$(date +%s)
        kill -TERM "$pid"
        wait "$pid"
        status=$?
        if kill -0 "$jvm" 2>/dev/null; then
            fail "the JVM ($how) outlived SIGTERM"
            kill -KILL "$jvm"
            return 1
        fi
        [[ $(($(date +%s) - t0)) -le 13 ]] || fail "SIGTERM took more than 13 s ($how)" || return 1
        [[ $status -ne 0 ]] || fail "SIGTERM ended it with status 0 ($how)" || return 1
    done
}

# Runs last: what all the runs above left behind.
test_runs_leave_nothing_behind() {
    : >"$work/out"
    ls -A "$TMPDIR" >"$work/err"
    [[ ! -s $work/err ]] || fail "temporary files left in TMPDIR (listed as stderr)"
    find "$root/workspace" -newer "$marker" -print >"$work/err"
    [[ ! -s $work/err ]] || fail "runs changed files in workspace/ (listed as stderr)"
}

all_tests=(
    test_help test_bad_arguments
    test_command_runs_each_statement test_command_stops_at_first_failure
    test_command_exception_message_is_one_line test_syntax_error_runs_nothing
    test_command_failing_status test_trace_prints_stack_trace
    test_script_file test_script_failure_names_file_and_line
    test_relative_script_path test_no_terminal_and_stdin_closed
    test_interactive_from_pipe test_interactive_prints_the_web_url test_interactive_terminal_is_real test_interactive_eof_at_once test_batch_prints_like_interactive
    test_did_you_mean_and_help
    test_demo_configuration_loaded_before_commands test_vm_list_shows_demo test_example_script_runs
    test_mmu_emulates_a_write_to_a_page_table test_mmu_check_failure_stops_the_script
    test_tdp_and_legacy_guests_see_what_pagetrack_guests_see
    test_deploy_folder_installs_and_uninstalls
    test_run_compare_prints_the_table_and_writes_three_files
    test_run_compare_under_tdp test_run_scenario_replays_a_trace
    test_memory_budget_refuses_in_one_line test_a_million_pages_under_a_256m_heap test_out_of_memory_is_one_line_and_exits
    test_sigterm_always_ends_it test_default_collector_marks_cards_conditionally
    test_two_processes_at_once test_runs_leave_nothing_behind
)
tests=("$@")
[[ ${#tests[@]} -gt 0 ]] || tests=("${all_tests[@]}")

[[ -f $root/launcher/target/shadowbox.jar ]] || {
    echo "shadowbox-test: launcher/target/shadowbox.jar is missing: build it first" >&2
    exit 2
}

for t in "${tests[@]}"; do
    : >"$work/out"
    : >"$work/err"
    status=0
    echo "$t"
    start=$(date +%s%N)
    "$t"
    result=$?
    ms=$((($(date +%s%N) - start) / 1000000))
    case $result in
        0) passed=$((passed + 1)); echo "  PASS ($ms ms)" ;;
        2) skipped=$((skipped + 1)); echo "  SKIP ($ms ms)" ;;
        *) failed=$((failed + 1)); echo "  FAIL ($ms ms)" ;;
    esac
done

echo "shadowbox-test: $passed passed, $failed failed, $skipped skipped"
[[ $failed -eq 0 ]]
