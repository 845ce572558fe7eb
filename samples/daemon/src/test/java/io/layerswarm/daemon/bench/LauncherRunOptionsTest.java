package io.layerswarm.daemon.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The containerd benchmarks' shared options (mixins): same flags, defaults and log files as before. */
class LauncherRunOptionsTest {
    @TempDir
    Path tmp;

    @Test
    void bothBenchmarksTakeLauncherWorkLogsAndUplink() {
        ContainerdFanOutBench fanOut = new ContainerdFanOutBench();
        new CommandLine(fanOut).parseArgs("--corpus", "c", "--launcher", "bin/layerswarm", "--work", "w", "--logs", "l",
                "--uplink-mbps", "20");
        assertEquals(Path.of("bin/layerswarm"), fanOut.launch.launcher);
        assertEquals(Path.of("w"), fanOut.launch.work);
        assertEquals(Path.of("l"), fanOut.launch.logs);
        assertEquals(20.0, fanOut.uplink.mbps);
        assertEquals(50, fanOut.uplink.latencyMs, "the fan-out benchmark's default round trip");

        TestbedBench testbed = new TestbedBench();
        new CommandLine(testbed).parseArgs("--corpus", "c", "--trace", "t", "--launcher", "x", "--work", "w",
                "--uplink-latency-ms", "7");
        assertEquals(Path.of("x"), testbed.launch.launcher);
        assertNull(testbed.launch.logs);
        assertEquals(100.0, testbed.uplink.mbps);
        assertEquals(7, testbed.uplink.latencyMs);

        assertThrows(CommandLine.MissingParameterException.class,
                () -> new CommandLine(new ContainerdFanOutBench()).parseArgs("--corpus", "c", "--work", "w"));
        assertThrows(CommandLine.MissingParameterException.class,
                () -> new CommandLine(new TestbedBench()).parseArgs("--corpus", "c", "--trace", "t", "--launcher", "x"));
    }

    @Test
    void keepLogsCopiesStderrAndStdoutNamedAfterTheRunOnlyWithLogs() throws Exception {
        Path stderr = Files.writeString(tmp.resolve("stderr.log"), "event=started\n");
        Process p = new ProcessBuilder("true").start();
        p.waitFor();
        LauncherNode n = LauncherNode.wrap("node0", new LauncherNode.Started(p, List.of(), List.of("a", "b")), "addr",
                "url", stderr);
        Path runDir = tmp.resolve("work/r1-swarm");

        LauncherRunOptions without = new LauncherRunOptions();
        without.keepLogs(runDir, n);
        assertFalse(Files.exists(tmp.resolve("logs")));

        LauncherRunOptions with = new LauncherRunOptions();
        with.logs = tmp.resolve("logs");
        with.keepLogs(runDir, n);
        with.keepLogs(runDir, n); // a second copy replaces the first
        assertEquals("event=started\n", Files.readString(tmp.resolve("logs/r1-swarm-node0.stderr.log")));
        assertEquals(List.of("a", "b"), Files.readAllLines(tmp.resolve("logs/r1-swarm-node0.stdout.log")));
    }
}
