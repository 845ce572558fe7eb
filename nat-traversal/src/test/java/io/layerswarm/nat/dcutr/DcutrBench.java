package io.layerswarm.nat.dcutr;

import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.nat.LoopbackHosts;
import io.layerswarm.nat.relay.RelayClient;
import io.layerswarm.nat.relay.RelayConfig;
import io.layerswarm.nat.relay.RelayService;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * DCUtR on loopback: a relay and two hosts in one JVM; N attempts of: the responder reaches the starter through
 * the relay, the starter runs {@link Dcutr#upgrade} (stream negotiation over the circuit, CONNECT/CONNECT, SYNC,
 * half a relayed round trip, the dials and their handshakes), then every connection between the two is closed.
 * Prints the success count and the time from the upgrade's start to the direct connection. Run by
 * {@code scripts/bench/dcutr-bench.sh [attempts]}.
 */
public final class DcutrBench {
    private DcutrBench() {
    }

    public static void main(String[] args) throws Exception {
        int attempts = args.length > 0 ? Integer.parseInt(args[0]) : 20;
        List<Long> micros = new ArrayList<>();
        try (Closer closer = new Closer()) {
            ExecutorService pool = Executors.newCachedThreadPool();
            closer.add(pool::shutdownNow);
            Host relay = closer.add(LoopbackHosts.start(true));
            closer.add(RelayService.attach(relay, RelayConfig.defaults()));
            Multiaddr relayAddr = relay.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + relay.peerId().toBase58()));
            Host starter = closer.add(LoopbackHosts.start(true));
            closer.add(RelayClient.attach(starter)).keepReservation(relayAddr).get(30, TimeUnit.SECONDS);
            Host responder = closer.add(LoopbackHosts.start(true));
            closer.add(RelayClient.attach(responder));
            Dcutr dcutr = Dcutr.attach(starter, starter::listenAddrs, pool);
            Dcutr.attach(responder, responder::listenAddrs, pool);
            Multiaddr circuit = relayAddr.encapsulate(Multiaddr.parse("/p2p-circuit/p2p/" + starter.peerId().toBase58()));
            long lastStart = 0;
            for (int i = 0; i < attempts; i++) {
                // pacing, not synchronisation: a node admits one session per peer per MIN_INTERVAL
                long wait = lastStart + Dcutr.MIN_INTERVAL.toNanos() - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000 + 100); // the responder admitted a little after lastStart
                }
                // the other side's dial of the last attempt may still land a direct connection: clear until relayed
                while (!responder.connect(circuit).get(30, TimeUnit.SECONDS).isRelayed()) {
                    disconnect(starter, responder);
                }
                Await.until(Duration.ofSeconds(30), "the starter holds the relayed connection",
                        () -> starter.connection(responder.peerId()).map(Connection::isRelayed).orElse(false));
                lastStart = System.nanoTime();
                try {
                    Connection c = dcutr.upgrade(responder.peerId()).get(30, TimeUnit.SECONDS);
                    if (!c.isRelayed()) {
                        micros.add((System.nanoTime() - lastStart) / 1000);
                    }
                } catch (java.util.concurrent.ExecutionException e) {
                    System.err.println("attempt " + i + ": " + e.getCause());
                }
                disconnect(starter, responder);
            }
        }
        Collections.sort(micros);
        String times = micros.isEmpty() ? "-" : ms(micros.get(micros.size() / 2)) + " / "
                + ms(micros.get((int) Math.ceil(micros.size() * 0.9) - 1)) + " / " + ms(micros.get(micros.size() - 1));
        System.out.println("| attempts | direct | upgrade start to direct connection, median / p90 / max (ms) |");
        System.out.println("| ---: | ---: | ---: |");
        System.out.println("| " + attempts + " | " + micros.size() + "/" + attempts + " | " + times + " |");
        System.exit(0);
    }

    /**
     * Closes every connection between the two, from both sides and again while one shows up (a dial of the last
     * attempt may still be in its handshake), until neither holds one.
     */
    private static void disconnect(Host a, Host b) throws Exception {
        Await.until(Duration.ofSeconds(30), "no connection left between the two", () -> {
            a.connections().stream().filter(c -> c.remotePeer().equals(b.peerId())).forEach(Connection::close);
            b.connections().stream().filter(c -> c.remotePeer().equals(a.peerId())).forEach(Connection::close);
            return a.connection(b.peerId()).isEmpty() && b.connection(a.peerId()).isEmpty();
        });
    }

    private static String ms(long micros) {
        return String.format("%.1f", micros / 1000.0);
    }
}
