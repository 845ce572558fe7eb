package io.layerswarm.daemon;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.node.NodeEvent;
import io.layerswarm.oci.Descriptor;
import io.layerswarm.oci.Digest;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class PullProgressTest {
    private final AtomicLong now = new AtomicLong();
    private final ByteArrayOutputStream outBytes = new ByteArrayOutputStream();
    private final ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
    private final PrintStream out = new PrintStream(outBytes, true, StandardCharsets.UTF_8);
    private final PrintStream err = new PrintStream(errBytes, true, StandardCharsets.UTF_8);

    private static Descriptor blob(int i, long size) {
        return new Descriptor("application/vnd.oci.image.layer.v1.tar+gzip",
                Digest.parse("sha256:" + String.format("%064x", i)), size, List.of(), Map.of(), null);
    }

    private static NodeEvent.BlobServed served(Descriptor d, boolean fromCache) {
        return new NodeEvent.BlobServed("r:5000", "team/app", d.digest(), d.size(), fromCache);
    }

    @Test
    void plainModeIsOneLinePerBlobWithRunningTotalsAndNothingOnStderr() {
        Descriptor a = blob(1, 2 << 20);
        Descriptor b = blob(2, 2 << 20);
        Descriptor c = blob(3, 4 << 20);
        PullProgress p = new PullProgress(out, err, PullProgress.Mode.PLAIN, "team/app:1", List.of(a, b, c), now::get);
        p.blobServed(served(a, true));
        now.addAndGet(2_000_000_000L);
        p.blobProgress(new NodeEvent.BlobProgress(b.digest(), b.size(), 1 << 20));
        p.blobProgress(new NodeEvent.BlobProgress(b.digest(), b.size(), 2 << 20));
        p.blobServed(served(b, false));
        p.finish();
        List<String> lines = outBytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(List.of(
                "blob " + a.digest() + " already in store 2097152 bytes (1/3, 2.0 MiB of 8.0 MiB, 0 B/s)",
                "blob " + b.digest() + " fetched 2097152 bytes (2/3, 4.0 MiB of 8.0 MiB, 1.0 MiB/s)"), lines);
        assertEquals("", errBytes.toString(StandardCharsets.UTF_8), "no control characters in plain mode");
    }

    @Test
    void terminalModeRedrawsOneStatusLineWithRateAndEta() {
        Descriptor a = blob(1, 10 << 20);
        Descriptor b = blob(2, 10 << 20);
        PullProgress p = new PullProgress(out, err, PullProgress.Mode.TTY, "team/app:1", List.of(a, b), now::get);
        now.addAndGet(1_000_000_000L);
        p.blobProgress(new NodeEvent.BlobProgress(a.digest(), a.size(), 5 << 20)); // 5 MiB in 1 s
        // 15 MiB left at 5 MiB/s
        assertEquals("team/app:1 [######..................]  25% 5.0 MiB/20.0 MiB 5.0 MiB/s ETA 3s (0/2 blobs)",
                p.statusLine());
        String drawn = errBytes.toString(StandardCharsets.UTF_8);
        assertTrue(drawn.startsWith("\r") && drawn.endsWith("\u001b[K"), drawn);
        assertEquals("", outBytes.toString(StandardCharsets.UTF_8), "stdout stays clean on a terminal");

        p.blobProgress(new NodeEvent.BlobProgress(a.digest(), a.size(), 10 << 20));
        p.blobServed(served(a, false));
        p.blobServed(served(b, true));
        p.finish();
        assertTrue(p.statusLine().contains("100% 20.0 MiB/20.0 MiB") && p.statusLine().endsWith("done (2/2 blobs)"),
                p.statusLine());
        assertTrue(errBytes.toString(StandardCharsets.UTF_8).endsWith(System.lineSeparator()));
    }

    @Test
    void withoutTotalsItShowsBytesAndRateOnly() {
        PullProgress p = new PullProgress(out, err, PullProgress.Mode.TTY, "team/app:1", List.of(), now::get);
        now.addAndGet(2_000_000_000L);
        p.blobProgress(new NodeEvent.BlobProgress(blob(1, 8 << 20).digest(), 8 << 20, 4 << 20));
        assertEquals("team/app:1 4.0 MiB 2.0 MiB/s (0 blobs)", p.statusLine());
    }

    @Test
    void autoPicksTheTerminalOnlyWithAConsole() {
        assertEquals(PullProgress.Mode.TTY, PullProgress.Mode.AUTO.resolve(true));
        assertEquals(PullProgress.Mode.PLAIN, PullProgress.Mode.AUTO.resolve(false));
        assertEquals(PullProgress.Mode.PLAIN, PullProgress.Mode.PLAIN.resolve(true));
        assertThrows(IllegalArgumentException.class,
                () -> new PullProgress(out, err, PullProgress.Mode.AUTO, "x", List.of(), now::get));
    }

    @Test
    void humanSizesAndDurations() {
        assertEquals("512 B", PullProgress.human(512));
        assertEquals("1.5 KiB", PullProgress.human(1536));
        assertEquals("3.0 GiB", PullProgress.human(3L << 30));
        assertEquals("59s", PullProgress.duration(58.2));
        assertEquals("2m05s", PullProgress.duration(125));
        assertEquals("1h01m", PullProgress.duration(3660));
    }

    @Test
    void aBadProgressFlagIsOneErrorLine() {
        ByteArrayOutputStream e = new ByteArrayOutputStream();
        PrintStream old = System.err;
        int status;
        try {
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            status = Main.run("pull", "a/b:1", "--output", "/nonexistent/x", "--progress", "fancy");
        } finally {
            System.setErr(old);
        }
        assertEquals(2, status);
        List<String> lines = e.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(1, lines.size(), lines.toString());
        assertTrue(lines.get(0).startsWith("error: ") && lines.get(0).contains("'fancy' is not one of auto, tty, plain"),
                lines.get(0));
    }
}
