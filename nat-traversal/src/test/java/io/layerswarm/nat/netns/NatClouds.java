package io.layerswarm.nat.netns;

import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import io.layerswarm.testing.Coturn;
import io.layerswarm.testing.RegistryFixture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The running NAT test network shared by {@link NatScenarioIT} and {@link PunchBench}: a {@link NatTopology}
 * with two edge clouds (1 and 2) behind NATs of the given kinds, coturn (STUN) and a public relay + AutoNAT
 * node in the wan namespace; nodes are started in a cloud on demand, and optionally the real docker-registry
 * in the wan namespace. Everything started is closed, last first, with this.
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

    private final Closer closer = new Closer();
    private final Path dir;
    private final List<String> clouds = new ArrayList<>();
    final NatTopology net;
    final Coturn stun;
    final NatNode relay;

    private NatClouds(Path dir, Nat a, Nat b, String rate) throws Exception {
        this.dir = dir;
        try {
            net = closer.add(NatTopology.create());
            clouds.add(net.cloud(1, a == Nat.SYMMETRIC, rate));
            clouds.add(net.cloud(2, b == Nat.SYMMETRIC, rate));
            stun = closer.add(Coturn.start(List.of("ip", "netns", "exec", net.wan), NatTopology.WAN_IP, 3478, null));
            relay = closer.add(new NatNode(dir, net.wan, "relay", NatTopology.WAN_IP, List.of()));
        } catch (Exception | Error e) {
            closer.close();
            throw e;
        }
    }

    /**
     * Builds the network: cloud 1 behind {@code a}, cloud 2 behind {@code b}, router WAN legs shaped to 200 Mbit/s;
     * coturn and the relay running. Skips (fails under CI) where namespaces cannot be made.
     */
    static NatClouds start(Path dir, Nat a, Nat b) throws Exception {
        return new NatClouds(dir, a, b, "200mbit");
    }

    /** The node namespace of cloud {@code n} (1 or 2). */
    String cloud(int n) {
        return clouds.get(n - 1);
    }

    /** The node address of cloud {@code n}. */
    static String nodeIp(int n) {
        return "10.214." + n + ".10";
    }

    /**
     * Starts a {@link NatNodeProcess} of {@code role} in cloud {@code n} with coturn as its STUN server and
     * {@code extra} further arguments; not reserved on the relay yet ({@link #reserve}).
     */
    NatNode node(int n, String role, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of(STUN));
        args.addAll(List.of(extra));
        return closer.add(new NatNode(dir, cloud(n), role, nodeIp(n), args));
    }

    /**
     * A whole node with a mirror for the wan registry in cloud {@code n}, its store (and identity) in
     * {@code store}; its NAT traversal service keeps a reservation on the relay by itself ({@link #circuit}).
     */
    NatNode mirrorNode(int n, Path store) throws Exception {
        return node(n, "mirror", REGISTRY_URL, store.toString(), relay.addr);
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
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        NatTopology.Result r = NatTopology.run(List.of("ip", "netns", "exec", net.wan, java, "-cp",
                System.getProperty("java.class.path"), PushImage.class.getName(), REGISTRY_URL, repo, tag,
                Integer.toString(layers), Integer.toString(layerBytes)));
        String out = r.out().lines().filter(l -> l.startsWith("pushed ")).findFirst()
                .orElseThrow(() -> new AssertionError("push failed: " + r.out()));
        return Long.parseLong(out.substring("pushed ".length()));
    }

    /** Starts a pull of {@code repo:tag} through cloud {@code n}'s mirror with skopeo into an OCI layout in {@code out}. */
    Process pullThroughMirror(int n, String repo, String tag, Path out) throws Exception {
        return new ProcessBuilder("ip", "netns", "exec", cloud(n), "skopeo", "--insecure-policy", "copy", "-q",
                "--src-tls-verify=false", "docker://" + nodeIp(n) + ":5000/" + repo + ":" + tag,
                "oci:" + out + ":" + tag).redirectErrorStream(true).start();
    }

    @Override
    public void close() throws Exception {
        closer.close();
    }
}
