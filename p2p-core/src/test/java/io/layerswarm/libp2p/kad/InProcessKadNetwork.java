package io.layerswarm.libp2p.kad;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Many {@link KadDht} nodes in one JVM, wired by a transport that delivers every message on a
 * single thread after a full encode/frame/decode round trip. One delivery thread and seeded ids make
 * runs deterministic.
 */
final class InProcessKadNetwork implements AutoCloseable {

    final class Node {
        final byte[] id;
        final KadDht dht;
        final boolean server;
        volatile boolean online = true;

        Node(byte[] id, KadConfig config) {
            this.id = id;
            this.server = !config.clientMode();
            this.dht = new KadDht(id, () -> List.of(addrFor(id)), new Transport(this), config);
        }

        KadPeer peer() {
            return new KadPeer(id, List.of(addrFor(id)), KadPeer.Connection.NOT_CONNECTED);
        }
    }

    private final class Transport implements KadTransport {
        private final Node from;

        Transport(Node from) {
            this.from = from;
        }

        @Override
        public CompletableFuture<KadMessage> request(KadPeer peer, KadMessage request) {
            CompletableFuture<KadMessage> f = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    Optional<KadMessage> r = deliver(from, peer, request);
                    f.complete(roundTrip(r.orElseThrow(() -> new IOException("no response"))));
                } catch (Exception e) {
                    f.completeExceptionally(e);
                }
            });
            return f;
        }

        @Override
        public CompletableFuture<Void> send(KadPeer peer, KadMessage message) {
            CompletableFuture<Void> f = new CompletableFuture<>();
            loop.execute(() -> {
                try {
                    deliver(from, peer, message);
                    f.complete(null);
                } catch (Exception e) {
                    f.completeExceptionally(e);
                }
            });
            return f;
        }
    }

    private final ExecutorService loop = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "kad-inprocess");
        t.setDaemon(true);
        return t;
    });
    private final Map<ByteBuffer, Node> nodes = new LinkedHashMap<>();
    private final Random random;
    final AtomicLong requests = new AtomicLong();

    InProcessKadNetwork(long seed) {
        this.random = new Random(seed);
    }

    synchronized Node add(KadConfig config) {
        byte[] id = new byte[34];
        random.nextBytes(id);
        id[0] = 0x12;
        id[1] = 0x20;
        Node n = new Node(id, config);
        nodes.put(ByteBuffer.wrap(id), n);
        return n;
    }

    synchronized List<Node> nodes() {
        return new ArrayList<>(nodes.values());
    }

    byte[] randomKey() {
        byte[] k = new byte[34];
        synchronized (random) {
            random.nextBytes(k);
        }
        k[0] = 0x12;
        k[1] = 0x20;
        return k;
    }

    /** The true k closest online server nodes to a key, by brute force. */
    List<Node> trueClosest(byte[] key, int k, Node exclude) {
        KadId target = KadId.of(key);
        return nodes().stream().filter(n -> n.server && n.online && n != exclude)
                .sorted(Comparator.comparing((Node n) -> KadId.of(n.id), target::compareDistance))
                .limit(k).toList();
    }

    private synchronized Node node(byte[] id) {
        return nodes.get(ByteBuffer.wrap(id));
    }

    private Optional<KadMessage> deliver(Node from, KadPeer to, KadMessage msg) throws IOException {
        requests.incrementAndGet();
        Node target = node(to.id());
        if (target == null || !target.online) {
            throw new IOException("peer unreachable");
        }
        if (!target.server) {
            throw new IOException("protocol not supported: " + KadDht.PROTOCOL);
        }
        KadMessage decoded = roundTrip(msg);
        if (from.server) {
            // What identify would report: the sender lists the kad protocol.
            target.dht.peerSpeaksKad(from.peer());
        }
        return target.dht.handleRequest(from.peer(), decoded);
    }

    private static KadMessage roundTrip(KadMessage m) {
        try {
            return KadFraming.read(new ByteArrayInputStream(KadFraming.frame(KadMessageCodec.encode(m))));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] addrFor(byte[] id) {
        // /ip4/127.0.0.1/tcp/<port derived from id>
        int port = 10000 + ((id[2] & 0xff) << 8 | (id[3] & 0xff)) % 50000;
        return new byte[] {0x04, 127, 0, 0, 1, 0x06, (byte) (port >> 8), (byte) port};
    }

    @Override
    public void close() {
        loop.shutdownNow();
    }
}
