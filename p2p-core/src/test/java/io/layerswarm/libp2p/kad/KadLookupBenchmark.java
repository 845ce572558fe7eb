package io.layerswarm.libp2p.kad;

import io.layerswarm.libp2p.kad.InProcessKadNetwork.Node;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Lookup cost in the in-process network (k=20, alpha=3): messages per lookup and how often the
 * lookup returns exactly the true k closest. Not a unit test (name does not end in Test); run with
 * {@code mvn -B -q -pl p2p-core -am test -Dtest=KadLookupBenchmark -Dsurefire.failIfNoSpecifiedTests=false}.
 */
class KadLookupBenchmark {

    @Test
    void lookupCost() throws Exception {
        for (int n : new int[] {50, 200, 1000}) {
            try (InProcessKadNetwork net = new InProcessKadNetwork(n)) {
                KadConfig cfg = KadConfig.defaults().withClock(Clock.systemUTC());
                List<Node> nodes = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    nodes.add(net.add(cfg));
                }
                for (int i = 1; i < n; i++) {
                    nodes.get(i).dht.bootstrap(List.of(nodes.get(0).peer())).get(60, TimeUnit.SECONDS);
                }
                int lookups = 100;
                int exact = 0;
                long before = net.requests.get();
                long t0 = System.nanoTime();
                for (int i = 0; i < lookups; i++) {
                    Node asker = nodes.get((i * 31 + 7) % n);
                    byte[] key = net.randomKey();
                    List<KadPeer> found = asker.dht.findClosestPeers(key).get(60, TimeUnit.SECONDS);
                    List<String> want = net.trueClosest(key, 20, asker).stream()
                            .map(x -> HexFormat.of().formatHex(x.id)).toList();
                    List<String> got = found.stream().map(p -> HexFormat.of().formatHex(p.id())).toList();
                    if (want.equals(got)) {
                        exact++;
                    }
                }
                double ms = (System.nanoTime() - t0) / 1e6 / lookups;
                double msgs = (double) (net.requests.get() - before) / lookups;
                System.out.printf("kad-bench nodes=%d lookups=%d exact_k_closest=%d%% msgs_per_lookup=%.1f ms_per_lookup=%.2f%n",
                        n, lookups, exact * 100 / lookups, msgs, ms);
            }
        }
    }

    /** Provide and find over real loopback hosts (TCP, Noise, Yamux), one event-loop thread each. */
    @Test
    void providerRoundTripOverLoopbackHosts() throws Exception {
        int n = 20;
        List<io.layerswarm.libp2p.host.Host> hosts = new ArrayList<>();
        List<KadHostBinding> kads = new ArrayList<>();
        try {
            for (int i = 0; i < n; i++) {
                io.layerswarm.libp2p.host.Host h = io.layerswarm.libp2p.host.Host
                        .builder(io.layerswarm.libp2p.crypto.Ed25519PrivateKey.generate())
                        .listen(io.layerswarm.libp2p.multiformats.Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                        .ioThreads(1).build().start();
                hosts.add(h);
                kads.add(KadHostBinding.attach(h, KadConfig.defaults(), java.time.Duration.ofSeconds(10)));
            }
            io.layerswarm.libp2p.multiformats.Multiaddr seed = hosts.get(0).listenAddrs().get(0).encapsulate(
                    io.layerswarm.libp2p.multiformats.Multiaddr.parse("/p2p/" + hosts.get(0).peerId().toBase58()));
            for (int i = 1; i < n; i++) {
                kads.get(i).bootstrap(List.of(seed)).get(60, TimeUnit.SECONDS);
            }
            int rounds = 20;
            long provideNs = 0;
            long findNs = 0;
            int found = 0;
            for (int r = 0; r < rounds; r++) {
                byte[] key = KadDht.providerKey(io.layerswarm.swarm.OciCids.toCid(io.layerswarm.oci.Digest.sha256(new byte[] {(byte) r, 1})));
                long t0 = System.nanoTime();
                int provider = (r * 7 + 1) % n;
                int finder = (provider + 1 + r % (n - 1)) % n; // never the provider itself
                kads.get(provider).dht().provide(key).get(60, TimeUnit.SECONDS);
                long t1 = System.nanoTime();
                found += kads.get(finder).dht().findProviders(key, 1).get(60, TimeUnit.SECONDS).size();
                long t2 = System.nanoTime();
                provideNs += t1 - t0;
                findNs += t2 - t1;
            }
            System.out.printf("kad-bench-hosts nodes=%d rounds=%d found=%d provide_ms=%.1f find_providers_ms=%.1f%n",
                    n, rounds, found, provideNs / 1e6 / rounds, findNs / 1e6 / rounds);
        } finally {
            kads.forEach(KadHostBinding::close);
            hosts.forEach(io.layerswarm.libp2p.host.Host::close);
        }
    }
}
