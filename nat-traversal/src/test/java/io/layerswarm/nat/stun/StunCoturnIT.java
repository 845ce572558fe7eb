package io.layerswarm.nat.stun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.layerswarm.testing.Coturn;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** STUN binding against a real coturn on loopback (the reflexive address of a loopback socket is itself). */
class StunCoturnIT {

    static InetSocketAddress awaitStun(Coturn c, DatagramSocket s) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        StunClient quick = new StunClient(Duration.ofMillis(100), 2);
        while (true) {
            try {
                return quick.mappedAddress(s, c.address());
            } catch (StunException e) {
                if (System.nanoTime() > deadline || !c.isAlive()) {
                    throw new AssertionError("coturn did not answer STUN: alive=" + c.isAlive() + "\n" + c.logText(), e);
                }
            }
        }
    }

    @Test
    void coturnReportsTheSocketsAddress() throws Exception {
        try (Coturn coturn = Coturn.start(List.of(), "127.0.0.1", 0, null);
             DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            awaitStun(coturn, s);
            InetSocketAddress mapped = new StunClient().mappedAddress(s, coturn.address());
            assertEquals(s.getLocalSocketAddress(), mapped);
        }
    }

    @Test
    void garbageFromTheServerAddressIsIgnoredAndSilenceFails() throws Exception {
        // A fake "server" that answers a STUN request with garbage, then with a wrong transaction id.
        try (DatagramSocket fake = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
             DatagramSocket s = new DatagramSocket(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))) {
            Thread t = new Thread(() -> {
                try {
                    byte[] buf = new byte[1500];
                    DatagramPacket p = new DatagramPacket(buf, buf.length);
                    fake.receive(p);
                    fake.send(new DatagramPacket(new byte[] {1, 2, 3}, 3, p.getSocketAddress()));
                    byte[] other = StunCodec.bindingSuccess(new byte[12], (InetSocketAddress) p.getSocketAddress());
                    fake.send(new DatagramPacket(other, other.length, p.getSocketAddress()));
                } catch (Exception ignored) {
                    // test fails on the client side
                }
            });
            t.start();
            assertThrows(StunException.class, () -> new StunClient(Duration.ofMillis(100), 3)
                    .mappedAddress(s, (InetSocketAddress) fake.getLocalSocketAddress()));
            t.join(5000);
        }
    }
}
