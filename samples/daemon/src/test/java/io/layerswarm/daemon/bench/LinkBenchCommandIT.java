package io.layerswarm.daemon.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.daemon.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/**
 * The Yamux receive window grows past the bandwidth-delay product on a real (emulated) long link, and
 * stays at 256 KiB when growth is off. Only window sizes are asserted; the throughput figures are the
 * benchmark's business (BENCHMARKS.md).
 */
class LinkBenchCommandIT {

    @Test
    void windowGrowsBeyondTheBandwidthDelayProductOnlyWhenAutoTuned() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int rc;
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            rc = Main.run("bench-link", "--mbps", "100", "--rtt-ms", "50", "--mib", "12");
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, out);
        long bdpKib = 100_000_000L / 8 * 50 / 1000 / 1024; // 610 KiB
        assertTrue(finalWindowKib(out, "| auto-tuned") > bdpKib, out);
        assertEquals(256, finalWindowKib(out, "| fixed 256 KiB"), out);
    }

    @Test
    void rejectsNonsense() {
        assertEquals(1, Main.run("bench-link", "--mbps", "0"));
        assertEquals(1, Main.run("bench-link", "--mib", "0"));
    }

    private static long finalWindowKib(String out, String rowPrefix) {
        String row = out.lines().filter(l -> l.startsWith(rowPrefix)).findFirst().orElseThrow();
        String[] cells = row.split("\\|");
        return Long.parseLong(cells[cells.length - 1].trim());
    }
}
