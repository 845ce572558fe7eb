package io.layerswarm.libp2p.pnet;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.layerswarm.libp2p.multistream.MultistreamException;
import io.layerswarm.libp2p.multistream.MultistreamSelect;
import io.layerswarm.libp2p.multistream.ProtocolInstaller;
import io.layerswarm.libp2p.testing.EmbeddedPair;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.concurrent.Future;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import org.bouncycastle.crypto.engines.XSalsa20Engine;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PnetTest {

    private static final String HEX = "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20";

    @Test
    void parsesSwarmKeyFiles(@TempDir Path dir) throws IOException {
        SwarmKey k = SwarmKey.parse("/key/swarm/psk/1.0.0/\n/base16/\n" + HEX + "\n");
        assertEquals(HEX, HexFormat.of().formatHex(k.bytes()));
        assertEquals(k, SwarmKey.parse("/key/swarm/psk/1.0.0/\r\n/base16/\r\n" + HEX.toUpperCase()));
        assertEquals(k, SwarmKey.parse(k.toFileText()));
        assertEquals(k, SwarmKey.parse("/key/swarm/psk/1.0.0/\n/base64/\n"
                + java.util.Base64.getEncoder().encodeToString(k.bytes())));
        assertFalse(k.toString().contains(HEX.substring(0, 16)), "toString never shows the key");
        Path f = dir.resolve("swarm.key");
        Files.writeString(f, k.toFileText());
        assertEquals(k, SwarmKey.read(f));
    }

    @Test
    void badSwarmKeysNameTheProblem() {
        assertMsg("", "3 lines");
        assertMsg("/key/swarm/psk/2.0.0/\n/base16/\n" + HEX, "line 1");
        assertMsg("/key/swarm/psk/1.0.0/\n/bin/\n" + HEX, "line 2");
        assertMsg("/key/swarm/psk/1.0.0/\n/base16/\n" + HEX.substring(2), "64 hex");
        assertMsg("/key/swarm/psk/1.0.0/\n/base16/\n" + HEX.substring(2) + "zz", "64 hex");
        assertMsg("/key/swarm/psk/1.0.0/\n/base64/\nAAAA", "32");
        assertMsg("/key/swarm/psk/1.0.0/\n/base16/\n" + HEX + "\nextra", "3 lines");
        assertMsg("x".repeat(5000), "too long");
    }

    private static void assertMsg(String text, String fragment) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> SwarmKey.parse(text));
        assertTrue(e.getMessage().contains(fragment), e.getMessage());
    }

    @Test
    void wireFormatIsNonceThenXSalsa20() {
        SwarmKey k = SwarmKey.generate();
        EmbeddedChannel ch = new EmbeddedChannel(new PnetProtector(k));
        ByteBuf nonceBuf = ch.readOutbound();
        assertEquals(24, nonceBuf.readableBytes());
        byte[] nonce = new byte[24];
        nonceBuf.readBytes(nonce);
        ch.writeOutbound(Unpooled.copiedBuffer("hello", StandardCharsets.US_ASCII));
        ByteBuf ct = ch.readOutbound();
        byte[] got = new byte[ct.readableBytes()];
        ct.readBytes(got);
        // independent check with a fresh XSalsa20 stream over (PSK, nonce)
        XSalsa20Engine e = new XSalsa20Engine();
        e.init(false, new ParametersWithIV(new KeyParameter(k.bytes()), nonce));
        byte[] plain = new byte[got.length];
        e.processBytes(got, 0, got.length, plain, 0);
        assertEquals("hello", new String(plain, StandardCharsets.US_ASCII));
        assertNotEquals("hello", new String(got, StandardCharsets.US_ASCII));
    }

    @Test
    void sameKeyNegotiatesAndCarriesData() {
        SwarmKey k = SwarmKey.generate();
        EmbeddedPair pair = new EmbeddedPair();
        pair.initiator.pipeline().addLast(new PnetProtector(k));
        pair.responder.pipeline().addLast(new PnetProtector(k));
        EmbeddedPair.Collector c = new EmbeddedPair.Collector();
        Future<String> i = MultistreamSelect.initiate(pair.initiator.pipeline(), List.of("/noise"),
                (ctx, p) -> ctx.writeAndFlush(Unpooled.copiedBuffer("after", StandardCharsets.US_ASCII)));
        Future<String> r = MultistreamSelect.respond(pair.responder.pipeline(), List.of("/noise"),
                (ctx, p) -> ctx.pipeline().addAfter(ctx.name(), "app", c));
        pair.pump();
        assertEquals("/noise", i.getNow());
        assertEquals("/noise", r.getNow());
        assertEquals("after", c.text());
    }

    @Test
    void wrongKeyNeverNegotiatesAndFailsOnClose() {
        int failedWithoutTimeout = 0;
        for (int n = 0; n < 50; n++) {
            EmbeddedPair pair = new EmbeddedPair();
            pair.initiator.pipeline().addLast(new PnetProtector(SwarmKey.generate()));
            pair.responder.pipeline().addLast(new PnetProtector(SwarmKey.generate()));
            EmbeddedPair.Collector app = new EmbeddedPair.Collector();
            Future<String> i = MultistreamSelect.initiate(pair.initiator.pipeline(), List.of("/noise"),
                    ProtocolInstaller.NONE);
            Future<String> r = MultistreamSelect.respond(pair.responder.pipeline(), List.of("/noise"),
                    (ctx, p) -> ctx.pipeline().addAfter(ctx.name(), "app", app));
            pair.pump();
            if (i.isDone() && r.isDone()) {
                failedWithoutTimeout++;
            }
            // garbage that reads as a long length prefix leaves multistream waiting; the host's upgrade
            // timeout then closes the connection, which must fail the negotiation
            pair.initiator.close();
            pair.pump();
            assertFalse(i.isSuccess());
            assertFalse(r.isSuccess());
            assertTrue(i.cause() instanceof MultistreamException, String.valueOf(i.cause()));
            assertTrue(r.cause() instanceof MultistreamException, String.valueOf(r.cause()));
            assertEquals(0, app.received.readableBytes());
        }
        assertTrue(failedWithoutTimeout > 0, "most wrong-key connections fail on the garbage itself");
    }

    @Test
    void nonceSplitAcrossReads() {
        SwarmKey k = SwarmKey.generate();
        EmbeddedChannel a = new EmbeddedChannel(new PnetProtector(k));
        EmbeddedChannel b = new EmbeddedChannel(new PnetProtector(k));
        a.writeOutbound(Unpooled.copiedBuffer("data", StandardCharsets.US_ASCII));
        ByteBuf all = Unpooled.buffer();
        ByteBuf m;
        while ((m = a.readOutbound()) != null) {
            all.writeBytes(m);
            m.release();
        }
        byte[] wire = new byte[all.readableBytes()];
        all.readBytes(wire);
        for (int i = 0; i < wire.length; i += 5) { // dribble 5 bytes at a time
            b.writeInbound(Unpooled.wrappedBuffer(wire, i, Math.min(5, wire.length - i)));
        }
        assertArrayEquals("data".getBytes(StandardCharsets.US_ASCII), EmbeddedPair.drainInbound(b));
    }
}
