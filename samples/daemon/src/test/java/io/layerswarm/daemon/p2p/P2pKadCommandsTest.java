package io.layerswarm.daemon.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.OciCids;
import io.layerswarm.testing.Await;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** The kad CLI commands against each other on loopback. */
class P2pKadCommandsTest {

    /** Output sink whose text can be polled while the command runs. */
    private static final class Capture {
        final StringWriter text = new StringWriter();
        final PrintWriter writer = new PrintWriter(text, true);

        String get() {
            synchronized (text.getBuffer()) {
                return text.toString();
            }
        }
    }

    private static String awaitLine(Capture c, String prefix) throws InterruptedException {
        return Await.until(Duration.ofSeconds(30), "a '" + prefix + "' line is printed",
                () -> c.get().lines().filter(l -> l.startsWith(prefix)).findFirst(), Optional::isPresent)
                .orElseThrow().substring(prefix.length()).trim();
    }

    private record Run(int exit, String out, String err) { }

    private static Run run(Object command, String... args) {
        Capture out = new Capture();
        Capture err = new Capture();
        int exit = new CommandLine(command).setOut(out.writer).setErr(err.writer).execute(args);
        return new Run(exit, out.get(), err.get());
    }

    @Test
    void findProvidersPrintsTheProvidingPeerForCidAndDigest() throws Exception {
        Digest digest = Digest.sha256("a layer".getBytes(StandardCharsets.UTF_8));
        String cid = OciCids.toCid(digest).toString();
        P2pProvideCommand provide = new P2pProvideCommand();
        Capture out = new Capture();
        CommandLine cl = new CommandLine(provide).setOut(out.writer).setErr(new PrintWriter(new StringWriter()));
        CompletableFuture<Integer> exit = CompletableFuture.supplyAsync(() ->
                cl.execute(digest.toString(), "--listen", "/ip4/127.0.0.1/tcp/0"));
        try {
            String addr = awaitLine(out, "listening ");
            assertEquals(cid, awaitLine(out, "provided "), "digest argument maps to the raw CIDv1");
            String peerId = addr.substring(addr.lastIndexOf('/') + 1);

            Run found = run(new P2pFindProvidersCommand(), cid, "--bootstrap", addr, "--wait", "20");
            assertEquals(0, found.exit(), found.err());
            assertEquals(peerId, found.out().trim());

            Run viaDigest = run(new P2pFindProvidersCommand(), digest.toString(), "--bootstrap", addr, "--wait", "20");
            assertEquals(peerId, viaDigest.out().trim());

            String other = OciCids.toCid(Digest.sha256(new byte[] {1})).toString();
            Run none = run(new P2pFindProvidersCommand(), other, "--bootstrap", addr, "--wait", "2");
            assertEquals(1, none.exit());
            assertEquals("", none.out().trim());
            assertTrue(none.err().contains("no providers"), none.err());
        } finally {
            provide.stop();
        }
        assertEquals(0, exit.get(20, TimeUnit.SECONDS));
    }

    @Test
    void rejectsGarbageContentIds() {
        Run bad = run(new P2pFindProvidersCommand(), "sha256:nothex", "--bootstrap", "/ip4/127.0.0.1/tcp/1");
        assertEquals(2, bad.exit());
        assertTrue(bad.err().contains("not a CID or OCI digest"), bad.err());
        Run bad2 = run(new P2pProvideCommand(), "zzzz");
        assertEquals(2, bad2.exit());
        assertTrue(bad2.err().contains("not a CID or OCI digest"), bad2.err());
    }
}
