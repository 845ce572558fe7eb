package io.layerswarm.nat.ice;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import io.layerswarm.nat.ice.pb.IceProtos;
import io.layerswarm.testing.DecoderContract;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class IceCodecTest {
    private static final String UFRAG = "abcd";
    private static final String PWD = "0123456789abcdefghijkl";

    private static IceCandidate candidate(String ip, int port) throws Exception {
        return new IceCandidate(IceCandidate.Kind.SERVER_REFLEXIVE, "f1",
                new InetSocketAddress(InetAddress.getByName(ip), port), 1_694_498_815L);
    }

    @Test
    void offersReadyAndFailRoundTrip() throws Exception {
        IceMessage offer = IceMessage.offer(IceMessage.Type.OFFER, UFRAG, PWD,
                List.of(candidate("203.0.113.7", 40001), candidate("2001:db8::1", 5)));
        assertEquals(offer, IceCodec.decode(IceCodec.encode(offer)));
        assertEquals(IceMessage.ready(), IceCodec.decode(IceCodec.encode(IceMessage.ready())));
        IceMessage fail = IceMessage.fail("x".repeat(1000));
        assertEquals(256, IceCodec.decode(IceCodec.encode(fail)).reason().length());
        // the most candidates fit well within the message bound
        List<IceCandidate> most = new ArrayList<>();
        for (int i = 0; i < IceMessage.MAX_CANDIDATES; i++) {
            most.add(new IceCandidate(IceCandidate.Kind.HOST, "f".repeat(32),
                    new InetSocketAddress(InetAddress.getByName("2001:db8::" + (i + 1)), 65535), 0xFFFF_FFFFL));
        }
        byte[] big = IceCodec.encode(IceMessage.offer(IceMessage.Type.ANSWER, "u".repeat(256), "p".repeat(256), most));
        assertTrue(big.length < IceCodec.MAX_MESSAGE_SIZE, big.length + " bytes");
    }

    @Test
    void boundsAndMissingFieldsAreRefusedWithTheirReason() throws Exception {
        IceProtos.Candidate.Builder good = IceProtos.Candidate.newBuilder().setKind(IceProtos.Candidate.Kind.HOST)
                .setFoundation("f").setIp(ByteString.copyFrom(new byte[] {10, 0, 0, 1})).setPort(4000).setPriority(7);
        IceProtos.IceMessage.Builder offer = IceProtos.IceMessage.newBuilder().setType(IceProtos.IceMessage.Type.OFFER)
                .setUfrag(UFRAG).setPwd(PWD);
        for (int i = 0; i <= IceMessage.MAX_CANDIDATES; i++) {
            offer.addCandidates(good);
        }
        assertRefused(offer.build().toByteArray(), "at most " + IceMessage.MAX_CANDIDATES);
        assertRefused(offer.clearCandidates().build().toByteArray(), "1-" + IceMessage.MAX_CANDIDATES + " candidates");
        assertRefused(offer.clone().addCandidates(good.clone().setIp(ByteString.copyFromUtf8("example.org")))
                .build().toByteArray(), "4 or 16");
        assertRefused(offer.clone().addCandidates(good.clone().setPort(0)).build().toByteArray(), "port");
        assertRefused(offer.clone().addCandidates(good.clone().setPort(70000)).build().toByteArray(), "port");
        assertRefused(offer.clone().addCandidates(good.clone().clearPriority()).build().toByteArray(), "priority");
        assertRefused(offer.clone().addCandidates(good.clone().setFoundation("a b")).build().toByteArray(), "foundation");
        assertRefused(offer.clone().addCandidates(good).setPwd("short").build().toByteArray(), "pwd");
        assertRefused(offer.clone().addCandidates(good).setUfrag("u\n").build().toByteArray(), "ufrag");
        assertRefused(IceProtos.IceMessage.newBuilder().setType(IceProtos.IceMessage.Type.READY).addCandidates(good)
                .build().toByteArray(), "READY carries no");
        assertRefused(new byte[IceCodec.MAX_MESSAGE_SIZE + 1], "exceeds");
        assertRefused(new byte[] {(byte) 0xff}, "not valid protobuf");
        assertRefused(new byte[0], "type");
    }

    private static void assertRefused(byte[] bytes, String why) {
        IceProtocolException e = assertThrows(IceProtocolException.class, () -> IceCodec.decode(bytes));
        assertTrue(e.getMessage().contains(why), e.getMessage());
    }

    @Test
    void garbageIsRefusedWithinTheDecoderContract() throws Exception {
        DecoderContract contract = DecoderContract.allowing(1 << 20, IceProtocolException.class);
        Random rnd = new Random(14);
        byte[] valid = IceCodec.encode(IceMessage.offer(IceMessage.Type.OFFER, UFRAG, PWD,
                List.of(candidate("203.0.113.7", 40001))));
        for (int i = 0; i < 5000; i++) {
            byte[] junk;
            if (i % 2 == 0) {
                junk = new byte[rnd.nextInt(200)];
                rnd.nextBytes(junk);
            } else {
                junk = valid.clone();
                junk[rnd.nextInt(junk.length)] ^= (byte) (1 + rnd.nextInt(255));
            }
            byte[] input = junk;
            contract.check(() -> IceCodec.decode(input));
        }
    }
}
