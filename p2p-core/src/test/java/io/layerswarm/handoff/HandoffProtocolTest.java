package io.layerswarm.handoff;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.handoff.HandoffClient.HandoffRefusedException;
import io.layerswarm.handoff.pb.HandoffProtos.Request;
import io.layerswarm.handoff.pb.HandoffProtos.RoundResult;
import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.transfer.Frames;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Rounds over {@code /layerswarm/handoff/1.0.0} between two in-process hosts on loopback. */
class HandoffProtocolTest {
    private static final String SESSION = "svc-1";

    @TempDir
    Path tmp;
    Host source;
    Host target;
    RoundReceiver receiver;
    HandoffClient client;

    private static Host newHost() throws IOException {
        return Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0"))
                .ioThreads(1).build().start();
    }

    @BeforeEach
    void setUp() throws IOException {
        source = newHost();
        target = newHost();
        receiver = RoundReceiver.open(tmp.resolve("target"), ContentSource.none(), RoundReceiver.Limits.defaults());
        source.peerStore().addAddrs(target.peerId(), target.listenAddrs());
        client = new HandoffClient(source, Duration.ofSeconds(10), new RoundWriter());
    }

    @AfterEach
    void tearDown() {
        source.close();
        target.close();
    }

    private void serve(Set<String> allowList) {
        new HandoffServer(p -> allowList.isEmpty() || allowList.contains(p.toBase58()),
                s -> s.equals(SESSION) ? Optional.of(receiver) : Optional.empty()).attach(target);
    }

    private static byte[] random(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void roundsCrossTheSwarmAndOnlyChangesTravel() throws IOException {
        serve(Set.of(source.peerId().toBase58()));
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.write(src.resolve("state.db"), random(400_000, 1));
        Files.write(src.resolve("log"), random(2_000, 2));
        Manifest m1 = TreeScanner.scan(src);
        RoundPlan p1 = RoundPlanner.plan(1, Manifest.empty(), m1, client.have(target.peerId(), SESSION));
        RoundStats s1 = client.sendRound(target.peerId(), SESSION, p1, src);
        assertEquals(402_000, s1.contentBytes());
        assertEquals(m1, receiver.manifest());

        Files.write(src.resolve("log"), random(3_000, 3));
        Set<String> have = client.have(target.peerId(), SESSION);
        assertEquals(m1.digests(), have);
        Manifest m2 = TreeScanner.scan(src);
        RoundStats s2 = client.sendRound(target.peerId(), SESSION, RoundPlanner.plan(2, m1, m2, have), src);
        assertEquals(3_000, s2.contentBytes());
        assertTrue(s2.wireBytes() < 4_000, "wire " + s2.wireBytes());
        assertEquals(m2, receiver.manifest());
        assertArrayEquals(Files.readAllBytes(src.resolve("log")), Files.readAllBytes(receiver.current().resolve("log")));
    }

    @Test
    void peersOffTheAllowListAndUnknownSessionsAreRefused() throws IOException {
        serve(Set.of("12D3KooWSomeoneElseEntirely"));
        Path src = Files.createDirectories(tmp.resolve("src"));
        Files.write(src.resolve("f"), random(10, 4));
        HandoffRefusedException e = assertThrows(HandoffRefusedException.class,
                () -> client.have(target.peerId(), SESSION));
        assertEquals("FORBIDDEN", e.reason());
        RoundPlan plan = RoundPlanner.plan(1, Manifest.empty(), TreeScanner.scan(src), Set.of());
        e = assertThrows(HandoffRefusedException.class, () -> client.sendRound(target.peerId(), SESSION, plan, src));
        assertEquals("FORBIDDEN", e.reason());
        assertEquals(Manifest.empty(), receiver.manifest());

        target.removeHandler(HandoffServer.PROTOCOL);
        serve(Set.of());
        e = assertThrows(HandoffRefusedException.class, () -> client.have(target.peerId(), "no-such-session"));
        assertEquals("UNKNOWN_SESSION", e.reason());
    }

    @Test
    void garbageRoundOnTheWireIsRefusedWithAReason() throws Exception {
        serve(Set.of());
        P2pStream s = source.newStream(target.peerId(), List.of(HandoffServer.PROTOCOL)).get(10, TimeUnit.SECONDS);
        Frames.write(s.outputStream(), Request.newBuilder().setSession(SESSION).setRound(true).build());
        s.outputStream().write(random(5_000, 5));
        s.outputStream().flush();
        s.closeWrite();
        RoundResult r = Frames.read(s.inputStream(), RoundResult.parser(), 64 * 1024);
        assertEquals(false, r.getCommitted());
        assertEquals("CORRUPT", r.getReason());
        assertEquals(Manifest.empty(), receiver.manifest());
        s.close();
    }

    @Test
    void controlRequestsFromPeersOffTheAllowListOrToANodeWithoutContainersAreRefused() throws IOException {
        serve(Set.of("12D3KooWNGuzoL4L8PYj5P7PZ1TbHnQYos5K4Bcx4mpZHJ5yyaR8")); // someone else
        ImageRef image = new ImageRef("reg.local", "app", "sha256:" + "ab".repeat(32));
        HandoffRefusedException e = assertThrows(HandoffRefusedException.class,
                () -> client.begin(target.peerId(), SESSION, new ContainerConfig("svc", image, List.of("sh"), "")));
        assertEquals("FORBIDDEN", e.reason());
        e = assertThrows(HandoffRefusedException.class, () -> client.prepare(target.peerId(), SESSION, image));
        assertEquals("FORBIDDEN", e.reason());
    }

    @Test
    void controlRequestsToARoundsOnlyServerFailWithAReason() throws IOException {
        serve(Set.of());
        HandoffRefusedException e = assertThrows(HandoffRefusedException.class,
                () -> client.restore(target.peerId(), SESSION));
        assertEquals("ERROR", e.reason());
        assertTrue(e.getMessage().contains("runs no containers"), e.getMessage());
    }

    @Test
    void anOpeningOnAConnectionThatClosedMeanwhileIsRetriedOnAnOpenOne() throws Exception {
        serve(Set.of());
        // the race seen in benchmarks: the connection the host handed out closes while the stream opens on it
        io.layerswarm.libp2p.host.Connection stale = source.connect(target.peerId()).get(10, TimeUnit.SECONDS);
        stale.close().get(10, TimeUnit.SECONDS);
        java.util.concurrent.atomic.AtomicInteger opens = new java.util.concurrent.atomic.AtomicInteger();
        HandoffClient c = new HandoffClient((peer, protocols) -> opens.getAndIncrement() == 0
                ? stale.newStream(protocols) : source.newStream(peer, protocols), Duration.ofSeconds(10),
                new RoundWriter());
        assertEquals(Set.of(), c.have(target.peerId(), SESSION));
        assertEquals(2, opens.get(), "opened again after the closed connection failed");
    }

    @Test
    void aRefusedOpeningIsNotRetried() {
        // no handoff protocol on the target: the peer refuses it, which a retry would not change
        java.util.concurrent.atomic.AtomicInteger opens = new java.util.concurrent.atomic.AtomicInteger();
        HandoffClient c = new HandoffClient((peer, protocols) -> {
            opens.incrementAndGet();
            return source.newStream(peer, protocols);
        }, Duration.ofSeconds(10), new RoundWriter());
        IOException e = assertThrows(IOException.class, () -> c.have(target.peerId(), SESSION));
        assertFalse(HandoffClient.connectionClosed(e), e.toString());
        assertEquals(1, opens.get());
    }
}
