package org.shadowbox.guest.internal;

import java.util.List;
import java.util.function.IntFunction;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.shadowbox.guest.Scenario;
import org.shadowbox.guest.ScenarioResult;
import org.shadowbox.guest.ScenarioRunner;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.vm.Vm;

/** The {@link ScenarioRunner} service: a {@link Runner} fed with every {@link Scenario} service there is. */
@Component(service = ScenarioRunner.class)
public final class RunnerComponent implements ScenarioRunner {
    private final Runner runner = new Runner();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC)
    void addScenario(Scenario s) {
        runner.add(s);
    }

    void removeScenario(Scenario s) {
        runner.remove(s);
    }

    @Override
    public List<Scenario> scenarios() {
        return runner.scenarios();
    }

    @Override
    public Scenario scenario(String name) {
        return runner.scenario(name);
    }

    @Override
    public ScenarioResult run(String name, Vm vm, IntFunction<GuestCpu> cpus, long scale, long seed, Progress progress) {
        return runner.run(name, vm, cpus, scale, seed, progress);
    }

    @Override
    public ScenarioResult run(String name, Vm vm, IntFunction<GuestCpu> cpus, long scale, long seed, int threads,
            Progress progress) {
        return runner.run(name, vm, cpus, scale, seed, threads, progress);
    }

    @Override
    public void checkFits(String name, Vm vm, long scale) {
        runner.checkFits(name, vm, scale);
    }

    @Override
    public long hostBytesAtMost(String name, long scale, int vcpus, long memoryBytes, String mmu) {
        return runner.hostBytesAtMost(name, scale, vcpus, memoryBytes, mmu);
    }
}
