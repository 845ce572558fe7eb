package io.layerswarm.nat.dcutr;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.layerswarm.libp2p.multiformats.LengthPrefixed;
import io.layerswarm.libp2p.multiformats.Multiaddr;
import io.layerswarm.nat.dcutr.pb.DcutrProtos;
import io.layerswarm.testing.DecoderContract;
import java.io.ByteArrayInputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DcutrCodecTest {
    private static final Multiaddr TCP = Multiaddr.parse("/ip4/203.0.113.7/tcp/4001");
    private static final Multiaddr QUIC = Multiaddr.parse("/ip6/2001:db8::1/udp/4001/quic-v1");

    @Test
    void connectAndSyncRoundTripWithTheSpecsWireNumbers() throws Exception {
        HolePunch connect = HolePunch.connect(List.of(TCP, QUIC));
        assertEquals(connect, DcutrCodec.decode(DcutrCodec.encode(connect)));
        assertEquals(HolePunch.sync(), DcutrCodec.decode(DcutrCodec.encode(HolePunch.sync())));
        // field 1 varint: CONNECT = 100 (0x64), SYNC = 300 (0xac 0x02), as libp2p's holepunch.pb says
        assertArrayEquals(HexFormat.of().parseHex("08ac02"), DcutrCodec.encode(HolePunch.sync()));
        byte[] c = DcutrCodec.encode(HolePunch.connect(List.of(TCP)));
        assertEquals("0864", HexFormat.of().formatHex(c, 0, 2));
        assertEquals(TCP, Multiaddr.decode(DcutrProtos.HolePunch.parseFrom(c).getObsAddrs(0).toByteArray()));
        // the most addresses fit the message bound; framed with the project's one length prefix
        List<Multiaddr> most = new ArrayList<>();
        for (int i = 0; i < DcutrCodec.MAX_ADDRS; i++) {
            most.add(Multiaddr.parse("/ip6/2001:db8::" + (i + 1) + "/udp/65535/quic-v1"));
        }
        byte[] big = DcutrCodec.encode(HolePunch.connect(most));
        assertTrue(big.length < DcutrCodec.MAX_MESSAGE_SIZE, big.length + " bytes");
        byte[] read = LengthPrefixed.read(new ByteArrayInputStream(LengthPrefixed.frame(big)), DcutrCodec.MAX_MESSAGE_SIZE,
                DcutrProtocolException::new);
        assertEquals(most, DcutrCodec.decode(read).addrs());
    }

    @Test
    void addressesOfUnknownProtocolsAreSkippedAndSyncAddressesIgnored() throws Exception {
        byte[] withUnknown = DcutrProtos.HolePunch.newBuilder().setType(DcutrProtos.HolePunch.Type.CONNECT)
                .addObsAddrs(ByteString.copyFrom(new byte[] {(byte) 0x80, (byte) 0x80, 0x7f, 1, 2}))
                .addObsAddrs(ByteString.EMPTY)
                .addObsAddrs(ByteString.copyFrom(TCP.bytes())).build().toByteArray();
        assertEquals(List.of(TCP), DcutrCodec.decode(withUnknown).addrs());
        byte[] syncWithAddrs = DcutrProtos.HolePunch.newBuilder().setType(DcutrProtos.HolePunch.Type.SYNC)
                .addObsAddrs(ByteString.copyFrom(TCP.bytes())).build().toByteArray();
        assertEquals(HolePunch.sync(), DcutrCodec.decode(syncWithAddrs));
        assertThrows(IllegalArgumentException.class, () -> new HolePunch(HolePunch.Type.SYNC, List.of(TCP)));
    }

    @Test
    void boundsAndMissingFieldsAreRefusedWithTheirReason() throws Exception {
        DcutrProtos.HolePunch.Builder many = DcutrProtos.HolePunch.newBuilder().setType(DcutrProtos.HolePunch.Type.CONNECT);
        for (int i = 0; i <= DcutrCodec.MAX_ADDRS; i++) {
            many.addObsAddrs(ByteString.copyFrom(TCP.bytes()));
        }
        assertRefused(many.build().toByteArray(), "at most " + DcutrCodec.MAX_ADDRS);
        assertRefused(new byte[DcutrCodec.MAX_MESSAGE_SIZE + 1], "exceeds");
        assertRefused(new byte[] {(byte) 0xff}, "not valid protobuf");
        assertRefused(new byte[0], "type");
        assertRefused(HexFormat.of().parseHex("0805"), "type"); // type 5: neither CONNECT nor SYNC
        // an oversized frame is refused by its length alone, before anything is allocated
        byte[] frame = LengthPrefixed.frame(new byte[DcutrCodec.MAX_MESSAGE_SIZE + 1]);
        DcutrProtocolException e = assertThrows(DcutrProtocolException.class, () -> LengthPrefixed.read(
                new ByteArrayInputStream(frame, 0, 4), DcutrCodec.MAX_MESSAGE_SIZE, DcutrProtocolException::new));
        assertTrue(e.getMessage().contains("too large"), e.getMessage());
    }

    private static void assertRefused(byte[] bytes, String why) {
        DcutrProtocolException e = assertThrows(DcutrProtocolException.class, () -> DcutrCodec.decode(bytes));
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }

    @Test
    void garbageIsRefusedWithinTheDecoderContract() throws Exception {
        DecoderContract contract = DecoderContract.allowing(1 << 20, DcutrProtocolException.class);
        Random rnd = new Random(100);
        byte[] valid = DcutrCodec.encode(HolePunch.connect(List.of(TCP, QUIC)));
        for (int i = 0; i < 5000; i++) {
            byte[] junk;
            if (i % 2 == 0) {
                junk = new byte[rnd.nextInt(300)];
                rnd.nextBytes(junk);
            } else {
                junk = valid.clone();
                junk[rnd.nextInt(junk.length)] ^= (byte) (1 + rnd.nextInt(255));
            }
            byte[] input = junk;
            contract.check(() -> DcutrCodec.decode(input));
        }
    }
}
