package io.layerswarm.daemon.bench;

import java.util.concurrent.Callable;

/** How a benchmark command ends on an error: one line on stderr and status 1, no stack trace. */
final class BenchErrors {
    private BenchErrors() {
    }

    /** Runs {@code bench}; an exception becomes {@code error: MESSAGE} on stderr and status 1. */
    static int report(Callable<Integer> bench) {
        try {
            return bench.call();
        } catch (Exception e) {
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            System.err.println("error: " + msg.replaceAll("\\s+", " "));
            return 1;
        }
    }
}
