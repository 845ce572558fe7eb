package io.layerswarm.libp2p.multiformats;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;

class MultiaddrTest {

    private static byte[] hex(String s) {
        return HexFormat.of().parseHex(s);
    }

    @Test
    void knownBinaryEncodings() {
        assertArrayEquals(hex("047f000001060fa1"), Multiaddr.parse("/ip4/127.0.0.1/tcp/4001").bytes());
        assertArrayEquals(hex("29" + "00000000000000000000000000000001" + "91020fa1" + "cd03"),
                Multiaddr.parse("/ip6/::1/udp/4001/quic-v1").bytes());
        assertArrayEquals(hex("350b6578616d706c652e636f6d06005a"),
                Multiaddr.parse("/dns/example.com/tcp/90").bytes());
        assertEquals(Multiaddr.parse("/ip4/127.0.0.1/tcp/4001"), Multiaddr.decode(hex("047f000001060fa1")));
    }

    @Test
    void textRoundTrips() {
        String[] addrs = {
            "/ip4/1.2.3.4/tcp/0",
            "/ip4/0.0.0.0/udp/65535/quic-v1",
            "/ip6/2001:db8::1/tcp/443",
            "/ip6/::/tcp/1",
            "/ip6/fe80::1:0:0:1/tcp/1",
            "/dns4/node.local/tcp/4001",
            "/dns6/node.local/udp/9/quic",
            "/ip4/10.0.0.1/tcp/4001/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA",
            "/ip4/10.0.0.1/tcp/4001/p2p/QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N/p2p-circuit"
                    + "/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA",
        };
        for (String a : addrs) {
            Multiaddr m = Multiaddr.parse(a);
            assertEquals(a, m.toString());
            assertEquals(m, Multiaddr.decode(m.bytes()));
        }
        assertEquals("/ip6/::1/tcp/1", Multiaddr.parse("/ip6/0:0:0:0:0:0:0:1/tcp/1").toString());
        assertEquals("/ip6/::ffff:102:304/tcp/1", Multiaddr.parse("/ip6/::ffff:1.2.3.4/tcp/1").toString());
        // /ipfs is the legacy name of /p2p; CID peer ids normalise to base58.
        assertEquals("/p2p/12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA",
                Multiaddr.parse("/ipfs/bafzaajaiaejcal72gwuz2or47oyxxn6b3rkwdmmkrxgkjxzy3rqt5kczyn7lcm3l").toString());
        assertEquals("4001", Multiaddr.parse("/ip4/1.2.3.4/tcp/4001").valueOf(MultiaddrProtocol.TCP).orElseThrow());
        assertEquals("/ip4/1.2.3.4/tcp/1", Multiaddr.parse("/ip4/1.2.3.4/tcp/1/p2p/"
                + "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA").withoutPeerId().toString());
    }

    @Test
    void badTextNamesTheProblem() {
        assertMessage("ip4/1.2.3.4", "must start with '/'");
        assertMessage("/ip4/1.2.3", "/ip4");
        assertMessage("/ip4/1.2.3.256", "octet 4");
        assertMessage("/ip4/01.2.3.4", "octet 1");
        assertMessage("/tcp/65536", "port");
        assertMessage("/tcp/-1", "port");
        assertMessage("/tcp", "missing its value");
        assertMessage("/ip6/example.com", "IPv6");
        assertMessage("/ip6/1.2.3.4", "IPv6");
        assertMessage("/foo/1", "unsupported multiaddr protocol 'foo'");
        assertMessage("/ip4//tcp/1", "/ip4");
        assertMessage("//", "empty protocol");
        assertMessage("/dns/" + "a".repeat(300), "DNS name");
        assertMessage("/p2p/QmNotAPeerId", "/p2p");
        assertMessage("/p2p/bafybeihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku", "libp2p-key");
        assertMessage("/p2p-circuit".repeat(33), "components");
    }

    private static void assertMessage(String text, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Multiaddr.parse(text), text);
        assertTrue(e.getMessage().contains(fragment), () -> text + " -> " + e.getMessage());
    }

    @Test
    void randomTextIsRejectedOrRoundTrips() {
        Random r = new Random(8);
        String[] parts = {"/", "ip4", "ip6", "tcp", "udp", "dns", "p2p", "quic-v1", "p2p-circuit", "1", "65535",
            "::", "1.2.3.4", "a.b", "12D3KooWD3eckifWpRn9wQpMG9R9hX3sD158z7EqHWmweQAJU5SA", "%", "\u0000", "//"};
        for (int i = 0; i < 20_000; i++) {
            StringBuilder sb = new StringBuilder();
            int n = r.nextInt(12);
            for (int j = 0; j < n; j++) {
                sb.append(r.nextInt(4) == 0 ? "/" : "").append(parts[r.nextInt(parts.length)]);
            }
            try {
                Multiaddr m = Multiaddr.parse(sb.toString());
                assertEquals(m, Multiaddr.decode(m.bytes()));
                assertEquals(m, Multiaddr.parse(m.toString()));
            } catch (IllegalArgumentException expected) {
                assertTrue(expected.getMessage() != null && !expected.getMessage().isEmpty());
            }
        }
    }

    @Test
    void badBinaryRejected() {
        assertThrows(IllegalArgumentException.class, () -> Multiaddr.decode(hex("047f0000")));
        assertThrows(IllegalArgumentException.class, () -> Multiaddr.decode(hex("3510616263")));
        assertThrows(IllegalArgumentException.class, () -> Multiaddr.decode(hex("ff7f")));
        assertThrows(IllegalArgumentException.class, () -> Multiaddr.decode(new byte[2000]));
        Random r = new Random(5);
        for (int i = 0; i < 20_000; i++) {
            byte[] g = new byte[r.nextInt(40)];
            r.nextBytes(g);
            try {
                Multiaddr m = Multiaddr.decode(g);
                assertArrayEquals(g, m.bytes());
                assertEquals(m, Multiaddr.parse(m.toString()));
            } catch (IllegalArgumentException expected) {
                // clear rejection
            }
        }
    }
}
