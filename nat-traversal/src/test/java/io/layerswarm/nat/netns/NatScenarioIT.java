package io.layerswarm.nat.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.testing.Coturn;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * NAT scenarios over real kernel NAT ({@link NatTopology}): nodes as separate JVMs in their namespaces,
 * a public relay + AutoNAT node and coturn (STUN) in the wan namespace.
 */
@Tag("root")
class NatScenarioIT {
    @TempDir
    Path tmp;

    private final List<Process> processes = new ArrayList<>();
    private final List<AutoCloseable> open = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        for (Process p : processes) {
            p.destroyForcibly();
            p.waitFor(10, TimeUnit.SECONDS);
        }
        for (int i = open.size() - 1; i >= 0; i--) {
            open.get(i).close();
        }
    }

    /** A node JVM in namespace {@code ns}, its stdout lines queued. */
    private final class Node {
        final Process process;
        final PrintWriter stdin;
        final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        final Path log;
        final String addr;

        Node(String ns, String role, String ip) throws Exception {
            log = tmp.resolve(ns + ".log");
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            process = new ProcessBuilder("ip", "netns", "exec", ns, java, "-cp", System.getProperty("java.class.path"),
                    NatNodeProcess.class.getName(), role, ip).redirectError(log.toFile()).start();
            processes.add(process);
            stdin = new PrintWriter(process.getOutputStream(), true, StandardCharsets.UTF_8);
            BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            Thread t = new Thread(() -> {
                try {
                    for (String l; (l = r.readLine()) != null; ) {
                        lines.add(l);
                    }
                } catch (IOException ignored) {
                    // process ended
                }
            });
            t.setDaemon(true);
            t.start();
            addr = expect("addr ", Duration.ofSeconds(180));
        }

        String peerId() {
            return addr.substring(addr.lastIndexOf('/') + 1);
        }

        String ask(String command, String answer, Duration timeout) throws Exception {
            stdin.println(command);
            return expect(answer, timeout);
        }

        /** The next line starting with {@code prefix}, skipping others (logging set-up noise); fails on "error". */
        String expect(String prefix, Duration timeout) throws Exception {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                String l = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (l == null || l.startsWith("error ")) {
                    throw new AssertionError("expected '" + prefix + "…', got " + l + "; log:\n" + tail());
                }
                if (l.startsWith(prefix)) {
                    return l.substring(prefix.length());
                }
            }
        }

        String tail() throws IOException {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
        }
    }

    @Test
    void symmetricNatFallsBackToTheRelayAndSaysSo() throws Exception {
        NatTopology net = NatTopology.create();
        open.add(net);
        String cloudA = net.cloud(1, false, "200mbit");
        String cloudB = net.cloud(2, true, "200mbit");
        Coturn stun = Coturn.start(List.of("ip", "netns", "exec", net.wan), NatTopology.WAN_IP, 3478, null);
        open.add(stun);
        Node relay = new Node(net.wan, "relay", NatTopology.WAN_IP);
        Node a = new Node(cloudA, "node", "10.214.1.10");
        Node b = new Node(cloudB, "node", "10.214.2.10");

        String circuitA = a.ask("reserve " + relay.addr, "reserved ", Duration.ofSeconds(150));
        assertTrue(circuitA.startsWith(relay.addr + "/p2p-circuit"), circuitA);
        b.ask("reserve " + relay.addr, "reserved ", Duration.ofSeconds(150));

        // Behind NAT with inbound connections dropped: AutoNAT cannot dial A back (STUN says 10.214.0.2),
        // so A advertises its relay circuit only.
        String reach = a.ask("reachability " + relay.peerId() + " " + NatTopology.WAN_IP + ":3478", "reachability ",
                Duration.ofSeconds(150));
        assertEquals("PRIVATE [" + circuitA + "]", reach, a.tail());

        // B tries A's NAT address first (the router drops it), then the relay.
        long size = 32L << 20;
        String fetched = b.ask("fetch " + a.peerId() + " " + size + " /ip4/10.214.0.2/tcp/4001/p2p/" + a.peerId() + " "
                + circuitA + "/p2p/" + a.peerId(), "fetched ", Duration.ofSeconds(240));
        String[] f = fetched.split(" ");
        assertEquals("relayed", f[0]);
        assertEquals("tcp", f[1]);
        assertEquals(Long.toString(size), f[2]);
        assertEquals(HexFormat.of().formatHex(NatNodeProcess.expectedSha(size)), f[3]);
        System.out.printf("nat scenario 2: %d MiB over the relay in %s ms (%.1f Mbit/s), connect %s ms%n", size >> 20,
                f[5], size * 8 / 1e3 / Long.parseLong(f[5]), f[4]);
        String log = Files.readString(b.log);
        assertTrue(log.contains("event=peer_connected peer=" + a.peerId() + " path=relayed transport=tcp rtt_ms="),
                b.tail());
        assertTrue(stun.isAlive());
    }
}
