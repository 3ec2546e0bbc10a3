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
 * exit, wait, mmap, munmap, mprotect, brk) and their memory accesses. Plain Java, one thread:
 * the {@link Scheduler} interleaves the vCPUs. Context switches load CR3; a vCPU switching back
 * to an address space that was flushed while it was away reloads CR3 ({@code tlb_gen}).
 */
public final class Kernel implements GuestKernel {
    /** Access kinds for {@link #access}. */
    public static final int READ = Faults.READ, WRITE = Faults.WRITE, FETCH = Faults.FETCH;
    final Vm vm;
    final GuestCpu[] cpus;
    final PageTableFormat f;
    final Counters counters = new Counters();
    final PhysMem phys;
    final MemoryImage image;
    final KernelMemory km;
    final PageTables tables;
    final PageCache cache;
    final MmOps mmops;
    final Faults faults;
    final Scheduler scheduler;
    final long seed;
    long kernelPgd;
    /** Page-table pages of the kernel's own (boot) tables. */
    long bootTablePages;
    long zeroPage;
    Mm initMm;
    /** The address space whose pgd each vCPU's CR3 holds, and the TLB generation it has seen. */
    final Mm[] loadedMm;
    final long[] loadedGen;
    final List<Task> tasks = new ArrayList<>();
    int live;

    public Kernel(Vm vm, GuestCpu[] cpus, String paging, long seed) {
        this.vm = vm;
        this.cpus = cpus.clone();
        this.f = PageTableFormat.of(paging);
        this.seed = seed;
        this.phys = new PhysMem(vm.memslots(), f.directMapLimit(), counters);
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
     * Boots: paging off on every vCPU, the zero page and the kernel's pgd with the direct map
     * built by vCPU 0 at identity addresses, then paging on (CR4, EFER, CR3, CR0) everywhere.
     */
    public void boot() {
        for (GuestCpu c : cpus) {
            c.writeRegister(Register.CR0, PageTableFormat.CR0_NO_PAGING);
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
        bootTablePages = counters.ptPagesAllocated;
    }

    // ---- processes ----

    /** Starts a process running {@code image} with {@code program} (as init starting a service). */
    public Task spawn(Image img, Program program) {
        Task t = newTask(null);
        t.mm = new Mm(tables.pgdAlloc(0, kernelPgd), f.mmapBase());
        mmops.setupImage(t, img);
        t.program = program;
        scheduler.enqueue(t);
        return t;
    }

    private Task newTask(Task parent) {
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
        child.mm = mmops.dupMmap(parent, child);
        child.program = childProgram;
        counters.forks++;
        scheduler.enqueue(child);
        return child;
    }

    /** {@code execve}: a new address space laid out from {@code img}, the old one torn down. */
    public void exec(Task t, Image img, Program program) {
        Mm old = t.mm;
        t.mm = new Mm(tables.pgdAlloc(t.vcpu, kernelPgd), f.mmapBase());
        mmops.setupImage(t, img);
        switchMm(t.vcpu, t.mm);
        mmops.releaseMm(t.vcpu, old);
        t.program = program;
        counters.execs++;
    }

    /** {@code exit}: tears the address space down, wakes a parent waiting for it. */
    public void exit(Task t) {
        mmops.releaseMm(t.vcpu, t.mm);
        t.mm = null;
        t.text = t.data = t.heap = t.stack = null;
        counters.exits++;
        live--;
        Task p = t.parent;
        if (p == null || p.exited()) {
            t.state = Task.REAPED;
            return;
        }
        t.state = Task.ZOMBIE;
        p.zombies++;
        p.liveChildren--;
        if (p.state == Task.BLOCKED) {
            scheduler.enqueue(p);
        }
    }

    /**
     * {@code wait}: reaps an exited child if there is one (1), returns -1 if there are no
     * children, else blocks {@code t} until one exits (0).
     */
    public int waitChild(Task t) {
        if (t.zombies > 0) {
            t.zombies--;
            return 1;
        }
        if (t.liveChildren == 0) {
            return -1;
        }
        t.state = Task.BLOCKED;
        return 0;
    }

    public Area mmap(Task t, int pages, int prot, int file, long fileOffset) {
        return mmops.mmap(t, pages, prot, file, fileOffset);
    }

    public void munmap(Task t, Area a) {
        mmops.munmap(t, a);
    }

    public void mprotect(Task t, Area a, int prot) {
        mmops.mprotect(t, a, prot);
    }

    public void brk(Task t, Area heap, int pages) {
        mmops.brk(t, heap, pages);
    }

    /**
     * {@code write(fd, buf, 4096)} at page {@code page} of {@code file} from page {@code srcPage}
     * of {@code src}: the kernel reads the user buffer's tracked words (supervisor reads of user
     * addresses, faulting the buffer in if needed) and stores them into the page-cache page.
     */
    public void writeFile(Task t, int file, long page, Area src, int srcPage) {
        long cached = cache.getForWrite(t.vcpu, file, page);
        GuestCpu cpu = cpus[t.vcpu];
        for (int s = 0; s < MemoryImage.SLOTS; s++) {
            long va = src.start + ((long) srcPage << 12) + (long) s * MemoryImage.SLOT_BYTES;
            counters.kernelAccesses++;
            while (!cpu.read(va, 8, false)) {
                if (cpu.exception() != GuestCpu.PAGE_FAULT || src.frame[srcPage] >= 0 && (cpu.errorCode() & 1) != 0) {
                    throw new GuestCorruption("copy_from_user at gva 0x" + Long.toHexString(va) + " failed (exception "
                            + cpu.exception() + ", error code 0x" + Integer.toHexString(cpu.errorCode()) + ")");
                }
                faults.handleFault(t, va, cpu.errorCode());
                counters.kernelAccesses++;
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
        counters.contextSwitches++;
        switchMm(v, t.mm);
    }

    /** {@code switch_mm}: load CR3, or reload it if this vCPU missed a flush of the same mm. */
    void switchMm(int v, Mm mm) {
        if (loadedMm[v] != mm) {
            writeCr3(v, mm.pgd);
            loadedMm[v] = mm;
            loadedGen[v] = mm.tlbGen;
        } else if (loadedGen[v] != mm.tlbGen) {
            writeCr3(v, mm.pgd);
            counters.tlbFlushes++;
            loadedGen[v] = mm.tlbGen;
        }
    }

    void writeCr3(int v, long pgd) {
        cpus[v].writeRegister(Register.CR3, f.cr3(pgd));
        counters.cr3Writes++;
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
            counters.tlbFlushes++;
        }
        loadedGen[v] = mm.tlbGen;
    }

    void invlpg(int v, long va) {
        cpus[v].invlpg(va);
        counters.invlpgs++;
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
        if (gfn < 0 || gfn >= phys.frames || phys.use[(int) gfn] != PhysMem.KERNEL) {
            throw new VmException("gfn 0x" + Long.toHexString(gfn) + " was not allocated by allocPage: accepted only pages it returned");
        }
        phys.free(gfn);
    }

    @Override
    public long directMap(long gpa) {
        return km.address(gpa);
    }

    @Override
    public long read(int vcpu, long gpa, int size) {
        checkVcpu(vcpu);
        return km.read(vcpu, gpa, size);
    }

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
}
