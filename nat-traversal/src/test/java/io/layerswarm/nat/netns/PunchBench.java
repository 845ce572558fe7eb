package io.layerswarm.nat.netns;

import io.layerswarm.nat.ice.HolePuncher;
import io.layerswarm.testing.Await;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

/**
 * Hole punching benchmark in the NAT topology of {@link NatScenarioIT} (as root): per NAT combination
 * (cone/cone, cone/symmetric, symmetric/symmetric) a fresh topology, coturn and relay, two nodes reserved
 * on the relay; then N attempts of: B reaches A through the relay, B punches (ICE over the relayed
 * connection, then QUIC on the punched ports), B drops every connection to A. Prints per combination
 * the success count and the time from the start of the session (candidate gathering included) to the
 * direct connection. With {@code dcutr} as the second argument, cone/cone only and DCUtR instead of ICE: A (which
 * accepted the relayed connection) starts it, and the time is from A's call to the direct TCP connection. Run by
 * {@code scripts/bench/punch-bench.sh [attempts] [ice|dcutr]}.
 *
 * <p>With {@code throughput [ADDED-RTT-MS] [MIB]} as the second and further arguments: cone/cone, the path between
 * the clouds through a userspace delay line adding that round-trip time (default 10 ms) at the same 200 Mbit/s
 * ({@link NatClouds#pair(Path, NatClouds.Nat, NatClouds.Nat, Duration)}), and per attempt one layer-sized blob
 * (default 32 MiB, SHA-256 checked) from A to B over the relay, over the punched QUIC path (ICE) and over the
 * direct TCP path (DCUtR), each as Mbit/s and as a share of the shaped link rate; a fifth argument names the paths
 * to measure ({@code relay,quic,tcp} by default), and after each QUIC transfer the sender's quiche statistics are
 * printed (packets lost, congestion window, RTT). System properties {@code layerswarm.quic.*} (congestion control,
 * HyStart++, write-ahead: see {@code QuicTransport}, {@code QuicMuxedStream}) are passed on to the node processes.
 */
public final class PunchBench {
    private PunchBench() {
    }

    public static void main(String[] args) throws Exception {
        int attempts = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        if (args.length > 1 && args[1].equals("throughput")) {
            throughput(attempts, Duration.ofMillis(args.length > 2 ? Long.parseLong(args[2]) : 10),
                    (args.length > 3 ? Long.parseLong(args[3]) : 32) << 20,
                    List.of((args.length > 4 ? args[4] : "relay,quic,tcp").split(",")));
            System.exit(0);
        }
        boolean dcutr = args.length > 1 && args[1].equals("dcutr");
        boolean[][] combos = dcutr ? new boolean[][] {{false, false}} : new boolean[][] {{false, false}, {false, true},
            {true, true}};
        Path dir = Files.createTempDirectory("punch-bench");
        System.out.println("| NAT A / NAT B | direct | time to direct, median / p90 / max (ms) |");
        System.out.println("| --- | ---: | ---: |");
        for (boolean[] combo : combos) {
            String name = (combo[0] ? "symmetric" : "cone") + " / " + (combo[1] ? "symmetric" : "cone");
            List<Long> ms = new ArrayList<>();
            try (NatClouds clouds = NatClouds.start(dir);
                    NatClouds.Pair pair = clouds.pair(dir, combo[0] ? NatClouds.Nat.SYMMETRIC : NatClouds.Nat.CONE,
                            combo[1] ? NatClouds.Nat.SYMMETRIC : NatClouds.Nat.CONE)) {
                NatNode a = pair.node(1, "node");
                NatNode b = pair.node(2, "node");
                String viaRelay = clouds.reserve(a);
                clouds.reserve(b);
                long lastEnd = 0;
                for (int i = 0; i < attempts; i++) {
                    // pacing, not synchronisation: A admits one session per peer per MIN_INTERVAL (ICE's and DCUtR's
                    // are the same), counted from its admission of the previous one, which lies before that attempt's end
                    long wait = lastEnd + HolePuncher.MIN_INTERVAL.toNanos() - System.nanoTime();
                    if (wait > 0) {
                        Thread.sleep(wait / 1_000_000);
                    }
                    // a dial of the last attempt may still land a direct connection after the disconnect: clear it
                    while (!b.ask("fetch " + a.peerId() + " 1024 " + viaRelay, "fetched ", Duration.ofSeconds(60))
                            .startsWith("relayed ")) {
                        b.ask("disconnect " + a.peerId(), "disconnected ", Duration.ofSeconds(60));
                    }
                    String r = dcutr ? a.ask("dcutr " + b.peerId(), "dcutr", Duration.ofSeconds(60))
                            : b.ask("punch " + a.peerId(), "punch", Duration.ofSeconds(60));
                    String ok = dcutr ? " direct tcp " : "ed direct quic ";
                    if (r.startsWith(ok)) {
                        ms.add(Long.parseLong(r.substring(ok.length())));
                    } else {
                        System.err.println(name + " attempt " + i + ": " + r);
                    }
                    b.ask("disconnect " + a.peerId(), "disconnected ", Duration.ofSeconds(60));
                    lastEnd = System.nanoTime();
                }
            }
            System.out.println("| " + name + " | " + ms.size() + "/" + attempts + " | " + times(ms) + " |");
        }
        System.exit(0);
    }

    /** The shaped rate of every link of the topology (router WAN legs and the delay line), bits per second. */
    private static final double LINK_BPS = 200e6;

    private static void throughput(int attempts, Duration addedRtt, long bytes, List<String> paths) throws Exception {
        Path dir = Files.createTempDirectory("punch-bench");
        List<Double> relayed = new ArrayList<>();
        List<Double> quic = new ArrayList<>();
        List<Double> tcp = new ArrayList<>();
        List<Long> iceMs = new ArrayList<>();
        List<Long> dcutrMs = new ArrayList<>();
        try (NatClouds clouds = NatClouds.start(dir);
                NatClouds.Pair pair = clouds.pair(dir, NatClouds.Nat.CONE, NatClouds.Nat.CONE, addedRtt)) {
            NatNode[] n = pair.both(() -> pair.node(1, "node"), () -> pair.node(2, "node"));
            NatNode a = n[0];
            NatNode b = n[1];
            String viaRelay = clouds.reserve(a, b)[0];
            long lastEnd = 0;
            for (int i = 0; i < attempts; i++) {
                try {
                    lastEnd = paced(lastEnd);
                    relayedAgain(a, b, viaRelay);
                    if (paths.contains("relay")) {
                        relayed.add(fetchMbps(b, a, bytes, viaRelay, "relayed tcp "));
                    }
                    if (paths.contains("quic")) {
                        String r = b.ask("punch " + a.peerId(), "punch", Duration.ofSeconds(60));
                        if (r.startsWith("ed direct quic ")) {
                            iceMs.add(Long.parseLong(r.substring("ed direct quic ".length())));
                            onlyDirect(b, a, "quic");
                            quic.add(fetchMbps(b, a, bytes, viaRelay, "direct quic "));
                            // the sender's view: packets lost, congestion window, smoothed RTT
                            System.err.println("attempt " + i + " sender " + a.query("quicstats " + b.peerId()));
                        } else {
                            System.err.println("attempt " + i + " ice: " + r);
                        }
                        b.ask("disconnect " + a.peerId(), "disconnected ", Duration.ofSeconds(60));
                    }
                    if (paths.contains("tcp")) {
                        lastEnd = paced(System.nanoTime());
                        relayedAgain(a, b, viaRelay);
                        String r = a.ask("dcutr " + b.peerId(), "dcutr", Duration.ofSeconds(60));
                        if (r.startsWith(" direct tcp ")) {
                            dcutrMs.add(Long.parseLong(r.substring(" direct tcp ".length())));
                            onlyDirect(b, a, "tcp");
                            tcp.add(fetchMbps(b, a, bytes, viaRelay, "direct tcp "));
                        } else {
                            System.err.println("attempt " + i + " dcutr: " + r);
                        }
                        b.ask("disconnect " + a.peerId(), "disconnected ", Duration.ofSeconds(60));
                    }
                    lastEnd = System.nanoTime();
                    System.err.printf("attempt %d: relayed %s, quic %s, tcp %s Mbit/s%n", i, last(relayed), last(quic),
                            last(tcp));
                } catch (Exception | AssertionError e) {
                    // one attempt's failure (a timed-out dial on a loaded machine) is counted, not the end of the run
                    System.err.println("attempt " + i + " failed: " + e.toString().split("\n")[0]);
                    b.ask("disconnect " + a.peerId(), "disconnected ", Duration.ofSeconds(60));
                    lastEnd = System.nanoTime();
                }
            }
        }
        System.out.printf("| path (%d MiB each, +%d ms RTT between the clouds, links %.0f Mbit/s) | transfers | Mbit/s "
                + "median / p10 / min / max | median / link rate |%n", bytes >> 20, addedRtt.toMillis(), LINK_BPS / 1e6);
        System.out.println("| --- | ---: | ---: | ---: |");
        row("relay (circuit relay v2, TCP)", relayed, attempts);
        row("direct, punched by ICE (QUIC)", quic, attempts);
        row("direct, punched by DCUtR (TCP)", tcp, attempts);
        System.out.println("time to direct (ms), median / p90 / max: ICE (B's call, gathering included) "
                + times(iceMs) + "; DCUtR (A's call) " + times(dcutrMs));
    }

    /** "median / p90 / max" of {@code ms}, or "-". */
    private static String times(List<Long> ms) {
        List<Long> s = new ArrayList<>(ms);
        Collections.sort(s);
        return s.isEmpty() ? "-" : s.get(s.size() / 2) + " / " + s.get((int) Math.ceil(s.size() * 0.9) - 1) + " / "
                + s.get(s.size() - 1);
    }

    /** Waits out A's per-peer session interval counted from {@code lastEnd} (pacing, not synchronisation). */
    private static long paced(long lastEnd) throws InterruptedException {
        long wait = lastEnd + HolePuncher.MIN_INTERVAL.toNanos() - System.nanoTime();
        if (wait > 0) {
            Thread.sleep(wait / 1_000_000);
        }
        return lastEnd;
    }

    /**
     * Awaits B keeping only the direct connection to A (the relayed one is dropped once idle): until then B's fetch
     * may take the relayed one, whose address it dials.
     */
    private static void onlyDirect(NatNode b, NatNode a, String transport) throws InterruptedException {
        Await.until(Duration.ofSeconds(60), "B keeps only the direct " + transport + " connection",
                () -> b.query("connections " + a.peerId()).equals("connections direct:" + transport));
    }

    /** B reaches A through the relay only (a late dial of the last attempt may have left a direct connection). */
    private static void relayedAgain(NatNode a, NatNode b, String viaRelay) throws Exception {
        while (!b.ask("fetch " + a.peerId() + " 1024 " + viaRelay, "fetched ", Duration.ofSeconds(60))
                .startsWith("relayed ")) {
            b.ask("disconnect " + a.peerId(), "disconnected ", Duration.ofSeconds(60));
        }
    }

    /** B fetches {@code bytes} from A over the connection it has, which must be {@code path}; Mbit/s. */
    private static double fetchMbps(NatNode b, NatNode a, long bytes, String viaRelay, String path) throws Exception {
        String f = b.ask("fetch " + a.peerId() + " " + bytes + " " + viaRelay, "fetched ", Duration.ofSeconds(120));
        String[] w = f.split(" ");
        if (!f.startsWith(path) || !w[3].equals(HexFormat.of().formatHex(NatNodeProcess.expectedSha(bytes)))) {
            throw new IllegalStateException("expected " + path + "and the blob's hash: " + f);
        }
        return bytes * 8 / 1e3 / Math.max(1, Long.parseLong(w[5]));
    }

    private static String last(List<Double> l) {
        return l.isEmpty() ? "-" : String.format("%.1f", l.get(l.size() - 1));
    }

    private static void row(String name, List<Double> mbps, int attempts) {
        List<Double> s = new ArrayList<>(mbps);
        Collections.sort(s);
        if (s.isEmpty()) {
            System.out.println("| " + name + " | 0/" + attempts + " | - | - |");
            return;
        }
        double median = s.get(s.size() / 2);
        System.out.printf("| %s | %d/%d | %.1f / %.1f / %.1f / %.1f | %.0f %% |%n", name, s.size(), attempts, median,
                s.get(s.size() / 10), s.get(0), s.get(s.size() - 1), median * 1e6 / LINK_BPS * 100);
    }
}
