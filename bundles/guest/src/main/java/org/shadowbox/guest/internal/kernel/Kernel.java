package org.shadowbox.guest.internal.kernel;

import java.util.ArrayList;
import java.util.List;

import org.shadowbox.guest.GuestCounts;
import org.shadowbox.guest.GuestKernel;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * The guest kernel: boots paging on every vCPU, owns the page allocator, the kernel's direct
 * map, the page cache and the processes, and offers programs their system calls (fork, exec,
 * exit, wait, mmap, munmap, mprotect, brk) and their memory accesses.
 *
 * <p>Threads. With one host thread ({@code threads} 1) the {@link Scheduler} interleaves every
 * vCPU on it in an order drawn from the seed, and a run is deterministic. With more
 * ({@link SmpScheduler}) each vCPU is driven by one host thread at a time, as KVM runs a vCPU,
 * and the kernel is an SMP kernel with Linux's lock split, no big lock:
 * <ul>
 * <li>user accesses take no lock: a process's pages and areas are touched only by the vCPU
 * running it;</li>
 * <li>an address space has its own locks ({@link Mm}): {@code mmap_lock} for its system calls
 * (mmap, munmap, mprotect, brk, fork's copy, exec's layout, exit's teardown) and its page
 * faults, and inside it {@code page_table_lock} around pte edits; two processes' faults and
 * system calls run in parallel;</li>
 * <li>the page allocator has the zone lock ({@link PhysMem}), the page cache its lock and
 * per-page locks ({@link PageCache}), the process tree and the run queue the tasklist lock
 * ({@link #tasklist}); each is held briefly and never across a guest access but the page
 * locks;</li>
 * <li>lock order, outermost first: {@code mmap_lock} (a fork's parent, then its child), a page
 * lock, {@code page_table_lock}, then the leaves: the page cache's lock, the zone lock; the
 * tasklist lock is taken with none of them held (fork, exec and exit take it before or after
 * their mm work, not around it). Nothing is allocated or freed under a page-table lock. The
 * MMU's {@code mmu_lock} is below every guest lock (taken inside guest accesses); the MMU
 * never calls back into the guest;</li>
 * <li>counters are per vCPU where address-space operations change them ({@link Counters}).</li>
 * </ul>
 * With one thread the same locks are taken, uncontended, and every access is made in the same
 * order as under the big lock that preceded them: a one-thread run's every count is unchanged
 * ({@code OneThreadPinTest} in the run bundle pins them). The diagnostic mode
 * {@code -Dshadowbox.lockstat=true} counts each lock class's hold and wait times
 * ({@link LockStats}).
 *
 * <p>TLB coherence. Single-threaded, a vCPU a process leaves keeps its CR3 (lazy TLB) and
 * catches up through the mm's flush generation ({@code tlb_gen}) or is moved to the kernel's
 * pgd when the mm goes ({@code leave_mm}). Under SMP the rule is stricter and simpler: a vCPU
 * that a process leaves (blocked, preempted, exited) loads the kernel's own pgd
 * ({@link #leaveMm}) before anyone else may pick the process up, so an mm is loaded on at most
 * the one vCPU running its process, and every change to it (munmap, mprotect, fork's
 * write-protection, a copy-on-write break, exit) is made by that vCPU, which flushes its own
 * TLB. Nothing else edits a process's tables: a fork writes the child's tables before the
 * child first runs, a copy-on-write break edits only the faulting process's pte (the other
 * sharer keeps its read-only pte and faults on its own), page-cache pages are never taken
 * back, and the kernel half is written only at boot.
 */
public final class Kernel implements GuestKernel {
    /** Access kinds for {@link #access}. */
    public static final int READ = Faults.READ, WRITE = Faults.WRITE, FETCH = Faults.FETCH;
    final Vm vm;
    final GuestCpu[] cpus;
    final PageTableFormat f;
    final Counters counters;
    final PhysMem phys;
    final MemoryImage image;
    final KernelMemory km;
    final PageTables tables;
    final PageCache cache;
    final MmOps mmops;
    final Faults faults;
    final Scheduler scheduler;
    final long seed;
    /** Host threads driving the vCPUs: 1 (deterministic interleaving) or more (SMP). */
    final int threads;
    /**
     * The tasklist lock and the run queue's lock in one ({@code tasklist_lock}, {@code rq->lock}):
     * the process list, each process's state, parent and children (zombies, live children), the
     * run queue and {@link #live}. Held briefly; no guest access is made under it, no other
     * guest lock is taken under it.
     */
    final KLock tasklist = new KLock("tasklist_lock");
    long kernelPgd;
    /** Page-table pages of the kernel's own (boot) tables. */
    long bootTablePages;
    long zeroPage;
    Mm initMm;
    /** The address space whose pgd each vCPU's CR3 holds, and the TLB generation it has seen. */
    final Mm[] loadedMm;
    final long[] loadedGen;
    final List<Task> tasks = new ArrayList<>();
    /** Processes not yet exited; changed under the tasklist lock. */
    int live;

    public Kernel(Vm vm, GuestCpu[] cpus, String paging, long seed) {
        this(vm, cpus, paging, seed, 1);
    }

    /** @param threads host threads to drive the vCPUs with, 1 to {@code cpus.length} */
    public Kernel(Vm vm, GuestCpu[] cpus, String paging, long seed, int threads) {
        if (threads < 1 || threads > cpus.length) {
            throw new VmException("bad threads " + threads + ": accepted 1 to " + cpus.length + " (the VM's vCPUs)");
        }
        this.vm = vm;
        this.cpus = cpus.clone();
        this.f = PageTableFormat.of(paging);
        this.seed = seed;
        this.threads = threads;
        this.counters = new Counters(cpus.length, threads);
        this.phys = new PhysMem(vm.memslots(), f.directMapLimit(), counters, threads);
        this.image = new MemoryImage(phys.frames);
        this.km = new KernelMemory(this.cpus, counters);
        this.tables = new PageTables(f, km, phys, counters);
        this.cache = new PageCache(phys, km, image, counters);
        this.mmops = new MmOps(this);
        this.faults = new Faults(this);
        this.scheduler = new Scheduler(this, seed);
        this.loadedMm = new Mm[cpus.length];
        this.loadedGen = new long[cpus.length];
    }

    /**
     * Boots: every vCPU from INIT (paging off), the zero page and the kernel's pgd with the direct map
     * built by vCPU 0 at identity addresses, then paging on (CR4, EFER, CR3, CR0) everywhere.
     */
    public void boot() {
        for (int v = 0; v < cpus.length; v++) {
            vm.vcpu(v).reset(); // a boot starts from INIT: x86 leaves long mode no other way
            cpus[v].writeRegister(Register.CR0, PageTableFormat.CR0_NO_PAGING);
        }
        zeroPage = phys.alloc(PhysMem.ZERO);
        km.clearPage(0, zeroPage);
        image.clear(zeroPage);
        kernelPgd = tables.bootKernelPgd(0, vm, phys.frames);
        initMm = new Mm(kernelPgd, 0);
        for (int v = 0; v < cpus.length; v++) {
            cpus[v].writeRegister(Register.CR4, f.cr4());
            cpus[v].writeRegister(Register.EFER, f.efer());
            writeCr3(v, kernelPgd);
            cpus[v].writeRegister(Register.CR0, PageTableFormat.CR0_PAGING);
            loadedMm[v] = initMm;
        }
        km.useDirectMap(f.directMapBase());
        bootTablePages = counters.ptPagesAllocated();
    }

    // ---- processes ----

    /** Starts a process running {@code image} with {@code program} (as init starting a service). */
    public Task spawn(Image img, Program program) {
        Task t = newTask(null);
        Mm mm = new Mm(tables.pgdAlloc(0, kernelPgd), f.mmapBase());
        mm.mmapLock.lock();
        try {
            t.mm = mm;
            mmops.setupImage(t, img);
        } finally {
            mm.mmapLock.unlock();
        }
        t.program = program;
        tasklist.lock();
        try {
            scheduler.enqueue(t);
        } finally {
            tasklist.unlock();
        }
        return t;
    }

    /** A new process in the process list ({@code copy_process}'s part under {@code tasklist_lock}). */
    private Task newTask(Task parent) {
        tasklist.lock();
        try {
            return newTaskLocked(parent);
        } finally {
            tasklist.unlock();
        }
    }

    private Task newTaskLocked(Task parent) {
        tasklist.assertHeld();
        Task t = new Task(tasks.size() + 1, parent, seed);
        tasks.add(t);
        counters.processes++;
        live++;
        if (parent != null) {
            parent.liveChildren++;
        }
        return t;
    }

    /** {@code fork}: a child with a copy-on-write copy of {@code parent}'s address space, running {@code childProgram}. */
    public Task fork(Task parent, Program childProgram) {
        Task child = newTask(parent);
        parent.mm.mmapLock.lock();
        try {
            child.mm = mmops.dupMmap(parent, child);
        } finally {
            parent.mm.mmapLock.unlock();
        }
        child.program = childProgram;
        tasklist.lock();
        try {
            counters.forks++;
            scheduler.enqueue(child); // wake_up_new_task: from here another vCPU may run it
        } finally {
            tasklist.unlock();
        }
        return child;
    }

    /**
     * {@code vfork} ({@code clone(CLONE_VM | CLONE_VFORK)}): a child that borrows {@code parent}'s
     * address space (no page table is copied) and runs {@code childProgram}; the parent blocks
     * until the child execs or exits ({@code wait_for_vfork_done}), and must return from its
     * {@link Program#run} at once. One host thread only: under SMP two vCPUs would share an mm,
     * which the SMP kernel's TLB rule forbids.
     */
    public Task vfork(Task parent, Program childProgram) {
        if (smp()) {
            throw new IllegalStateException("vfork needs the single-threaded kernel (threads 1)");
        }
        tasklist.lock();
        try {
            Task child = newTaskLocked(parent);
            child.mm = parent.mm;
            child.vforkParent = parent;
            child.text = parent.text;
            child.data = parent.data;
            child.heap = parent.heap;
            child.stack = parent.stack;
            child.program = childProgram;
            counters.forks++;
            scheduler.enqueue(child);
            parent.state = Task.BLOCKED;
            return child;
        } finally {
            tasklist.unlock();
        }
    }

    /** {@code mm_release} of a vfork child: the parent runs again; the mm stays the parent's. Takes the tasklist lock. */
    private boolean vforkDone(Task t) {
        if (t.vforkParent == null) {
            return false; // only a vfork child's own thread sets or clears it
        }
        tasklist.lock();
        try {
            return vforkDoneLocked(t);
        } finally {
            tasklist.unlock();
        }
    }

    private boolean vforkDoneLocked(Task t) {
        tasklist.assertHeld();
        Task p = t.vforkParent;
        if (p == null) {
            return false;
        }
        t.vforkParent = null;
        if (p.state == Task.BLOCKED) {
            scheduler.wakeUp(p);
        }
        return true;
    }

    /** {@code execve}: a new address space laid out from {@code img}, the old one torn down. */
    public void exec(Task t, Image img, Program program) {
        Mm old = t.mm;
        Mm mm = new Mm(tables.pgdAlloc(t.vcpu, kernelPgd), f.mmapBase());
        mm.mmapLock.lock();
        try {
            t.mm = mm;
            mmops.setupImage(t, img);
        } finally {
            mm.mmapLock.unlock();
        }
        switchMm(t.vcpu, t.mm);
        if (!vforkDone(t)) {
            mmops.releaseMm(t.vcpu, old);
        }
        t.program = program;
        tasklist.lock();
        try {
            counters.execs++;
        } finally {
            tasklist.unlock();
        }
    }

    /** {@code exit}: tears the address space down, wakes a parent waiting for it. */
    public void exit(Task t) {
        if (!vforkDone(t)) {
            mmops.releaseMm(t.vcpu, t.mm); // exit_mm, before exit_notify takes the tasklist lock
        }
        tasklist.lock();
        try {
            t.mm = null;
            t.text = t.data = t.heap = t.stack = null;
            counters.exits++;
            if (--live == 0) {
                scheduler.allExited();
            }
            Task p = t.parent;
            if (p == null || p.exited()) {
                t.state = Task.REAPED;
                return;
            }
            t.state = Task.ZOMBIE;
            p.zombies++;
            p.liveChildren--;
            if (p.state == Task.BLOCKED) {
                scheduler.wakeUp(p);
            }
        } finally {
            tasklist.unlock();
        }
    }

    /**
     * {@code wait}: reaps an exited child if there is one (1), returns -1 if there are no
     * children, else blocks {@code t} until one exits (0).
     */
    public int waitChild(Task t) {
        tasklist.lock();
        try {
            if (t.zombies > 0) {
                t.zombies--;
                return 1;
            }
            if (t.liveChildren == 0) {
                return -1;
            }
            t.state = Task.BLOCKED;
            return 0;
        } finally {
            tasklist.unlock();
        }
    }

    public Area mmap(Task t, int pages, int prot, int file, long fileOffset) {
        Mm mm = t.mm;
        mm.mmapLock.lock();
        try {
            return mmops.mmap(t, pages, prot, file, fileOffset);
        } finally {
            mm.mmapLock.unlock();
        }
    }

    public void munmap(Task t, Area a) {
        Mm mm = t.mm;
        mm.mmapLock.lock();
        try {
            mmops.munmap(t, a);
        } finally {
            mm.mmapLock.unlock();
        }
    }

    public void mprotect(Task t, Area a, int prot) {
        Mm mm = t.mm;
        mm.mmapLock.lock();
        try {
            mmops.mprotect(t, a, prot);
        } finally {
            mm.mmapLock.unlock();
        }
    }

    /**
     * {@code split_vma}, as {@code mprotect_fixup} and {@code do_vmi_munmap} do before changing part
     * of an area: {@code a} keeps its pages below {@code page}, the returned new area the rest.
     * No pte changes; a following {@link #mprotect} or {@link #munmap} of either part changes only
     * that part. {@code page} must be inside the area (1 to pages - 1).
     */
    public Area split(Task t, Area a, int page) {
        Mm mm = t.mm;
        mm.mmapLock.lock();
        try {
            return mmops.split(t, a, page);
        } finally {
            mm.mmapLock.unlock();
        }
    }

    public void brk(Task t, Area heap, int pages) {
        Mm mm = t.mm;
        mm.mmapLock.lock();
        try {
            mmops.brk(t, heap, pages);
        } finally {
            mm.mmapLock.unlock();
        }
    }

    /**
     * {@code write(fd, buf, 4096)} at page {@code page} of {@code file} from page {@code srcPage}
     * of {@code src}: the kernel reads the user buffer's tracked words (supervisor reads of user
     * addresses, faulting the buffer in if needed) and stores them into the page-cache page.
     * As {@code generic_perform_write}: the page-cache page is locked ({@code write_begin}) while
     * the words are copied into it, so no copy-on-write copy from it is made halfway; when a
     * read of the user buffer faults, the page lock is dropped, the buffer faulted in (under the
     * process's {@code mmap_lock}) and the page locked again, so that a page lock is never held
     * while an {@code mmap_lock} is taken (Linux copies with faults disabled and retries the same
     * way). The accesses and their order are those of a copy that faults in place.
     */
    public void writeFile(Task t, int file, long page, Area src, int srcPage) {
        long cached = cache.getForWrite(t.vcpu, file, page); // locked
        try {
            copyIntoPage(t, cached, src, srcPage);
        } finally {
            cache.unlockPage(cached);
        }
    }

    private void copyIntoPage(Task t, long cached, Area src, int srcPage) {
        GuestCpu cpu = cpus[t.vcpu];
        for (int s = 0; s < MemoryImage.SLOTS; s++) {
            long va = src.start + ((long) srcPage << 12) + (long) s * MemoryImage.SLOT_BYTES;
            counters.cpu[t.vcpu].kernelAccesses++;
            while (!cpu.read(va, 8, false)) {
                if (cpu.exception() != GuestCpu.PAGE_FAULT || src.frame[srcPage] >= 0 && (cpu.errorCode() & 1) != 0) {
                    throw new GuestCorruption("copy_from_user at gva 0x" + Long.toHexString(va) + " failed (exception "
                            + cpu.exception() + ", error code 0x" + Integer.toHexString(cpu.errorCode()) + ")");
                }
                int ec = cpu.errorCode();
                cache.unlockPage(cached);
                try {
                    faults.handleFault(t, va, ec);
                } finally {
                    cache.lockPage(cached);
                }
                counters.cpu[t.vcpu].kernelAccesses++;
            }
            long expected = image.get(src.frame[srcPage], s);
            if (cpu.value() != expected || (cpu.gpa() >>> 12) != src.frame[srcPage]) {
                throw new GuestCorruption("copy_from_user at gva 0x" + Long.toHexString(va) + " read 0x"
                        + Long.toHexString(cpu.value()) + " at gpa 0x" + Long.toHexString(cpu.gpa()) + ", the guest stored 0x"
                        + Long.toHexString(expected) + " in gfn 0x" + Integer.toHexString(src.frame[srcPage]));
            }
            km.write(t.vcpu, (cached << 12) + (long) s * MemoryImage.SLOT_BYTES, cpu.value(), 8);
            image.set(cached, s, cpu.value());
        }
    }

    /**
     * Work between MMU-visible events, retired in aggregate on the vCPU running {@code t}
     * ({@link GuestCpu#retire}): {@code accesses} TLB hits charged, nothing simulated. It uses
     * the process's time slice as that many accesses would.
     */
    public void retire(Task t, long accesses, boolean user) {
        cpus[t.vcpu].retire(accesses, user);
        t.slice += (int) Math.min(accesses, Scheduler.SLICE);
    }

    /**
     * From now on, data-page clears, copies and page-cache fills simulate only the tracked words
     * and charge the other 504 stores (and loads) in aggregate ({@link GuestCpu#retire}): the trace replay's
     * setting, where a build's millions of first touches would otherwise be billions of TLB hits
     * simulated one by one. Call before the processes run.
     */
    public void aggregateDataCopies() {
        km.aggregateDataCopies(true);
    }

    /** The area of {@code t}'s address space that contains {@code va}, or null ({@code find_vma}). */
    public Area areaAt(Task t, long va) {
        return t.mm == null ? null : t.mm.find(va);
    }

    /** Pages of file {@code file}. */
    public int filePages(int file) {
        return cache.pages(file);
    }

    /** A file of {@code pages} pages on the guest's disk. */
    public int createFile(int pages) {
        return cache.create(pages);
    }

    /**
     * One user access: {@code kind} 0 read, 1 write, 2 fetch, of 8 bytes at tracked word
     * {@code slot} of page {@code page} of {@code a}; page faults are served and the access
     * retried; the translation and the value read are checked.
     */
    public void access(Task t, Area a, int page, int slot, int kind) {
        faults.access(t, a, page, slot, kind);
    }

    // ---- vCPU state ----

    void switchTo(int v, Task t) {
        t.vcpu = v;
        t.state = Task.RUNNING;
        t.slice = 0;
        counters.cpu[v].contextSwitches++;
        switchMm(v, t.mm);
    }

    /**
     * {@code switch_mm}: load CR3, or reload it if this vCPU missed a flush of the same mm. Only
     * vCPU {@code v}'s thread calls it (under SMP without a lock: the process is this
     * vCPU's now, and {@link #loadedMm}[v] is this vCPU's own).
     */
    void switchMm(int v, Mm mm) {
        if (loadedMm[v] != mm) {
            writeCr3(v, mm.pgd);
            loadedMm[v] = mm;
            loadedGen[v] = mm.tlbGen;
        } else if (loadedGen[v] != mm.tlbGen) {
            writeCr3(v, mm.pgd);
            counters.cpu[v].tlbFlushes++;
            loadedGen[v] = mm.tlbGen;
        }
    }

    /**
     * The SMP rule: a process leaving vCPU {@code v} takes its mm with it; the vCPU loads the
     * kernel's pgd ({@code switch_mm} to {@code init_mm}, as an idle vCPU that is not lazy
     * would), which also empties its TLB. Only vCPU {@code v}'s thread calls it.
     */
    void leaveMm(int v) {
        if (loadedMm[v] != initMm) {
            writeCr3(v, kernelPgd);
            loadedMm[v] = initMm;
        }
    }

    void writeCr3(int v, long pgd) {
        cpus[v].writeRegister(Register.CR3, f.cr3(pgd));
        counters.cpu[v].cr3Writes++;
    }

    /** Whether the vCPUs run on several host threads (the SMP kernel). */
    public boolean smp() {
        return threads > 1;
    }

    /**
     * {@code flush_tlb_mm_range} from vCPU {@code v}: INVLPG each page when there are at most
     * 33 ({@code tlb_single_page_flush_ceiling}), else a CR3 reload; other vCPUs catch up
     * through the generation when they next run the mm.
     */
    void flushRange(int v, Mm mm, long start, int pages) {
        mm.tlbGen++;
        if (loadedMm[v] != mm) {
            return;
        }
        if (pages <= 33) {
            for (int i = 0; i < pages; i++) {
                invlpg(v, start + ((long) i << 12));
            }
        } else {
            writeCr3(v, mm.pgd);
            counters.cpu[v].tlbFlushes++;
        }
        loadedGen[v] = mm.tlbGen;
    }

    void invlpg(int v, long va) {
        cpus[v].invlpg(va);
        counters.cpu[v].invlpgs++;
    }

    // ---- GuestKernel ----

    @Override
    public String paging() {
        return f.name();
    }

    @Override
    public int vcpus() {
        return cpus.length;
    }

    @Override
    public long allocPage() {
        return phys.alloc(PhysMem.KERNEL);
    }

    @Override
    public void freePage(long gfn) {
        phys.freeKernelPage(gfn);
    }

    @Override
    public long directMap(long gpa) {
        return km.address(gpa);
    }

    /**
     * {@inheritDoc} No guest lock: a kernel access through the direct map, which never changes,
     * made by the thread driving vCPU {@code vcpu} (counted on that vCPU).
     */
    @Override
    public long read(int vcpu, long gpa, int size) {
        checkVcpu(vcpu);
        return km.read(vcpu, gpa, size);
    }

    /** {@inheritDoc} As {@link #read}: no guest lock, on the thread driving vCPU {@code vcpu}. */
    @Override
    public void write(int vcpu, long gpa, long value, int size) {
        checkVcpu(vcpu);
        km.write(vcpu, gpa, value, size);
    }

    private void checkVcpu(int vcpu) {
        if (vcpu < 0 || vcpu >= cpus.length) {
            throw new VmException("bad vCPU " + vcpu + ": accepted 0 to " + (cpus.length - 1));
        }
    }

    @Override
    public GuestCounts counts() {
        return counters.snapshot();
    }

    public Counters counters() {
        return counters;
    }

    public Scheduler scheduler() {
        return scheduler;
    }

    public PageTableFormat format() {
        return f;
    }

    /** Processes not yet exited. */
    public int live() {
        return live;
    }

    // ---- what a run can take, for the check before it boots ----

    /**
     * Host bytes the guest model keeps per guest frame for a run: {@link PhysMem}'s use, last
     * use, map count and free-stack slot (1 + 1 + 4 + 4), the page cache's page lock (4) and
     * {@link MemoryImage}'s expected words (8 x 8): Linux's {@code struct page} and the model's
     * shadow of guest memory. The runner charges {@code frames x} this to the VM's budget while
     * the run lasts.
     */
    public static final int FRAME_BOOKKEEPING_BYTES = 1 + 1 + 4 + 4 + 4 + MemoryImage.SLOTS * 8;

    /** Frames a run on a VM with these memslots and this paging keeps state for (gfn 0 to the end of RAM, at most 4 GiB). */
    public static long frames(List<org.shadowbox.vm.Memslot> slots, String paging) {
        return PhysMem.frames(slots, PageTableFormat.of(paging).directMapLimit());
    }

    /**
     * Visits the frames a run hands out, in the order it hands them out (see
     * {@link PhysMem#forEachUsable}); returns how many it visited.
     */
    /**
     * Frames past a run's peak (in {@link #forEachUsable}'s order) that a run on {@code threads}
     * host threads can touch: the per-thread page lists' pages ({@link PhysMem}); 0 for one thread.
     */
    public static long pageListSlack(long usablePages, int threads) {
        return PhysMem.listSlack(usablePages, threads);
    }

    public static long forEachUsable(List<org.shadowbox.vm.Memslot> slots, String paging,
            java.util.function.LongPredicate visit) {
        return PhysMem.forEachUsable(slots, PageTableFormat.of(paging).directMapLimit(), visit);
    }

    /**
     * The frames {@link #boot} allocates at most for a guest of {@code frames} frames in
     * {@code slots} memslots: the zero page, the pgd (with PAE's preallocated PMDs), and the
     * direct map's tables: large leaves wherever a slot covers a whole large page, so page
     * tables only at the ends of slots (2 each), and upper tables per 1 GiB and 512 GiB
     * (2 more per slot for its ends).
     */
    public static long bootPagesAtMost(long frames, int slots) {
        return 1 + 4 + 2L * slots + (frames >>> 18) + 2L * slots + 1 + (frames >>> 27) + 2L * slots + 1;
    }

    /** The most guest pages allocated at once so far in this run (boot included). */
    public int peakPages() {
        return phys.peakPages();
    }
}
