package io.layerswarm.libp2p.identify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.ping.Ping;
import io.layerswarm.testing.Await;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class IdentifyTest {
    private static final Duration AWAIT = Duration.ofSeconds(30);


    static Host host() throws Exception {
        return host(id -> { });
    }

    /** A host whose one Identify is handed to {@code configure} before the host connects anywhere. */
    static Host host(java.util.function.Consumer<Identify> configure) throws Exception {
        Host h = Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .ioThreads(1).build().start();
        configure.accept(Identify.attach(h));
        Ping.attach(h);
        return h;
    }

    @Test
    void identifiesBothWaysAndPings() throws Exception {
        try (Host a = host(); Host b = host()) {
            Multiaddr bAddr = b.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + b.peerId().toBase58()));
            Connection c = a.connect(bAddr).get(10, TimeUnit.SECONDS);
            Identify id = Identify.attach(a);
            IdentifyInfo info = id.identify(c).get(10, TimeUnit.SECONDS);
            assertEquals(b.peerId(), info.peerId());
            assertEquals(Identify.PROTOCOL_VERSION, info.protocolVersion());
            assertEquals("layerswarm/0.1.0", info.agentVersion());
            assertEquals(b.listenAddrs(), info.listenAddrs());
            assertEquals(Optional.of(c.localAddr()), info.observedAddr());
            assertTrue(info.protocols().containsAll(List.of(Identify.PROTOCOL, Ping.PROTOCOL)), info.protocols().toString());
            assertEquals(List.of(c.localAddr()), a.observedAddrs());
            // b identified a on connect by itself.
            Await.until(AWAIT, "b has identified a",
                    () -> b.peerStore().get(a.peerId()).map(r -> !r.agentVersion().isEmpty()).orElse(false));
            assertEquals(a.listenAddrs(), b.peerStore().addrs(a.peerId()));
            List<Duration> rtts = Ping.ping(c, 5).get(10, TimeUnit.SECONDS);
            assertEquals(5, rtts.size());
            assertTrue(rtts.stream().allMatch(d -> d.toNanos() > 0));
        }
    }

    @Test
    void protocolChangesArePushedToConnectedPeers() throws Exception {
        // observers registered before the connection see the first answer and every later push
        List<List<String>> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Host a = host(id -> id.onIdentified((c, info) -> seen.add(info.protocols()))); Host b = host()) {
            Multiaddr bAddr = b.listenAddrs().get(0).encapsulate(Multiaddr.parse("/p2p/" + b.peerId().toBase58()));
            a.connect(bAddr).get(10, TimeUnit.SECONDS);
            awaitProtocols(a, b, p -> p.contains(Identify.PUSH_PROTOCOL), "a identified b");
            Await.until(AWAIT, "the observer saw b's first answer", () -> !seen.isEmpty());
            awaitProtocols(b, a, p -> p.contains(Identify.PUSH_PROTOCOL), "b identified a");
            // A burst of new handlers on b reaches a without a new identify exchange.
            for (int i = 0; i < 5; i++) {
                b.setStreamHandler("/test/late/" + i, s -> s.channel().close());
            }
            awaitProtocols(a, b, p -> p.contains("/test/late/4") && p.contains("/test/late/0"), "push of the additions");
            Await.until(AWAIT, "the observer saw the push", () -> seen.stream().anyMatch(p -> p.contains("/test/late/4")));
            b.removeHandler("/test/late/0");
            awaitProtocols(a, b, p -> !p.contains("/test/late/0") && p.contains("/test/late/1"), "push of the removal");
        }
    }

    private static void awaitProtocols(Host observer, Host peer, java.util.function.Predicate<List<String>> ok,
            String what) throws InterruptedException {
        Await.until(AWAIT, what, () -> observer.peerStore().get(peer.peerId()).map(r -> r.protocols())
                .orElse(List.of()), ok);
    }

    @Test
    void codecRoundTrip() {
        Ed25519PrivateKey k = Ed25519PrivateKey.generate();
        IdentifyInfo in = new IdentifyInfo(k.publicKey(), "ipfs/0.1.0", "x/1",
                List.of(Multiaddr.parse("/ip4/10.1.2.3/tcp/4001")), Optional.of(Multiaddr.parse("/ip6/::1/tcp/5")),
                List.of("/a/1", "/b/2"));
        IdentifyInfo out = IdentifyCodec.decode(IdentifyCodec.encode(in));
        assertEquals(in.listenAddrs(), out.listenAddrs());
        assertEquals(in.observedAddr(), out.observedAddr());
        assertEquals(in.protocols(), out.protocols());
        assertEquals(k.peerId(), out.peerId());
    }

    @Test
    void codecRejectsGarbage() {
        Random rnd = new Random(9);
        for (int i = 0; i < 500; i++) {
            byte[] junk = new byte[rnd.nextInt(300)];
            rnd.nextBytes(junk);
            try {
                IdentifyCodec.decode(junk);
            } catch (IllegalArgumentException expected) {
                // clear error
            }
        }
        assertThrows(IllegalArgumentException.class, () -> IdentifyCodec.decode(new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> IdentifyCodec.decode(new byte[IdentifyCodec.MAX_MESSAGE_SIZE + 1]));
        byte[] good = IdentifyCodec.encode(new IdentifyInfo(Ed25519PrivateKey.generate().publicKey(), "p", "a",
                List.of(), Optional.empty(), List.of("/x")));
        assertThrows(IllegalArgumentException.class,
                () -> IdentifyCodec.decode(java.util.Arrays.copyOf(good, good.length - 2)));
    }
}
