package io.layerswarm.libp2p.noise;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.crypto.Ed25519PrivateKey;
import io.layerswarm.libp2p.crypto.PeerIdMismatchException;
import io.layerswarm.libp2p.testing.EmbeddedPair;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.EncoderException;
import io.netty.util.concurrent.Future;
import java.security.SecureRandom;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class NoiseSecurityTest {

    private final Ed25519PrivateKey alice = Ed25519PrivateKey.generate();
    private final Ed25519PrivateKey bob = Ed25519PrivateKey.generate();

    private record Secured(EmbeddedPair pair, Future<NoiseSession> init, Future<NoiseSession> resp,
            EmbeddedPair.Collector atInitiator, EmbeddedPair.Collector atResponder) {
    }

    private Secured handshake(NoiseSecurity a, NoiseSecurity b, io.layerswarm.libp2p.crypto.PeerId expected) {
        EmbeddedPair pair = new EmbeddedPair();
        EmbeddedPair.Collector ci = new EmbeddedPair.Collector();
        EmbeddedPair.Collector cr = new EmbeddedPair.Collector();
        Future<NoiseSession> init = a.install(pair.initiator.pipeline(), true, expected,
                s -> pair.initiator.pipeline().addLast(ci));
        Future<NoiseSession> resp = b.install(pair.responder.pipeline(), false, null,
                s -> pair.responder.pipeline().addLast(cr));
        pair.pump();
        return new Secured(pair, init, resp, ci, cr);
    }

    @Test
    void javaToJavaHandshakeAuthenticatesBothAndCarriesData() {
        Secured s = handshake(new NoiseSecurity(alice), new NoiseSecurity(bob).withStreamMuxers(List.of("/yamux/1.0.0")),
                bob.peerId());
        assertTrue(s.init.isSuccess(), () -> String.valueOf(s.init.cause()));
        assertTrue(s.resp.isSuccess(), () -> String.valueOf(s.resp.cause()));
        assertEquals(bob.peerId(), s.init.getNow().remotePeerId());
        assertEquals(alice.peerId(), s.resp.getNow().remotePeerId());
        assertEquals(List.of("/yamux/1.0.0"), s.init.getNow().remoteStreamMuxers());
        assertEquals(List.of(), s.resp.getNow().remoteStreamMuxers());
        assertArrayEquals(s.init.getNow().handshakeHash(), s.resp.getNow().handshakeHash());
        assertNull(s.pair.initiator.pipeline().get(NoiseHandshakeHandler.class));
        assertNotNull(s.pair.initiator.pipeline().get(NoiseTransportHandler.class));

        byte[] big = new byte[3 * NoiseTransportHandler.MAX_PLAINTEXT + 77];
        new Random(1).nextBytes(big);
        s.pair.initiator.writeAndFlush(Unpooled.wrappedBuffer(big));
        s.pair.responder.writeAndFlush(Unpooled.copiedBuffer("pong", java.nio.charset.StandardCharsets.UTF_8));
        // capture the wire frames to check the chunking before delivering them
        int frames = 0;
        ByteBuf wire = Unpooled.buffer();
        ByteBuf m;
        while ((m = s.pair.initiator.readOutbound()) != null) {
            if (m.isReadable()) {
                frames++;
                assertTrue(m.readableBytes() <= 2 + 65535);
            }
            wire.writeBytes(m);
            m.release();
        }
        assertEquals(4, frames);
        assertEquals(big.length + 4 * (2 + CipherState.TAG_LEN), wire.readableBytes());
        s.pair.responder.writeInbound(wire);
        s.pair.pump();
        byte[] got = new byte[s.atResponder.received.readableBytes()];
        s.atResponder.received.readBytes(got);
        assertArrayEquals(big, got);
        assertEquals("pong", s.atInitiator.text());
    }

    @Test
    void earlyMuxerFollowsTheRemoteListAndNeedsBothSides() {
        NoiseSession s = new NoiseSession(alice.peerId(), alice.publicKey(), List.of("/mplex/6.7.0", "/yamux/1.0.0"),
                new byte[32]);
        assertEquals(java.util.Optional.of("/yamux/1.0.0"), s.earlyMuxer(List.of("/yamux/1.0.0")));
        assertEquals(java.util.Optional.of("/mplex/6.7.0"), s.earlyMuxer(List.of("/yamux/1.0.0", "/mplex/6.7.0")));
        assertTrue(s.earlyMuxer(List.of()).isEmpty());
        NoiseSession silent = new NoiseSession(alice.peerId(), alice.publicKey(), List.of(), new byte[32]);
        assertTrue(silent.earlyMuxer(List.of("/yamux/1.0.0")).isEmpty());
        assertThrows(NoiseException.class, () -> s.earlyMuxer(List.of("/other/1")));
        // end to end: the advertised list arrives
        Secured sec = handshake(new NoiseSecurity(alice).withStreamMuxers(List.of("/yamux/1.0.0")),
                new NoiseSecurity(bob).withStreamMuxers(List.of("/yamux/1.0.0")), bob.peerId());
        assertEquals(java.util.Optional.of("/yamux/1.0.0"), sec.init.getNow().earlyMuxer(List.of("/yamux/1.0.0")));
        assertEquals(java.util.Optional.of("/yamux/1.0.0"), sec.resp.getNow().earlyMuxer(List.of("/yamux/1.0.0")));
    }

    @Test
    void dialledPeerMismatchFailsClearlyAndCloses() {
        Ed25519PrivateKey someoneElse = Ed25519PrivateKey.generate();
        Secured s = handshake(new NoiseSecurity(alice), new NoiseSecurity(bob), someoneElse.peerId());
        PeerIdMismatchException e = assertInstanceOf(PeerIdMismatchException.class, s.init.cause());
        assertEquals(someoneElse.peerId(), e.expected());
        assertEquals(bob.peerId(), e.actual());
        assertTrue(e.getMessage().contains(someoneElse.peerId().toString()));
        assertTrue(e.getMessage().startsWith("Noise: "), e.getMessage());
        assertFalse(s.pair.initiator.isOpen());
        assertFalse(s.resp.isSuccess(), "the responder never completes without message 3");
    }

    @Test
    void tamperedTransportFrameClosesTheConnection() {
        Secured s = handshake(new NoiseSecurity(alice), new NoiseSecurity(bob), null);
        assertTrue(s.resp.isSuccess());
        s.pair.initiator.writeAndFlush(Unpooled.copiedBuffer("secret", java.nio.charset.StandardCharsets.UTF_8));
        ByteBuf frame = s.pair.initiator.readOutbound();
        frame.setByte(5, frame.getByte(5) ^ 0x20);
        assertThrows(NoiseException.class, () -> {
            s.pair.responder.writeInbound(frame);
            s.pair.responder.checkException();
        });
        assertFalse(s.pair.responder.isOpen());
        assertEquals(0, s.atResponder.received.readableBytes(), "nothing unauthenticated is delivered");
    }

    @Test
    void replayedFrameIsRejected() {
        Secured s = handshake(new NoiseSecurity(alice), new NoiseSecurity(bob), null);
        s.pair.initiator.writeAndFlush(Unpooled.copiedBuffer("once", java.nio.charset.StandardCharsets.UTF_8));
        ByteBuf frame = s.pair.initiator.readOutbound();
        ByteBuf copy = frame.copy();
        s.pair.responder.writeInbound(frame);
        assertEquals("once", s.atResponder.text());
        assertThrows(NoiseException.class, () -> {
            s.pair.responder.writeInbound(copy);
            s.pair.responder.checkException();
        });
        assertFalse(s.pair.responder.isOpen());
    }

    @Test
    void garbageHandshakeFramesFailClearly() {
        Random r = new Random(2);
        for (int i = 0; i < 200; i++) {
            EmbeddedChannel ch = new EmbeddedChannel();
            Future<NoiseSession> f = new NoiseSecurity(bob).install(ch.pipeline(), false, null, null);
            byte[] junk = new byte[r.nextInt(200)];
            r.nextBytes(junk);
            ByteBuf in = Unpooled.buffer().writeShort(junk.length).writeBytes(junk);
            ch.writeInbound(in);
            if (ch.isOpen()) {
                // a message 1 of >= 32 bytes is just an ephemeral key; message 3 must then authenticate
                ByteBuf m3 = Unpooled.buffer().writeShort(junk.length).writeBytes(junk);
                ch.writeInbound(m3);
            }
            assertFalse(f.isSuccess());
            assertInstanceOf(NoiseException.class, f.cause(), () -> String.valueOf(f.cause()));
            assertFalse(ch.isOpen());
        }
    }

    @Test
    void invalidIdentitySignatureRejected() {
        SecureRandom rnd = new SecureRandom();
        X25519KeyPair mine = X25519KeyPair.generate(rnd);
        X25519KeyPair other = X25519KeyPair.generate(rnd);
        byte[] payload = HandshakePayloads.encode(alice, mine.publicKey(), List.of());
        assertEquals(alice.peerId(), HandshakePayloads.verify(payload, mine.publicKey()).peerId());
        NoiseException e = assertThrows(NoiseException.class, () -> HandshakePayloads.verify(payload, other.publicKey()));
        assertTrue(e.getMessage().contains("signature"));
        assertThrows(NoiseException.class, () -> HandshakePayloads.verify(new byte[] {0x0a, 0x05, 1}, mine.publicKey()));
        assertThrows(NoiseException.class, () -> HandshakePayloads.verify(new byte[0], mine.publicKey()));
    }

    @Test
    void oversizedFrameRefusedAndEarlyWritesRefused() {
        EmbeddedChannel enc = new EmbeddedChannel(new NoiseFrameEncoder());
        assertThrows(EncoderException.class, () -> enc.writeOutbound(Unpooled.wrappedBuffer(new byte[65536])));
        EmbeddedChannel ch = new EmbeddedChannel();
        new NoiseSecurity(alice).install(ch.pipeline(), false, null, null);
        var written = ch.writeAndFlush(Unpooled.wrappedBuffer(new byte[] {1}));
        assertInstanceOf(IllegalStateException.class, written.cause());
    }
}
