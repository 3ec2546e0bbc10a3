package org.shadowbox.bench;

/**
 * The arguments the round-based probes share, {@code [WARMUP] [ROUNDS] [shadow|tdp]}: warm-up
 * rounds (0 or more), measured rounds (1 or more) and the VMs' MMU, each with the probe's default
 * when left out. Anything else ends the probe with one line that says what is accepted.
 *
 * @param warmup rounds run before the measured ones
 * @param rounds measured rounds
 * @param mmu    the VMs' MMU, {@code shadow} or {@code tdp}
 */
record ProbeArgs(int warmup, int rounds, String mmu) {
    /** Parses {@code args} for the probe named {@code probe}, or prints why not and exits with status 2. */
    static ProbeArgs parse(String probe, String[] args, int defaultWarmup, int defaultRounds) {
        try {
            int warmup = args.length > 0 ? Integer.parseInt(args[0]) : defaultWarmup;
            int rounds = args.length > 1 ? Integer.parseInt(args[1]) : defaultRounds;
            String mmu = args.length > 2 ? args[2] : "shadow";
            if (warmup >= 0 && rounds >= 1 && (mmu.equals("shadow") || mmu.equals("tdp")) && args.length <= 3) {
                return new ProbeArgs(warmup, rounds, mmu);
            }
        } catch (NumberFormatException e) {
            // reported below, as any other bad argument
        }
        System.err.println(probe + ": arguments [WARMUP >= 0] [ROUNDS >= 1] [shadow|tdp], got '" + String.join(" ", args) + "'");
        System.exit(2);
        throw new AssertionError("unreachable");
    }
}
