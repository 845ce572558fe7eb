package io.layerswarm.daemon.p2p;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.layerswarm.daemon.DaemonJar;
import io.layerswarm.oci.Digest;
import io.layerswarm.swarm.OciCids;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code layerswarm p2p provide|find-providers} as processes of the shaded jar, with a js-libp2p
 * {@code @libp2p/kad-dht} peer (p2p-core/src/test/js/kad-peer.mjs) in the same DHT.
 */
class P2pKadCliIT {
    private static final Path JS = Path.of("../../p2p-core/src/test/js").toAbsolutePath().normalize();

    private final List<Process> processes = new ArrayList<>();

    @AfterEach
    void tearDown() throws InterruptedException {
        for (Process p : processes) {
            p.destroy();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
            }
        }
    }

    private static List<String> java(String... args) {
        return DaemonJar.command(args);
    }

    /** A running process whose stdout lines are queued. */
    private final class Running {
        final Process process;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

        Running(List<String> cmd, Path dir) throws Exception {
            process = new ProcessBuilder(cmd).directory(dir == null ? null : dir.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            processes.add(process);
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                        StandardCharsets.UTF_8))) {
                    for (String l; (l = r.readLine()) != null; ) {
                        lines.add(l);
                    }
                } catch (Exception ignored) {
                    // process ended
                }
            });
            t.setDaemon(true);
            t.start();
        }

        String expect(String prefix, int seconds) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
            while (true) {
                String l = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (l == null) {
                    fail("no line '" + prefix + "…' within " + seconds + "s (alive=" + process.isAlive() + ")");
                }
                if (l.startsWith(prefix)) {
                    return l.substring(prefix.length()).trim();
                }
                if (l.startsWith("error")) {
                    fail("process reported " + l);
                }
            }
        }

        void send(String line) throws Exception {
            Writer w = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            w.write(line + "\n");
            w.flush();
        }
    }

    private record Result(int exit, List<String> out) { }

    private static Result run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
            for (String l; (l = r.readLine()) != null; ) {
                lines.add(l);
            }
        }
        if (!p.waitFor(90, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            fail("timed out: " + cmd);
        }
        return new Result(p.exitValue(), lines);
    }

    @Test
    void provideAndFindAcrossProcessesAndJs() throws Exception {
        assertTrue(Files.isRegularFile(DaemonJar.JAR), "build the shaded jar first (mvn package): " + DaemonJar.JAR);
        if (!Files.isDirectory(JS.resolve("node_modules/@libp2p/kad-dht"))) {
            Result npm = run(List.of("npm", "--prefix", JS.toString(), "install", "--no-audit", "--no-fund"));
            assertEquals(0, npm.exit(), "npm install in " + JS + " (node/npm from scripts/install-system-packages.sh)");
        }
        Digest layer = Digest.sha256("cli layer".getBytes(StandardCharsets.UTF_8));
        Running provider = new Running(java("p2p", "provide", layer.toString(), "--listen", "/ip4/127.0.0.1/tcp/0"), null);
        // the js peer starts up meanwhile; it dials the provider only when told
        Running js = new Running(List.of("node", "kad-peer.mjs"), JS);
        String addr = provider.expect("listening ", 60);
        assertEquals(OciCids.toCid(layer).toString(), provider.expect("provided ", 60));
        String providerId = addr.substring(addr.lastIndexOf('/') + 1);

        Result found = run(java("p2p", "find-providers", layer.toString(), "--bootstrap", addr, "--wait", "30"));
        assertEquals(0, found.exit());
        assertEquals(List.of(providerId), found.out());

        String jsId = js.expect("peer ", 60);
        js.send("dial " + addr);
        js.expect("dialed ", 30);
        js.send("find " + OciCids.toCid(layer) + " 15000");
        assertEquals(providerId, js.expect("provider ", 30), "js finds the Java provider");

        Digest jsLayer = Digest.sha256("layer the js peer has".getBytes(StandardCharsets.UTF_8));
        js.send("provide " + OciCids.toCid(jsLayer));
        js.expect("provided ", 40);
        Result jsFound = run(java("p2p", "find-providers", OciCids.toCid(jsLayer).toString(), "--bootstrap", addr,
                "--wait", "30"));
        assertEquals(0, jsFound.exit());
        assertEquals(List.of(jsId), jsFound.out(), "Java CLI finds the js provider");

        Result none = run(java("p2p", "find-providers", Digest.sha256(new byte[] {7}).toString(), "--bootstrap", addr,
                "--wait", "3"));
        assertEquals(1, none.exit());
        assertEquals(List.of(), none.out());
    }
}
