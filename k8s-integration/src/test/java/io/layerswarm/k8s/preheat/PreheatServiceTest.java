package io.layerswarm.k8s.preheat;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.node.Node;
import io.layerswarm.oci.Platform;
import io.layerswarm.testing.Await;
import io.layerswarm.testing.Closer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The node side's refusals, on a real node and a real libp2p stream: a request for a namespace the node
 * does not serve, a frame that is not a request, and a request beyond the concurrency limit each get an
 * error reply (the node carries on), never a reset stream or a crash.
 */
class PreheatServiceTest {
    @TempDir
    Path tmp;
    private final Closer open = new Closer();
    private final ExecutorService io = Executors.newCachedThreadPool();

    @AfterEach
    void closeAll() throws Exception {
        open.add(io::shutdownNow); // last in, first out: the pool stops before the nodes
        open.close();
    }

    /** A node whose upstream is {@code upstream}; nothing contacts it until a pull. */
    private Node node(URI upstream, int maxConcurrent) throws IOException {
        return open.add(Node.builder().listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).storeDir(tmp.resolve("node"))
                .upstream(upstream).noMirror()
                .service(new PreheatService(maxConcurrent, Duration.ofSeconds(10), Duration.ofMinutes(5), p -> true))
                .start());
    }

    private Host orchestrator() throws IOException {
        return open.add(Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .ioThreads(1).build().start());
    }

    private static PreheatRequest request(String namespace) {
        return new PreheatRequest(namespace, "team/app", "1.0", Platform.linuxAmd64(), Map.of(), Map.of());
    }

    @Test
    void anUnknownNamespaceAndAGarbageFrameGetErrorReplies() throws Exception {
        Node node = node(URI.create("http://127.0.0.1:9"), 2);
        Host orchestrator = orchestrator();
        PreheatClient client = new PreheatClient(orchestrator, io);
        orchestrator.connect(node.listenAddrs().get(0)).get(30, TimeUnit.SECONDS);

        PreheatReply unknown = client.send(node.peerId(), request("elsewhere.example:5000")).get(60, TimeUnit.SECONDS);
        assertEquals(PreheatReply.Status.ERROR, unknown.status());
        assertTrue(unknown.message().contains("unknown namespace elsewhere.example:5000")
                && unknown.message().contains("127.0.0.1:9"), unknown.message());
        assertTrue(unknown.blobs().isEmpty());

        // a frame that is JSON but no request, then bytes that are no frame at all
        for (byte[] garbage : List.of(LengthPrefixed.frame("{\"hello\":1}".getBytes(StandardCharsets.UTF_8)),
                new byte[] {(byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0xff, (byte) 0x7f})) {
            P2pStream s = orchestrator.newStream(node.peerId(), List.of(PreheatService.PROTOCOL)).get(30, TimeUnit.SECONDS);
            s.outputStream().write(garbage);
            s.outputStream().flush();
            s.closeWrite();
            PreheatReply reply = new PreheatCodec().readReply(s.inputStream());
            s.close();
            assertEquals(PreheatReply.Status.ERROR, reply.status());
            assertTrue(reply.message().contains("preheat request"), reply.message());
        }

        // the node still serves
        assertEquals(PreheatReply.Status.ERROR, client.send(node.peerId(), request("other:1")).get(60, TimeUnit.SECONDS).status());
    }

    @Test
    void aRequestBeyondTheLimitIsRefusedBusy() throws Exception {
        // an upstream that accepts connections and never answers holds the first preheat in its pull
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
            AtomicInteger accepted = new AtomicInteger();
            List<Socket> held = new ArrayList<>();
            io.execute(() -> {
                try {
                    while (true) {
                        Socket s = silent.accept();
                        synchronized (held) {
                            held.add(s);
                        }
                        accepted.incrementAndGet();
                    }
                } catch (IOException closed) {
                    // the test is over
                }
            });
            String ns = "127.0.0.1:" + silent.getLocalPort();
            Node node = node(URI.create("http://" + ns), 1);
            Host orchestrator = orchestrator();
            PreheatClient client = new PreheatClient(orchestrator, io);
            orchestrator.connect(node.listenAddrs().get(0)).get(30, TimeUnit.SECONDS);

            CompletableFuture<PreheatReply> first = client.send(node.peerId(), request(ns));
            Await.until(Duration.ofSeconds(60), "the first preheat reached the upstream", () -> accepted.get() > 0);
            PreheatReply second = client.send(node.peerId(), request(ns)).get(60, TimeUnit.SECONDS);
            assertEquals(PreheatReply.Status.BUSY, second.status(), second.message());
            assertTrue(second.message().contains("1 preheats already"), second.message());
            assertTrue(!first.isDone() || first.join().status() != PreheatReply.Status.BUSY, "the first one ran");
            synchronized (held) {
                for (Socket s : held) {
                    s.close();
                }
            }
        }
    }
}
