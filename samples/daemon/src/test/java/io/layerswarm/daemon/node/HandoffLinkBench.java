package io.layerswarm.daemon.node;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.daemon.CliRun;
import io.layerswarm.daemon.demo.UplinkEmulator;
import io.layerswarm.handoff.HandoffReport;
import io.layerswarm.handoff.containerd.CtrRuntime;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Containerd;
import io.layerswarm.testing.Corpus;
import io.layerswarm.testing.Processes;
import io.layerswarm.testing.RegistryFixture;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Benchmark (not part of {@code mvn verify}: the name matches neither surefire's nor failsafe's
 * patterns; run by {@code scripts/bench/handoff-link-bench.sh}): the service handoff over an emulated
 * edge link. The target node reaches the source node only through an {@link UplinkEmulator} relay
 * (source to target at the link rate, +RTT both ways): firewall rules in the bench's own network namespace
 * let only the relay's connections (from 127.0.0.3) reach the source's libp2p port and drop QUIC, so the
 * source's dials to the target are redirected (DNAT) through a second relay shaped the same way toward
 * the target, so the pre-sync (image from the source node) and the writable-layer rounds cross the
 * shaped link whichever node dialled; the relays' byte counts ({@code link_bytes_*}) show it. Per rate, three modes, each on fresh nodes and
 * containerds: {@code presync} (prepare, then run: the project's method), {@code no-presync} (run
 * only: the target fetches the image during the run) and {@code stop-and-copy} (stop the container,
 * copy its image blobs and a tar of its writable layer over an identical relay, then restore; the
 * restore is the presync run's restore stage at the same rate, the same operation). One line per run,
 * {@code handoff-bench: ...}. Properties: {@code handoff.bench.rates} (Mbit/s, default 5,10,20,50),
 * {@code handoff.bench.rttMs} (50), {@code handoff.bench.stateMiB} (random state in the writable
 * layer, 8), {@code handoff.bench.hotKiB} (a file rewritten every 0.2 s, 0), {@code handoff.bench.modes}.
 */
@Tag("root")
class HandoffLinkBench {
    private static final String CONTAINER = HandoffIT.CONTAINER;
    /**
     * First start: incompressible state, a copy of an image file; every start: a counter and a log line a
     * second and, with {@code handoff.bench.hotKiB} > 0, a file of that many random KiB rewritten every
     * 0.2 s (written while it is sent: held back to the final diff, which it then makes that large).
     */
    private static final String SCRIPT = "if [ ! -f /state/ready ]; then mkdir -p /state;"
            + " head -c %d /dev/urandom > /state/model.bin; cp /bin/busybox /state/busybox-copy;"
            + " echo hello > /state/greeting; touch /state/ready; fi;"
            + " if [ %d -gt 0 ]; then (while true; do head -c $((%<d * 1024)) /dev/urandom > /state/hot.bin; sleep 0.2; done) & fi;"
            + " i=$(cat /state/counter 2>/dev/null || echo 0);"
            + " while true; do i=$((i+1)); echo $i >> /state/log; echo $i > /state/counter; sleep 1; done";

    /** The relay's connections to the source come from here; the firewall lets only them reach it. */
    private static final String RELAY_FROM = "127.0.0.3";
    /** The inbound relay's connections to the target come from here (not redirected again). */
    private static final String INBOUND_FROM = "127.0.0.4";

    @TempDir
    Path tmp;

    @Test
    void handoffOverShapedLinks() throws Exception {
        Containerd.requireAvailable();
        // the bench writes firewall rules: only in a network namespace of its own (the script makes one)
        assertEquals("true", System.getProperty("handoff.bench.ownNetns"), "run through scripts/bench/handoff-link-bench.sh");
        List<Integer> rates = Arrays.stream(System.getProperty("handoff.bench.rates", "5,10,20,50").split(","))
                .map(String::trim).map(Integer::parseInt).toList();
        long rttMs = Long.parseLong(System.getProperty("handoff.bench.rttMs", "50"));
        long stateBytes = Long.parseLong(System.getProperty("handoff.bench.stateMiB", "8")) << 20;
        long hotKiB = Long.parseLong(System.getProperty("handoff.bench.hotKiB", "0"));
        List<String> modes = List.of(System.getProperty("handoff.bench.modes", "presync,no-presync,stop-and-copy").split(","));
        for (int mbit : rates) {
            double restore = Double.NaN;
            for (String mode : modes) {
                Path dir = Files.createDirectories(tmp.resolve(mbit + "-" + mode));
                try (Closer closer = new Closer()) {
                    Setup s = new Setup(closer, dir, mbit * 1_000_000L, Duration.ofMillis(rttMs), stateBytes, hotKiB);
                    Map<String, Object> line = new LinkedHashMap<>();
                    line.put("rate_mbit", mbit);
                    line.put("rtt_ms", rttMs);
                    line.put("mode", mode.trim());
                    line.put("hot_kib", hotKiB);
                    switch (mode.trim()) {
                        case "presync", "no-presync" -> {
                            HandoffReport r = s.handoff(mode.trim().equals("presync"), line);
                            if (mode.trim().equals("presync")) {
                                restore = r.stages().stream().filter(x -> x.name().equals("restore")).findFirst()
                                        .map(HandoffReport.Stage::seconds).orElse(Double.NaN);
                            }
                        }
                        case "stop-and-copy" -> s.stopAndCopy(line, restore);
                        default -> throw new IllegalArgumentException("unknown mode " + mode);
                    }
                    StringBuilder b = new StringBuilder("handoff-bench:");
                    line.forEach((k, v) -> b.append(' ').append(k).append('=').append(v));
                    System.out.println(b);
                }
            }
        }
    }

    /** Registry, two containerds, two nodes, the target reaching the source through the relay; source container running. */
    private static final class Setup {
        final RegistryFixture registry;
        final Containerd c0;
        final Containerd c1;
        final NodeProcess source;
        final NodeProcess target;
        final UplinkEmulator link;
        UplinkEmulator inbound;
        final String control0;
        final String targetPeer;
        final Corpus.Image image;
        final long bps;
        final Duration rtt;
        final Path dir;

        Setup(Closer closer, Path dir, long bps, Duration rtt, long stateBytes, long hotKiB) throws Exception {
            this.dir = dir;
            this.bps = bps;
            this.rtt = rtt;
            image = Corpus.small().image("clock:2");
            registry = closer.add(RegistryFixture.start(RegistryFixture.Mode.PLAIN));
            Corpus.small().pushTo(registry.baseUri().toString());
            c0 = closer.add(Containerd.start(dir.resolve("c0")));
            c1 = closer.add(Containerd.start(dir.resolve("c1")));
            source = closer.add(NodeProcess.start("bench-src", dir.resolve("n0"), registry.baseUri().toString(),
                    HandoffIT.flags(c0)));
            String[] parts = source.listen.split("/"); // /ip4/127.0.0.1/tcp/PORT/p2p/ID
            int sourcePort = Integer.parseInt(parts[4]);
            link = closer.add(UplinkEmulator.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    new InetSocketAddress(parts[2], sourcePort), bps, rtt, InetAddress.getByName(RELAY_FROM)));
            // the target may reach the source only through the relay (no direct TCP, no QUIC)
            closer.add(() -> iptables("-F", "INPUT"));
            iptables("-A", "INPUT", "-i", "lo", "-p", "udp", "-j", "DROP");
            iptables("-A", "INPUT", "-i", "lo", "-p", "tcp", "--dport", String.valueOf(sourcePort), "!", "-s", RELAY_FROM,
                    "-j", "REJECT", "--reject-with", "tcp-reset");
            String viaLink = "/ip4/127.0.0.1/tcp/" + link.address().getPort() + "/p2p/" + parts[6];
            List<String> f1 = new ArrayList<>(HandoffIT.flags(c1));
            f1.addAll(List.of("--bootstrap", viaLink));
            f1.addAll(NodeProcess.PATIENT); // the image comes from the source over the link, not from the registry

            target = closer.add(NodeProcess.start("bench-dst", dir.resolve("n1"), registry.baseUri().toString(), f1));
            // and the source reaches the target only through a second relay, shaped the same way toward the target:
            // its dials to the target's port are redirected there (the relay itself connects from 127.0.0.4)
            String targetPort = target.listen.split("/")[4];
            inbound = closer.add(UplinkEmulator.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                    new InetSocketAddress("127.0.0.1", Integer.parseInt(targetPort)), bps, rtt,
                    InetAddress.getByName(INBOUND_FROM), true));
            closer.add(() -> iptables("-t", "nat", "-F", "OUTPUT"));
            iptables("-t", "nat", "-A", "OUTPUT", "-o", "lo", "-p", "tcp", "-d", "127.0.0.1", "--dport", targetPort,
                    "!", "-s", INBOUND_FROM, "-j", "DNAT", "--to-destination", "127.0.0.1:" + inbound.address().getPort());
            target.awaitEvent(l -> l.contains("event=kad_bootstrapped"), 120);
            control0 = source.awaitEvent(l -> l.startsWith("handoff-control "), 10).substring("handoff-control ".length());
            targetPeer = target.listen.substring(target.listen.lastIndexOf("/p2p/") + 5);
            c0.mirror(registry.hostPort(), registry.baseUri(), List.of(URI.create("http://" + source.mirror)));
            c1.mirror(registry.hostPort(), registry.baseUri(), List.of(URI.create("http://" + target.mirror)));
            String ref = registry.hostPort() + "/" + image.ref();
            c0.pull(ref, Duration.ofMinutes(2));
            HandoffIT.runSource(c0, ref, String.format(SCRIPT, stateBytes, hotKiB));
            Await.until(Duration.ofSeconds(60), "the container wrote its state", () -> HandoffIT.exec(c0, "cat /state/counter"),
                    x -> x.startsWith("OK "));
        }

        /** Bytes toward the target through both relays. */
        long linkBytes() {
            return link.bytesDown() + inbound.bytesDown();
        }

        long registryBytes() {
            return registry.blobBytesServed().values().stream().mapToLong(Long::longValue).sum();
        }

        HandoffReport handoff(boolean presync, Map<String, Object> line) throws Exception {
            long link0 = linkBytes();
            long reg0 = registryBytes();
            if (presync) {
                CliRun prep = CliRun.of("handoff", "prepare", "--container", CONTAINER, "--target", targetPeer,
                        "--control", control0);
                assertEquals(0, prep.status(), prep.out() + prep.err());
            }
            long link1 = linkBytes();
            long reg1 = registryBytes();
            CliRun run = CliRun.of("handoff", "run", "--container", CONTAINER, "--target", targetPeer, "--control", control0);
            assertEquals(0, run.status(), run.out() + run.err());
            HandoffReport r = HandoffReport.parse(run.out().trim());
            assertTrue(new CtrRuntime(c1.socket(), c1.hostsDir(), c1.snapshotter(), Duration.ofMinutes(1)).running(CONTAINER),
                    "target task running");
            double downtime = 0;
            double total = 0;
            long rounds = 0;
            int n = 0;
            for (HandoffReport.Stage st : r.stages()) {
                switch (st.name()) {
                    case "pre-sync" -> line.put("presync", fmt(st));
                    case "final-transfer" -> line.put("final", fmt(st));
                    case "restore" -> line.put("restore_s", String.format("%.3f", st.seconds()));
                    case "downtime" -> downtime = st.seconds();
                    case "total" -> total = st.seconds();
                    // the downtime's parts: pause, final scan (inside final-transfer), the target's install and start
                    case "freeze", "final-scan", "restore-install", "restore-start" ->
                            line.put(st.name().replace('-', '_') + "_s", String.format("%.3f", st.seconds()));
                    default -> {
                        if (st.name().startsWith("round-")) {
                            rounds += st.bytes();
                            n++;
                        }
                    }
                }
            }
            line.put("rounds", n + "/" + rounds);
            line.put("downtime_s", String.format("%.3f", downtime));
            line.put("run_total_s", String.format("%.3f", total));
            line.put("link_bytes_prepare", link1 - link0);
            line.put("link_bytes_run", linkBytes() - link1);
            line.put("registry_bytes_prepare", reg1 - reg0);
            line.put("registry_bytes_run", registryBytes() - reg1);
            // stream openings retried after their connection closed under them (HandoffClient)
            line.put("stream_reopened", source.stderrText().lines()
                    .filter(l -> l.contains("event=handoff.streamReopened")).count());
            line.put("report", r.toJson());
            return r;
        }

        /** Stop, then the image's blobs and a tar of the writable layer over an identical link. */
        void stopAndCopy(Map<String, Object> line, double restoreSeconds) throws Exception {
            CtrRuntime rt = new CtrRuntime(c0.socket(), c0.hostsDir(), c0.snapshotter(), Duration.ofMinutes(1));
            Path upper = rt.writableLayer(CONTAINER).dir();
            List<Path> files = new ArrayList<>();
            files.add(image.blob(image.manifestDigest()));
            files.add(image.blob(image.configDigest()));
            image.layers().forEach(l -> files.add(image.blob(l.digest())));
            Path tar = dir.resolve("writable.tar");
            long t0 = System.nanoTime();
            rt.stop(CONTAINER);
            Processes.run(120, "tar", "-C", upper.toString(), "-cf", tar.toString(), ".");
            files.add(tar);
            long imageBytes = 0;
            for (Path f : files.subList(0, files.size() - 1)) {
                imageBytes += Files.size(f);
            }
            long received = copyOverLink(files);
            double copy = (System.nanoTime() - t0) / 1e9;
            line.put("image_bytes", imageBytes);
            line.put("writable_tar_bytes", Files.size(tar));
            line.put("link_bytes_run", received);
            line.put("stop_and_copy_s", String.format("%.3f", copy));
            line.put("restore_s_of_presync_run", String.format("%.3f", restoreSeconds));
            line.put("downtime_s", String.format("%.3f", copy + restoreSeconds));
        }

        /** Serves {@code files} back to back and reads them through a fresh relay of the same rate and RTT. */
        private long copyOverLink(List<Path> files) throws Exception {
            try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
                 UplinkEmulator relay = UplinkEmulator.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
                         (InetSocketAddress) server.getLocalSocketAddress(), bps, rtt)) {
                CompletableFuture<Void> send = CompletableFuture.runAsync(() -> {
                    try (Socket s = server.accept(); OutputStream out = s.getOutputStream()) {
                        for (Path f : files) {
                            Files.copy(f, out);
                        }
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                });
                long n;
                try (Socket c = new Socket(relay.address().getAddress(), relay.address().getPort());
                     InputStream in = c.getInputStream()) {
                    n = in.transferTo(OutputStream.nullOutputStream());
                }
                send.join();
                return n;
            }
        }
    }

    private static void iptables(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("iptables", "-w"));
        cmd.addAll(List.of(args));
        Processes.run(30, cmd.toArray(String[]::new));
    }

    private static String fmt(HandoffReport.Stage st) {
        return String.format("%.3fs/%dB", st.seconds(), st.bytes());
    }
}
