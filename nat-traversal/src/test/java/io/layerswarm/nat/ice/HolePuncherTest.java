package io.layerswarm.nat.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.host.Connection;
import io.layerswarm.libp2p.host.Host;
import io.layerswarm.libp2p.host.P2pStream;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.libp2p.ping.Ping;
import io.layerswarm.nat.LoopbackHosts;
import io.layerswarm.testing.Closer;
import java.io.IOException;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The candidate exchange's refusals on loopback (ICE itself needs non-loopback interfaces: NatScenarioIT
 * runs it in network namespaces): garbage and out-of-turn messages get a FAIL naming the problem before any
 * candidate is gathered or checked, and the node keeps serving.
 */
class HolePuncherTest {
    private final Closer closer = new Closer();

    @AfterEach
    void close() throws Exception {
        closer.close();
    }

    private IceMessage exchange(Connection c, byte[] frame) throws Exception {
        P2pStream s = c.newStream(List.of(HolePuncher.PROTOCOL)).get(30, TimeUnit.SECONDS);
        s.outputStream().write(frame);
        s.outputStream().flush();
        byte[] body = LengthPrefixed.read(s.inputStream(), IceCodec.MAX_MESSAGE_SIZE, IceProtocolException::new);
        s.close();
        return IceCodec.decode(body);
    }

    @Test
    void garbageAndOutOfTurnMessagesGetAFailAndTheNodeKeepsServing() throws Exception {
        Host server = closer.add(LoopbackHosts.start(true));
        Ping.attach(server);
        ExecutorService pool = Executors.newCachedThreadPool();
        closer.add(pool::shutdownNow);
        HolePuncher.attach(server, List.of(), pool);
        Host client = closer.add(LoopbackHosts.start(false));
        Connection c = client.connect(server.listenAddrs().get(0)
                .encapsulate(Multiaddr.parse("/p2p/" + server.peerId().toBase58()))).get(30, TimeUnit.SECONDS);

        IceMessage junk = exchange(c, LengthPrefixed.frame(new byte[] {(byte) 0xff, 1, 2, 3}));
        assertEquals(IceMessage.Type.FAIL, junk.type());
        assertTrue(junk.reason().contains("not valid protobuf"), junk.reason());

        // the per-peer interval refuses a second session at once, before reading it
        IceMessage again = exchange(c, LengthPrefixed.frame(IceCodec.encode(IceMessage.ready())));
        assertEquals(IceMessage.Type.FAIL, again.type());
        assertTrue(again.reason().contains("at most every"), again.reason());

        // an oversized frame from another peer is refused by its length alone
        Host other = closer.add(LoopbackHosts.start(false));
        Connection c2 = other.connect(server.listenAddrs().get(0)
                .encapsulate(Multiaddr.parse("/p2p/" + server.peerId().toBase58()))).get(30, TimeUnit.SECONDS);
        IceMessage big = exchange(c2, LengthPrefixed.frame(new byte[IceCodec.MAX_MESSAGE_SIZE + 1]));
        assertTrue(big.reason().contains("too large"), big.reason());

        assertTrue(c.ping().get(30, TimeUnit.SECONDS).toMillis() >= 0, "the node still answers");
        assertTrue(c.isOpen() && c2.isOpen());
    }

    @Test
    void punchingWithoutAConnectionFailsClearly() throws Exception {
        Host a = closer.add(LoopbackHosts.start(false));
        ExecutorService pool = Executors.newCachedThreadPool();
        closer.add(pool::shutdownNow);
        HolePuncher p = HolePuncher.attach(a, List.of(), pool);
        Throwable e = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
                () -> p.punch(io.layerswarm.libp2p.crypto.Ed25519PrivateKey.generate().peerId())
                        .get(30, TimeUnit.SECONDS)).getCause();
        assertTrue(e instanceof IOException && e.getMessage().contains("no connection"), e.toString());
    }
}
