package io.layerswarm.nat.netns;

import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Coturn;
import io.layerswarm.testing.RegistryFixture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * The running NAT test network shared by {@link NatScenarioIT}, {@link CrossCloudPullIT} and {@link PunchBench}: a
 * {@link NatTopology} with coturn (STUN) and a public relay + AutoNAT node in the wan namespace, optionally the real
 * docker-registry there too. These public parts are started once per test class ({@link NatWanPerClass}); each test
 * takes a fresh
 * {@link Pair} of edge clouds behind NATs of the kinds it needs ({@link #pair}), with new namespaces (so no NAT
 * mapping or connection of an earlier test is left in them) and its own nodes. Everything started is closed, last
 * first, with this.
 */
final class NatClouds implements AutoCloseable {
    /** The kind of NAT a cloud's router does. */
    enum Nat {
        /** Port-preserving {@code MASQUERADE}: hole punching succeeds. */
        CONE,
        /** {@code MASQUERADE --random-fully}: a new port per destination, punching fails. */
        SYMMETRIC
    }

    /** coturn's STUN address in the wan namespace. */
    static final String STUN = NatTopology.WAN_IP + ":3478";
    /** The registry's URL in the wan namespace. */
    static final String REGISTRY_URL = "http://" + NatTopology.WAN_IP + ":5000";
    private static final Duration RESERVE_TIMEOUT = Duration.ofSeconds(150);
    /** Router WAN legs are shaped to this. */
    private static final String RATE = "200mbit";

    private final Closer closer = new Closer();
    final NatTopology net;
    final Coturn stun;
    final NatNode relay;
    private int lastCloud;

    private NatClouds(Path dir) throws Exception {
        try {
            net = closer.add(NatTopology.create());
            stun = closer.add(Coturn.start(List.of("ip", "netns", "exec", net.wan), NatTopology.WAN_IP, 3478, null));
            relay = closer.add(new NatNode(dir, net.wan, "relay", NatTopology.WAN_IP, List.of()));
        } catch (Exception | Error e) {
            closer.close();
            throw e;
        }
    }

    /**
     * Builds the wan namespace with coturn and the relay running (its log in {@code dir}); skips (fails under CI)
     * where namespaces cannot be made.
     */
    static NatClouds start(Path dir) throws Exception {
        return new NatClouds(dir);
    }

    /**
     * Two new edge clouds, the first behind {@code a}, the second behind {@code b}, router WAN legs shaped to
     * 200 Mbit/s; their nodes log into {@code dir}. Close the pair at the end of the test.
     */
    Pair pair(Path dir, Nat a, Nat b) throws Exception {
        int first = lastCloud + 1;
        lastCloud += 2;
        Pair p = new Pair(dir);
        try {
            p.clouds.add(net.cloud(first, a == Nat.SYMMETRIC, RATE));
            p.clouds.add(net.cloud(first + 1, b == Nat.SYMMETRIC, RATE));
        } catch (Exception | Error e) {
            p.close();
            throw e;
        }
        return p;
    }

    /**
     * As {@link #pair(Path, Nat, Nat)}, with the path between the two clouds (their punched connections) carried
     * through a userspace delay line that adds {@code addedRtt} and is shaped to the same 200 Mbit/s
     * ({@link NatTopology#delayLine}); the relay and coturn stay without added latency.
     */
    Pair pair(Path dir, Nat a, Nat b, Duration addedRtt) throws Exception {
        Pair p = pair(dir, a, b);
        try {
            p.line = net.delayLine(p.cloud(1), p.cloud(2), RATE, addedRtt);
        } catch (Exception | Error e) {
            p.close();
            throw e;
        }
        return p;
    }

    /** Awaits the reservation {@code node} keeps by itself; returns its address through the relay. */
    String circuit(NatNode node) throws InterruptedException {
        String c = Await.until(RESERVE_TIMEOUT, node.peerId() + " holds a relay reservation",
                () -> node.query("circuit"), a -> !a.equals("circuit none"));
        return c.substring("circuit ".length()) + "/p2p/" + node.peerId();
    }

    /** Makes {@code node} keep a reservation on the relay; returns its address through the relay. */
    String reserve(NatNode node) throws Exception {
        return node.ask("reserve " + relay.addr, "reserved ", RESERVE_TIMEOUT) + "/p2p/" + node.peerId();
    }

    /** {@link #reserve} for two nodes at once; returns their addresses through the relay. */
    String[] reserve(NatNode a, NatNode b) throws Exception {
        a.stdin.println("reserve " + relay.addr);
        b.stdin.println("reserve " + relay.addr);
        return new String[] {a.expect("reserved ", RESERVE_TIMEOUT) + "/p2p/" + a.peerId(),
                b.expect("reserved ", RESERVE_TIMEOUT) + "/p2p/" + b.peerId()};
    }

    /** Starts the real docker-registry in the wan namespace at {@link #REGISTRY_URL}. */
    RegistryFixture registry() {
        return closer.add(RegistryFixture.startUnder(List.of("ip", "netns", "exec", net.wan), NatTopology.WAN_IP,
                5000));
    }

    /**
     * Pushes a test image ({@link PushImage}) of {@code layers} layers of {@code layerBytes} each from inside
     * the wan namespace; returns its blob bytes (layers and config).
     */
    long pushImage(String repo, String tag, int layers, int layerBytes) throws Exception {
        return pushImage(repo, tag, layers, layerBytes, 7);
    }

    /** {@link #pushImage(String, String, int, int)} with layer content from {@code seed}: other seeds, other layers. */
    long pushImage(String repo, String tag, int layers, int layerBytes, long seed) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        NatTopology.Result r = NatTopology.run(List.of("ip", "netns", "exec", net.wan, java, "-cp",
                System.getProperty("java.class.path"), PushImage.class.getName(), REGISTRY_URL, repo, tag,
                Integer.toString(layers), Integer.toString(layerBytes), Long.toString(seed)));
        String out = r.out().lines().filter(l -> l.startsWith("pushed ")).findFirst()
                .orElseThrow(() -> new AssertionError("push failed: " + r.out()));
        return Long.parseLong(out.substring("pushed ".length()));
    }

    @Override
    public void close() throws Exception {
        closer.close();
    }

    /**
     * One test's two edge clouds (1 and 2 of the pair) and the nodes started in them; closing it stops the nodes,
     * then deletes the clouds' namespaces.
     */
    final class Pair implements AutoCloseable {
        private final Path dir;
        private final List<NatTopology.Cloud> clouds = new ArrayList<>();
        private final Closer nodes = new Closer();
        /** The delay line between the two clouds, if any. */
        private AutoCloseable line;

        private Pair(Path dir) {
            this.dir = dir;
        }

        private NatTopology.Cloud cloud(int i) {
            return clouds.get(i - 1);
        }

        /** The node address of cloud {@code i} (1 or 2). */
        String nodeIp(int i) {
            return NatTopology.nodeIp(cloud(i).n());
        }

        /** Cloud {@code i}'s NAT address on the wan (1 or 2). */
        String routerIp(int i) {
            return NatTopology.routerIp(cloud(i).n());
        }

        /**
         * Starts a {@link NatNodeProcess} of {@code role} in cloud {@code i} with coturn as its STUN server and
         * {@code extra} further arguments; not reserved on the relay yet ({@link #reserve}).
         */
        NatNode node(int i, String role, String... extra) throws Exception {
            List<String> args = new ArrayList<>(List.of(STUN));
            args.addAll(List.of(extra));
            return nodes.add(new NatNode(dir, cloud(i).node(), role, nodeIp(i), args));
        }

        /**
         * A whole node with a mirror for the wan registry in cloud {@code i}, its store (and identity) in
         * {@code store}; its NAT traversal service keeps a reservation on the relay by itself ({@link #circuit}).
         */
        NatNode mirrorNode(int i, Path store) throws Exception {
            return node(i, "mirror", REGISTRY_URL, store.toString(), relay.addr);
        }

        /** Starts a node in each cloud at once (each a JVM that takes seconds to start): [cloud 1's, cloud 2's]. */
        NatNode[] both(Callable<NatNode> one, Callable<NatNode> two) throws Exception {
            ExecutorService starter = Executors.newFixedThreadPool(2);
            try {
                Future<NatNode> a = starter.submit(one);
                Future<NatNode> b = starter.submit(two);
                return new NatNode[] {get(a), get(b)};
            } finally {
                starter.shutdown();
            }
        }

        private static NatNode get(Future<NatNode> f) throws Exception {
            try {
                return f.get();
            } catch (ExecutionException e) {
                throw e.getCause() instanceof Exception x ? x : e;
            }
        }

        /** Starts a pull of {@code repo:tag} through cloud {@code i}'s mirror with skopeo into an OCI layout in {@code out}. */
        Process pullThroughMirror(int i, String repo, String tag, Path out) throws Exception {
            return new ProcessBuilder("ip", "netns", "exec", cloud(i).node(), "skopeo", "--insecure-policy", "copy",
                    "-q", "--src-tls-verify=false", "docker://" + nodeIp(i) + ":5000/" + repo + ":" + tag,
                    "oci:" + out + ":" + tag).redirectErrorStream(true).start();
        }

        @Override
        public void close() throws Exception {
            try {
                nodes.close();
                if (line != null) {
                    line.close();
                }
            } finally {
                clouds.forEach(net::remove);
            }
        }
    }
}
