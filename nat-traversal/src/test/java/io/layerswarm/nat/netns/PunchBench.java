package io.layerswarm.nat.netns;

import io.layerswarm.nat.ice.HolePuncher;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
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
 */
public final class PunchBench {
    private PunchBench() {
    }

    public static void main(String[] args) throws Exception {
        int attempts = args.length > 0 ? Integer.parseInt(args[0]) : 20;
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
            Collections.sort(ms);
            String times = ms.isEmpty() ? "-" : ms.get(ms.size() / 2) + " / " + ms.get((int) Math.ceil(ms.size() * 0.9) - 1)
                    + " / " + ms.get(ms.size() - 1);
            System.out.println("| " + name + " | " + ms.size() + "/" + attempts + " | " + times + " |");
        }
        System.exit(0);
    }
}
