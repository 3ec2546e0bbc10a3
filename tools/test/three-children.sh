#!/bin/sh
# The recorder's test workload: a shell that forks three children and waits for them; the
# second maps 100 anonymous pages and writes to each (python3's mmap module, so no compiler is
# needed); the others run true and ls. PYTHON may name the interpreter (default python3).
py=${PYTHON:-python3}
( true ) &
( exec "$py" -c 'import mmap
m = mmap.mmap(-1, 100 * 4096, flags=mmap.MAP_PRIVATE | mmap.MAP_ANONYMOUS)
for i in range(100):
    m[i * 4096] = 1' ) &
( ls / > /dev/null ) &
wait
