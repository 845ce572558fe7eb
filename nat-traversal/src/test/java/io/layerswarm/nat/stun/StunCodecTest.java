package io.layerswarm.nat.stun;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class StunCodecTest {
    private static final byte[] TXID = HexFormat.of().parseHex("b7e7a701bc34d686fa87dfae");

    @Test
    void decodesTheRfc5769Ipv4MappedAddress() throws Exception {
        // RFC 5769 2.2: XOR-MAPPED-ADDRESS 192.0.2.1:32853 -> 00 01 a1 47 e1 12 a6 43, with a SOFTWARE attribute.
        byte[] m = HexFormat.of().parseHex("0101001c2112a442b7e7a701bc34d686fa87dfae"
                + "8022000b" + "7465737420766563746f7220"
                + "00200008" + "0001a147e112a643");
        StunMessage msg = StunCodec.decode(m, m.length);
        assertEquals(StunMessage.BINDING_SUCCESS, msg.type());
        assertEquals(new InetSocketAddress(InetAddress.getByName("192.0.2.1"), 32853), msg.mappedAddress());
    }

    @Test
    void successRoundTripsForIpv4AndIpv6() throws Exception {
        for (String ip : new String[] {"203.0.113.7", "2001:db8:1234:5678:11:2233:4455:6677"}) {
            InetSocketAddress a = new InetSocketAddress(InetAddress.getByName(ip), 40001);
            byte[] m = StunCodec.bindingSuccess(TXID, a);
            StunMessage back = StunCodec.decode(m, m.length);
            assertEquals(a, back.mappedAddress());
            assertTrue(back.sameTransaction(TXID));
        }
        byte[] req = StunCodec.bindingRequest(TXID);
        assertEquals(20, req.length);
        assertEquals(StunMessage.BINDING_REQUEST, StunCodec.decode(req, req.length).type());
    }

    @Test
    void garbageIsRefused() {
        Random rnd = new Random(3);
        for (int i = 0; i < 5000; i++) {
            byte[] junk = new byte[rnd.nextInt(120)];
            rnd.nextBytes(junk);
            try {
                StunCodec.decode(junk, junk.length);
            } catch (StunException e) {
                assertTrue(e.getMessage().length() > 10);
            }
        }
        byte[] ok = StunCodec.bindingSuccess(TXID, new InetSocketAddress(InetAddress.getLoopbackAddress(), 1));
        byte[] badCookie = ok.clone();
        badCookie[4] ^= 1;
        assertThrows(StunException.class, () -> StunCodec.decode(badCookie, badCookie.length));
        assertThrows(StunException.class, () -> StunCodec.decode(ok, ok.length - 4), "length mismatch");
        byte[] overrun = ok.clone();
        overrun[23] = 0x40; // attribute length 64 > remaining
        assertThrows(StunException.class, () -> StunCodec.decode(overrun, overrun.length));
        byte[] badFamily = ok.clone();
        badFamily[25] = 7;
        assertThrows(StunException.class, () -> StunCodec.decode(badFamily, badFamily.length));
        assertThrows(StunException.class, () -> StunCodec.decode(new byte[2000], 2000));
    }
}
