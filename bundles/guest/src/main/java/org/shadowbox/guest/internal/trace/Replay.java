package org.shadowbox.guest.internal.trace;

import java.util.ArrayList;
import java.util.List;

import org.shadowbox.guest.internal.kernel.Area;
import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.guest.internal.kernel.Program;
import org.shadowbox.guest.internal.kernel.Task;

/**
 * One recorded process re-enacted by the guest kernel model: its events one by one, in its own
 * recorded order (fork, vfork, exec, mmap, munmap, mprotect, brk, mremap, wait, exit), its first
 * touches as demand faults spread over its recorded lifetime, and its recorded CPU time retired
 * in aggregate between events (docs/replay.md says exactly what is simulated and what charged).
 *
 * <p>Recorded addresses are keys only: the guest kernel lays the areas out itself, and each
 * recorded range maps to the model {@link Area} made for it. A munmap or mprotect that covers
 * only part of an area splits it first, as Linux's {@code split_vma} does.
 */
final class Replay extends Program {
    /** A recorded range and the model area made for it; {@code ra} < 0: an exec area (no recorded address). */
    static final class Mapping {
        final long ra;
        final int n;
        final Area area;
        /** Next page to consider for a first touch. */
        int cursor;

        Mapping(long ra, int n, Area area) {
            this.ra = ra;
            this.n = n;
            this.area = area;
        }
    }

    private final ReplayRun run;
    private final TraceProcess p;
    private int next;
    /** Live mappings; a vfork child shares its parent's list until it execs. */
    private List<Mapping> maps;
    private long touched;
    private double userDone;
    private double sysDone;
    /** A page this process touched that is still mapped: where per-access replay runs its TLB hits. */
    private Area hitArea;
    private int hitPage = -1;
    /** Per-access replay: user work not yet run for want of a resident page. */
    private long deferredUser;
    private long deferredSys;

    Replay(ReplayRun run, TraceProcess p) {
        this.run = run;
        this.p = p;
        this.maps = new ArrayList<>();
    }

    /** A forked child's view of its parent's mappings: the same ranges, the child's copies of the areas. */
    void inheritFork(Kernel k, Task child, Replay parent) {
        for (Mapping m : parent.maps) {
            Area a = k.areaAt(child, m.area.start());
            if (a != null) {
                maps.add(new Mapping(m.ra, m.n, a));
            }
        }
    }

    /** A vfork child borrows its parent's address space, so its mappings are the parent's until it execs. */
    void inheritVfork(Replay parent) {
        maps = parent.maps;
    }

    /** After spawn or exec: the exec areas, not addressable by recorded addresses. */
    void imageAreas(Task t) {
        maps = new ArrayList<>();
        for (Area a : new Area[] {t.text, t.data, t.heap, t.stack}) {
            maps.add(new Mapping(-1, a.pages(), a));
        }
        hitArea = null;
        hitPage = -1;
    }

    @Override
    protected void run(Kernel k, Task t, int budget) {
        int used = 0;
        while (used < budget) {
            long when = p.time[next];
            int touches = catchUp(k, t, when, budget - used);
            used += touches;
            if (pendingTouches(when) > 0 && used >= budget) {
                return;
            }
            used++;
            switch (p.type[next]) {
                case TraceProcess.FORK -> {
                    TraceProcess c = run.trace.processes().get(p.arg[next]);
                    Replay child = new Replay(run, c);
                    Task ct = k.fork(t, child);
                    child.inheritFork(k, ct, this);
                    next++;
                }
                case TraceProcess.VFORK -> {
                    TraceProcess c = run.trace.processes().get(p.arg[next]);
                    Replay child = new Replay(run, c);
                    child.inheritVfork(this);
                    next++;
                    k.vfork(t, child);
                    return; // blocked until the child execs or exits
                }
                case TraceProcess.EXEC -> {
                    k.exec(t, run.image(p.arg[next]), this);
                    imageAreas(t);
                    next++;
                }
                case TraceProcess.MMAP -> {
                    int bits = p.arg[next];
                    int n = Math.max(1, p.pages[next]);
                    if ((bits & TraceProcess.FIXED) != 0) {
                        // MAP_FIXED replaces whatever was mapped in its range (an implicit munmap):
                        // the dynamic linker maps a library's segments over its first reservation
                        run.stats.fixedReplaced += change(k, t, p.addr[next], n, -1);
                    }
                    int file = (bits & TraceProcess.ANON) != 0 ? Area.ANON : run.file(n);
                    Area a = k.mmap(t, n, prot(bits), file, 0);
                    maps.add(new Mapping(p.addr[next], n, a));
                    next++;
                }
                case TraceProcess.MUNMAP -> {
                    unmap(k, t, p.addr[next], p.pages[next]);
                    next++;
                }
                case TraceProcess.MPROTECT -> {
                    mprotect(k, t, p.addr[next], p.pages[next], prot(p.arg[next]));
                    next++;
                }
                case TraceProcess.BRK -> {
                    int d = p.pages[next];
                    if (d > 0) {
                        k.brk(t, t.heap, t.heap.pages() + d);
                    } else {
                        run.stats.brkShrinksSkipped++;
                    }
                    next++;
                }
                case TraceProcess.MREMAP -> {
                    mremap(k, t);
                    next++;
                }
                case TraceProcess.WAIT -> {
                    int w = k.waitChild(t);
                    if (w == 0) {
                        used--;
                        return; // blocked until a child exits; the wait is made again then
                    }
                    if (w < 0) {
                        run.stats.waitsWithoutChild++;
                    }
                    next++;
                }
                case TraceProcess.EXIT -> {
                    catchUp(k, t, p.end, Integer.MAX_VALUE);
                    run.stats.touchesUnplaced += p.faults - touched;
                    flushDeferred(k, t);
                    k.exit(t);
                    run.exited();
                    return;
                }
                default -> throw new IllegalStateException("replay bug: event type " + p.type[next]);
            }
        }
    }

    /** First touches recorded up to {@code when} and not made yet. */
    private long pendingTouches(long when) {
        return touchTarget(when) - touched;
    }

    private long touchTarget(long when) {
        double f = Math.min(1.0, Math.max(0.0, (double) (when - p.start) / p.lifetime()));
        return Math.round(p.faults * f);
    }

    /**
     * Brings the process up to recorded time {@code when}: its CPU time retired, and at most
     * {@code budget} of its first touches made (fewer if no untouched page is mapped now: the
     * rest wait for the next event). Returns the touches made.
     */
    private int catchUp(Kernel k, Task t, long when, int budget) {
        double f = Math.min(1.0, Math.max(0.0, (double) (when - p.start) / p.lifetime()));
        double u = p.userUs * f * run.accessesPerUs;
        double s = p.sysUs * f * run.accessesPerUs;
        long du = (long) u - (long) userDone;
        long ds = (long) s - (long) sysDone;
        userDone = u;
        sysDone = s;
        long target = Math.round(p.faults * f);
        int made = 0;
        while (touched < target && made < budget && touchOne(k, t)) {
            touched++;
            made++;
        }
        work(k, t, du, ds);
        return made;
    }

    /** Retires {@code user} and {@code sys} accesses: in aggregate, or one by one in per-access replay. */
    private void work(Kernel k, Task t, long user, long sys) {
        run.stats.userAccesses += user;
        run.stats.sysAccesses += sys;
        if (!run.perAccess) {
            if (user > 0) {
                k.retire(t, user, true);
            }
            if (sys > 0) {
                k.retire(t, sys, false);
            }
            return;
        }
        deferredUser += user;
        deferredSys += sys;
        // (a vfork child may have split or unmapped the area under its parent's hit page)
        if (hitArea == null || hitPage >= hitArea.pages() || hitArea.frame(hitPage) < 0 || hitArea.prot() == 0) {
            return;
        }
        for (; deferredUser > 0; deferredUser--) {
            k.access(t, hitArea, hitPage, 0, Kernel.READ);
        }
        long gpa = (long) hitArea.frame(hitPage) << 12;
        for (; deferredSys > 0; deferredSys--) {
            k.read(t.vcpu(), gpa, 8);
        }
    }

    /** Per-access replay, at exit: work that found no resident page is retired in aggregate, and counted. */
    private void flushDeferred(Kernel k, Task t) {
        if (deferredUser + deferredSys > 0) {
            run.stats.perAccessUnsimulated += deferredUser + deferredSys;
            if (deferredUser > 0) {
                k.retire(t, deferredUser, true);
            }
            if (deferredSys > 0) {
                k.retire(t, deferredSys, false);
            }
            deferredUser = deferredSys = 0;
        }
    }

    /** One first touch: a page not mapped yet, in a mapping drawn from the process's random stream. */
    private boolean touchOne(Kernel k, Task t) {
        int candidates = 0;
        for (Mapping m : maps) {
            if (open(m)) {
                candidates++;
            }
        }
        if (candidates == 0) {
            return false;
        }
        int pick = t.rng.nextInt(candidates);
        for (Mapping m : maps) {
            if (open(m) && pick-- == 0) {
                Area a = m.area;
                int page = m.cursor++;
                int prot = a.prot();
                int kind = (prot & Area.WRITE) != 0 ? Kernel.WRITE : (prot & Area.EXEC) != 0 ? Kernel.FETCH : Kernel.READ;
                k.access(t, a, page, 0, kind);
                run.stats.touches++;
                hitArea = a;
                hitPage = page;
                return true;
            }
        }
        throw new IllegalStateException("replay bug: candidate lost");
    }

    /** Whether {@code m} has a page left that was never mapped (skipping pages a fork or an earlier touch mapped). */
    private static boolean open(Mapping m) {
        Area a = m.area;
        if (a.prot() == 0) {
            return false;
        }
        while (m.cursor < a.pages() && a.frame(m.cursor) >= 0) {
            m.cursor++;
        }
        return m.cursor < a.pages();
    }

    private void unmap(Kernel k, Task t, long a, int n) {
        change(k, t, a, n, -1);
    }

    private void mprotect(Kernel k, Task t, long a, int n, int prot) {
        change(k, t, a, n, prot);
    }

    /**
     * munmap ({@code prot} < 0) or mprotect (to {@code prot}, {@link Area} rights) of the recorded
     * range {@code [a, a + n)}, as Linux does it: every mapping with pages in the range changes
     * there, an area the range covers only in part split first ({@code split_vma}). The dynamic
     * linker's RELRO mprotect, for one, turns the first pages of a library's data mapping
     * read-only this way. Returns the mappings (or parts) changed.
     */
    private int change(Kernel k, Task t, long a, int n, int prot) {
        long hi = a + n;
        int changed = 0;
        for (int i = maps.size() - 1; i >= 0; i--) {
            Mapping m = maps.get(i);
            long s = Math.max(a, m.ra);
            long e = Math.min(hi, m.ra + m.n);
            if (m.ra < 0 || s >= e) {
                continue;
            }
            boolean partial = s > m.ra || e < m.ra + m.n;
            Mapping mid = isolate(k, t, i, (int) (s - m.ra), (int) (e - m.ra));
            changed++;
            if (prot < 0) {
                k.munmap(t, mid.area);
                maps.remove(mid);
                if (hitArea == mid.area) {
                    hitArea = null;
                }
                if (partial) {
                    run.stats.partialUnmaps++;
                }
            } else {
                k.mprotect(t, mid.area, prot);
                if (partial) {
                    run.stats.partialMprotects++;
                }
            }
        }
        return changed;
    }

    /** The per-access replay's hit page follows its page when {@code a} is split at {@code at} into {@code a} and {@code upper}. */
    private void moveHit(Area a, int at, Area upper) {
        if (hitArea == a && hitPage >= at) {
            hitArea = upper;
            hitPage -= at;
        }
    }

    /**
     * Mapping {@code i} split so that its pages {@code [from, to)} are a mapping (and a model area)
     * of their own, which is returned; the parts below and above stay in the list in its place.
     */
    private Mapping isolate(Kernel k, Task t, int i, int from, int to) {
        Mapping m = maps.get(i);
        Mapping mid = m;
        if (from > 0) {
            Area upper = k.split(t, m.area, from);
            run.stats.areasSplit++;
            moveHit(m.area, from, upper);
            Mapping below = new Mapping(m.ra, from, m.area);
            mid = new Mapping(m.ra + from, m.n - from, upper);
            maps.set(i, below);
            maps.add(i + 1, mid);
            i++;
        }
        if (to - from < mid.n) {
            Area upper = k.split(t, mid.area, to - from);
            run.stats.areasSplit++;
            moveHit(mid.area, to - from, upper);
            Mapping inside = new Mapping(mid.ra, to - from, mid.area);
            maps.set(i, inside);
            maps.add(i + 1, new Mapping(mid.ra + (to - from), mid.n - (to - from), upper));
            mid = inside;
        }
        return mid;
    }

    /** mremap as the model can: the old area unmapped, a new one of the new size mapped with the same rights and backing. */
    private void mremap(Kernel k, Task t) {
        long a = p.addr[next];
        for (int i = maps.size() - 1; i >= 0; i--) {
            Mapping m = maps.get(i);
            if (m.ra == a) {
                int prot = m.area.prot();
                int file = m.area.file();
                maps.remove(i);
                k.munmap(t, m.area);
                if (hitArea == m.area) {
                    hitArea = null;
                }
                int n2 = Math.max(1, p.arg[next]);
                Area na = k.mmap(t, n2, prot, file == Area.ANON ? Area.ANON : run.file(n2), 0);
                maps.add(new Mapping(p.aux[next], n2, na));
                run.stats.mremaps++;
                return;
            }
        }
        run.stats.mremapsSkipped++;
    }

    private static int prot(int bits) {
        return ((bits & TraceProcess.PROT_READ) != 0 ? Area.READ : 0) | ((bits & TraceProcess.PROT_WRITE) != 0 ? Area.WRITE : 0)
                | ((bits & TraceProcess.PROT_EXEC) != 0 ? Area.EXEC : 0);
    }
}
