package io.layerswarm.daemon.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.daemon.Main;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo's fan-out on loopback: byte accounting is consistent and every node unpacks the same rootfs. */
class DemoCommandTest {
    @TempDir
    Path tmp;

    @Test
    void threeNodesFetchEachOriginByteAboutOnceAndUnpackIdenticalRootfs() throws Exception {
        Path layout = DemoImage.extractTo(tmp.resolve("layout"));
        try (FanOut.Origin origin = FanOut.Origin.start(layout, "demo-httpd", 50_000_000L, Duration.ofMillis(10))) {
            long image = origin.imageBlobBytes();
            assertEquals(1148206 + 534 + 710, image, "config + layers of the bundled image");
            FanOut.Report single = FanOut.direct(origin, 1, tmp.resolve("direct"));
            assertEquals(image, single.originBlobBytes(), "a direct pull takes every blob byte from the origin once");

            FanOut.Report swarm = FanOut.throughSwarm(origin, 3, tmp.resolve("swarm"), 256 * 1024,
                    Duration.ofSeconds(1), true);
            assertEquals(3, swarm.nodes().size());
            long originSum = 0;
            for (FanOut.NodeReport n : swarm.nodes()) {
                assertEquals(image, n.peerBytes() + n.originBytes(), n.name() + ": peer + origin bytes = the image");
                originSum += n.originBytes();
            }
            assertTrue(originSum >= image, "every byte came from the origin at least once: " + originSum);
            assertTrue(originSum <= image * 1.25, "origin bytes used across nodes ~ the image once: " + originSum);
            assertTrue(swarm.originBlobBytes() <= image * 1.5,
                    "the origin served about one copy, not three: " + swarm.originBlobBytes() + " of " + image);
            assertTrue(swarm.nodes().stream().mapToLong(FanOut.NodeReport::peerBytes).sum() >= image,
                    "at least one image worth of bytes moved between peers");
            assertTrue(swarm.identicalRootfs(), "rootfs differ: " + swarm.nodes());
            assertEquals(single.nodes().get(0).rootfs(), swarm.nodes().get(0).rootfs());
            assertTrue(swarm.nodes().get(0).rootfs().entries() > 50, "a real rootfs was unpacked");
        }
    }

    @Test
    void commandPrintsOneRowPerNodeAndTotals() {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        PrintStream old = System.out;
        int rc;
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            rc = Main.run("demo", "--nodes", "2", "--uplink-mbps", "100", "--uplink-latency-ms", "5");
        } finally {
            System.setOut(old);
        }
        String out = buf.toString(StandardCharsets.UTF_8);
        assertEquals(0, rc, out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("node0 ")), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("node1 ")), out);
        assertTrue(out.lines().anyMatch(l -> l.startsWith("total ")), out);
        assertTrue(out.contains("rootfs: identical on every node"), out);
    }

    @Test
    void rejectsNonsenseOptions() {
        assertEquals(1, Main.run("demo", "--nodes", "0"));
        assertEquals(1, Main.run("demo", "--uplink-mbps", "-3"));
    }
}
