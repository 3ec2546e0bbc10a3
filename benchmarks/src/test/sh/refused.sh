# Sourced by the script tests of bench/ (not run alone). refused TEST WANT COMMAND...: COMMAND must
# fail with exactly one line of output that contains WANT (a bad argument's error: what was wrong
# and what is accepted); otherwise TEST says what happened on stderr and the caller's fail is set to 1.
refused() {
    local test=$1 want=$2 err
    shift 2
    if err=$("$@" 2>&1); then
        echo "$test: '${*:2}' was accepted: $err" >&2
        fail=1
    elif [[ $err != *"$want"* || $(wc -l <<<"$err") -ne 1 ]]; then
        echo "$test: '${*:2}' gave '$err', not one line with '$want'" >&2
        fail=1
    fi
}
