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
}
