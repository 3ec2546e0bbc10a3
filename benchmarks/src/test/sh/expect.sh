# Sourced by the table tests (issue15-table-test.sh, smp-ceiling-test.sh, perfasm-test.sh): `expect TEXT` marks
# the test failed (fail=1) and says so, naming the test ($test_name), unless the rendered
# output ($out) has a line holding TEXT; the test exits non-zero at its end if any failed.
fail=0
expect() {
    if ! grep -qF -- "$1" <<<"$out"; then
        echo "$test_name: expected a line with: $1" >&2
        fail=1
    fi
}
