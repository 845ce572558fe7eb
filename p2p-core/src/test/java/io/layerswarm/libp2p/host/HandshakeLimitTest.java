package io.layerswarm.libp2p.host;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.testing.Await;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Inbound connections that never finish their handshake are capped per remote address and in total;
 * the excess is closed at once, the admitted ones at the handshake deadline, and an honest host still
 * connects. The silent clients connect from other loopback addresses (127.0.0.2, 127.0.0.3) than the
 * honest host (127.0.0.1), so the per-address cap tells them apart.
 */
class HandshakeLimitTest {
    private static final Duration AWAIT = Duration.ofSeconds(30);

    private final List<Socket> silent = new ArrayList<>();
    private Host b;
    private Host a;

    @AfterEach
    void close() throws IOException {
        for (Socket s : silent) {
            s.close();
        }
        if (a != null) {
            a.close();
        }
        if (b != null) {
            b.close();
        }
    }

    private static Host.Builder listening() {
        return Host.builder(Ed25519PrivateKey.generate()).listen(Multiaddr.parse("/ip4/127.0.0.1/tcp/0")).ioThreads(1);
    }

    /** Opens a TCP connection from {@code fromIp} to the host that never sends a byte. */
    private Socket openSilent(String fromIp, Host to) throws IOException {
        InetSocketAddress target = TcpAddresses.toSocketAddress(to.listenAddrs().get(0));
        Socket s = new Socket();
        silent.add(s);
        s.bind(new InetSocketAddress(fromIp, 0));
        s.connect(target, 10_000);
        return s;
    }

    /** Reads until the host closes the connection (whatever it sent first); fails after 30 s. */
    private static void assertClosedByHost(Socket s) throws IOException {
        s.setSoTimeout(30_000);
        InputStream in = s.getInputStream();
        byte[] buf = new byte[256];
        try {
            while (in.read(buf) >= 0) {
                // the responder may have sent its multistream header before it gave up
            }
        } catch (java.net.SocketException reset) {
            // closed with unread data: a reset is a close too
        }
    }

    @Test
    void silentConnectionsFromOneAddressAreCappedAndAnHonestHostStillConnects() throws Exception {
        b = listening().maxInboundHandshakesPerAddress(4).handshakeTimeout(Duration.ofMinutes(2)).build().start();
        for (int i = 0; i < 10; i++) {
            openSilent("127.0.0.2", b);
        }
        Await.until(AWAIT, "b holds 4 handshakes and refused 6",
                () -> b.handshakesInProgress() == 4 && b.handshakesRefused() == 6);
        // accepted in the order they connected: the first four hold the slots, the rest were closed at once
        for (Socket s : silent.subList(4, 10)) {
            assertClosedByHost(s);
        }
        a = listening().build().start();
        Connection c = a.connect(HostTest.fullAddr(b)).get(30, TimeUnit.SECONDS);
        assertTrue(c.isOpen());
        Await.until(AWAIT, "b kept the honest connection", () -> b.connection(a.peerId()).isPresent());
        assertEquals(4, b.handshakesInProgress(), "the honest handshake is no longer counted once done");

        silent.get(0).close();
        silent.get(1).close();
        Await.until(AWAIT, "closed silent connections free their slots", () -> b.handshakesInProgress() == 2);
        openSilent("127.0.0.2", b);
        Await.until(AWAIT, "a freed slot is taken again", () -> b.handshakesInProgress() == 3);
        assertEquals(6, b.handshakesRefused());
    }

    @Test
    void theTotalCapHoldsAcrossAddressesAndTheDeadlineFreesTheSlots() throws Exception {
        b = listening().maxInboundHandshakesPerAddress(4).maxInboundHandshakes(6)
                .handshakeTimeout(Duration.ofSeconds(10)).build().start();
        a = listening().build().start();
        for (int i = 0; i < 4; i++) {
            openSilent("127.0.0.2", b);
        }
        Await.until(AWAIT, "4 from 127.0.0.2", () -> b.handshakesInProgress() == 4);
        for (int i = 0; i < 4; i++) {
            openSilent("127.0.0.3", b);
        }
        // the deadline (10 s) only bounds a hang here: opening 8 sockets takes milliseconds
        Await.until(AWAIT, "6 in all, the 2 last from 127.0.0.3 refused",
                () -> b.handshakesInProgress() == 6 && b.handshakesRefused() == 2);
        for (Socket s : silent) {
            assertClosedByHost(s); // the refused at once, the admitted at the handshake deadline
        }
        Await.until(AWAIT, "the handshake deadline freed every slot", () -> b.handshakesInProgress() == 0);
        a.connect(HostTest.fullAddr(b)).get(30, TimeUnit.SECONDS);
        Await.until(AWAIT, "b kept the honest connection", () -> b.connection(a.peerId()).isPresent());
        assertThrows(IllegalArgumentException.class,
                () -> Host.builder(Ed25519PrivateKey.generate()).maxInboundHandshakesPerAddress(0));
        assertThrows(IllegalArgumentException.class,
                () -> Host.builder(Ed25519PrivateKey.generate()).maxInboundHandshakes(0));
    }

    @Test
    void aFullTotalCapRefusesAnHonestDialUntilASlotFrees() throws Exception {
        b = listening().maxInboundHandshakesPerAddress(2).maxInboundHandshakes(2)
                .handshakeTimeout(Duration.ofMinutes(2)).build().start();
        a = listening().build().start();
        openSilent("127.0.0.2", b);
        openSilent("127.0.0.3", b);
        Await.until(AWAIT, "both slots held", () -> b.handshakesInProgress() == 2);
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> a.connect(HostTest.fullAddr(b)).get(30, TimeUnit.SECONDS));
        assertTrue(e.getCause() instanceof IOException, e.toString());
        assertEquals(1, b.handshakesRefused());
        silent.get(0).close();
        Await.until(AWAIT, "a slot freed", () -> b.handshakesInProgress() == 1);
        a.connect(HostTest.fullAddr(b)).get(30, TimeUnit.SECONDS);
        Await.until(AWAIT, "b kept the honest connection", () -> b.connection(a.peerId()).isPresent());
    }
}
